"""Command-line interface: thin typer commands over the library.

Data goes to stdout, messages to stderr. Exit codes: 0 ok, 1 a finding reached
``--fail-on``, 2 an error (bad input, bad config) — other files in a multi-file run are
still scored.
"""

from __future__ import annotations

import sys

import typer

from ..errors import CallcoachError
from ._errors import handle_errors
from .data import export_command, query_command, review_command
from .report import report_command, run_command
from .rules import rules_app
from .score import score_command
from .transcribe import transcribe_command

app = typer.Typer(
    name="callcoach",
    help="Score Mandarin debt-collection calls for compliance and coaching.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("transcribe")(handle_errors(transcribe_command))
app.command("score")(handle_errors(score_command))
app.command("report")(handle_errors(report_command))
app.command("run")(handle_errors(run_command))
app.command("export")(handle_errors(export_command))
app.command("query")(handle_errors(query_command))
app.command("review")(handle_errors(review_command))
app.add_typer(rules_app, name="rules")


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(False, "--version", help="Print the version and exit.", is_eager=True),
) -> None:
    """Score Mandarin debt-collection calls for compliance and coaching."""
    if version:
        from .. import __version__

        typer.echo(__version__)
        raise typer.Exit(0)
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(0)


def main() -> None:
    """Run the CLI, turning CallcoachError into a message on stderr and exit code 2."""
    try:
        app()
    except CallcoachError as exc:
        print(f"callcoach: error: {exc}", file=sys.stderr)
        sys.exit(2)
