"""docs/controller.md: the commands, their options and the exit codes, against controller.cli."""

from __future__ import annotations

import argparse
import ast
import re

import pytest

from controller.cli import commands, exits, main
from controller.planning import plans
from tests.docs import pages

PAGE = pages.DOCS / "controller.md"
LOG_METHODS = {"debug", "info", "warning", "error", "exception", "critical"}


def subcommands() -> dict[str, argparse.ArgumentParser]:
    """The console script's subcommands, as the parser the script itself uses builds them."""
    (subparsers,) = (
        action
        for action in commands.parser()._actions
        if isinstance(action, argparse._SubParsersAction)
    )
    return dict(subparsers.choices)


def visible_options(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    """Long option -> action, for every option `--help` shows (so not -h/--help itself)."""
    return {
        option: action
        for action in parser._actions
        if action.help is not argparse.SUPPRESS and not isinstance(action, argparse._HelpAction)
        for option in action.option_strings
        if option.startswith("--")
    }


def documented_options() -> list[dict[str, str]]:
    (table,) = pages.tables(pages.section(pages.read(PAGE), "Options"))
    return table


def documented_for(command: str) -> dict[str, dict[str, str]]:
    """Option -> its row, for the rows whose `commands` cell names `command`."""
    return {
        pages.first_code(row["option"]).split()[0]: row
        for row in documented_options()
        if command in re.findall(r"[a-z]+", row["commands"])
    }


def test_the_commands_table_names_every_command() -> None:
    table = pages.tables(pages.section(pages.read(PAGE), "Commands"))[0]
    documented = {pages.first_code(row["command"]).split()[1] for row in table}
    assert documented == set(subcommands())


@pytest.mark.parametrize("command", sorted(subcommands()))
def test_the_options_table_lists_exactly_the_options_of_each_command(command: str) -> None:
    assert set(documented_for(command)) == set(visible_options(subcommands()[command]))


def test_every_documented_option_is_listed_once() -> None:
    options = [pages.first_code(row["option"]).split()[0] for row in documented_options()]
    assert len(options) == len(set(options))


@pytest.mark.parametrize("command", sorted(subcommands()))
def test_documented_defaults_are_the_parsers_defaults(command: str) -> None:
    rows = documented_for(command)
    checked = 0
    for option, action in visible_options(subcommands()[command]).items():
        if action.default in (None, False, [], ""):
            continue  # "off", "none", "standalone": said in words
        documented = pages.first_code(rows[option]["default"])
        if isinstance(action.default, int | float):
            assert float(documented) == action.default, option
        else:
            assert documented == action.default, option
        checked += 1
    assert checked >= 4


def test_documented_choices_are_the_parsers_choices() -> None:
    for command, parser in subcommands().items():
        for option, action in visible_options(parser).items():
            if action.choices is None:
                continue
            row = documented_for(command)[option]
            words = pages.first_code(row["option"]).split()
            cell = " ".join([*words[1:], *pages.code_spans(row["meaning"])])
            for choice in action.choices:
                assert str(choice) in cell, (command, option, choice)


def test_the_exit_code_table_matches_exits() -> None:
    table = pages.tables(pages.section(pages.read(PAGE), "Exit codes"))[0]
    documented = [int(pages.first_code(row["code"])) for row in table]
    declared = {value for name, value in vars(exits).items() if name.isupper()}
    assert len(declared) >= 3, declared
    assert sorted(documented) == sorted(declared)


def test_the_exit_codes_say_what_a_missing_controller_extra_gives() -> None:
    """`main` answers it, for every command, with the install line the page quotes."""
    section = pages.section(pages.read(PAGE), "Exit codes")
    (paragraph,) = [text for text in section.split("\n\n") if main.INSTALL in text]
    assert f"exits {exits.INVALID}" in paragraph and f"`{main.INSTALL}`" in paragraph


def events_logged() -> set[str]:
    """Every event the controller logs: the names passed to structlog as literals, and the
    blocked verbs, which `applying` logs under the verb's own name."""
    found = {verb.value for verb in plans.BLOCKED_VERBS}
    for path in (pages.ROOT / "controller").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in LOG_METHODS
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.add(node.args[0].value)
    return found


def test_the_log_table_lists_exactly_the_events_the_controller_logs() -> None:
    (table,) = pages.tables(pages.section(pages.read(PAGE), "Logs"))
    documented = [name for row in table for name in pages.code_spans(row["event"])]
    assert len(documented) == len(set(documented)), "an event is listed twice"
    logged = events_logged()
    assert {"drift_detected", "reconcile_pass", "conflict"} <= logged  # the scan itself works
    assert set(documented) == logged
