"""What changes between two plans, as a reviewer reads a pull request: where each resource runs, what is
rendered, what it costs, which findings appear or go.

Pure functions of two plan documents (``Plan``); nothing is placed, read or printed here. Every list is
sorted, so the same two plans always give the same diff (and the same PR comment).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, computed_field

from cloudorch.errors import OverBudget

from cloudorch.plan import Plan

#: a finding counts as failing in these statuses (waived and passing ones do not)
FAILING = ("fail", "error")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Slot(_Frozen):
    """Where some replicas of a resource run: one row of the plan's placements."""

    cloud: str
    region: str
    instance_type: str | None = None
    spot: bool = False
    count: int

    def label(self) -> str:
        what = f"{self.count} x {self.instance_type}{' (spot)' if self.spot else ''} in " if self.instance_type else ""
        return f"{what}{self.cloud}/{self.region}"


class Move(_Frozen):
    """One stack resource whose placement differs: added, removed, or moved (``changes`` says in what)."""

    resource: str
    kind: str
    status: Literal["added", "removed", "moved"]
    before: list[Slot] = []
    after: list[Slot] = []
    #: what differs, among "cloud", "region", "type", "count" (a moved resource has at least one)
    changes: list[str] = []


class RenderedChange(_Frozen):
    """One rendered (Pulumi) resource added, removed or changed; ``fields`` names what changed in it."""

    name: str
    type: str
    cloud: str
    source: str | None = None
    status: Literal["added", "removed", "changed"]
    #: the changed inputs as ``inputs.<key>``, and any other changed field (``type``, ``depends_on``, ...)
    fields: list[str] = []


class CostChange(_Frozen):
    """Monthly USD before and after, for the whole plan, one cloud or one stack resource."""

    name: str
    before: float
    after: float

    @computed_field
    @property
    def delta(self) -> float:
        return round(self.after - self.before, 2)

    @computed_field
    @property
    def percent(self) -> float | None:
        """The change relative to before; None when before was nothing (any rise is then infinite)."""
        return round(100 * (self.after - self.before) / self.before, 2) if self.before else None


class CostDiff(_Frozen):
    total: CostChange
    by_cloud: list[CostChange]
    #: by stack resource; network traffic lines are named by their flow (``web->orders-db``)
    by_resource: list[CostChange]
    #: the network's parts (``Cost.network_by_part``); empty when a plan predates them
    by_network_part: list[CostChange] = []


class FindingRef(_Frozen):
    policy: str
    severity: str
    enforcement: str
    status: str
    resource: str | None = None
    rendered: str | None = None
    cloud: str | None = None
    message: str


class FindingsDiff(_Frozen):
    new: list[FindingRef] = []
    fixed: list[FindingRef] = []
    still_failing: list[FindingRef] = []


class PlanDiff(_Frozen):
    base_stack: str
    stack: str
    moves: list[Move]
    rendered: list[RenderedChange]
    cost: CostDiff
    findings: FindingsDiff

    @computed_field
    @property
    def moved(self) -> int:
        """How many stack resources move, appear or go."""
        return len(self.moves)

    @computed_field
    @property
    def changed(self) -> bool:
        """Whether anything a reviewer must see changed: a placement, a rendered resource, a cent of the
        bill, a finding appearing or fixed. Findings that fail before and after alone are not a change."""
        return bool(self.moves or self.rendered or self.findings.new or self.findings.fixed
                    or any(c.delta for c in (self.cost.total, *self.cost.by_cloud)))

    def count(self, status: str) -> int:
        return sum(1 for r in self.rendered if r.status == status)


def diff_plans(base: Plan, new: Plan) -> PlanDiff:
    """How ``new`` differs from ``base``."""
    return PlanDiff(base_stack=base.stack, stack=new.stack, moves=_moves(base, new),
                    rendered=_rendered(base, new), cost=_cost(base, new), findings=_findings(base, new))


def increase_refusal(diff: PlanDiff, max_usd: float | None = None, max_percent: float | None = None) -> OverBudget | None:
    """The budget gate on the change: an ``OverBudget`` (exit 4) when the monthly cost rises by more than
    ``max_usd`` dollars or ``max_percent`` percent, else None. A rise from nothing exceeds any percentage."""
    total = diff.cost.total
    limits = []
    if max_usd is not None and total.delta > max_usd:
        limits.append(f"more than the ${max_usd:,.2f} allowed (--max-increase-usd)")
    if max_percent is not None and total.delta > 0 and (total.percent is None or total.percent > max_percent):
        limits.append(f"more than the {max_percent:g}% allowed (--max-increase-pct)")
    if not limits:
        return None
    return OverBudget(f"the monthly cost rises by {signed_usd(total.delta)} ({percent_label(total)}), "
                      + " and ".join(limits),
                      monthly_usd=total.after, budget_usd=_allowed(total.before, max_usd, max_percent),
                      hint="look at the cost by resource above; raise the limit if the increase is intended")


def _allowed(before: float, max_usd: float | None, max_percent: float | None) -> float:
    """The highest monthly cost both limits allow."""
    limits = [before + max_usd] if max_usd is not None else []
    limits += [before * (1 + max_percent / 100)] if max_percent is not None else []
    return round(min(limits), 2)


def signed_usd(value: float) -> str:
    """``+$1,234.50`` / ``-$3.00`` / ``$0.00``."""
    sign = "+" if value > 0 else "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"


def percent_label(change: CostChange) -> str:
    if not change.delta:
        return "0%"
    if change.percent is None:
        return "new"
    return f"{change.percent:+.1f}%"


def _slots(plan: Plan) -> dict[str, tuple[str, list[Slot]]]:
    out: dict[str, tuple[str, list[Slot]]] = {}
    for p in plan.placements:
        kind, slots = out.setdefault(p.resource, (p.kind, []))
        slots.append(Slot(cloud=p.cloud, region=p.region, instance_type=p.instance_type, spot=p.spot, count=p.count))
    return {name: (kind, sorted(slots, key=_slot_key)) for name, (kind, slots) in out.items()}


def _slot_key(slot: Slot) -> tuple:
    return slot.cloud, slot.region, slot.instance_type or "", slot.spot


def _moves(base: Plan, new: Plan) -> list[Move]:
    before, after = _slots(base), _slots(new)
    moves = []
    for name in sorted(before.keys() | after.keys()):
        if name not in after:
            moves.append(Move(resource=name, kind=before[name][0], status="removed", before=before[name][1]))
        elif name not in before:
            moves.append(Move(resource=name, kind=after[name][0], status="added", after=after[name][1]))
        elif before[name][1] != after[name][1]:
            a, b = before[name][1], after[name][1]
            moves.append(Move(resource=name, kind=after[name][0], status="moved", before=a, after=b,
                              changes=_what_changed(a, b)))
    return moves


def _what_changed(before: list[Slot], after: list[Slot]) -> list[str]:
    def spread(slots: list[Slot], field) -> Counter:
        counts: Counter = Counter()
        for s in slots:
            counts[field(s)] += s.count
        return counts

    changes = [label for label, field in (("cloud", lambda s: s.cloud), ("region", lambda s: (s.cloud, s.region)),
                                          ("type", lambda s: (s.instance_type, s.spot)))
               if set(spread(before, field)) != set(spread(after, field))]
    if sum(s.count for s in before) != sum(s.count for s in after):
        changes.append("count")
    # the same places and total, spread differently among them: replicas still moved between regions
    return changes or ["region"]


def _rendered(base: Plan, new: Plan) -> list[RenderedChange]:
    before = {r.name: r for r in base.resources}
    after = {r.name: r for r in new.resources}
    out = []
    for name in sorted(before.keys() | after.keys()):
        a, b = before.get(name), after.get(name)
        if a == b:
            continue
        one = b or a
        status = "added" if a is None else "removed" if b is None else "changed"
        fields: list[str] = []
        if a is not None and b is not None:
            fields = [f"inputs.{k}" for k in sorted(a.inputs.keys() | b.inputs.keys()) if a.inputs.get(k) != b.inputs.get(k)]
            fields += [f for f in sorted(type(a).model_fields) if f != "inputs" and getattr(a, f) != getattr(b, f)]
        out.append(RenderedChange(name=name, type=one.type, cloud=one.cloud, source=one.source, status=status,
                                  fields=fields))
    return out


def _cost(base: Plan, new: Plan) -> CostDiff:
    def pair(name: str, before: dict[str, float], after: dict[str, float]) -> CostChange:
        return CostChange(name=name, before=round(before.get(name, 0.0), 2), after=round(after.get(name, 0.0), 2))

    clouds_a, clouds_b = base.cost.by_cloud, new.cost.by_cloud
    res_a, res_b = _by_resource(base), _by_resource(new)
    parts_a, parts_b = base.cost.network_by_part, new.cost.network_by_part
    # a plan saved before the parts were recorded has a network but no parts: compared with one, every
    # part would seem new
    known = all(parts or not plan.cost.network_monthly_usd for plan, parts in ((base, parts_a), (new, parts_b)))
    return CostDiff(
        total=CostChange(name="total", before=base.cost.monthly_usd, after=new.cost.monthly_usd),
        by_cloud=[pair(c, clouds_a, clouds_b) for c in sorted(clouds_a.keys() | clouds_b.keys())],
        by_resource=[pair(r, res_a, res_b) for r in sorted(res_a.keys() | res_b.keys())],
        by_network_part=[pair(p, parts_a, parts_b) for p in sorted(parts_a.keys() | parts_b.keys())] if known else [],
    )


def _by_resource(plan: Plan) -> dict[str, float]:
    """The bill by stack resource: a rendered resource's line goes to the stack resource it came from; a
    line without one (a flow's traffic, a resource's egress) keeps its own name."""
    sources = {r.name: r.source for r in plan.resources}
    totals: dict[str, float] = {}
    if not plan.cost.lines:  # a plan billed from its placement alone
        for p in plan.placements:
            totals[p.resource] = totals.get(p.resource, 0.0) + p.monthly_usd
        return totals
    for line in plan.cost.lines:
        name = str(line.get("resource"))
        owner = sources.get(name) or name
        totals[owner] = totals.get(owner, 0.0) + float(line.get("monthly_usd") or 0.0)
    return totals


def _findings(base: Plan, new: Plan) -> FindingsDiff:
    """Failing findings matched by policy, stack resource, cloud and message, as many times as each occurs.

    Why not by the baseline's fingerprint: it includes the rendered name, which holds the region, so
    moving replicas within a cloud would show every finding of theirs as fixed and new again. Counting
    occurrences keeps a real change visible: a third region's instances add one more of the same finding.
    Which of them is the new one, though, is the one whose rendered resource is new: findings on a rendered
    name present in both plans are paired first, and only the rest are paired by count.
    """
    a, b = _failing(base), _failing(new)
    new_, fixed, still = [], [], []
    for key in sorted(a.keys() | b.keys(), key=_sort_key):
        same, before, after = _by_rendered(a.get(key, []), b.get(key, []))
        kept = min(len(before), len(after))
        still += sorted(same + after[:kept], key=lambda f: f.rendered or "")
        new_ += after[kept:]
        fixed += before[kept:]
    return FindingsDiff(new=new_, fixed=fixed, still_failing=still)


def _by_rendered(before: list[FindingRef], after: list[FindingRef]) -> tuple[list[FindingRef], ...]:
    """The findings of ``after`` on a rendered resource that ``before`` has one on too, then what is left of
    each side (in its order)."""
    both = Counter(f.rendered or "" for f in before) & Counter(f.rendered or "" for f in after)
    same: list[FindingRef] = []
    rest: list[list[FindingRef]] = []
    for is_after, side in enumerate((before, after)):
        paired, left = Counter(both), []
        for f in side:
            if paired[f.rendered or ""]:
                paired[f.rendered or ""] -= 1
                if is_after:
                    same.append(f)
            else:
                left.append(f)
        rest.append(left)
    return same, rest[0], rest[1]


def _failing(plan: Plan) -> dict[tuple, list[FindingRef]]:
    out: dict[tuple, list[FindingRef]] = {}
    for f in _finding_refs(plan.policy.get("findings", [])):
        out.setdefault((f.policy, f.resource or "", f.cloud or "", f.message), []).append(f)
    return {k: sorted(v, key=lambda f: f.rendered or "") for k, v in out.items()}


def _finding_refs(findings: Iterable[dict]) -> Iterable[FindingRef]:
    for f in findings:
        if isinstance(f, dict) and f.get("status") in FAILING:
            yield FindingRef(policy=str(f.get("policy")), severity=str(f.get("severity")),
                             enforcement=str(f.get("enforcement")), status=str(f.get("status")),
                             resource=f.get("resource"), rendered=f.get("rendered"), cloud=f.get("cloud"),
                             message=str(f.get("message", "")))


def _sort_key(key: tuple) -> tuple:
    return tuple(str(k) for k in key)
