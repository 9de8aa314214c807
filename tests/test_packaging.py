"""The declared dependencies against the code's own imports: every runtime dependency is imported
by runtime code (not only by tests), and the `controller` extra's only by the controller's entry
points, so the base package that serves Django apps stays without them."""

from __future__ import annotations

import ast
import functools
import pathlib
from importlib import metadata

import pytest
from packaging import requirements, utils

from controller.cli import main

DISTRIBUTION = "gcp-tasks-controller"
ROOT = pathlib.Path(__file__).resolve().parents[1]
RUNTIME = ("controller", "django_integration", "emulators")
# What needs the extra: the console script's commands, the operator and the metrics endpoint.
CONTROLLER_ENTRY_POINTS = ("controller/cli/", "controller/operator/", "controller/metrics.py")
# Read by the standard library, not imported: zoneinfo's time zones where the OS has none.
DATA_ONLY = {"tzdata"}


def _requirements() -> set[tuple[str, str | None]]:
    """Each requirement's canonical name and the extra it is in (None: the base package)."""
    dist = metadata.distribution(DISTRIBUTION)
    extras = dist.metadata.get_all("Provides-Extra") or []
    found: set[tuple[str, str | None]] = set()
    for text in dist.requires or []:
        requirement = requirements.Requirement(text)
        name = utils.canonicalize_name(requirement.name)
        marker = requirement.marker
        found.update(
            (name, extra) for extra in extras if marker and marker.evaluate({"extra": extra})
        )
        if marker is None:
            found.add((name, None))
    return found


@functools.cache
def _imports() -> dict[str, set[str]]:
    """Every module name the runtime packages import (candidates for `from a import b`: `a` and
    `a.b`), with the files importing it."""
    found: dict[str, set[str]] = {}
    for package in RUNTIME:
        for path in sorted((ROOT / package).rglob("*.py")):
            where = path.relative_to(ROOT).as_posix()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names: list[str] = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
                for name in names:
                    found.setdefault(name, set()).add(where)
    return found


def _importers(distribution: str) -> set[str]:
    """The runtime files importing anything `distribution` installs."""
    files = {f.as_posix() for f in metadata.files(distribution) or ()}
    return {
        where
        for name, wheres in _imports().items()
        if {f"{name.replace('.', '/')}{tail}" for tail in (".py", "/__init__.py")} & files
        for where in wheres
    }


RUNTIME_REQUIREMENTS = sorted(
    (
        pair
        for pair in _requirements()
        if pair[1] in (None, main.EXTRA) and pair[0] not in DATA_ONLY
    ),
    key=lambda pair: (pair[0], pair[1] or ""),
)


@pytest.mark.parametrize(("name", "extra"), RUNTIME_REQUIREMENTS)
def test_each_runtime_dependency_is_imported_where_it_belongs(name: str, extra: str | None) -> None:
    importers = _importers(name)
    assert importers, f"{name} is a runtime dependency that no runtime module imports"
    in_entry_points = {w for w in importers if w.startswith(CONTROLLER_ENTRY_POINTS)}
    if extra == main.EXTRA:
        assert importers == in_entry_points, f"{name} is imported outside the controller"
    else:
        assert importers - in_entry_points, f"only the controller imports {name}: use the extra"


def test_the_extras_hold_what_their_names_say() -> None:
    found = _requirements()
    assert {("kopf", main.EXTRA), ("prometheus-client", main.EXTRA), ("django", "django")} <= found
    assert {(name, None) for name in DATA_ONLY} <= found
