"""docs/controller.md: the commands, their options and the exit codes, against controller.cli."""

from __future__ import annotations

import argparse
import re

import pytest

from controller.cli import commands, exits
from tests.docs import pages

PAGE = pages.DOCS / "controller.md"


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
