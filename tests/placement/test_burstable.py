"""Burstable and shared-core types are chosen only for a resource that allows them (`burstable: true`)."""

from __future__ import annotations

from tests.placement.test_constraints import web
from tests.placement.tiny import catalog, off, plan, stack, where


def bursting(where_: str, itype: str, price: float, cpu: float = 4, mem: float = 16):
    return off(where_, itype, price, cpu, mem)._replace(category="burstable")


# us-east-1: a burstable type undercuts the steady one; ap-south-1 has only a burstable type that fits
CATALOG = catalog(
    bursting("aws/us-east-1", "t.xlarge", 0.08),
    off("aws/us-east-1", "m.xlarge", 0.10),
    bursting("aws/ap-south-1", "t.xlarge", 0.05),
)


def test_a_steady_service_never_gets_a_burstable_type():
    result = plan(stack(web(2), placement="clouds: [aws]"), CATALOG)
    assert where(result, "web") == [("aws", "us-east-1", "m.xlarge", False, 2)]
    reasons = {(e.cloud, e.region): (e.reason, e.detail) for e in result.explanations["web"].excluded}
    assert reasons[("aws", "ap-south-1")] == ("no-offering", "only burstable types fit (`burstable: true` allows them)")


def test_burstable_true_allows_them():
    result = plan(stack(web(2, "burstable: true"), placement="clouds: [aws]"), CATALOG)
    assert where(result, "web") == [("aws", "ap-south-1", "t.xlarge", False, 2)]
