"""Releases: a gated model versioned, packaged, registered and tagged (``alops release``), then served.

- :mod:`~alops.release.ship`: ``alops release``, in order: the checks, the package, the registries, the tag.
- :mod:`~alops.release.version`, :mod:`~alops.release.tags`: semantic versions and GTO's git tags.
- :mod:`~alops.release.package`, :mod:`~alops.release.registry`: the package and where it is kept.
- :mod:`~alops.release.mlflow`: the model registry (any MLflow server, or GitLab's).
- :mod:`~alops.release.notes`, :mod:`~alops.release.publish`: the GitLab Release and its notes.
- :mod:`~alops.release.serving`: ``alops package``, the serving image's build context.
"""
