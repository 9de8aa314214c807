"""`gcp-tasks-controller plan`: `reconcile --dry-run`, printing the plan for humans on stdout."""

from __future__ import annotations

import argparse

from controller.cli import exits, options, reconcile
from controller.engine import reports
from controller.planning import plans

_SYMBOLS = {
    plans.Verb.CREATE: "+",
    plans.Verb.UPDATE: "~",
    plans.Verb.PAUSE: "~",
    plans.Verb.RESUME: "~",
    plans.Verb.DELETE: "-",
    plans.Verb.RECREATE: "±",
    plans.Verb.RECREATE_NEEDED: "!",
    plans.Verb.CONFLICT: "!",
    plans.Verb.ORPHAN_KEPT: "=",
    plans.Verb.UNCHANGED: " ",
}


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "plan",
        help="show what reconcile would change, change nothing",
        description="Same as `reconcile --dry-run`, printing one line per action on stdout.",
    )
    options.add_registry(parser, required=True)
    parser.add_argument(
        "--show-unchanged", action="store_true", help="also list resources already in line"
    )
    options.add_policy(parser)
    options.add_logging(parser)
    parser.set_defaults(execute=execute)


def execute(args: argparse.Namespace) -> int:
    report = reconcile.one_pass(args, dry_run=True)
    if isinstance(report, int):
        return report
    print(render(report, show_unchanged=args.show_unchanged), end="")
    return exits.FAILED if report.failed else exits.CONVERGED


def _scope_lines(scope: reports.ScopeReport, *, show_unchanged: bool) -> list[str]:
    if scope.error is not None:
        return [f"  cannot list the actual state: {scope.error.reason}"]
    if scope.plan is None:
        return []
    lines = []
    if scope.plan.refused:
        lines.append(f"  REFUSED, nothing would be applied: {scope.plan.refused}")
    for action in scope.plan.actions:
        if action.verb is plans.Verb.UNCHANGED and not show_unchanged:
            continue
        symbol = _SYMBOLS[action.verb]
        line = f"  {symbol} {action.verb.value:<15} {action.kind.value:<13} {action.name}"
        if action.drift:
            line += f"  ({', '.join(drift.field for drift in action.drift)})"
        if action.reason and action.verb is not plans.Verb.DELETE:
            line += f"  # {action.reason}"
        lines.append(line)
    return lines


def render(report: reports.PassReport, *, show_unchanged: bool = False) -> str:
    """The plan as text: a header per scope (what was listed: `projects/p/locations/l` for
    scheduler jobs, `projects/p` for subscriptions), one line per action."""
    lines: list[str] = []
    for scope in report.scopes:
        body = _scope_lines(scope, show_unchanged=show_unchanged)
        if body:  # a scope with nothing to show (all unchanged) gets no header either
            lines += [f"{scope.scope.parent}:", *body]
    counts = report.counts()
    summary = ", ".join(
        f"{counts.get(verb.value, 0)} to {verb.value}"
        for verb in (plans.Verb.CREATE, plans.Verb.UPDATE, plans.Verb.PAUSE, plans.Verb.RESUME)
    )
    summary += f", {counts.get('delete', 0)} to delete, {counts.get('recreate', 0)} to recreate"
    summary += f", {counts.get('unchanged', 0)} unchanged"
    blocked = counts.get("recreate_needed", 0) + counts.get("conflict", 0)
    if blocked:
        summary += f", {blocked} blocked"
    lines.append(f"Plan: {summary}.")
    return "\n".join(lines) + "\n"
