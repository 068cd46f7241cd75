"""The error catalogue: every error callcoach raises on purpose is a CallcoachError.

Messages say which file (and line) is wrong, what is wrong and what to do. They never
quote transcript text: transcripts are personal data.
"""

from __future__ import annotations

from typing import Optional


class CallcoachError(Exception):
    """Base class of callcoach's errors; the CLI prints the message and exits with 2."""

    def __init__(self, message: str, *, path: Optional[str] = None, line: Optional[int] = None) -> None:
        self.path = path
        self.line = line
        self.problem = message
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(where + message)


class TranscriptError(CallcoachError):
    """A transcript file cannot be read or is malformed."""


class ConfigError(CallcoachError):
    """A configuration file or option is invalid."""


class RuleError(CallcoachError):
    """A rule file in lexicons/ (or a user rule pack) is invalid."""


class ModelError(CallcoachError):
    """A model (sentiment, ASR) cannot be loaded."""


class MissingDependencyError(CallcoachError):
    """An optional dependency is needed for this operation but not installed."""

    def __init__(self, package: str, extra: str, purpose: str) -> None:
        super().__init__(
            f"{purpose} needs the '{package}' package, which is not installed. "
            f"Install it with: pip install 'callcoach[{extra}]'"
        )
