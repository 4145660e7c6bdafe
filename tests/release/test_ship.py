"""alops.release.ship: a release branch's run, gated, versioned, packaged, registered locally and tagged for GTO.

Everything real: the example project trained on its full data by `alops run`,
git tags read back by `gto`, the local package registry. GitLab's side is
tests/release/test_publish.py (responses).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from alops.config import load_config
from alops.errors import ConfigError, DataError, GateFailedError
from alops.release import package
from alops.release.ship import Services, services, ship
from alops.release.tags import LocalTags
from alops.release.version import Version

from release_project import git, train

GTO = Path(sys.executable).with_name("gto")


def release_of(repo: Path, **kwargs: object) -> object:
    config = load_config(repo / "alops.yaml")
    return ship(
        config,
        manifest_path=repo / "alops-manifest.json",
        env={},
        out=repo / "alops-release",
        using=services(repo, {}),
        **kwargs,  # type: ignore[arg-type]
    )


def test_a_release_branch_s_run_is_packaged_registered_and_tagged_for_gto(trained: Path) -> None:
    done = release_of(trained)

    head = git(trained, "rev-parse", "HEAD")
    assert (done.model, done.version, done.tag, done.commit) == ("digits", "1.0.0", "digits@v1.0.0", head)  # type: ignore[attr-defined]
    # an annotated tag on the run's commit, in GTO's words
    assert git(trained, "cat-file", "-t", "digits@v1.0.0") == "tag"
    assert git(trained, "rev-parse", "digits@v1.0.0^{commit}") == head
    assert git(trained, "tag", "-l", "--format=%(contents:subject)", "digits@v1.0.0") == (
        "Registering artifact digits version v1.0.0"
    )
    shown = json.loads(
        subprocess.run([str(GTO), "show", "--json"], cwd=trained, check=True, capture_output=True, text=True).stdout
    )
    assert (shown["digits"]["version"], shown["digits"]["registered"]) == ("v1.0.0", True)
    # the package in the local registry holds the model the run trained, the predictor and the manifest
    stored = trained / ".alops/registry/digits/1.0.0"
    archive = stored / "digits-1.0.0.tar.gz"
    assert sorted(p.name for p in stored.iterdir()) == ["alops-manifest.json", "digits-1.0.0.tar.gz"]
    meta = package.read_meta(archive)
    assert (meta["model"], meta["version"], meta["commit"]) == ("digits", "1.0.0", head)
    assert any(r.startswith("scikit-learn==") for r in meta["requirements"])
    unpacked = package.extract(archive, trained.parent / "unpacked")
    assert (unpacked / "model/model.pkl").read_bytes() == (trained / "models/full/model.pkl").read_bytes()
    assert (unpacked / "predictor.py").read_text() == (trained / "src/predict.py").read_text()
    # the notes: the gate's checks, the metrics, the data versions
    notes = (trained / "alops-release/RELEASE.md").read_text()
    assert notes.startswith("## digits 1.0.0\n")
    assert "### Quality gate: passed" in notes and "accuracy = 0.9" in notes
    full = yaml.safe_load((trained / "data/full.dvc").read_text())["outs"][0]["md5"]
    assert f"| data/full | {full} |" in notes


def test_a_failed_gate_ships_nothing(trained: Path) -> None:
    config_file = trained / "alops.yaml"
    config_file.write_text(config_file.read_text().replace("accuracy: {min: 0.85,", "accuracy: {min: 0.999,"))
    with pytest.raises(GateFailedError) as info:
        release_of(trained)

    assert "nothing was released (no package, no registration, no tag)" in str(info.value)
    assert "FAIL  accuracy = 0.9" in str(info.value)
    assert git(trained, "tag", "-l") == ""
    assert not (trained / ".alops/registry").exists()
    assert not (trained / "alops-release").exists()


def test_a_retried_release_of_the_same_commit_does_nothing_and_the_next_commit_gets_the_next_version(
    trained: Path,
) -> None:
    first = release_of(trained)
    again = release_of(trained)
    assert again.already and again.version == first.version == "1.0.0"  # type: ignore[attr-defined]
    assert git(trained, "tag", "-l") == "digits@v1.0.0"

    (trained / "README.md").write_text((trained / "README.md").read_text() + "\nA fix.\n")
    git(trained, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-am", "a fix")
    train(trained)
    second = release_of(trained)
    assert second.version == "1.0.1"  # type: ignore[attr-defined]
    assert LocalTags(trained, {}).read("digits").versions() == [Version(1, 0, 0), Version(1, 0, 1)]


def test_a_dry_run_picks_the_version_and_releases_nothing(trained: Path) -> None:
    done = release_of(trained, dry_run=True, bump="minor")
    assert (done.version, done.tag) == ("1.0.0", "digits@v1.0.0")  # type: ignore[attr-defined]
    assert git(trained, "tag", "-l") == ""
    assert not (trained / ".alops").exists()


def test_the_run_must_be_this_commit_s_on_a_release_branch(trained: Path) -> None:
    manifest = json.loads((trained / "alops-manifest.json").read_text())
    manifest["commit"] = "0" * 40
    (trained / "alops-manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(DataError, match=r"is the run of commit 000000000000, not of [0-9a-f]{12}: a release ships"):
        release_of(trained)

    git(trained, "checkout", "--quiet", "-b", "feature/x")
    with pytest.raises(
        ConfigError, match=r"`alops release` ships from release branches .*feature/x is not one \(its role: feature\)"
    ):
        release_of(trained)


def test_an_explicit_version_must_be_new(trained: Path) -> None:
    release_of(trained)
    (trained / "README.md").write_text("changed\n")
    git(trained, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-am", "change")
    train(trained)
    with pytest.raises(DataError, match=r"digits 1.0.0 is already released: choose another version"):
        release_of(trained, version="1.0.0")
    with pytest.raises(ConfigError, match=r"--version 'v1' is not a version X.Y.Z"):
        release_of(trained, version="v1")
    assert release_of(trained, version="2.0.0").version == "2.0.0"  # type: ignore[attr-defined]


def test_without_a_release_section_it_says_what_to_add(trained: Path) -> None:
    config_file = trained / "alops.yaml"
    text = config_file.read_text()
    config_file.write_text(text[: text.index("\n# What `alops release` ships")] + "\n")
    with pytest.raises(ConfigError, match=r"has no release section: add `release: \{model: NAME\}`"):
        release_of(trained)


def test_services_are_gitlab_s_in_ci_and_local_ones_elsewhere(tmp_path: Path) -> None:
    from alops.release.publish import GitLabReleases, LocalPublisher
    from alops.release.registry import GenericPackages, LocalRegistry
    from alops.release.tags import GitLabTags

    local = services(tmp_path, {})
    assert isinstance(local, Services)
    assert (type(local.registry), type(local.tags), type(local.publisher)) == (LocalRegistry, LocalTags, LocalPublisher)
    ci = {"CI_API_V4_URL": "https://gitlab.example.com/api/v4", "CI_PROJECT_ID": "42", "CI_JOB_TOKEN": "job-token"}
    remote = services(tmp_path, ci)
    assert (type(remote.registry), type(remote.tags), type(remote.publisher)) == (
        GenericPackages,
        GitLabTags,
        GitLabReleases,
    )


# --- in CI: GitLab's tags, generic packages and Releases (python-gitlab, faked with responses) -------------

API = "https://gitlab.example.com/api/v4"
CI = {
    "CI": "true",
    "GITLAB_CI": "true",
    "CI_API_V4_URL": API,
    "CI_SERVER_URL": "https://gitlab.example.com",
    "CI_PROJECT_ID": "42",
    "CI_JOB_TOKEN": "job-t0ken-s3cr3t",
    "CI_COMMIT_BRANCH": "release/1.0",
    "CI_COMMIT_REF_NAME": "release/1.0",
    "CI_DEFAULT_BRANCH": "main",
    "CI_PIPELINE_SOURCE": "push",
    "CI_PIPELINE_URL": "https://gitlab.example.com/grp/proj/-/pipelines/7",
}


def test_in_ci_the_release_goes_to_gitlab_with_the_job_token_only(trained: Path) -> None:
    import responses
    from responses import matchers

    env = {**CI, "CI_COMMIT_SHA": git(trained, "rev-parse", "HEAD")}
    job = matchers.header_matcher({"JOB-TOKEN": env["CI_JOB_TOKEN"]})
    files = {}
    with responses.RequestsMock(assert_all_requests_are_fired=True) as api:
        # the baseline: main's metrics are not in git, and main has no run job artifacts yet
        api.get(
            f"{API}/projects/42/jobs/artifacts/main/raw/alops-manifest.json",
            status=404,
            json={"message": "404 Not Found"},
            match=[matchers.query_param_matcher({"job": "alops-run-gpu"})],
        )
        api.get(
            f"{API}/projects/42/repository/tags",
            json=[],
            match=[job, matchers.query_param_matcher({"search": "^digits", "per_page": "100"}, strict_match=False)],
        )
        api.get(f"{API}/projects/42/packages", json=[], match=[job])

        def stored(request: object) -> tuple[int, dict[str, str], str]:
            body = request.body  # type: ignore[attr-defined]
            data = body.read() if hasattr(body, "read") else body
            name = request.url.rsplit("/", 1)[1].split("?")[0]  # type: ignore[attr-defined]
            files[name] = data
            import hashlib

            return 201, {}, json.dumps({"file_name": name, "file_sha256": hashlib.sha256(data).hexdigest()})

        for name in ("digits-1.0.0.tar.gz", "alops-manifest.json"):
            api.add_callback(responses.PUT, f"{API}/projects/42/packages/generic/digits/1.0.0/{name}", callback=stored)
        api.post(
            f"{API}/projects/42/releases",
            status=201,
            json={
                "tag_name": "digits@v1.0.0",
                "_links": {"self": "https://gitlab.example.com/grp/proj/-/releases/digits@v1.0.0"},
            },
            match=[job],
        )

        done = ship(
            load_config(trained / "alops.yaml"),
            manifest_path=trained / "alops-manifest.json",
            env=env,
            out=trained / "alops-release",
            using=services(trained, env),
        )
        release = json.loads(api.calls[-1].request.body)

    assert done.release_url == "https://gitlab.example.com/grp/proj/-/releases/digits@v1.0.0"
    assert files["digits-1.0.0.tar.gz"] == (trained / "alops-release/digits-1.0.0.tar.gz").read_bytes()
    package_url = f"{API}/projects/42/packages/generic/digits/1.0.0"
    assert release == {
        "name": "digits 1.0.0",
        "tag_name": "digits@v1.0.0",
        "ref": env["CI_COMMIT_SHA"],
        "tag_message": "Registering artifact digits version v1.0.0",
        "description": (trained / "alops-release/RELEASE.md").read_text(),
        "assets": {
            "links": [
                {"name": "digits-1.0.0.tar.gz", "url": f"{package_url}/digits-1.0.0.tar.gz", "link_type": "package"},
                {"name": "alops-manifest.json", "url": f"{package_url}/alops-manifest.json", "link_type": "package"},
            ]
        },
    }
    notes = release["description"]
    assert "in [pipeline](https://gitlab.example.com/grp/proj/-/pipelines/7)" not in notes  # not a CI run: no ci block
    assert f"- [digits-1.0.0.tar.gz]({package_url}/digits-1.0.0.tar.gz)" in notes
    assert env["CI_JOB_TOKEN"] not in notes
