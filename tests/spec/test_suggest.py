"""The nearest valid name for an unknown field, the unit a number must lose, the tab in the indentation."""

from __future__ import annotations

import pytest

from cloudorch.spec.suggest import fields_at, nearest, number_with_unit, tab_in_indentation
from tests.spec.test_loader import GOOD, problems

INGRESS = GOOD + "    ingress:\n      - {port: 22, from: 10.0.0.0/8}\n"
DATABASE = GOOD + "  db:\n    kind: database\n    network: net\n    engine: postgres\n    version: '16'\n"


@pytest.mark.parametrize("text,old,new,expected", [
    (GOOD, "memory_gb: 4", "memory: 4", "shop.yaml:10: resources.web.memory: unknown field; did you mean memory_gb?"),
    (GOOD, "cpu: 2", "cpu: 2\n    replicas: 3", "shop.yaml:10: resources.web.replicas: unknown field; did you mean count?"),
    (GOOD, "resources:", "placement:\n  cloud: [aws]\nresources:",
     "shop.yaml:3: placement.cloud: unknown field; did you mean clouds?"),
    (INGRESS, "port: 22,", "port: 22, protcol: udp,",
     "shop.yaml:12: resources.web.ingress[0].protcol: unknown field; did you mean protocol?"),
    (DATABASE, "engine:", "storage: 50\n    engine:", "shop.yaml:14: resources.db.storage: unknown field; did you mean storage_gb?"),
])
def test_unknown_fields_name_the_nearest_valid_one(text, old, new, expected):
    assert expected in problems(text.replace(old, new))


def test_a_field_already_set_is_not_suggested():
    # `replicas` beside `count` is no typo of it
    assert problems(GOOD + "    count: 2\n    replicas: 3\n") == ["shop.yaml:12: resources.web.replicas: unknown field"]


def test_nothing_close_means_no_guess():
    assert problems(GOOD + "    colour: blue\n") == ["shop.yaml:11: resources.web.colour: unknown field"]


def test_fields_are_found_through_the_kind_and_by_alias():
    assert "memory_gb" in fields_at(("resources", "web", "compute", "x"))
    assert "storage_gb" in fields_at(("resources", "db", "database", "x"))
    assert "from" in fields_at(("resources", "web", "compute", "ingress", 0, "x"))
    assert fields_at(("resources", "web", "nosuchkind", "x")) == []


def test_nearest():
    assert nearest("hippa", ["baseline", "hipaa", "pci-dss"]) == "hipaa"
    assert nearest("Memory_GB", ["memory_gb", "cpu"]) == "memory_gb"
    assert nearest("disk", ["disk_gb", "cpu"]) == "disk_gb"
    assert nearest("colour", ["cpu", "count"]) is None


@pytest.mark.parametrize("old,new,expected", [
    ("memory_gb: 4", "memory_gb: 8GB", "resources.web.memory_gb: must be a number of GiB, without the unit (not '8GB')"),
    ("memory_gb: 4", "memory_gb: 8 GiB", "must be a number of GiB, without the unit (not '8 GiB')"),
    ("cpu: 2", "cpu: 4 vCPUs", "resources.web.cpu: must be a number of vCPUs, without the unit (not '4 vCPUs')"),
    ("resources:", "budget: {monthly_usd: $6000}\nresources:",
     "budget.monthly_usd: must be a number of US dollars, without the unit (not '$6000')"),
])
def test_a_number_with_a_unit_says_to_drop_the_unit(old, new, expected):
    assert any(expected in p for p in problems(GOOD.replace(old, new)))


def test_a_word_where_a_number_belongs_is_still_just_not_a_number():
    assert number_with_unit("memory_gb", "lots") is None
    assert number_with_unit("disk_gb", "40GB") == "must be a number of GB, without the unit (not '40GB')"


def test_a_tab_in_the_indentation_is_named():
    text = GOOD.replace("    cpu: 2", "\tcpu: 2")
    assert problems(text) == [
        "shop.yaml:9:1: YAML syntax error: a tab in the indentation; YAML indents with spaces only"]


def test_a_tab_after_the_error_line_is_not_blamed():
    assert tab_in_indentation("a: [\nb: 1\n\tc: 2\n", 2) is None
    assert tab_in_indentation("a: 1\n  \tb: 2\n", None) == (2, 3)
