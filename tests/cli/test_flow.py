from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from alops.cli import cli

ROOT = Path(__file__).resolve().parents[2]
CONFIG = str(ROOT / "examples/project-skeleton/alops.yaml")
HOSTILE = json.loads((ROOT / "tests/data/hostile_branches.json").read_text())
DOTENV_LINE = re.compile(r"(ALOPS_[A-Z_]+)=([A-Za-z0-9_.,@:/+=-]*)")
KEYS = [
    "ALOPS_ROLE",
    "ALOPS_REF_SLUG",
    "ALOPS_DATASET",
    "ALOPS_RUNNER",
    "ALOPS_RUNNER_TAGS",
    "ALOPS_JOBS",
    "ALOPS_CI_JOBS",
    "ALOPS_PUSH",
    "ALOPS_TRAIN_STAGES",
    "ALOPS_EVALUATE_STAGES",
]


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["-c", CONFIG, *args], env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def ci_env(branch: str) -> dict[str, str]:
    return {"CI": "true", "CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": branch, "CI_DEFAULT_BRANCH": "main"}


@pytest.mark.parametrize("case", HOSTILE["cases"], ids=lambda c: ascii(c["branch"])[:40])
def test_hostile_branch_names(case: dict[str, str], tmp_path: Path) -> None:
    branch, role = case["branch"], case["role"]
    code, out, err = invoke("flow", "--format", "dotenv", env=ci_env(branch))
    assert code == 0, err
    lines = out.splitlines()
    parsed = dict(DOTENV_LINE.fullmatch(line).groups() for line in lines)  # type: ignore[union-attr]
    assert list(parsed) == KEYS and len(lines) == len(KEYS)
    assert parsed["ALOPS_ROLE"] == role
    # GitLab's slug: empty for a name of only punctuation, else no '-' at either end
    assert re.fullmatch(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)?", parsed["ALOPS_REF_SLUG"])

    # The report is safe to `source` in a shell: nothing runs, values stay as written.
    (tmp_path / "alops.env").write_text(out)
    shell = subprocess.run(
        ["bash", "-c", 'set -a; . ./alops.env; printf %s "$ALOPS_ROLE"'],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert shell.stdout == role
    assert not Path("/tmp/alops-pwned").exists()

    code, out, _ = invoke("flow", "--format", "json", env=ci_env(branch))
    assert code == 0 and json.loads(out)["ref"] == branch and out.isascii()

    code, out, _ = invoke("flow", env=ci_env(branch))
    assert code == 0 and f"role      {role}  " in out
    assert not any(ch != "\n" and not ch.isprintable() for ch in out), "no raw control characters in text"


def test_branch_option_overrides_ci() -> None:
    code, out, _ = invoke("flow", "--branch", "experiment/x", "--format", "dotenv", env=ci_env("feature/y"))
    assert code == 0 and "ALOPS_ROLE=experiment\n" in out


def test_merge_request_pipeline() -> None:
    env = {
        "CI": "true",
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "experiment/x",
        "CI_MERGE_REQUEST_IID": "42",
        "CI_COMMIT_REF_NAME": "experiment/x",
        "CI_DEFAULT_BRANCH": "main",
    }
    code, out, _ = invoke("flow", env=env)
    assert code == 0
    assert "pipeline  merge_request_event, merge request !42\n" in out
    assert "role      experiment  " in out
    # No GPU job in an MR pipeline: it would get no protected variables or runners.
    assert "jobs      alops-plan, alops-validate\n" in out
    assert (
        "skipped   merge-request pipelines get no protected variables or runners, so the GPU jobs run in the "
        "branch pipeline of 'experiment/x' (ci-templates/workflow.yml keeps it)\n"
    ) in out
    assert "push      no: no job of this pipeline runs the stages\n" in out
    code, out, _ = invoke("flow", "--format", "dotenv", env=env)
    assert "ALOPS_JOBS=plan,validate\nALOPS_CI_JOBS=alops-plan,alops-validate\n" in out


def test_merge_request_pipeline_of_a_cpu_role_keeps_its_run_job() -> None:
    env = {
        "CI": "true",
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "feature/x",
        "CI_DEFAULT_BRANCH": "main",
    }
    code, out, _ = invoke("flow", env=env)
    assert code == 0 and "jobs      alops-plan, alops-validate, alops-run\n" in out and "skipped" not in out


def test_split_jobs_and_job_prefix_from_the_template() -> None:
    env = {**ci_env("experiment/x"), "ALOPS_SPLIT_JOBS": " true", "ALOPS_JOB_PREFIX": "ml"}
    code, out, _ = invoke("flow", env=env)
    assert code == 0
    assert "jobs      ml-plan, ml-validate, ml-data-gpu, ml-train-gpu, ml-evaluate-gpu\n" in out
    code, out, err = invoke("flow", env={**env, "ALOPS_JOB_PREFIX": "ML$(x)"})
    assert code == 2 and "job prefix 'ML$(x)' (ALOPS_JOB_PREFIX" in err


def test_text_output_exactly() -> None:
    code, out, _ = invoke("flow", env=ci_env("feature/new-augmentation"))
    assert code == 0
    assert out == (
        "role      feature  (branch 'feature/new-augmentation' matches /^feature\\//)\n"
        "ref       branch 'feature/new-augmentation'\n"
        "pipeline  push\n"
        "dataset   dev  (data/dev.dvc)\n"
        "runner    cpu  (tags: docker)\n"
        "jobs      alops-plan, alops-validate, alops-run\n"
        "train     prepare@dev → train@dev\n"
        "evaluate  evaluate@dev\n"
        "push      no: outputs stay in the job\n"
    )


def test_invalid_config_exit_code(tmp_path: Path) -> None:
    bad = tmp_path / "alops.yaml"
    bad.write_text("version: 1\n")
    result = CliRunner().invoke(cli, ["-c", str(bad), "flow", "-b", "x"], catch_exceptions=False)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {bad} is invalid (2 problems)")
    assert "Traceback" not in result.output


def test_no_branch_anywhere(tmp_path: Path) -> None:
    (tmp_path / "alops.yaml").write_text(Path(CONFIG).read_text())
    result = CliRunner().invoke(cli, ["-c", str(tmp_path / "alops.yaml"), "flow"], catch_exceptions=False)
    assert result.exit_code == 2
    assert "cannot tell which branch this pipeline is for: pass --branch NAME" in result.stderr


def test_console_script_end_to_end(tmp_path: Path) -> None:
    """The installed `alops` command, as a CI job runs it."""
    import os
    import sys

    exe = Path(sys.executable).with_name("alops")
    env = {**os.environ, **ci_env("release/2.0")}
    out = subprocess.run(
        [str(exe), "-c", CONFIG, "flow", "--format", "dotenv"], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert "ALOPS_ROLE=release\nALOPS_REF_SLUG=release-2-0\n" in out.stdout


def test_flow_path_imports_no_heavy_module() -> None:
    """`alops flow` starts every pipeline: jsonschema, dvc, gitlab, numpy stay unloaded."""
    import os
    import sys

    code = (
        "import sys\n"
        "from alops.cli import cli\n"
        f"cli(['-c', {CONFIG!r}, 'flow', '--format', 'dotenv'], standalone_mode=False)\n"
        "heavy = {'jsonschema', 'dvc', 'gitlab', 'numpy', 'sklearn'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    env = {**os.environ, **ci_env("feature/x")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.splitlines()[-1] == "[]"
