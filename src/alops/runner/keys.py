"""The configuration keys GitLab Runner documents, per section of ``config.toml`` and per executor.

Each list comes from the page named with it; a key that is not here is a typo or an undocumented
setting, and :func:`undocumented` reports it. Sections whose keys are the user's own (labels, taints,
feature-flag names, a plugin's settings) are listed by what we render, with the page that documents them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ADVANCED = "https://docs.gitlab.com/runner/configuration/advanced-configuration/"
KUBERNETES = "https://docs.gitlab.com/runner/executors/kubernetes/"
AUTOSCALER = "https://docs.gitlab.com/runner/executors/docker_autoscaler/"
FLEETING = "https://docs.gitlab.com/runner/fleet_scaling/fleeting/"
FEATURE_FLAGS = "https://docs.gitlab.com/runner/configuration/feature-flags/"
HELM = "https://docs.gitlab.com/runner/install/kubernetes/"


@dataclass(frozen=True)
class Section:
    """The documented keys of one ``config.toml`` section and the page that lists them."""

    keys: frozenset[str]
    url: str
    free: bool = False  # keys are the user's (labels, taints): any string is allowed


def _s(url: str, names: str, *, free: bool = False) -> Section:
    return Section(frozenset(names.split()), url, free)


SECTIONS: dict[str, Section] = {
    "": _s(ADVANCED, "concurrent log_level log_format check_interval sentry_dsn listen_address shutdown_timeout"),
    "runners": _s(
        ADVANCED,
        "name url token tls-ca-file tls-cert-file tls-key-file limit executor shell builds_dir cache_dir "
        "environment request_concurrency output_limit pre_get_sources_script post_get_sources_script "
        "pre_build_script post_build_script clone_url debug_trace_disabled referees "
        "unhealthy_requests_limit unhealthy_interval",
    ),
    "runners.docker": _s(
        ADVANCED,
        "allowed_images allowed_pull_policies allowed_services cache_dir cap_add cap_drop cpuset_cpus "
        "cpu_shares cpus devices device_cgroup_rules disable_cache disable_entrypoint_overwrite dns "
        "dns_search extra_hosts gpus helper_image helper_image_flavor host hostname image links memory "
        "memory_swap memory_reservation network_mode mac_address oom_kill_disable oom_score_adjust "
        "privileged pull_policy runtime isolation security_opt shm_size sysctls tls_cert_path tls_verify "
        "user userns_mode volumes volumes_from volume_driver wait_for_services_timeout container_labels",
    ),
    "runners.cache": _s(ADVANCED, "Type Path Shared MaxUploadedArchiveSize"),
    "runners.cache.s3": _s(
        ADVANCED,
        "ServerAddress AccessKey SecretKey BucketName BucketLocation Insecure AuthenticationType "
        "ServerSideEncryption ServerSideEncryptionKeyID",
    ),
    "runners.feature_flags": _s(FEATURE_FLAGS, "FF_USE_ADVANCED_POD_SPEC_CONFIGURATION"),
    "runners.kubernetes": _s(
        KUBERNETES,
        "namespace image pull_policy privileged allow_privilege_escalation poll_timeout poll_interval "
        "cpu_request cpu_limit memory_request memory_limit helper_cpu_request helper_cpu_limit "
        "helper_memory_request helper_memory_limit service_cpu_request service_cpu_limit "
        "service_memory_request service_memory_limit node_selector node_tolerations volumes pod_spec "
        "service_account helper_image image_pull_secrets pod_labels pod_annotations",
    ),
    "runners.kubernetes.node_selector": _s(KUBERNETES, "", free=True),
    "runners.kubernetes.node_tolerations": _s(KUBERNETES, "", free=True),
    "runners.kubernetes.volumes": _s(KUBERNETES, "host_path pvc config_map secret empty_dir csi"),
    "runners.kubernetes.volumes.pvc": _s(KUBERNETES, "name mount_path sub_path read_only"),
    "runners.kubernetes.volumes.empty_dir": _s(KUBERNETES, "name mount_path sub_path medium size_limit"),
    "runners.kubernetes.pod_spec": _s(KUBERNETES, "name patch_path patch patch_type"),
    "runners.autoscaler": _s(
        ADVANCED,
        "capacity_per_instance max_use_count max_instances plugin delete_instances_on_shutdown "
        "instance_ready_command plugin_config connector_config policy",
    ),
    "runners.autoscaler.connector_config": _s(
        ADVANCED,
        "os arch protocol username password key_pathname use_static_credentials keepalive timeout use_external_addr",
    ),
    "runners.autoscaler.policy": _s(ADVANCED, "periods timezone idle_count idle_time scale_factor scale_factor_limit"),
}

#: The sections each executor may use, beyond the global ones and ``runners``/``runners.cache*``.
EXECUTOR_SECTIONS: dict[str, frozenset[str]] = {
    "docker": frozenset({"runners.docker"}),
    "docker-autoscaler": frozenset({"runners.docker", "runners.autoscaler"}),
    "kubernetes": frozenset({"runners.kubernetes", "runners.feature_flags"}),
}

#: Fleeting plugins GitLab maintains (``plugin = "<name>"`` is installed from GitLab's OCI registry by
#: ``gitlab-runner fleeting install``, FLEETING) and the ``plugin_config`` keys each plugin's README
#: lists (gitlab.com/gitlab-org/fleeting/plugins/<name>); aws and googlecloud as in GitLab Runner's
#: fleeting examples (gitlab-org/gitlab-runner issue 29222, merge request 3315).
PLUGINS: dict[str, Section] = {
    "aws": _s("https://gitlab.com/gitlab-org/fleeting/plugins/aws", "name profile config_file credentials_file"),
    "googlecloud": _s(
        "https://gitlab.com/gitlab-org/fleeting/plugins/googlecloud", "name project zone credentials_file"
    ),
    "azure": _s("https://gitlab.com/gitlab-org/fleeting/plugins/azure", "name subscription_id resource_group_name"),
}

#: Top-level values of the gitlab/gitlab-runner Helm chart that we set (HELM, the chart's values.yaml).
HELM_VALUES: dict[str, Section] = {
    "": _s(HELM, "gitlabUrl concurrent checkInterval terminationGracePeriodSeconds rbac runners replicas"),
    "rbac": _s(HELM, "create serviceAccountAnnotations"),
    "runners": _s(HELM, "secret cache config"),
    "runners.cache": _s(HELM, "secretName"),
}


def undocumented(config: Mapping[str, Any], executor: str, plugin: str | None = None) -> list[str]:
    """Dotted paths of the keys of a parsed ``config.toml`` that GitLab Runner does not document
    for ``executor`` (``plugin``: the fleeting plugin whose ``plugin_config`` keys apply)."""
    allowed = {"", "runners", "runners.cache", "runners.cache.s3"} | EXECUTOR_SECTIONS[executor]
    found: list[str] = []

    def section_of(path: str) -> Section | None:
        if path == "runners.autoscaler.plugin_config":
            return PLUGINS.get(plugin or "")
        nested = EXECUTOR_SECTIONS[executor] | {"runners.cache"}
        if path in allowed or any(path.startswith(s + ".") for s in nested):
            return SECTIONS.get(path)
        return None

    def walk(table: Mapping[str, Any], path: str) -> None:
        section = section_of(path)
        for name, item in table.items():
            where = f"{path}.{name}" if path else name
            entries = item if isinstance(item, list) else [item]
            tables = [e for e in entries if isinstance(e, Mapping)]
            if tables and section_of(where) is not None:
                for entry in tables:
                    walk(entry, where)
            elif section is None or not (section.free or name in section.keys):
                found.append(where)

    walk(config, "")
    return found


def undocumented_helm(values: Mapping[str, Any]) -> list[str]:
    """Dotted paths of the Helm values we set that the chart does not document."""
    found: list[str] = []

    def walk(table: Mapping[str, Any], path: str) -> None:
        section = HELM_VALUES.get(path)
        for name, item in table.items():
            where = f"{path}.{name}" if path else name
            if section is None or name not in section.keys:
                found.append(where)
            elif isinstance(item, Mapping) and where in HELM_VALUES:
                walk(item, where)

    walk(values, "")
    return found
