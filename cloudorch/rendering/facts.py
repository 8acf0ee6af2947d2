"""Neutral facts a provider reads from its own rendered resources: what rules judge instead of inputs.

Each cloud spells the same thing its own way: an open port is an AWS security-group rule's ``cidrIpv4``,
an Azure security rule's ``sourceAddressPrefix``, a GCP firewall's ``sourceRanges``. The provider that
rendered a resource knows its spelling; ``CloudProvider.describe(resource, graph)`` returns the neutral
facts for the resource's role (``FACTS_OF_ROLE``), and a rule written once against those facts judges
every cloud, a fourth one included.

Values of a fact:
- a plain value (``True``, ``14``): known now;
- ``UNKNOWN``: set, but only known at deploy time (another resource's output); rules let it pass;
- ``None``: this resource does not settle it on this cloud (an Azure blob container says nothing of
  encryption, its storage account does); rules do not judge it here.

A resource may hold inline what another cloud renders as resources of their own: an Application Gateway's
listeners are entries of its inputs, an ALB's are resources. Its facts then list those entries as ``parts``
(``Part``), each with the facts of its role, and rules of that role judge each part as they judge a resource
(``PARTS_OF_ROLE`` says which roles may hold which).

``notes`` hold the provider's own words for a fact, naming the setting to change (``publiclyAccessible is
true``), or saying why a fact is None here; a rule shows them instead of its neutral message. The facts
are plain frozen dataclasses with defaults, so a later stage adds what it needs (routing facts for the
reachability proof) without touching the providers that do not know it yet.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from cloudorch.rendering.inputs import covers, is_all_ports, is_world
from cloudorch.rendering.model import REF, RenderedResource, refs_in
from cloudorch.rendering.roles import Role

#: a fact's value: known, ``UNKNOWN`` (deploy time) or None (not settled by this resource)
Fact = Any


class RenderedGraph(Protocol):
    """The rendered resources a provider may look at while describing one of them."""

    def rendered(self, name: str) -> RenderedResource | None:
        """The resource of that logical name."""

    def referrers(self, name: str, *types: str) -> list[RenderedResource]:
        """Resources (of ``types``, if given) whose inputs refer to ``name``: a bucket's separate settings."""


class GraphOf:
    """A ``RenderedGraph`` over a list of rendered resources (a plan's, a test's)."""

    def __init__(self, resources) -> None:
        self._resources = list(resources)
        self._by_name = {r.name: r for r in self._resources}
        self._referrers: dict[str, list[RenderedResource]] | None = None
        self._of_types: dict[tuple[str, tuple[str, ...]], list[RenderedResource]] = {}

    def rendered(self, name: str) -> RenderedResource | None:
        return self._by_name.get(name)

    def referrers(self, name: str, *types: str) -> list[RenderedResource]:
        if self._referrers is None:
            # indexed on first use: describing every firewall of a large stack asks once per resource, and a
            # scan of every resource's inputs each time made the reachability proof quadratic
            self._referrers = {}
            for r in self._resources:
                for target in dict.fromkeys(x[REF] for x in refs_in(r.inputs)):
                    self._referrers.setdefault(target, []).append(r)
        key = (name, types)
        found = self._of_types.get(key)
        if found is None:  # a network or a resource group has thousands of referrers, asked for by type again and again
            found = self._of_types[key] = [r for r in self._referrers.get(name, ()) if not types or r.type in types]
        return list(found)


@dataclass(frozen=True, slots=True, kw_only=True)
class Facts:
    #: fact name -> the provider's words for its value, naming the setting behind it
    notes: Mapping[str, str] = field(default_factory=dict)
    #: what this resource holds inline that other clouds render as resources of their own (``Part``)
    parts: tuple[Part, ...] = ()

    def note(self, fact: str, default: str) -> str:
        return self.notes.get(fact) or default


@dataclass(frozen=True, slots=True)
class Part:
    """One entry of a resource's inputs that is a resource of its own on other clouds: an Application
    Gateway's ``httpListeners[0]`` is what an AWS listener resource is. Rules of ``role`` judge its
    ``facts`` as they judge a resource of that role, and findings name it ``<resource>.<path>``.

    Why parts of a described resource, not resources of their own: the rendered resources are what the engine
    creates, one Pulumi resource each; inventing resources for policy's sake would make the plan lie.
    Only roles in ``PARTS_OF_ROLE`` hold parts, so the policy engine asks only those resources for them.
    """

    #: the list input holding it (``httpListeners``) and its index there
    collection: str
    index: int
    role: Role
    facts: Facts

    @property
    def path(self) -> str:
        return f"{self.collection}[{self.index}]"


ALL_PORTS = (0, 65535)


@dataclass(frozen=True, slots=True)
class TrafficRule:
    """One rule of a firewall, as every cloud has them."""

    #: "ingress" or "egress"; None when only known at deploy time
    direction: Literal["ingress", "egress"] | None
    #: "allow" or "deny"; None when only known at deploy time
    action: Literal["allow", "deny"] | None
    #: address ranges at the far end (the sources of an ingress rule, the destinations of an egress one):
    #: CIDRs, a cloud's name for a set of addresses, or UNKNOWN; the internet is 0.0.0.0/0 or ::/0
    peers: tuple[Any, ...]
    #: port ranges, inclusive; empty when only known at deploy time
    ports: tuple[tuple[int, int], ...]
    #: "tcp", "udp", "icmp", "all", or None when unknown
    protocol: str | None = None
    #: where the cloud weighs rules in order (Azure, GCP): lower first, and a deny at a priority no higher than
    #: an allow's shadows it; None where order does not matter (an AWS security group only allows)
    priority: int | None = None

    @property
    def admits(self) -> bool:
        """An ingress rule that allows traffic in."""
        return self.direction == "ingress" and self.action == "allow"

    @property
    def from_world(self) -> bool:
        return any(is_world(peer) for peer in self.peers)

    def covers(self, port: int) -> bool:
        return covers(self.ports, port)

    def carries(self, protocol: str) -> bool:
        """Whether the rule applies to ``protocol`` traffic (an unknown protocol may be any)."""
        return self.protocol in (None, "all", protocol)

    @property
    def all_ports(self) -> bool:
        return is_all_ports(self.ports)


#: a ``TrafficRule`` peer meaning "the balancer in front of this resource" (an AWS rule naming the
#: balancer's security group): the reachability proof's balancer -> replica hop
BALANCER_PEER = "balancer"


@dataclass(frozen=True, slots=True, kw_only=True)
class FirewallFacts(Facts):
    """A firewall rule, or a security group with its inline rules."""

    rules: tuple[TrafficRule, ...] = ()
    #: the rules guard the resource's balancer (its listeners), not its replicas
    balancer: bool = False
    #: new outbound connections are refused unless an egress rule lets them out, even with no egress rule
    #: at all (an AWS security group: the provider drops AWS's default allow-all when it creates one);
    #: elsewhere a firewall without egress rules lets everything out
    egress_closed: bool = False
    #: the instance selectors its rules apply to (GCP's targetTags and targetServiceAccounts): only instances
    #: whose ``InstanceFacts.tags`` hold one; None: everything the firewall is attached to or sits in front of
    targets: tuple[Any, ...] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InstanceFacts(Facts):
    """What a machine (or the template machines are made from) carries that firewall rules select it by.

    Only clouds whose rules select machines by label describe these (GCP's network tags and service
    accounts); elsewhere a firewall is attached to what it guards, and ``FirewallFacts.targets`` is None.
    Not in ``FACTS_OF_ROLE`` for that reason: no rule requires them of every cloud.
    """

    #: network tags and service accounts (a reference to an account spelled ``"<resource>.<output>"``)
    tags: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class DatabaseFacts(Facts):
    #: has an endpoint the internet can reach
    publicly_reachable: Fact = None
    encrypted_at_rest: Fact = None
    #: days of automated backups kept; 0 when automated backups are off
    backup_retention_days: Fact = None
    #: cannot be deleted until the protection is lifted
    deletion_protected: Fact = None
    #: a standby in another zone takes over when the primary's zone fails
    high_availability: Fact = None
    #: operating-system metrics are collected at a fine interval (RDS enhanced monitoring)
    enhanced_monitoring: Fact = None
    #: a history of query performance is kept (RDS Performance Insights, Cloud SQL Query Insights)
    performance_insights: Fact = None
    #: logins with the cloud's identities are accepted besides passwords
    iam_authentication: Fact = None
    #: which PostgreSQL statements the server logs ("none", "ddl", "mod", "all"); None for other engines
    statement_logging: Fact = None
    #: encrypted with a customer-managed key (a KMS key of the stack), not the service's own
    customer_managed_key: Fact = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BucketFacts(Facts):
    #: anyone may read its objects
    public: Fact = None
    #: a bucket-level switch keeps any later grant from making objects public
    public_access_blocked: Fact = None
    #: objects are encrypted at rest by a setting of this stack, not left to an account default
    encrypted_at_rest: Fact = None
    versioning: Fact = None
    access_logging: Fact = None
    #: a lifecycle rule archives or expires objects as they age
    lifecycle: Fact = None
    #: objects are encrypted with a customer-managed key (a KMS key of the stack), not the service's own
    customer_managed_key: Fact = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BucketAccessFacts(Facts):
    """A grant on a bucket, or a container of objects with its own anonymous-access level."""

    #: makes objects readable by anyone
    public: Fact = None


@dataclass(frozen=True, slots=True)
class BgpSession:
    """What one side's BGP speaker says of one tunnel's session: its own ASN and inside address, and what it
    expects of the peer. The session comes up only when each side expects what the other side is, and both
    addresses lie in the tunnel's /30; a flag or a tag saying "BGP is on" proves none of that.

    Values are facts: an ASN as an int, an address as text, UNKNOWN when only known at deploy time (a
    reference), None when this resource does not say (a session that says nothing is not proved).
    """

    #: ``Tunnel.index``
    tunnel: int
    asn: Fact
    address: Fact
    peer_asn: Fact
    peer_address: Fact


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkFacts(Facts):
    """One side's part of a link between two sites (``network.model.Link``): a peering, or VPN tunnels.

    The reachability proof joins these with the routes and firewalls: a side carries traffic to a peer
    block when it routes it into the link statically (``static_routes``, or ``RouteFacts`` naming the link)
    or installs what the peer announces (``routes_learned``) and the peer announces it (``advertises``).
    """

    #: the link's id (``Link.id``) and which side (0 = a, 1 = b) this resource belongs to
    link: str
    side: int
    kind: Literal["peering", "vpn"]
    #: other links (same side) this one resource also carries: a GCP peering joins whole networks, so the
    #: links of every region pair between the two
    also: tuple[str, ...] = ()
    #: VPN: the tunnels (``Tunnel.index``) this resource carries; a side lacking one is broken
    tunnels: tuple[int, ...] = ()
    #: prefixes this side announces or offers to the other side (a peering offers its network's block)
    advertises: tuple[str, ...] = ()
    #: routes the other side announces are installed in this side's route tables
    routes_learned: bool = False
    #: prefixes this resource itself routes into the link
    static_routes: tuple[str, ...] = ()
    #: VPN: the BGP session of each tunnel this resource carries (several for one tunnel when the cloud may
    #: run it from any of its instances); a tunnel that learns its routes counts only where a session of
    #: each side agrees with the other's
    sessions: tuple[BgpSession, ...] = ()
    #: VPN: "ikev2" / "ikev1" / None when the cloud's default applies
    ike_version: Fact = None
    #: VPN: the encryption / integrity / DH choices allowed, in the cloud's words (empty: the cloud's defaults)
    ciphers: tuple[str, ...] = ()
    #: VPN: how the pre-shared key is given: "generated" (a reference to a secret made inside the engine),
    #: "literal" (a plain value in the plan), or None (no key here)
    preshared_key: Literal["generated", "literal"] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ServicePeeringFacts(Facts):
    """A peering to a cloud's own network where managed services of a stack network live (GCP's private
    services access, behind which Cloud SQL sits): its resources are reached through it, and answer only
    the addresses that network passes on to it."""

    #: the kinds of stack resources that live behind it ("database")
    holds: tuple[str, ...] = ()
    #: the routes the network learns over its links (VPN) are passed on to the service's side, so it can answer
    #: clients on the far side of a link
    exports_learned: Fact = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteFacts(Facts):
    """One route: traffic to ``destination`` leaves the site through ``via``."""

    destination: Fact = None
    #: "link" (a peering or VPN of the stack), "internet", "nat", or another word of the cloud's
    via: str | None = None
    #: the link's id when ``via`` is "link"
    link: str | None = None
    #: the route table it belongs to (its name); None where the network has one table (a GCP VPC). Routes of
    #: one table compete: the longest prefix wins
    table: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BalancerFacts(Facts):
    """A load balancer (``rendering.service``)."""

    #: reachable from the internet (an internet-facing scheme, a public frontend address)
    public: Fact = None
    #: "application" (layer 7: http, https) or "network" (layer 4: tcp)
    layer: Literal["application", "network"] | None = None
    #: every request is logged
    access_logs: Fact = None
    #: a web application firewall inspects its requests
    waf: Fact = None
    #: refuses deletion until the protection is lifted
    deletion_protected: Fact = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ListenerFacts(Facts):
    """One port a balancer listens on."""

    port: Fact = None
    #: "http", "https", "tcp" or "tls"
    protocol: Fact = None
    #: answers every request with a redirect to https (and forwards nothing)
    redirects_to_https: Fact = None
    #: the lowest TLS version accepted ("1.0", "1.1", "1.2", "1.3"); None for plain protocols
    min_tls: Fact = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BackendFacts(Facts):
    """The replicas a balancer sends to."""

    #: a health check takes failing replicas out of rotation
    health_check: Fact = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateFacts(Facts):
    """A TLS certificate an https balancer serves, and how a certificate authority comes to issue and renew it.

    What decides whether it keeps working is where the CA looks for proof: a record in the zone is found
    wherever the name resolves; an answer over HTTP is found only at the address the CA's resolvers are given,
    which DNS steering may give to another location's balancer.
    """

    #: the host names it is for; empty when this resource does not say (a waiter for another's validation)
    names: tuple[Fact, ...] = ()
    #: how control of the names is proved, issuing and renewing alike:
    #: "dns" -- a record in the zone (ACM's DNS validation);
    #: "http" -- over HTTP at the address a name resolves to (a Google-managed certificate's load-balancer
    #: authorization): only while the name resolves to this balancer;
    #: "email" -- a person approves a mail to the domain's contacts;
    #: "operator" -- the cloud neither issues nor validates it: the operator supplies it (an imported
    #: certificate, a Key Vault certificate);
    #: None -- this resource does not settle it
    validation: Fact = None


#: the facts a provider returns for each role that has them (other roles: None)
FACTS_OF_ROLE: Mapping[Role, type[Facts]] = {
    Role.LINK: LinkFacts,
    Role.ROUTE: RouteFacts,
    Role.FIREWALL_RULE: FirewallFacts,
    Role.SECURITY_GROUP: FirewallFacts,
    Role.DATABASE: DatabaseFacts,
    Role.BUCKET: BucketFacts,
    Role.BUCKET_CONTAINER: BucketAccessFacts,
    Role.BUCKET_POLICY: BucketAccessFacts,
    Role.BALANCER: BalancerFacts,
    Role.BALANCER_LISTENER: ListenerFacts,
    Role.BALANCER_BACKEND: BackendFacts,
    Role.CERTIFICATE: CertificateFacts,
}

#: the roles of parts (``Part``) a resource of each role may hold inline: a balancer its listeners, backends
#: and certificates
PARTS_OF_ROLE: Mapping[Role, frozenset[Role]] = {
    Role.BALANCER: frozenset({Role.BALANCER_LISTENER, Role.BALANCER_BACKEND, Role.CERTIFICATE}),
}

#: how a later stage asks for a resource's facts: the installed providers' ``describe``, or a stand-in
Describe = Callable[[RenderedResource, RenderedGraph], Facts | None]
#: one type's reader, as a provider keeps them
Reader = Callable[[RenderedResource, RenderedGraph], Facts]


def read_by_type(readers: Mapping[str, Reader], resource: RenderedResource, graph: RenderedGraph) -> Facts | None:
    """The facts of ``resource`` by the reader of its type; None for a type that has none."""
    reader = readers.get(resource.type)
    return reader(resource, graph) if reader else None
