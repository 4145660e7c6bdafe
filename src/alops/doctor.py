"""``alops doctor``: is this job environment fit for its role? A table of checks, in well under 2 s.

Checks: DVC importable (and its version), the cache directory writable and the
link types it supports, the dataset's DVC remote reachable with credentials
present, a visible GPU, the GitLab token and its scopes, Label Studio's health.
Which of them the role *needs* follows from its plan (:mod:`alops.flow`): a GPU
for a role on GPU runners, the remote for one on the full data, the GitLab token
for the active-learning steps that push a branch; a failed check that is not
needed is a warning. Everything slow runs at once, in threads, with short
timeouts. DVC is asked through its Python API in one child process (the DVC alops
was installed with), as everywhere in alops. Secrets are never shown: variables
are named, and said to be present or missing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

from alops import env as variables
from alops.config import Config
from alops.flow import Plan, current_plan
from alops.text import redact_output, safe

STATUSES = ("ok", "fail", "warn", "skip")
#: Seconds each network check may take (GitLab, Label Studio, the DVC remote).
NETWORK_TIMEOUT = 1.2
#: Seconds the DVC child may take in all: a safety net only (it starts in about 0.3 s, and bounds its
#: remote call by NETWORK_TIMEOUT itself), wide enough for a busy runner's cold start.
DVC_TIMEOUT = 10.0
#: Seconds to wait for nvidia-smi (it answers in well under one on a healthy host).
GPU_WAIT = 5.0
#: Active-learning steps whose jobs push a branch and open a merge request (alops al ingest).
_TOKEN_STEPS = ("ingest",)


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # one of STATUSES
    detail: str
    needed: bool


@dataclass(frozen=True)
class Report:
    role: str
    checks: tuple[Check, ...]

    @property
    def failed(self) -> tuple[Check, ...]:
        """The checks the role needs that failed: any makes the environment unhealthy."""
        return tuple(c for c in self.checks if c.needed and c.status == "fail")

    def to_dict(self) -> dict[str, Any]:
        return {"role": self.role, "healthy": not self.failed, "checks": [asdict(c) for c in self.checks]}


def run(config: Config, env: Mapping[str, str], role: str = "auto") -> Report:
    """Check this environment for ``role`` (``auto``: ALOPS_ROLE, else the role ``alops flow`` gives)."""
    if role == "auto":
        role = env.get(variables.ROLE, "").strip() or "auto"
    plan = current_plan(config, env, role=None if role == "auto" else role)
    gpu_needed = plan.runner == "gpu"
    token_needed = plan.role == "al" and plan.al_step in _TOKEN_STEPS
    studio_needed = plan.role == "al" and bool(env.get(variables.LABEL_STUDIO_URL, "").strip())
    with ThreadPoolExecutor(max_workers=4) as pool:
        dvc = pool.submit(_dvc_checks, config, plan, env)
        late = Check("gpu", _bad(gpu_needed), f"nvidia-smi did not answer within {GPU_WAIT:g} s", gpu_needed)
        gpu = pool.submit(
            _waited, lambda: _guard("gpu", gpu_needed, lambda: gpu_check(env, needed=gpu_needed)), GPU_WAIT, late
        )
        token = pool.submit(_guard, "gitlab token", token_needed, lambda: gitlab_check(env, needed=token_needed))
        studio = pool.submit(_guard, "label studio", studio_needed, lambda: studio_check(env, needed=studio_needed))
        checks = (*dvc.result(), gpu.result(), token.result(), studio.result())
    return Report(plan.role, checks)


def _guard(name: str, needed: bool, check: Callable[[], Check]) -> Check:
    # One check's unexpected failure is that check's "fail", not a traceback hiding the others.
    try:
        return check()
    except Exception as exc:  # noqa: BLE001 - reported as the check's result, redacted
        return Check(name, _bad(needed), safe(redact_output(f"{type(exc).__name__}: {exc}")), needed)


def _bad(needed: bool) -> str:
    return "fail" if needed else "warn"


# --- DVC: importable, cache, remote -------------------------------------------------------


def _dvc_checks(config: Config, plan: Plan, env: Mapping[str, str]) -> tuple[Check, ...]:
    from alops.data import shared_cache
    from alops.dvc import environment

    remote_needed = plan.dataset == "full"
    request = {"remote": plan.remote, "cache_dir": shared_cache(env), "timeout": NETWORK_TIMEOUT}
    child_env = environment(env) | {
        # One short try: the doctor says whether the remote answers, it does not wait for it.
        "AWS_MAX_ATTEMPTS": "1",
        variables.S3_RETRIES: "1",
        variables.S3_CONNECT_TIMEOUT: str(NETWORK_TIMEOUT),
        variables.S3_READ_TIMEOUT: str(NETWORK_TIMEOUT),
    }
    command = [sys.executable, "-c", "import sys, alops.doctor as d; d.probe(sys.argv[1])", json.dumps(request)]
    try:
        # alops.proc.run has no timeout: a hung remote must not hold the doctor up.
        done = subprocess.run(
            command, cwd=config.root, env=child_env, capture_output=True, text=True, timeout=DVC_TIMEOUT, check=False
        )
        found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else {}
    except subprocess.TimeoutExpired:
        found = {"error": f"DVC did not answer within {DVC_TIMEOUT:g} s"}
    except ValueError:
        found = {"error": "DVC's answer could not be read"}
    if "dvc" not in found:
        why = found.get("error") or (done.stderr.strip().splitlines() or ["no answer"])[-1]
        detail = safe(redact_output(str(why), child_env))
        return (
            Check("dvc", "fail", detail, True),
            Check("cache", "fail", "not checked: DVC is not usable", True),
            Check("remote", _bad(remote_needed), "not checked: DVC is not usable", remote_needed),
        )
    checks = [Check("dvc", "ok", f"dvc {found['dvc']}", True)]
    if found.get("cache_error"):
        checks.append(Check("cache", "fail", safe(found["cache_error"]), True))
    else:
        # Unset means DVC's default, reflink then copy (https://github.com/treeverse/dvc/pull/1841).
        configured = found.get("cache_type") or "reflink,copy (DVC's default)"
        detail = f"{safe(found['cache_dir'])} writable; cache.type {safe(configured)}; supports {found['links']}"
        checks.append(Check("cache", "ok", detail, True))
    checks.append(_remote_check(found, plan, env, remote_needed))
    return tuple(checks)


def _remote_check(found: dict[str, Any], plan: Plan, env: Mapping[str, str], needed: bool) -> Check:
    from alops import credentials
    from alops.dvc import Remote

    if found.get("remote") is None:
        return Check("remote", _bad(needed), safe(str(found.get("remote_error") or "no DVC remote")), needed)
    remote = Remote.from_json(found["remote"])
    where = f"{remote.name} ({safe(remote.shown)})"
    creds = credentials.sources(remote, env)
    if not creds:  # the message `alops data pull` would give, before it downloads anything
        return Check(
            "remote", _bad(needed), safe(str(credentials.missing(remote, dataset=plan.dataset, env=env))), needed
        )
    if found.get("reach_error"):
        return Check("remote", _bad(needed), f"{where}: {safe(redact_output(found['reach_error']))}", needed)
    return Check("remote", "ok", f"{where} reachable; credentials: {', '.join(creds)}", needed)


def probe(request_json: str) -> None:
    """The DVC child's side (``python -c``): one JSON line on stdout. Not for direct use."""
    request = json.loads(request_json)
    out: dict[str, Any] = {}
    try:
        import dvc  # type: ignore[import-untyped,unused-ignore]
        from dvc.repo import Repo  # type: ignore[import-untyped,unused-ignore]
    except ImportError as exc:
        print(json.dumps({"error": f"DVC is not importable ({exc}): install alops with its dvc dependency"}))
        return
    out["dvc"] = dvc.__version__
    from alops.dvc import bounds

    bounds.install(os.environ)  # this process's environment is the one the parent passed
    try:
        with Repo(os.getcwd()) as repo:
            _probe_cache(repo, request.get("cache_dir"), out)
            _probe_remote(repo, request.get("remote"), float(request["timeout"]), out)
    except Exception as exc:  # noqa: BLE001 - said in the table
        out.setdefault("cache_error", f"DVC cannot open this repository: {exc}")
    print(json.dumps(out), flush=True)
    os._exit(0)  # a remote call left hanging in its thread must not keep the child alive


def _probe_cache(repo: Any, shared: str | None, out: dict[str, Any]) -> None:
    import tempfile

    from dvc.fs import generic  # type: ignore[import-untyped,unused-ignore]

    path = shared or repo.cache.local_cache_dir
    out["cache_dir"] = path
    out["cache_type"] = ",".join(repo.config["cache"].get("type") or [])
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".alops-doctor-"):
            pass
    except OSError as exc:
        out["cache_error"] = (
            f"{path} is not writable ({exc.strerror}): fix its permissions, or set {variables.DVC_CACHE_DIR} "
            "to a writable directory"
        )
        return
    # What `dvc doctor` prints as "Cache types" (dvc/info.py, _get_linktype_support_info), for this directory.
    links = generic.test_links(["reflink", "hardlink", "symlink"], repo.cache.local.fs, path, repo.fs, repo.root_dir)
    out["links"] = ", ".join(links) or "copy only"


def _probe_remote(repo: Any, name: str | None, timeout: float, out: dict[str, Any]) -> None:
    import threading

    from alops.dvc.session import text

    chosen = name or repo.config["core"].get("remote")
    options = repo.config["remote"].get(chosen) if chosen else None
    if not options or not options.get("url"):
        out["remote_error"] = (
            f"DVC remote `{chosen}` is not configured" if chosen else "no default DVC remote: run `dvc remote add -d`"
        )
        return
    out["remote"] = {"name": chosen, "url": str(options["url"]), "options": {k: text(v) for k, v in options.items()}}
    said: list[str] = []

    def reach() -> None:
        try:
            remote = repo.cloud.get_remote(chosen)
            if not remote.fs.exists(remote.path):
                said.append(f"{remote.path} does not exist")
            else:
                said.append("")
        except Exception as exc:  # noqa: BLE001 - said in the table
            said.append(f"cannot be reached ({type(exc).__name__}: {exc})")

    worker = threading.Thread(target=reach, daemon=True)
    worker.start()
    worker.join(timeout)
    if not said:
        out["reach_error"] = f"no answer within {timeout:g} s"
    elif said[0]:
        out["reach_error"] = said[0]


# --- GPU, GitLab, Label Studio ------------------------------------------------------------


def gpu_check(env: Mapping[str, str], *, needed: bool) -> Check:
    """A GPU a run would use (alops.hardware): listed by nvidia-smi, not hidden, and torch (if any) a CUDA build."""
    from alops.hardware import hides_all, probe

    device = probe(env)
    if device.kind == "cuda":
        names = ", ".join(f"{g.name} ({g.memory_mib} MiB)" for g in device.gpus)
        torch = (
            f"; torch {device.torch.version} (CUDA {device.torch.cuda})" if device.torch else "; torch not installed"
        )
        return Check("gpu", "ok", safe(f"{names}; driver {device.driver}, CUDA {device.cuda}{torch}"), needed)
    if not device.gpus:
        problem = "no GPU visible: nvidia-smi is missing or lists none (is this a GPU runner?)"
    elif hides_all(device.visible):
        problem = f"{variables.CUDA_VISIBLE_DEVICES}={device.visible!r} hides every GPU: unset it or list a device"
    else:
        torch = device.torch.version if device.torch else "?"
        problem = f"torch {torch} is a CPU build: install a CUDA build of torch in the job image"
    if not needed:
        return Check("gpu", "skip" if not device.gpus else "warn", safe(problem) + " (this role runs on CPU)", needed)
    return Check("gpu", "fail", safe(problem), needed)


def _waited(check: Callable[[], Check], seconds: float, late: Check) -> Check:
    """``check()`` in a daemon thread, or ``late`` after ``seconds``: a wedged driver must not hold the doctor up."""
    import threading

    done: list[Check] = []
    worker = threading.Thread(target=lambda: done.append(check()), daemon=True)
    worker.start()
    worker.join(seconds)
    return done[0] if done else late


def gitlab_check(env: Mapping[str, str], *, needed: bool) -> Check:
    """The GitLab token: present, and its scopes (``GET /personal_access_tokens/self``); a job token has none to ask."""
    from alops.gitlab import TOKEN_VARIABLE, client_from_env, server_url

    if not env.get(TOKEN_VARIABLE, "").strip():
        job = (
            " (CI_JOB_TOKEN is present: a job token, which cannot push or open merge requests)"
            if env.get(variables.CI_JOB_TOKEN)
            else ""
        )
        return Check("gitlab token", _bad(needed), f"{TOKEN_VARIABLE} missing{job}", needed)
    try:
        server_url(env)
    except Exception as exc:  # noqa: BLE001 - the ConfigError's text says what to set
        return Check("gitlab token", _bad(needed), f"{TOKEN_VARIABLE} present; {exc}", needed)
    import gitlab.exceptions
    import requests

    client = client_from_env(env)
    client.timeout, client.retry_transient_errors = NETWORK_TIMEOUT, False
    try:
        token = client.personal_access_tokens.get("self")
    except gitlab.exceptions.GitlabError as exc:
        code = getattr(exc, "response_code", None)
        return Check("gitlab token", _bad(needed), f"{TOKEN_VARIABLE} present; GitLab refused it ({code})", needed)
    except requests.exceptions.RequestException as exc:
        where = safe(redact_output(client.url))
        why = f"GitLab at {where} cannot be reached ({type(exc).__name__}): check {variables.GITLAB_URL} / {variables.CI_SERVER_URL}"
        return Check("gitlab token", _bad(needed), f"{TOKEN_VARIABLE} present; {why}", needed)
    scopes = sorted(getattr(token, "scopes", []) or [])
    missing = [s for s in ("api", "write_repository") if s not in scopes]
    status = _bad(needed) if missing else "ok"
    lack = f" (lacks {', '.join(missing)})" if missing else ""
    return Check(
        "gitlab token", status, safe(f"{TOKEN_VARIABLE} present; scopes {', '.join(scopes) or 'none'}{lack}"), needed
    )


def studio_check(env: Mapping[str, str], *, needed: bool) -> Check:
    """Label Studio's ``GET /health`` (``{"status": "UP"}``) when ALOPS_LABEL_STUDIO_URL is set."""
    url = env.get(variables.LABEL_STUDIO_URL, "").strip().rstrip("/")
    if not url:
        return Check("label studio", "skip", f"{variables.LABEL_STUDIO_URL} not set", needed)
    import httpx

    shown = safe(redact_output(url))
    try:
        answer = httpx.get(f"{url}/health", timeout=NETWORK_TIMEOUT)
        up = answer.status_code == 200 and answer.json().get("status") == "UP"
    except (httpx.HTTPError, ValueError) as exc:
        return Check("label studio", _bad(needed), f"{shown} cannot be reached ({type(exc).__name__})", needed)
    if not up:
        return Check("label studio", _bad(needed), f"{shown}/health answered {answer.status_code}, not UP", needed)
    token = "present" if env.get(variables.LABEL_STUDIO_TOKEN, "").strip() else "missing"
    return Check("label studio", "ok", f"{shown} up; {variables.LABEL_STUDIO_TOKEN} {token}", needed)


# --- rendering ----------------------------------------------------------------------------


def render(report: Report, fmt: str = "table") -> str:
    """The report as a table (one line per check) or JSON."""
    if fmt == "json":
        return json.dumps(report.to_dict(), indent=2) + "\n"
    width = max(len(c.name) for c in report.checks)
    lines = [f"role: {report.role}"]
    for c in report.checks:
        need = "needed" if c.needed else "info"
        lines.append(f"{c.status.upper():<4}  {c.name:<{width}}  {need:<6}  {c.detail}")
    verdict = f"{len(report.failed)} needed check(s) failed" if report.failed else "healthy"
    lines.append(verdict)
    return "\n".join(lines) + "\n"
