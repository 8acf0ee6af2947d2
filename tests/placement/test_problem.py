"""The placement problem model: group names, quota keys, ties, dominance and the memo, each defined once."""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path
from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cloudorch.placement
from cloudorch.placement import milp, presolve
from cloudorch.placement.dominance import Merit, dominates, undominated
from cloudorch.placement.problem import (
    BUDGET_GROUP,
    Demand,
    Group,
    Option,
    Problem,
    apart_group,
    near_group,
    parse_group,
    quota_covers,
    quota_group,
    quota_mask,
    spread_group,
)


def option(where: str, price: float, availability: float = 0.999, vcpus: float = 4, itype: str = "t") -> Option:
    cloud, region = where.split("/")
    return Option(cloud, region, itype, False, vcpus, 16, price, availability)


# --- constraint-group names -----------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "parsed"), [
    (spread_group("web", "max_per_region"), Group("spread", "web", "max_per_region")),
    (near_group("api"), Group("near", "api")),
    (apart_group("api", "web"), Group("apart", "api", "web")),
    (quota_group("aws/us-east-1"), Group("quota", detail="aws/us-east-1")),
    (quota_group("gcp"), Group("quota", detail="gcp")),
    (BUDGET_GROUP, Group("budget")),
])
def test_group_names_read_back(name, parsed):
    assert parse_group(name) == parsed


def test_group_names_are_the_stack_files_paths():
    assert spread_group("web", "min_clouds") == "resources.web.spread.min_clouds"
    assert near_group("db") == "resources.db.near"
    assert apart_group("a", "b") == "resources.a.apart.b"
    assert quota_group("aws") == "quota.aws"


def test_a_demand_lists_only_the_groups_that_can_bind():
    d = Demand("web", "compute", 3, (), min_clouds=2, min_regions=1, max_per_region=3, max_per_cloud=2,
               near="db", apart=("x", "y"))
    # min_regions 1 and max_per_region >= count cannot bind
    assert d.groups() == ("resources.web.spread.min_clouds", "resources.web.spread.max_per_cloud",
                          "resources.web.near", "resources.web.apart.x", "resources.web.apart.y")
    problem = Problem((d,), quotas={"aws": 8, "gcp/europe-west4": 4}, budget_monthly_usd=100, objective="balanced",
                      disabled=frozenset({"resources.web.near"}))
    assert problem.groups() == [*d.groups(), "quota.aws", "quota.gcp/europe-west4", "budget.monthly_usd"]
    assert problem.active(d) == set(d.groups()) - {"resources.web.near"}
    assert replace(problem, objective="cost").groups()[-1] == "quota.gcp/europe-west4"  # cost: budget checked after


# --- quotas ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("key", "cloud", "region", "covered"), [
    ("aws", "aws", "us-east-1", True),
    ("aws", "awsx", "us-east-1", False),
    ("aws/us-east-1", "aws", "us-east-1", True),
    ("aws/us-east-1", "aws", "us-east-2", False),
    ("aws/us-east-1", "gcp", "us-east-1", False),
])
def test_quota_key_covers_its_cloud_or_region(key, cloud, region, covered):
    assert quota_covers(key, cloud, region) is covered


def test_quota_masks_set_one_bit_per_covering_key():
    keys = ("aws", "aws/us-east-1", "gcp")
    assert quota_mask(keys, "aws", "us-east-1") == 0b011
    assert quota_mask(keys, "aws", "eu-west-1") == 0b001
    assert quota_mask(keys, "azure", "eastus") == 0
    masks = Problem(()).quota_masks(keys)
    assert masks[("gcp", "us-central1")] == 0b100 and masks[("aws", "us-east-1")] == 0b011


# --- ties -----------------------------------------------------------------------------------------------

def test_near_and_apart_tie_demands_transitively():
    demands = (Demand("a", "compute", 1, ()), Demand("b", "compute", 1, (), near="a"),
               Demand("c", "compute", 1, (), apart=("b",)), Demand("d", "compute", 1, ()),
               Demand("e", "compute", 1, (), near="missing"))
    ties = Problem(demands).ties()
    assert ties.find("a") == ties.find("b") == ties.find("c")
    assert len({ties.find(n) for n in "ade"}) == 3


# --- dominance ------------------------------------------------------------------------------------------

merits = st.tuples(st.integers(1, 4), st.sampled_from((0.99, 0.995, 0.999)), st.sampled_from((2, 4, 8)),
                   st.integers(0, 3))


@settings(max_examples=60, deadline=None)
@given(st.lists(merits, min_size=1, max_size=12))
def test_dominance_on_arrays_is_dominance_on_each_pair(rows):
    """dominated_regions compares numpy columns with the same predicate candidates/presolve use per pair."""
    column = Merit(*(np.array(c) for c in zip(*rows)))
    matrix = dominates(Merit(*(a[None, :] for a in column)), Merit(*(a[:, None] for a in column)))
    for i, b in enumerate(rows):
        for j, a in enumerate(rows):
            assert bool(matrix[i, j]) == bool(dominates(a, b))


def test_what_dominates():
    base = (1.0, 0.995, 4, 0b01)
    assert dominates((0.9, 0.999, 4, 0b01), base)
    assert not dominates((1.1, 0.999, 4, 0b01), base)  # dearer
    assert not dominates((0.9, 0.99, 4, 0b01), base)  # less available
    assert not dominates((0.9, 0.999, 8, 0b01), base)  # more vCPUs under a quota
    assert dominates((0.9, 0.999, 8, 0), base)  # more vCPUs under no quota
    assert not dominates((0.9, 0.999, 2, 0b11), base)  # under a quota base escapes


def test_undominated_keeps_a_front_per_place():
    options = [option("aws/a", 0.10, 0.99), option("aws/a", 0.12, 0.999, itype="u"),
               option("aws/a", 0.13, 0.995, itype="v"), option("aws/b", 0.20, 0.99)]
    anywhere = undominated(options, place=lambda o: None, quotas=lambda o: 0)
    assert [(o.region, o.hourly_usd) for o in anywhere] == [("a", 0.10), ("a", 0.12)]
    per_region = undominated(options, place=lambda o: o.location, quotas=lambda o: 0)
    assert [(o.region, o.hourly_usd) for o in per_region] == [("a", 0.10), ("a", 0.12), ("b", 0.20)]


# --- the memo -------------------------------------------------------------------------------------------

def test_useful_options_are_remembered_on_the_demand_and_not_on_a_changed_one():
    options = (option("aws/a", 0.10), option("aws/b", 0.11), option("gcp/c", 0.12))
    d = Demand("web", "compute", 2, options)
    problem = Problem((d,))
    with patch.object(presolve, "_undominated", wraps=presolve._undominated) as computed:
        assert presolve.useful_options(d, problem) == [options[0]]  # nothing constrains where: the cheapest
        assert presolve.useful_options(d, replace(problem, objective="balanced")) == [options[0]]
        assert computed.call_count == 1  # a problem built from the same demand shares it
        spread = replace(d, min_clouds=2)  # same name, other constraints: worked out afresh
        assert presolve.useful_options(spread, replace(problem, demands=(spread,))) == [options[0], options[2]]
        assert computed.call_count == 2
    assert not any(isinstance(v, dict) for k, v in vars(presolve).items() if not k.startswith("__"))


def test_resources_with_the_same_requirements_share_one_pruning_per_place_within_a_problem():
    options = (option("aws/a", 0.10), option("aws/b", 0.11), option("gcp/c", 0.12))
    web, api, spread = (Demand("web", "compute", 2, options), Demand("api", "compute", 1, options),
                        Demand("batch", "compute", 2, options, min_clouds=2))
    problem = Problem((web, api, spread))
    with patch.object(presolve, "_undominated", wraps=presolve._undominated) as computed:
        assert presolve.useful_options(web, problem) == presolve.useful_options(api, problem) == [options[0]]
        assert computed.call_count == 1
        assert presolve.useful_options(spread, problem) == [options[0], options[2]]  # compared per cloud
        assert computed.call_count == 2


def test_the_problem_model_has_no_import_circle():
    """Within cloudorch.placement, counting imports made only for type checking too."""
    package = Path(cloudorch.placement.__file__).parent
    graph = {}
    for file in package.glob("*.py"):
        imported = set()
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("cloudorch.placement"):
                names = [node.module.split(".")[2]] if node.module.count(".") >= 2 else [a.name for a in node.names]
                imported |= {n for n in names if (package / f"{n}.py").exists()}
        graph[file.stem] = imported - {file.stem}

    def reaches(start: str, target: str, seen: set[str]) -> bool:
        return any(n == target or (n not in seen and reaches(n, target, seen | {n})) for n in graph[start])

    assert [m for m in sorted(graph) if reaches(m, m, set())] == []
    assert "milp" not in graph["presolve"] and "problem" in graph["milp"] and "problem" in graph["presolve"]
    assert milp.Problem is Problem  # milp uses the one model; it defines none of its own
    assert not any(isinstance(node, ast.ClassDef) and node.name in ("Demand", "Problem", "Solution")
                   for node in ast.walk(ast.parse((package / "milp.py").read_text())))
