"""GitLab Runner set-up for alops jobs.

- :mod:`alops.runner.config`: ``RunnerSpec`` and ``render``, a runner's ``config.toml`` or Helm values.
- :mod:`alops.runner.keys`: the keys GitLab Runner documents for each section, with the page they come from.
- :mod:`alops.runner.register`: creating the runner in GitLab (``alops runner register``).
- :mod:`alops.runner.tomlout`: a TOML writer for the plain tables, arrays and scalars those files use.
"""
