"""Fixtures of tests/serve: package folders (tests/serve_packages.py) and the rows to send them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import serve_packages


@pytest.fixture
def toy_package(tmp_path: Path) -> Path:
    return serve_packages.write_package(tmp_path / "toy")


@pytest.fixture
def make_package(tmp_path: Path) -> Callable[..., Path]:
    counter = iter(range(1000))

    def make(**kwargs: Any) -> Path:
        return serve_packages.write_package(tmp_path / f"package-{next(counter)}", **kwargs)

    return make


@pytest.fixture(scope="session")
def digits_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The skeleton's package (do not change it)."""
    return serve_packages.write_digits_package(tmp_path_factory.mktemp("digits") / "package")


@pytest.fixture(scope="session")
def digit_rows() -> tuple[list[list[float]], list[int]]:
    return serve_packages.digit_rows(100)
