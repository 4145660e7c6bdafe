"""Helpers for the CI templates' tests and benchmark: gitlab-ci-local on throw-away repos."""
