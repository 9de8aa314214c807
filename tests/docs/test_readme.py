"""README.md's first lines: what `make` installs on a fresh machine and what the reader brings,
against the Makefile and what the tests, the benchmarks and the emulators need."""

from __future__ import annotations

import ast
import re

from benchmarks import instructions
from emulators import pubsub
from tests.docs import pages

MAKEFILE = pages.ROOT / "Makefile"


def setup_paragraphs() -> tuple[str, list[str]]:
    """The README's words on set-up (before its first section) and its list of what to bring."""
    intro = pages.read(pages.README).split("\n## ")[0]
    prose, _, listed = intro.rpartition("```\n")[2].partition("\n\n- ")
    bring = ("- " + listed).strip().split("\n- ")
    return prose, bring


def programs_the_tests_ask_for() -> set[str]:
    """Every program a test looks up on PATH (`shutil.which("name")`)."""
    found = set()
    for path in (pages.ROOT / "tests").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and ast.unparse(node.func) == "shutil.which"
                and isinstance(node.args[0], ast.Constant)
            ):
                found.add(node.args[0].value)
    return found


def system_packages() -> list[str]:
    """The Debian packages `make system-packages` installs."""
    (packages,) = re.findall(r"apt-get install -y ([^;]+);", MAKEFILE.read_text(encoding="utf-8"))
    return packages.split()


def test_what_make_installs_is_not_on_the_list_to_bring() -> None:
    prose, bring = setup_paragraphs()
    assert len(system_packages()) >= 2
    for package in system_packages():
        assert f"`{package}`" in prose, package
        assert not any(package in item for item in bring), package


def test_the_programs_the_tests_and_benchmarks_run_are_installed_or_on_the_list_to_bring() -> None:
    _, bring = setup_paragraphs()
    needed = programs_the_tests_ask_for() | {instructions.CALLGRIND[0]}
    assert "kubectl" in needed  # the scan itself works
    for program in needed - set(system_packages()):
        assert any(f"`{program}`" in item for item in bring), program


def test_the_pubsub_emulator_is_on_the_list_to_bring_as_the_emulators_say() -> None:
    _, bring = setup_paragraphs()
    (item,) = [item for item in bring if "Pub/Sub emulator" in item]
    installs = [span for span in pages.code_spans(pubsub.INSTALL_HINT) if "install" in span]
    packages = re.findall(r"apt package `([^`]+)`", pubsub.INSTALL_HINT)
    assert installs and packages
    for named in [*installs, *packages]:
        assert f"`{named}`" in " ".join(item.split()), named
    assert re.search(r"Java \d+\+", pubsub.INSTALL_HINT)[0] in item
    assert "`make demo`" in item
