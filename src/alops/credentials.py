"""Whether a job has credentials for a dataset's remote, and what to say when it has none.

Full-data credentials are protected CI/CD variables: GitLab gives them only to
pipelines of protected branches and tags. A job of an unprotected branch that
needs the full data would otherwise fail deep inside DVC with "Unable to locate
credentials"; this module says why, from the variables GitLab sets
(``CI_COMMIT_REF_PROTECTED``), before anything is downloaded. Messages name
variables, never their values.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from alops import env as names
from alops.dvc.remote import Remote
from alops.errors import DataError
from alops.text import clip, quote, redact_output

#: Environment variables by which boto3 (DVC's S3 client) finds credentials, besides the key pair.
_AWS_SOURCES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",  # web identity: EKS service accounts, GitLab's OIDC id_tokens
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",  # ECS task roles
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",  # EKS pod identity
)
#: Options of a DVC S3 remote that supply credentials (or say none are needed).
_REMOTE_SOURCES = ("access_key_id", "profile", "credentialpath", "configpath")
_KEY_PAIR = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


def sources(remote: Remote, env: Mapping[str, str]) -> list[str]:
    """Where credentials for ``remote`` would come from (names only); empty when there are none.

    Only S3 remotes are checked: for any other kind DVC's own error stands.
    Instance metadata (an EC2 instance profile) cannot be seen without the
    network: such runners set ``AWS_PROFILE`` to a profile with
    ``credential_source = Ec2InstanceMetadata``.
    """
    if remote.scheme != "s3":
        return [f"{remote.scheme} remote (not checked)"]
    found = []
    if all(env.get(k) for k in _KEY_PAIR):
        found.append(" and ".join(_KEY_PAIR))
    found += [k for k in _AWS_SOURCES if env.get(k)]
    found += [f"remote option {k}" for k in _REMOTE_SOURCES if remote.options.get(k)]
    if remote.options.get("allow_anonymous_login", "").lower() in ("true", "1", "yes"):
        found.append("remote option allow_anonymous_login")
    home = env.get("HOME") or _home_of_user()
    shared = env.get("AWS_SHARED_CREDENTIALS_FILE") or (os.path.join(home, ".aws", "credentials") if home else "")
    if shared and Path(shared).is_file():
        found.append("shared credentials file")
    return found


def check(remote: Remote, *, dataset: str, env: Mapping[str, str]) -> None:
    """Raise DataError (exit code 4) saying why and what to do when ``remote`` has no credentials here."""
    if not sources(remote, env):
        raise missing(remote, dataset=dataset, env=env)


def missing(remote: Remote, *, dataset: str, env: Mapping[str, str], refused: bool | str = False) -> DataError:
    """The error for a job without (or with refused) credentials for ``dataset``'s remote.

    ``refused``: the remote said no (S3's error code, such as ``InvalidAccessKeyId``, if known).
    """
    what = f"the {dataset} dataset's remote `{remote.name}` ({redact_output(remote.url)})"
    variables = " and ".join(_KEY_PAIR)
    if refused and sources(remote, env):
        code = f" ({refused})" if isinstance(refused, str) and refused != "NoCredentials" else ""
        where = "the masked CI/CD variables " if env.get(names.CI) else ""
        return DataError(
            f"{what} refused this job's credentials{code}: check that {where}{variables} (or AWS_PROFILE, "
            "and AWS_SESSION_TOKEN for temporary keys) are current and allowed to read and write the bucket, "
            "and that the remote's url, endpointurl and region are right (`dvc remote list`)"
        )
    problem = "refused this job's credentials" if refused else "needs credentials"
    ref, kind = (
        env.get(names.CI_COMMIT_REF_NAME) or env.get(names.CI_COMMIT_BRANCH),
        "tag" if env.get(names.CI_COMMIT_TAG) else "branch",
    )
    protected = env.get(names.CI_COMMIT_REF_PROTECTED)
    if not env.get(names.CI):
        if dataset == "full":
            return DataError(
                f"{what} {problem}: set {variables} (or AWS_PROFILE), or use the dev dataset (--dataset dev)"
            )
        return DataError(f"{what} {problem}: set {variables} (or AWS_PROFILE)")
    if dataset == "full" and protected == "false":
        return DataError(
            f"{what} {problem}; CI/CD variables {variables} are given only to protected branches "
            f"(this {kind} {quote(clip(ref or '?', 120))} is not protected: CI_COMMIT_REF_PROTECTED=false) "
            "— protect it or use the dev dataset"
        )
    if dataset == "full":
        return DataError(
            f"{what} {problem}: add {variables} as masked, protected CI/CD variables "
            "(Settings > CI/CD > Variables) and protect the branches that use the full data"
        )
    return DataError(
        f"{what} {problem}: give every branch a read-only key of the dev data as masked CI/CD variables "
        f"{variables} (not protected; see ci-templates/README.md, 'Credentials')"
    )


def _home_of_user() -> str:
    # Where botocore looks when HOME is unset (os.path.expanduser falls back to the password
    # database); not this process's HOME, which the environment passed in may not share.
    import pwd

    try:
        return pwd.getpwuid(os.getuid()).pw_dir
    except KeyError:
        return ""
