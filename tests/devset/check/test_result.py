"""``alops.devset.check.result``: a check is representative when every test passed."""

from __future__ import annotations

from alops.devset.check.result import CheckResult, Finding


def test_representative_when_every_finding_passed() -> None:
    ok = Finding("x", "numeric", "ks", 0.1, 0.5, 0.01, True)
    bad = Finding("y", "numeric", "psi", 0.5, None, 0.2, False, "mean moved")
    assert CheckResult("full", "dev", 10, 1, (ok,), ()).representative
    result = CheckResult("full", "dev", 10, 1, (ok, bad), (("id", "an identifier"),))
    assert not result.representative and result.failures == (bad,)
