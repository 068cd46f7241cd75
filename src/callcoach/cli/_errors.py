"""One place where CallcoachError becomes a message on stderr and exit code 2."""

from __future__ import annotations

import functools
import sys
from typing import Any, Callable, TypeVar

import typer

from ..errors import CallcoachError

F = TypeVar("F", bound=Callable[..., Any])


def handle_errors(func: F) -> F:
    """Wrap a command so a CallcoachError prints ``callcoach: error: …`` and exits with 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CallcoachError as exc:
            print(f"callcoach: error: {exc}", file=sys.stderr)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]
