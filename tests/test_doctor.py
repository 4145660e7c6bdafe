"""alops.doctor against a real git + DVC project with a local remote (and moto's S3): passing and failing checks."""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import responses
from responses import matchers

from alops import doctor
from alops.config import load_config

from s3 import BUCKET, PREFIX, S3

GITLAB = "https://gitlab.example.com"
TOKEN = "glpat-doctor-secret-0123456789"
#: nvidia-smi -q -x, cut to what alops.hardware reads.
NVIDIA_XML = """<?xml version="1.0" ?>
<nvidia_smi_log>
  <driver_version>570.124.06</driver_version>
  <cuda_version>12.8</cuda_version>
  <gpu id="00000000:00:1E.0">
    <product_name>NVIDIA H200</product_name>
    <fb_memory_usage><total>143771 MiB</total></fb_memory_usage>
  </gpu>
</nvidia_smi_log>
"""


def base_env(tmp_path: Path, *, gpu: bool = False) -> dict[str, str]:
    """This process's (test-isolated) environment; PATH with a fake nvidia-smi first, or with none at all."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    if gpu:
        script = bindir / "nvidia-smi"
        script.write_text(f"#!/bin/sh\ncat <<'END'\n{NVIDIA_XML}END\n")
        script.chmod(0o755)
    # No real nvidia-smi: only this folder, the interpreter's and the system's basic tools.
    path = os.pathsep.join([str(bindir), os.path.dirname(sys.executable), "/usr/bin", "/bin"])
    return {**os.environ, "PATH": path}


def check(report: doctor.Report, name: str) -> doctor.Check:
    return next(c for c in report.checks if c.name == name)


def failures(report: doctor.Report) -> list[str]:
    """The failed needed checks, leaving out the GPU's when only this test environment's CPU torch build fails it."""
    return [c.name for c in report.failed if not (c.name == "gpu" and "is a CPU build" in c.detail)]


def run(project: Path, env: dict[str, str], role: str = "auto") -> doctor.Report:
    return doctor.run(load_config(project / "alops.yaml"), env, role)


def test_healthy_cpu_role(project: Path, tmp_path: Path) -> None:
    import dvc

    started = time.monotonic()
    report = run(project, base_env(tmp_path), "feature")
    seconds = time.monotonic() - started
    assert report.role == "feature" and report.failed == ()
    statuses = {c.name: (c.status, c.needed) for c in report.checks}
    assert statuses == {
        "dvc": ("ok", True),
        "cache": ("ok", True),
        "remote": ("ok", False),  # feature uses the dev data: shown, not needed
        "gpu": ("skip", False),
        "gitlab token": ("warn", False),
        "label studio": ("skip", False),
    }
    assert check(report, "dvc").detail == f"dvc {dvc.__version__}"
    cache = project / ".dvc" / "cache"
    assert check(report, "cache").detail.startswith(f"{cache} writable; cache.type reflink,copy (DVC's default)")
    assert not list(cache.glob(".alops-doctor-*"))  # the probe file is gone
    assert check(report, "remote").detail.startswith(f"storage ({project.parent / 'remote'}) reachable")
    assert seconds < 2.0


def test_auto_role_comes_from_alops_role_else_the_branch(project: Path, tmp_path: Path) -> None:
    env = base_env(tmp_path, gpu=True)
    assert run(project, env).role == "default"  # the checkout is on main
    assert run(project, {**env, "CI_COMMIT_BRANCH": "experiment/lr", "CI_DEFAULT_BRANCH": "main"}).role == "experiment"
    assert run(project, {**env, "ALOPS_ROLE": "feature"}).role == "feature"


def test_gpu_role_without_a_gpu_fails(project: Path, tmp_path: Path) -> None:
    report = run(project, base_env(tmp_path), "experiment")
    assert [c.name for c in report.failed] == ["gpu"]
    assert check(report, "gpu").detail.startswith("no GPU visible")


def test_fake_nvidia_smi_makes_the_gpu_check_pass(project: Path, tmp_path: Path) -> None:
    from alops.hardware import torch_info

    report = run(project, base_env(tmp_path, gpu=True), "experiment")
    gpu = check(report, "gpu")
    torch = torch_info()
    if torch is not None and torch.cuda is None:  # the test environment's CPU build of torch cannot use it
        assert [c.name for c in report.failed] == ["gpu"]
        assert gpu.detail == f"torch {torch.version} is a CPU build: install a CUDA build of torch in the job image"
    else:
        assert report.failed == ()
        assert gpu.detail.startswith("NVIDIA H200 (143771 MiB); driver 570.124.06, CUDA 12.8")
    hidden = run(project, {**base_env(tmp_path, gpu=True), "CUDA_VISIBLE_DEVICES": "-1"}, "experiment")
    assert [c.name for c in hidden.failed] == ["gpu"]
    assert "CUDA_VISIBLE_DEVICES='-1' hides every GPU" in check(hidden, "gpu").detail


def test_hung_nvidia_smi_fails_in_time(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = base_env(tmp_path)
    script = tmp_path / "bin" / "nvidia-smi"
    script.write_text("#!/bin/sh\nexec sleep 3\n")
    script.chmod(0o755)
    monkeypatch.setattr(doctor, "GPU_WAIT", 0.5)
    started = time.monotonic()
    report = run(project, env, "experiment")
    assert time.monotonic() - started < 2.5
    assert failures(report) == ["gpu"]
    assert check(report, "gpu").detail == "nvidia-smi did not answer within 0.5 s"


def test_remote_missing_fails_only_a_full_data_role(project: Path, tmp_path: Path) -> None:
    (project / ".dvc" / "config.local").unlink()
    (project / ".dvc" / "config").write_text("")
    env = base_env(tmp_path, gpu=True)
    feature = run(project, env, "feature")
    assert failures(feature) == [] and check(feature, "remote").status == "warn"
    experiment = run(project, env, "experiment")
    assert failures(experiment) == ["remote"]
    assert check(experiment, "remote").detail == "no default DVC remote: run `dvc remote add -d`"


def test_remote_folder_gone_is_unreachable(project: Path, tmp_path: Path) -> None:
    shutil.rmtree(project.parent / "remote")
    report = run(project, base_env(tmp_path, gpu=True), "experiment")
    assert failures(report) == ["remote"]
    assert check(report, "remote").detail.endswith(f"{project.parent / 'remote'} does not exist")


def test_cache_that_cannot_be_written_fails(project: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    env = {**base_env(tmp_path), "ALOPS_DVC_CACHE_DIR": str(blocker / "cache")}  # a path under a file: even root fails
    report = run(project, env, "feature")
    assert [c.name for c in report.failed] == ["cache"]
    assert check(report, "cache").detail.startswith(f"{blocker / 'cache'} is not writable (Not a directory)")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only directory")
def test_read_only_cache_fails(project: Path, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o555)
    try:
        report = run(project, {**base_env(tmp_path), "ALOPS_DVC_CACHE_DIR": str(shared)}, "feature")
    finally:
        shared.chmod(0o755)
    assert check(report, "cache").detail.startswith(f"{shared} is not writable (Permission denied)")


def test_shared_cache_is_the_one_checked(project: Path, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    report = run(project, {**base_env(tmp_path), "ALOPS_DVC_CACHE_DIR": str(shared)}, "feature")
    assert report.failed == ()
    assert check(report, "cache").detail.startswith(f"{shared} writable")


def test_dvc_not_importable_fails_every_dvc_check(project: Path, tmp_path: Path) -> None:
    broken = tmp_path / "site" / "dvc"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("raise ImportError('this dvc is broken')\n")
    report = run(project, {**base_env(tmp_path), "PYTHONPATH": str(tmp_path / "site")}, "feature")
    assert [c.name for c in report.failed] == ["dvc", "cache"]
    assert check(report, "dvc").detail == (
        "DVC is not importable (this dvc is broken): install alops with its dvc dependency"
    )


# --- S3 through moto -----------------------------------------------------------------------


def s3_project(project: Path, s3: S3) -> None:
    (project / ".dvc" / "config.local").unlink()
    (project / ".dvc" / "config").write_text(s3.remote_config())
    s3.server.client().put_object(Bucket=BUCKET, Key=f"{PREFIX}/files/md5/00/0000", Body=b"x")


def test_s3_remote_reachable_with_credentials(project: Path, tmp_path: Path, s3: S3) -> None:
    s3_project(project, s3)
    env = base_env(tmp_path, gpu=True)
    report = run(project, env, "experiment")
    assert failures(report) == []
    detail = check(report, "remote").detail
    assert (
        detail
        == f"storage (s3://{BUCKET}/{PREFIX}) reachable; credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    )
    assert env["AWS_SECRET_ACCESS_KEY"] not in doctor.render(report, "json")


def test_s3_remote_without_credentials_fails(project: Path, tmp_path: Path, s3: S3) -> None:
    s3_project(project, s3)
    env = {k: v for k, v in base_env(tmp_path, gpu=True).items() if not k.startswith("AWS_ACCESS_KEY")}
    report = run(project, env, "experiment")
    assert failures(report) == ["remote"]
    assert check(report, "remote").detail == (
        f"the full dataset's remote `storage` (s3://{BUCKET}/{PREFIX}) needs credentials: set AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), or use the dev dataset (--dataset dev)"
    )


def test_s3_remote_that_does_not_answer_fails_in_time(project: Path, tmp_path: Path, s3: S3) -> None:
    s3_project(project, s3)
    s3.proxy.stall_after(0)
    started = time.monotonic()
    report = run(project, base_env(tmp_path, gpu=True), "experiment")
    assert time.monotonic() - started < 2.5
    assert failures(report) == ["remote"]
    assert check(report, "remote").detail.endswith(f"no answer within {doctor.NETWORK_TIMEOUT:g} s")


# --- GitLab token (GitLab's API faked with responses) ----------------------------------------


def gitlab_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {**base_env(tmp_path), "ALOPS_GITLAB_URL": GITLAB, **extra}


@pytest.mark.parametrize(
    ("scopes", "status", "detail"),
    [
        (["api", "write_repository"], "ok", "ALOPS_GITLAB_TOKEN present; scopes api, write_repository"),
        (["read_api"], "fail", "ALOPS_GITLAB_TOKEN present; scopes read_api (lacks api, write_repository)"),
    ],
)
def test_token_scopes(scopes: list[str], status: str, detail: str, tmp_path: Path) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        mock.get(
            f"{GITLAB}/api/v4/personal_access_tokens/self",
            json={"id": 7, "name": "alops", "scopes": scopes, "active": True},
            match=[matchers.header_matcher({"PRIVATE-TOKEN": TOKEN})],
        )
        found = doctor.gitlab_check(gitlab_env(tmp_path, ALOPS_GITLAB_TOKEN=TOKEN), needed=True)
    assert (found.status, found.detail) == (status, detail)


def test_token_refused(tmp_path: Path) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        mock.get(f"{GITLAB}/api/v4/personal_access_tokens/self", status=401, json={"message": "401 Unauthorized"})
        found = doctor.gitlab_check(gitlab_env(tmp_path, ALOPS_GITLAB_TOKEN=TOKEN), needed=False)
    assert (found.status, found.detail) == ("warn", "ALOPS_GITLAB_TOKEN present; GitLab refused it (401)")


def test_token_missing_fails_al_ingest_only(project: Path, tmp_path: Path) -> None:
    env = base_env(tmp_path, gpu=True) | {"CI_JOB_TOKEN": "job-secret-token"}
    ingest = run(project, env | {"ALOPS_AL_STEP": "ingest"}, "al")
    assert failures(ingest) == ["gitlab token"]
    assert check(ingest, "gitlab token").detail == (
        "ALOPS_GITLAB_TOKEN missing (CI_JOB_TOKEN is present: a job token, which cannot push or open merge requests)"
    )
    train = run(project, env | {"ALOPS_AL_STEP": "train"}, "al")
    assert failures(train) == [] and check(train, "gitlab token").status == "warn"
    assert "job-secret-token" not in doctor.render(ingest) + doctor.render(ingest, "json")


# --- Label Studio: a real HTTP server on loopback, and a closed port -------------------------


@pytest.fixture
def health_server() -> Iterator[str]:
    class Health(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            body = json.dumps({"status": "UP"}).encode() if self.path == "/health" else b"{}"
            self.send_response(200 if self.path == "/health" else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_label_studio_up(health_server: str, tmp_path: Path) -> None:
    env = base_env(tmp_path) | {"ALOPS_LABEL_STUDIO_URL": health_server, "ALOPS_LABEL_STUDIO_TOKEN": "ls-secret"}
    found = doctor.studio_check(env, needed=True)
    assert (found.status, found.detail) == ("ok", f"{health_server} up; ALOPS_LABEL_STUDIO_TOKEN present")


def test_label_studio_down_fails_the_al_role_only(health_server: str, tmp_path: Path) -> None:
    from s3 import free_port

    url = f"http://127.0.0.1:{free_port()}"
    env = base_env(tmp_path) | {"ALOPS_LABEL_STUDIO_URL": url}
    assert doctor.studio_check(env, needed=True) == doctor.Check(
        "label studio", "fail", f"{url} cannot be reached (ConnectError)", True
    )
    assert doctor.studio_check(env, needed=False).status == "warn"


def test_render_table(project: Path, tmp_path: Path) -> None:
    report = doctor.Report(
        "experiment",
        (doctor.Check("dvc", "ok", "dvc 3.67.1", True), doctor.Check("gpu", "fail", "no GPU visible", True)),
    )
    assert doctor.render(report) == (
        "role: experiment\nOK    dvc  needed  dvc 3.67.1\nFAIL  gpu  needed  no GPU visible\n1 needed check(s) failed\n"
    )
    assert json.loads(doctor.render(report, "json"))["healthy"] is False
