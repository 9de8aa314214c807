"""docs/kubernetes.md (and django.md on the registry writers): the RBAC the pages describe is the
RBAC the chart and the manifests grant."""

from __future__ import annotations

import re

import pytest

from tests.docs import pages

CHART_TEMPLATES = pages.CHART_README.parent / "templates"
MANIFESTS = pages.ROOT / "manifests"
PAGE = pages.DOCS / "kubernetes.md"


def rbac_rows() -> list[dict[str, str]]:
    (table,) = pages.tables(pages.section(pages.read(PAGE), "RBAC, rule by rule"))
    return table


def test_the_heartbeat_rule_names_the_configmap_the_chart_and_the_manifests_allow() -> None:
    template = (CHART_TEMPLATES / "rbac.yaml").read_text(encoding="utf-8")
    name_format, variable = re.findall(
        r'resourceNames: \[\{\{ printf "([^"]+)" \$(\w+) \| quote \}\}\]', template
    )[0]
    (row,) = [row for row in rbac_rows() if name_format.replace("%s", "") in row["rule"]]
    assert f"`{name_format.replace('%s', f'<{variable}>')}`" in row["rule"]

    (manifests_name,) = re.findall(
        r"resourceNames: \[([\w-]+)\]", (MANIFESTS / "rbac.yaml").read_text(encoding="utf-8")
    )
    manifests_fullname = manifests_name.removesuffix(name_format.replace("%s", ""))
    assert f"`<{variable}>` is `{manifests_fullname}` in `manifests/`" in row["why"]


def registry_writer_verbs() -> set[str]:
    """What registry-writers.yaml lets an app's service account do, rule by rule."""
    template = (CHART_TEMPLATES / "registry-writers.yaml").read_text(encoding="utf-8")
    return {
        verb.strip()
        for rule in re.findall(r"verbs: \[([^]]+)\]", template)
        for verb in rule.split(",")
    }


@pytest.mark.parametrize("page", ["kubernetes.md", "django.md"])
def test_the_registry_writers_verbs_are_the_charts(page: str) -> None:
    text = pages.read(pages.DOCS / page)
    (paragraph,) = [
        part for part in text.split("\n\n") if "`registryWriters`" in part and "`create`" in part
    ]
    named = {word for span in pages.code_spans(paragraph) for word in re.split(r"[/, ]+", span)}
    verbs = registry_writer_verbs()
    assert {"create", "patch"} <= verbs  # the scan itself works
    assert verbs <= named
