"""Governance rules on the spec and its placement: ownership tags, data residency, approved sizes."""

from __future__ import annotations

from fnmatch import fnmatchcase

from cloudorch.policy import NotApplicable, Policy, Violation, rendered_check, spec_check
from cloudorch.policy.values import get

from cloudorch_policies import tokens as T


@spec_check("network", "compute", "database", "bucket")
def _tags(target, ctx):
    required = list(ctx.config.get("keys", ("team", "env")))
    tags = ctx.tags_of(target.name)
    missing = [key for key in required if not tags.get(key)]
    if not missing:
        return []
    return [Violation(f"missing tag{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                      "(on the resource or the stack)", ("tags",))]


TAGS = Policy(
    id="tags.required",
    title="Resources carry ownership tags",
    severity="low",
    checks=(_tags,),
    description="Every resource must carry the configured tag keys (default: team, env), from the stack's "
                "`tags:` or its own, so that cost and incidents reach an owner.",
    remediation="Add the tags under the stack's `tags:` (inherited by every resource) or the resource's own.",
    tags=("tagging",),
    config={"keys": ("team", "env")},
)


def _geo_problem(ctx, cloud, region):
    placement = ctx.stack.placement
    if placement.regions and region not in placement.regions:
        return f"{cloud}/{region} is not among the allowed regions ({', '.join(placement.regions)})"
    if region in placement.exclude_regions:
        return f"{cloud}/{region} is an excluded region"
    if placement.geo:
        geo = ctx.geo_of(cloud, region)
        if geo is None:
            return f"the geography of {cloud}/{region} is unknown, so residency in {', '.join(placement.geo)} is unproven"
        if geo not in placement.geo:
            return f"{cloud}/{region} is in {geo}, outside {', '.join(placement.geo)}"
    return None


def _constrained(ctx):
    p = ctx.stack.placement
    return bool(p.geo or p.regions or p.exclude_regions)


@spec_check("compute", "database", "bucket")
def _residency_spec(target, ctx):
    if not _constrained(ctx):
        return [NotApplicable("the stack sets no residency (placement.geo / regions)")]
    placed = ctx.placement_of(target.name)
    if placed is None:
        return [NotApplicable("not placed yet")]
    problems = [_geo_problem(ctx, cloud, region) for cloud, region in placed.locations]
    return [Violation(p) for p in problems if p]


@rendered_check()
def _residency_rendered(res, ctx):
    if not _constrained(ctx):
        return [NotApplicable("the stack sets no residency (placement.geo / regions)")]
    location = get(res.inputs, "location")
    regions = {r for r in (res.region, location) if isinstance(r, str) and r}
    if res.type == T.GCP_BUCKET and isinstance(location, str):
        regions = {location.lower()}  # a bucket lives where its location says, whatever the provider region
    regions -= {"global"}  # global control-plane objects (private DNS zones) hold no data in a region
    if not regions:
        return [NotApplicable("no region")]
    return [Violation(p) for p in sorted(filter(None, (_geo_problem(ctx, res.cloud, r) for r in sorted(regions))))]


RESIDENCY = Policy(
    id="residency.geo",
    title="Everything stays in the stack's allowed geographies and regions",
    severity="critical",
    checks=(_residency_spec, _residency_rendered),
    description="Each placed location and each rendered resource's region (or location) must lie in "
                "placement.geo, within placement.regions if given, and outside exclude_regions. A region whose "
                "geography cannot be determined fails: residency must be proven, not assumed.",
    remediation="Fix placement.geo / regions, or the provider mapping that put a resource elsewhere.",
    frameworks={"gdpr": ("Art. 44",)},
    tags=("residency", "placement"),
)


def _allowed(ctx):
    return [str(p) for p in ctx.config.get("allowed", ())]


@spec_check("compute", "database")
def _sizes_spec(target, ctx):
    allowed = _allowed(ctx)
    if not allowed:
        return [NotApplicable("no allow-list of machine sizes is configured")]
    placed = ctx.placement_of(target.name)
    if placed is None:
        return [NotApplicable("not placed yet")]
    bad = sorted({s.instance_type for s in placed.slots if not any(fnmatchcase(s.instance_type, p) for p in allowed)})
    return [Violation(f"machine size {t} is not on the allow-list") for t in bad]


_SIZE_FIELDS = {T.AWS_INSTANCE: "instanceType", T.AWS_LAUNCH_TEMPLATE: "instanceType", T.GCP_INSTANCE: "machineType",
                T.GCP_TEMPLATE: "machineType", T.AZ_VM: "hardwareProfile.vmSize", T.AZ_VMSS: "sku.name",
                T.AWS_RDS: "instanceClass", T.GCP_SQL: "settings.tier"}


@rendered_check(*_SIZE_FIELDS)
def _sizes_rendered(res, ctx):
    allowed = _allowed(ctx)
    if not allowed:
        return [NotApplicable("no allow-list of machine sizes is configured")]
    size = get(res.inputs, _SIZE_FIELDS[res.type])
    if not isinstance(size, str) or any(fnmatchcase(size.rsplit("/", 1)[-1], p) for p in allowed):
        return []
    return [Violation(f"machine size {size} is not on the allow-list")]


ALLOWED_SIZES = Policy(
    id="compute.allowed-sizes",
    title="Only approved machine sizes are used",
    severity="medium",
    checks=(_sizes_spec, _sizes_rendered),
    description="Configure `allowed` (instance-type globs such as m7i.*, Standard_D*s_v5, n2-standard-*) for "
                "this policy; without an allow-list the rule does not apply.",
    remediation="Change cpu/memory so the planner picks an approved size, or extend the allow-list.",
    tags=("governance", "cost"),
    config={"allowed": ()},
)

POLICIES = (TAGS, RESIDENCY, ALLOWED_SIZES)
