"""alops.credentials: which jobs have credentials for a remote, and what they are told when not."""

from __future__ import annotations

from pathlib import Path

import pytest

from alops import credentials
from alops.dvc import Remote
from alops.errors import EXIT_DATA, DataError

S3 = Remote("storage", "s3://bucket/data", {})
UNPROTECTED = {"CI": "true", "CI_COMMIT_REF_NAME": "feature/x", "CI_COMMIT_REF_PROTECTED": "false"}


@pytest.mark.parametrize(
    ("env", "options", "found"),
    [
        ({"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}, {}, ["AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"]),
        ({"AWS_ACCESS_KEY_ID": "k"}, {}, []),  # half a key pair is none
        ({"AWS_PROFILE": "ci"}, {}, ["AWS_PROFILE"]),
        ({"AWS_WEB_IDENTITY_TOKEN_FILE": "/t", "AWS_ROLE_ARN": "arn"}, {}, ["AWS_WEB_IDENTITY_TOKEN_FILE"]),
        ({"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/x"}, {}, ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]),
        ({}, {"access_key_id": "k", "secret_access_key": "s"}, ["remote option access_key_id"]),
        ({}, {"profile": "p"}, ["remote option profile"]),
        ({}, {"allow_anonymous_login": "true"}, ["remote option allow_anonymous_login"]),
        ({"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}, {}, []),
    ],
)
def test_credential_sources(tmp_path: Path, env: dict[str, str], options: dict[str, str], found: list[str]) -> None:
    remote = Remote("storage", "s3://bucket/data", options)
    assert credentials.sources(remote, {"HOME": str(tmp_path), **env}) == found


def test_a_shared_credentials_file_counts(tmp_path: Path) -> None:
    (tmp_path / ".aws").mkdir()
    (tmp_path / ".aws/credentials").write_text("[default]\n")
    assert credentials.sources(S3, {"HOME": str(tmp_path)}) == ["shared credentials file"]


def test_other_remote_kinds_are_left_to_dvc(tmp_path: Path) -> None:
    assert credentials.sources(Remote("r", "/srv/dvc", {}), {"HOME": str(tmp_path)}) == ["local remote (not checked)"]
    credentials.check(Remote("r", "gs://b/x", {}), dataset="full", env={"HOME": str(tmp_path)})


def test_full_data_on_an_unprotected_branch(tmp_path: Path) -> None:
    with pytest.raises(DataError) as caught:
        credentials.check(S3, dataset="full", env={"HOME": str(tmp_path), **UNPROTECTED})
    assert caught.value.exit_code == EXIT_DATA
    assert str(caught.value) == (
        "the full dataset's remote `storage` (s3://bucket/data) needs credentials; CI/CD variables AWS_ACCESS_KEY_ID "
        "and AWS_SECRET_ACCESS_KEY are given only to protected branches (this branch 'feature/x' is not protected: "
        "CI_COMMIT_REF_PROTECTED=false) — protect it or use the dev dataset"
    )


def test_refused_credentials_on_an_unprotected_tag_say_the_same() -> None:
    env = {**UNPROTECTED, "CI_COMMIT_REF_NAME": "v1\x1b[31m`x", "CI_COMMIT_TAG": "v1"}
    message = str(credentials.missing(S3, dataset="full", env=env, refused=True))
    assert message.startswith("the full dataset's remote `storage` (s3://bucket/data) refused this job's credentials;")
    assert "(this tag 'v1\\x1b[31m`x' is not protected" in message  # user text, escaped as every message escapes it


def test_full_data_on_a_protected_branch_without_the_variables() -> None:
    env = {"CI": "true", "CI_COMMIT_REF_NAME": "main", "CI_COMMIT_REF_PROTECTED": "true"}
    assert str(credentials.missing(S3, dataset="full", env=env)) == (
        "the full dataset's remote `storage` (s3://bucket/data) needs credentials: add AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY as masked, protected CI/CD variables (Settings > CI/CD > Variables) and protect "
        "the branches that use the full data"
    )


def test_outside_ci() -> None:
    assert str(credentials.missing(S3, dataset="full", env={})) == (
        "the full dataset's remote `storage` (s3://bucket/data) needs credentials: set AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), or use the dev dataset (--dataset dev)"
    )
    assert str(credentials.missing(S3, dataset="dev", env={})).endswith(
        "needs credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)"
    )


def test_the_dev_data_in_ci_asks_for_an_unprotected_read_only_key() -> None:
    assert str(credentials.missing(S3, dataset="dev", env=UNPROTECTED)) == (
        "the dev dataset's remote `storage` (s3://bucket/data) needs credentials: give every branch a read-only key "
        "of the dev data as masked CI/CD variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (not protected; see "
        "ci-templates/README.md, 'Credentials')"
    )


def test_a_url_with_credentials_in_it_is_shown_without_them() -> None:
    remote = Remote("storage", "s3://AKIAIOSFODNN7EXAMPLE:secret@bucket/x", {})
    assert "secret" not in str(credentials.missing(remote, dataset="full", env={}))
