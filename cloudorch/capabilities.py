"""What a stack resource needs from a cloud, in neutral terms: the vocabulary placement and providers share.

Placement asks each provider "can you host this requirement in this region?" and a provider answers with
the capabilities it lacks there, each with a reason (SkyPilot's shape). This module is the whole of what
the two sides share, so it imports only the spec: placement never imports the provider contract, and a
provider never needs placement to understand a question.

A ``Requirement`` names its kind (``compute``, ``database``, ``bucket``, ``network``; a later kind -- a link,
a DNS name (``dns_requirement``) -- is a new ``kind`` string with the capabilities it needs, and passes the same
filter), the capabilities it cannot do without, those it would use where offered and does without
elsewhere (spot: a resource that allows spot still runs on demand), and details a provider may judge per
region (which accelerator, which database engine and version).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cloudorch.spec.models import Resource


class Capability(StrEnum):
    NETWORK = "network"
    COMPUTE = "compute"
    SPOT = "spot"
    ARM64 = "arm64"
    GPU = "gpu"
    POSTGRES = "postgres"
    MYSQL = "mysql"
    BUCKET = "bucket"
    #: a private link to another site of the same cloud (peering)
    PEERING = "peering"
    #: a site-to-site VPN to another cloud
    VPN = "vpn"
    #: data at rest encrypted with a key the stack renders and rotates (``customer_managed_key``)
    CUSTOMER_MANAGED_KEY = "customer-managed-key"
    #: an internet-facing balancer per location in front of a served resource (``rendering.service``)
    LOAD_BALANCER = "load-balancer"
    #: the stack's DNS zone with health-checked, steered records over balancers on any cloud
    GLOBAL_DNS = "global-dns"
    #: a managed database reached privately by resources of another stack network linked to its own
    CROSS_NETWORK_ACCESS = "cross-network-access"


@dataclass(frozen=True)
class Requirement:
    """What one stack resource needs from the cloud and region that would host it."""

    kind: str
    #: hard: a region lacking any of these cannot host the resource
    needs: frozenset[Capability] = frozenset()
    #: soft: used where offered, done without elsewhere
    prefers: frozenset[Capability] = frozenset()
    #: (name, value) pairs a provider may judge per region: ("accelerator", "A100"), ("engine", "postgres")
    details: tuple[tuple[str, str], ...] = ()

    @property
    def capabilities(self) -> frozenset[Capability]:
        return self.needs | self.prefers

    def detail(self, name: str) -> str | None:
        return next((value for key, value in self.details if key == name), None)

    def gaps(self, unsupported: Mapping[str, str]) -> dict[Capability, str]:
        """Of a cloud's ``unsupported`` capabilities (capability -> reason), those this requirement touches.

        A capability the requirement does not ask for is no gap: a cloud without GPUs still hosts CPU
        machines. Names outside the vocabulary are ignored the same way.
        """
        return {c: unsupported[c] for c in sorted(self.capabilities) if c in unsupported}


#: what links between sites need, as opposed to what a resource needs of the region that hosts it
LINK_CAPABILITIES = frozenset({Capability.PEERING, Capability.VPN})


def link_requirement(kind: str) -> Requirement:
    """What one side of a link needs: ``kind`` is "peering" or "vpn" (``network.model.Link.kind``)."""
    return Requirement(kind="link", needs=frozenset({Capability.PEERING if kind == "peering" else Capability.VPN}))


def dns_requirement() -> Requirement:
    """What the cloud serving a stack's ``dns`` zone needs (``rendering.service.GlobalNames``)."""
    return Requirement(kind="dns", needs=frozenset({Capability.GLOBAL_DNS}))


def cross_network_requirement() -> Requirement:
    """What a database needs of its cloud when flows join it to resources of another stack network
    (``placement.capability.requirements_of``): it is reached across the link between the two networks."""
    return Requirement(kind="database", needs=frozenset({Capability.CROSS_NETWORK_ACCESS}))


def beside_public_requirement(protocol: str) -> Requirement:
    """What a served resource needs of its cloud where a placement put it beside resources of its network
    with public addresses (``placement.capability.requirements_of``): its balancer of ``protocol`` must not
    open them (a tcp balancer that keeps clients' addresses opens the replicas' subnet on its port)."""
    return Requirement(kind="compute", needs=frozenset({Capability.LOAD_BALANCER}),
                       details=(("serve_protocol", protocol), ("public_neighbour", "yes")))


def requirement_of(spec: Resource) -> Requirement:
    """The requirement of one stack resource (``cloudorch.spec.models``), read off its fields."""
    keyed = {Capability.CUSTOMER_MANAGED_KEY} if getattr(spec, "customer_managed_key", False) else set()
    if spec.kind == "compute":
        needs = {Capability.COMPUTE, *keyed}
        details: tuple[tuple[str, str], ...] = ()
        if spec.arch == "arm64":
            needs.add(Capability.ARM64)
        if spec.accelerator is not None:
            needs.add(Capability.GPU)
            details = (("accelerator", spec.accelerator.type), ("accelerator_count", str(spec.accelerator.count)))
        if spec.serve is not None:
            needs.add(Capability.LOAD_BALANCER)
            details = (*details, *_serving_details(spec))
        prefers = frozenset({Capability.SPOT}) if spec.spot else frozenset()
        return Requirement("compute", frozenset(needs), prefers, details)
    if spec.kind == "database":
        return Requirement("database", frozenset({Capability(spec.engine), *keyed}),
                           details=(("engine", spec.engine), ("version", spec.version)))
    if spec.kind == "bucket":
        return Requirement("bucket", frozenset({Capability.BUCKET, *keyed}))
    if spec.kind == "network":
        return Requirement("network", frozenset({Capability.NETWORK}))
    raise ValueError(f"no requirement is defined for resources of kind {spec.kind!r}")


def _serving_details(spec: Resource) -> tuple[tuple[str, str], ...]:
    """How a served resource is served, for a cloud whose balancer of that protocol constrains its
    replicas: a balancer that keeps clients' addresses (tcp) makes their firewall admit the internet on
    the backend port, and a cloud that scopes such a rule to a whole subnet opens the replicas' own public
    addresses (``public_address``) on it too, unless their ingress asks for exactly that
    (``internet_on_backend_port``)."""
    serve = spec.serve
    out = (("serve_protocol", serve.protocol),)
    if serve.protocol != "tcp":
        return out
    public = any(rule.from_outside_private_space for rule in spec.ingress)
    # the balancer's clients come in over tcp: a udp rule on the port asks for something else (found by review)
    asked = any(rule.is_world_open and rule.protocol == "tcp" and rule.port <= serve.backend_port <= rule.last_port
                for rule in spec.ingress)
    return (*out, ("public_address", "yes" if public else "no"),
            ("internet_on_backend_port", "yes" if asked else "no"))
