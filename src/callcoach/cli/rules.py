"""``callcoach rules``: list the rules, show one with its rationale and examples, check text."""

from __future__ import annotations

import json

import typer
from typing_extensions import Annotated

from ..config import Config
from ._errors import handle_errors
from ..lexicon import load_rulebook
from ..pipeline import analyze_text
from ..prohibited_model import load_default
from ..scorers.base import ScoringContext
from ..scorers.prohibited import ProhibitedLanguageScorer

rules_app = typer.Typer(help="List and inspect the compliance rules.", no_args_is_help=True)


@rules_app.command("list")
@handle_errors
def list_rules(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List every rule: id, category, severity and name; then the sentiment cues (SEN…)."""
    from ..scorers.sentiment import load_cues

    book = load_rulebook()
    cues = load_cues()
    if as_json:
        typer.echo(json.dumps([
            {"id": r.id, "name": r.name, "category": r.category, "severity": r.severity, "speaker": r.speaker}
            for r in book.rules
        ] + [
            {"id": c.id, "name": c.name, "category": "sentiment", "severity": None, "speaker": "any", "label": c.label}
            for c in cues
        ], ensure_ascii=False, indent=2))
        return
    for r in book.rules:
        stage = ""
        if r.min_days_overdue is not None or r.max_days_overdue is not None:
            stage = f"  (days overdue {r.min_days_overdue or 0}-{r.max_days_overdue if r.max_days_overdue is not None else '∞'})"
        typer.echo(f"{r.id}  {r.category:<14} {r.severity:<9} {r.name}{stage}")
    for c in cues:
        typer.echo(f"{c.id}  {'sentiment':<14} {'-':<9} {c.name} (sets the turn's sentiment to {c.label})")


@rules_app.command("show")
@handle_errors
def show_rule(rule_id: Annotated[str, typer.Argument(help="Rule id, e.g. EXP001.")]) -> None:
    """Show one rule (or sentiment cue): what it finds, why it matters, what to say instead, and its examples."""
    from ..scorers.sentiment import load_cues

    cue = next((c for c in load_cues() if c.id == rule_id), None)
    if cue is not None:
        typer.echo("\n".join([
            f"{cue.id}  {cue.name}", f"sentiment cue: sets the turn's label to {cue.label}   speaker: any", "",
            "Why:", "  " + " ".join(cue.rationale.split()), "", "Patterns:",
            *[f"  {p.pattern}" for p in cue.patterns], "", "Must fire:", *[f"  ✗ {t}" for t in cue.fire],
            "", "Must not fire:", *[f"  ✓ {t}" for t in cue.quiet],
        ]))
        return
    r = load_rulebook().get(rule_id)
    lines = [
        f"{r.id}  {r.name}",
        f"category: {r.category}   severity: {r.severity}   speaker: {r.speaker}",
    ]
    if r.min_days_overdue is not None or r.max_days_overdue is not None:
        lines.append(f"applies when days overdue: {r.min_days_overdue or 0} to {r.max_days_overdue if r.max_days_overdue is not None else 'any'}")
    lines += ["", r.message, "", "Why it matters:", "  " + " ".join(r.rationale.split())]
    if r.regulation:
        lines.append(f"Regulation: {r.regulation}")
    lines += ["", "Say instead:", "  " + r.suggestion, "", "Patterns:"]
    lines += [f"  {p.source}" for p in r.patterns]
    lines += ["", "Must fire:"] + [f"  ✗ {e.text}" for e in r.fire]
    lines += ["", "Must not fire:"] + [f"  ✓ {e.text}" for e in r.pass_]
    typer.echo("\n".join(lines))


@rules_app.command("check")
@handle_errors
def check_text(
    text: Annotated[str, typer.Argument(help="An utterance to check, as the agent would say it.")],
    days_overdue: Annotated[int, typer.Option("--days-overdue", help="Days overdue, for stage rules.")] = -1,
) -> None:
    """Check one agent utterance against the rules and print the rule ids that fire."""
    cfg = Config()
    call = analyze_text(text, cfg, days_overdue=None if days_overdue < 0 else days_overdue)
    out = ProhibitedLanguageScorer().score(call, ScoringContext(cfg, load_rulebook(), prohibited_model=load_default()))
    for f in out.findings:
        typer.echo(f"{f.rule_id}  {f.category:<14} {f.severity:<9} {f.quote}")
    if not out.findings:
        typer.echo("no rule fired")
