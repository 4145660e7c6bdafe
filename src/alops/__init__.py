"""alops: CI/CD for machine-learning projects with an active-learning loop on GitLab."""

__version__ = "0.1.0"
