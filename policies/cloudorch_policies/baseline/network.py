"""Network exposure: who can reach what from the internet, on the spec and on every cloud's firewall.

The rendered side judges firewall rules and security groups by role, through the facts their provider
reads (``TrafficRule``: direction, action, peers, ports), so a fourth cloud's firewall is judged as the
built-in three's are.
"""

from __future__ import annotations

from typing import Any

from cloudorch.policy import Policy, Violation, rendered_check, spec_check
from cloudorch.policy.values import get, is_all_ports
from cloudorch.rendering.roles import Role
from cloudorch.spec.models import Ingress

from cloudorch.rendering.service import served_ports

from cloudorch_policies import tokens as T
from cloudorch_policies._meta import fw

#: remote administration ports; both protocols are TCP (RDP's UDP transport only runs beside a TCP session)
ADMIN = {22: "SSH", 3389: "RDP"}
FIREWALLS = (Role.FIREWALL_RULE, Role.SECURITY_GROUP)


def ports_text(low: int, high: int) -> str:
    return f"port {low}" if low == high else f"ports {low}-{high}"


@spec_check("compute", "database")
def _public_ingress_spec(target, ctx):
    return [Violation(f"ingress on {rule.protocol} {ports_text(rule.port, rule.last_port)} is open to {rule.from_}",
                      ("ingress", i))
            for i, rule in enumerate(target.model.ingress) if rule.is_world_open]


def _spec_of(res, ctx):
    """The stack resource a rendered firewall rule came from, to locate findings at its ingress entry."""
    return ctx.stack.resources.get(res.source) if res.source else None


def spec_ingress_path(spec: Any, port: int | None = None) -> tuple[str | int, ...]:
    """The stack-file path of the spec ingress entry a world-open rendered rule most likely came from."""
    for i, rule in enumerate(getattr(spec, "ingress", ()) or ()):
        if isinstance(rule, Ingress) and rule.is_world_open and (port is None or rule.port <= port <= rule.last_port):
            return ("ingress", i)
    return ()


def inbound_rules(res, ctx):
    """The rules of a rendered firewall resource that admit traffic in."""
    return [rule for rule in ctx.facts(res).rules if rule.admits]


@rendered_check(roles=FIREWALLS)
def _public_ingress_rendered(res, ctx):
    spec = _spec_of(res, ctx)
    # a balancer's listeners are public by design (the load-balancer policies judge them); any other port
    # it opens to the world is still a finding
    listening = served_ports(spec) if ctx.facts(res).balancer else ()
    out = []
    for rule in inbound_rules(res, ctx):
        if rule.from_world and not all(lo == hi and lo in listening for lo, hi in rule.ports):
            ports = ", ".join(f"{lo}" if lo == hi else f"{lo}-{hi}" for lo, hi in rule.ports) or "unknown ports"
            first = rule.ports[0][0] if rule.ports else None
            out.append(Violation(f"allows {ports} from the internet", spec_ingress_path(spec, first)))
    return out


PUBLIC_INGRESS = Policy(
    id="network.public-ingress",
    title="Resources are not reachable from the whole internet",
    severity="high",
    checks=(_public_ingress_spec, _public_ingress_rendered),
    description="An ingress rule from `internet`, 0.0.0.0/0 or ::/0 exposes the resource to every host on the "
                "internet; on the rendered side, any firewall rule a provider creates with a world source.",
    remediation="Restrict `from:` to a CIDR or another resource, put the service behind a load balancer, or "
                "waive it with a reason if the resource is meant to be public (e.g. a web tier on 443).",
    # every world-open port fails here, so this rule enforces each per-port "not from the internet" control
    # (admin ports, HTTP, UDP) at least as strictly as the control itself
    frameworks=fw(("CKV_AWS_260", "CKV_AZURE_77", "CKV_AZURE_160", "CKV_GCP_106"),
                  aws=("5.2", "5.3"), azure=("6.1", "6.2", "6.3", "6.4"), gcp=("3.6", "3.7")),
    tags=("network",),
)


def admin_message(port: int, name: str, low: int, high: int) -> str:
    """A range names itself, not the admin port inside it: "ports 20-30 (SSH's 22 among them)"."""
    if low == high:
        return f"port {port} ({name}) is open to the internet"
    return f"ports {low}-{high} (including {port}, {name}) are open to the internet"


def _admin_violations(rules, spec):
    out = []
    for rule in rules:
        if not rule.from_world or not rule.carries("tcp"):
            continue
        for port, name in ADMIN.items():
            for low, high in rule.ports:
                if low <= port <= high:
                    out.append(Violation(admin_message(port, name, low, high), spec_ingress_path(spec, port)))
    return out


@spec_check("compute", "database")
def _admin_spec(target, ctx):
    return [Violation(admin_message(port, name, rule.port, rule.last_port), ("ingress", i))
            for i, rule in enumerate(target.model.ingress) if rule.is_world_open and rule.protocol == "tcp"
            for port, name in ADMIN.items() if rule.port <= port <= rule.last_port]


@rendered_check(roles=FIREWALLS)
def _admin_rendered(res, ctx):
    return _admin_violations(inbound_rules(res, ctx), _spec_of(res, ctx))


ADMIN_PORTS = Policy(
    id="network.admin-ports-open",
    title="SSH (22) and RDP (3389) are not open to the internet",
    severity="critical",
    checks=(_admin_spec, _admin_rendered),
    description="Remote administration ports reachable from 0.0.0.0/0 or ::/0 are the most scanned and "
                "brute-forced ports on the internet.",
    remediation="Remove the ingress entry or restrict its `from:` to an administration CIDR; prefer a bastion, SSM Session "
                "Manager, Azure Bastion or IAP TCP forwarding.",
    frameworks=fw(("CKV_AWS_24", "CKV_AWS_25", "CKV_AZURE_10", "CKV_AZURE_9", "CKV_GCP_2", "CKV_GCP_3"),
                  aws=("5.2", "5.3"), azure=("6.1", "6.2"), gcp=("3.6", "3.7")),
    tags=("network",),
)


@spec_check("compute", "database")
def _all_ports_spec(target, ctx):
    return [Violation(f"every {rule.protocol} port is open to the internet", ("ingress", i))
            for i, rule in enumerate(target.model.ingress)
            if rule.is_world_open and is_all_ports([(rule.port, rule.last_port)])]


@rendered_check(roles=FIREWALLS)
def _all_ports_rendered(res, ctx):
    def words(protocol):
        return "every port" if protocol in (None, "all") else f"every {protocol} port"

    return [Violation(f"{words(rule.protocol)} is open to the internet", spec_ingress_path(_spec_of(res, ctx)))
            for rule in inbound_rules(res, ctx) if rule.from_world and rule.all_ports]


ALL_PORTS = Policy(
    id="network.all-ports-open",
    title="No rule opens every port to the internet",
    severity="critical",
    checks=(_all_ports_spec, _all_ports_rendered),
    remediation="Open only the ports the service listens on: narrow the ingress entry's `port:` / `to_port:`.",
    frameworks=fw(("CKV_AWS_277",), aws=("5.2", "5.3"), azure=("6.1", "6.2"), gcp=("3.6", "3.7")),
    tags=("network",),
)


@rendered_check(T.AWS_VPC)
def _default_group(res, ctx):
    groups = [g for g in ctx.referrers(res.name, T.AWS_DEFAULT_SG) if g.inputs.get("vpcId") is not None]
    if not groups:
        return [Violation("the VPC's default security group keeps AWS's rules (all traffic among its members, "
                          "all outbound)")]
    if any(get(g.inputs, "ingress") or get(g.inputs, "egress") for g in groups):
        return [Violation("the VPC's default security group has rules")]
    return []


DEFAULT_SECURITY_GROUP = Policy(
    id="network.default-security-group",
    title="A VPC's default security group admits nothing",
    severity="medium",
    checks=(_default_group,),
    description="Every VPC has a default security group that admits all traffic among its members and lets "
                "everything out; anything launched without a group lands in it. cloudorch adopts it with no "
                "rules (aws:ec2/defaultSecurityGroup).",
    remediation="Nothing to set in the stack file: cloudorch renders every VPC's default security group without "
                "rules. A VPC written by hand needs an aws:ec2/defaultSecurityGroup with no ingress or egress.",
    frameworks=fw(("CKV2_AWS_12",), aws=("5.4",)),
    tags=("network",),
)

POLICIES = (PUBLIC_INGRESS, ADMIN_PORTS, ALL_PORTS, DEFAULT_SECURITY_GROUP)
