"""Shared fixtures: where the third-party data and models beside the project live."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
TESTS_DATA = Path(__file__).resolve().parent / "data"


def shared_dir() -> Path:
    """Return ../shared (or $CALLCOACH_SHARED), which holds third-party data and models."""
    return Path(os.environ.get("CALLCOACH_SHARED", REPO_ROOT.parent / "shared"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The ../shared/data folder; tests that need it skip with the reason when it is absent."""
    path = shared_dir() / "data"
    if not path.is_dir():
        pytest.skip(f"third-party data not found at {path} (set CALLCOACH_SHARED)")
    return path


@pytest.fixture(scope="session")
def tests_data() -> Path:
    return TESTS_DATA
