"""The README documents every command and the public result fields; the package type-checks."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", ["callcoach transcribe", "callcoach run", "callcoach report", "callcoach export", "callcoach query", "callcoach review", "callcoach score", "callcoach rules list", "callcoach rules show", "callcoach rules check"])
def test_readme_documents_every_command(command: str) -> None:
    assert command in README


@pytest.mark.parametrize("field", ["call_id", "agent_id", "turns", "metrics", "findings", "score", "passed", "provenance",
                                   "talk.agent_share", "opening.elements", "rule_id", "suggestion"])
def test_readme_documents_result_fields(field: str) -> None:
    assert f"`{field}" in README


def test_readme_test_command_is_what_ci_runs() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    command = "python3 -m venv .venv && . .venv/bin/activate && pip install -e '.[dev]' && python -m pytest"
    assert command in README and command in ci


def test_mypy_is_clean() -> None:
    if shutil.which("mypy") is None and not _has_module("mypy"):
        pytest.skip("mypy not installed (pip install -e '.[dev]')")
    out = subprocess.run([sys.executable, "-m", "mypy", "src/callcoach"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-2000:]


def _has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None
