"""The provider plugin contract.

A provider is a class registered under the entry-point group ``cloudorch.providers``; the built-in aws,
azure and gcp providers register exactly the way a third party would. Abstract methods fail when the
class is instantiated, not halfway through a plan. A provider states what it cannot do, with a reason
for each gap, so the planner can explain an exclusion instead of failing late: cloud-wide through
``unsupported_features``, or per requirement and region by overriding ``unsupported``. ``Capability`` and
``Requirement`` live in ``cloudorch.capabilities`` (placement asks in those terms without importing this
module) and are importable from here, the plugin API.

Besides rendering, a provider contributes everything else that is specific to its cloud, so the core
stays neutral and a fourth cloud plugs in without touching it: how its failures read in Pulumi's output
(``error_classifier``), how its rows of a SkyPilot catalog become offerings (``catalog_adapter``), and
what its rendered resources mean in neutral terms: each carries a ``role``, and ``describe`` reads the
resources of the roles rules judge into neutral facts (``cloudorch.rendering.facts``). Live
discovery from a cloud account is optional: ``discovery()`` returns the provider's ``Discovery`` or,
SkyPilot-style, a ``NotOffered`` with the reason shown to users.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar, Literal

from cloudorch.capabilities import Capability, Requirement
from cloudorch.catalog.adapter import SkyPilotAdapter
from cloudorch.catalog.live import MachineType, Price, Quota, Restriction, SpotScore
from cloudorch.catalog.model import Offering, Region
from cloudorch.errors import Problem
from cloudorch.network.allocation import InsideAddressing
from cloudorch.placement.rates import NetworkShape
from cloudorch.rendering import RenderContext, RenderedResource
from cloudorch.rendering.elements import EndpointRendering, EndpointView
from cloudorch.rendering.facts import Facts, RenderedGraph
from cloudorch.rendering.meters import BILLABLE_ROLES, Meter, Unmetered
from cloudorch.rendering.service import Balancer

__all__ = ["Capability", "CloudProvider", "PulumiPlugin", "Requirement"]


@dataclass(frozen=True)
class PulumiPlugin:
    """A Pulumi resource plugin the rendered resources need, pinned to the schema they were written for."""

    name: str
    version: str


@dataclass(frozen=True)
class ErrorRule:
    """One kind of failure a cloud reports, recognised in Pulumi's output by ``pattern`` (any case).

    ``kind`` is what the user is told it is: ``capacity`` (no spare machines there right now), ``quota``
    (the account's limit), ``auth`` (credentials), or a word of the provider's own. ``retryable``: running
    again unchanged may succeed. Without a ``hint`` the engine gives the neutral one of the kind.
    """

    kind: str
    pattern: str
    retryable: bool = False
    hint: str | None = None
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "regex", re.compile(self.pattern, re.IGNORECASE))


@dataclass(frozen=True)
class ErrorClassifier:
    """How one cloud's failures read in Pulumi's output: the engine asks every installed provider's.

    Patterns are the cloud API's own error codes (stable, documented) rather than prose where it has codes.
    ``marker`` is text that shows a failure came from this cloud (its type-token prefix, its API host);
    the first non-empty group of a ``region`` / ``machine_type`` pattern is the region / machine type named.
    """

    rules: tuple[ErrorRule, ...]
    marker: str
    region: tuple[str, ...] = ()
    machine_type: tuple[str, ...] = ()
    marker_regex: re.Pattern[str] = field(init=False, repr=False, compare=False)
    region_regexes: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)
    machine_type_regexes: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # compiled once, when the provider builds its classifier: a bad pattern fails there, not while
        # the engine is reporting some other failure
        object.__setattr__(self, "marker_regex", re.compile(self.marker))
        object.__setattr__(self, "region_regexes", tuple(re.compile(p) for p in self.region))
        object.__setattr__(self, "machine_type_regexes", tuple(re.compile(p) for p in self.machine_type))


@dataclass(frozen=True)
class NotOffered:
    """An optional capability a provider does not offer, with the reason users are shown."""

    reason: str


class DiscoveryScope(StrEnum):
    """One source of live facts: the unit discovery is asked for, cached (with its own age) and refreshed."""

    #: the zones each region has, as the account sees them (AWS zone names differ per account)
    ZONES = "zones"
    #: machine types (vCPUs, memory, arch, accelerators), the zones offering each, restricted offerings, and
    #: where the cloud scores them, how likely spot capacity is (AWS spot placement scores)
    OFFERINGS = "offerings"
    #: the account's vCPU limits and their current usage per region
    QUOTAS = "quotas"
    #: on-demand and spot prices
    PRICES = "prices"


@dataclass(frozen=True)
class Discovered:
    """What a discovery run found, so the live catalog can be written from it (``cloudorch.catalog.live``).

    Each scope fills its own fields (``live.SOURCE_FIELDS``), stamped with when it was fetched; what could
    not be read (a region without permission, an API that failed) is listed in ``missing``, one line each,
    so a partial result says what it lacks instead of passing for complete.
    """

    cloud: str
    regions: tuple[Region, ...] = ()
    offerings: tuple[Offering, ...] = ()
    #: region -> the vCPUs the account may run there
    vcpu_quotas: Mapping[str, int] = field(default_factory=dict)
    machines: tuple[MachineType, ...] = ()
    prices: tuple[Price, ...] = ()
    quotas: tuple[Quota, ...] = ()
    restrictions: tuple[Restriction, ...] = ()
    #: spot placement scores (read with the offerings; AWS only)
    spot_scores: tuple[SpotScore, ...] = ()
    #: scope -> when it was fetched (seconds since the epoch)
    fetched_at: Mapping[str, float] = field(default_factory=dict)
    #: "scope region: reason" for every part that could not be read
    missing: tuple[str, ...] = ()
    #: API requests made (for progress and benchmarks)
    requests: int = 0


class Discovery(ABC):
    """Reads live facts from a cloud account with the user's credentials.

    The cloud SDK is imported inside ``discover``, never when the plugin loads, so planning from the
    catalog alone costs nothing. A region or scope that cannot be read is reported in
    ``Discovered.missing``; ``unavailable`` says, in one line, when nothing can be read at all (no
    credentials), so the cloud is skipped with that reason rather than a traceback.
    """

    #: what this discovery can find
    scopes: ClassVar[frozenset[DiscoveryScope]]

    def unavailable(self) -> str | None:
        """Why discovery cannot run now (e.g. no credentials in the cloud's standard chain); None: it can."""
        return None

    def endpoints(self) -> Mapping[str, str]:
        """The endpoints ``discover`` calls, by name (``"prices"``), as configured now (endpoint variables
        honoured), for `cloudorch doctor` to probe. Nothing is called to find them. Default: none known."""
        return {}

    @abstractmethod
    def discover(self, regions: Sequence[str], scopes: frozenset[DiscoveryScope]) -> Discovered:
        """What ``scopes`` (a subset of ``self.scopes``) find in ``regions`` (all the cloud has, if empty)."""


class CloudProvider(ABC):
    #: short cloud name used in stack files and catalogs ("aws")
    name: ClassVar[str]
    display_name: ClassVar[str]
    #: Pulumi plugins (and versions) whose schemas the rendered resources conform to
    pulumi_plugins: ClassVar[tuple[PulumiPlugin, ...]]
    #: neutral image names this provider resolves (``ubuntu-24.04``)
    images: ClassVar[tuple[str, ...]]

    def unsupported_features(self) -> Mapping[Capability, str]:
        """Capabilities this provider lacks everywhere, each with the reason shown to users. Default: none."""
        return {}

    def _unrendered_links(self) -> dict[Capability, str]:
        """A plugin that does not override ``render_endpoint`` cannot render links: said, not crashed on."""
        if type(self).render_endpoint is not CloudProvider.render_endpoint:
            return {}
        reason = f"the {getattr(self, 'display_name', self.name)} plugin renders no link endpoints"
        return {Capability.PEERING: reason, Capability.VPN: reason}

    def _unrendered_services(self) -> dict[Capability, str]:
        """A plugin that does not override ``render_balancer`` / ``render_global_name`` cannot serve a
        resource / a global name: said, with its reason, so placement keeps served resources elsewhere."""
        who = getattr(self, "display_name", self.name)
        out = {}
        if type(self).render_balancer is CloudProvider.render_balancer:
            out[Capability.LOAD_BALANCER] = f"the {who} plugin renders no load balancers yet (not rendered yet)"
        if type(self).render_global_name is CloudProvider.render_global_name:
            out[Capability.GLOBAL_DNS] = f"the {who} plugin renders no DNS zones and global names yet (not rendered yet)"
        return out

    def unsupported(self, requirement: Requirement, region: str) -> Mapping[Capability, str]:
        """Can this cloud host ``requirement`` in ``region``? Each capability it lacks for it, with the reason
        shown to users; empty means yes.

        Placement asks this for every resource (compute, database, bucket, the network a resource joins)
        and every candidate region, once per distinct requirement and region, before it prices anything: a
        region with a gap in ``requirement.needs`` is excluded, with the reason in ``plan --explain``; one
        with a gap in ``requirement.prefers`` (spot) still hosts the resource, without it.

        The default answers from ``unsupported_features``, the same everywhere: a simple plugin declares
        only that. Override to judge per region or per detail, e.g. no GPUs in one region, or not the
        accelerator ``requirement.detail("accelerator")`` names. Capabilities outside
        ``requirement.capabilities`` are ignored; must be a pure function of its arguments.
        """
        return requirement.gaps(self._unrendered_links() | self._unrendered_services() | dict(self.unsupported_features()))

    def check(self, ctx: RenderContext) -> list[Problem]:
        """Limits of this cloud the user controls, checked for every cloud before anything is rendered.

        Return one located problem per field to change (``ctx.problem(path, message)``); cloudorch reports
        them all at once with exit 2. What ``render`` raises other than a ``CloudorchError`` is a bug.
        """
        return []

    @abstractmethod
    def render(self, ctx: RenderContext) -> list[RenderedResource]:
        """Every concrete resource of the stack's share on this cloud, including explicit providers.

        Must be a pure function of ``ctx``: the same context renders the same list, in the same order.
        """

    def describe(self, resource: RenderedResource, graph: RenderedGraph) -> Facts | None:
        """The neutral facts of one of this provider's rendered resources, for its role.

        Required for every resource whose role has facts (``FACTS_OF_ROLE``): a rule judging that role
        reports an error for a resource its provider cannot describe, never a silent pass. ``graph`` gives
        the other rendered resources (a bucket's separate settings refer to it). Pure, like ``render``.
        """
        return None

    #: how many public addresses this cloud's highly available VPN gateway ends tunnels on: 2 (Azure's
    #: active-active gateway, GCP's HA VPN interfaces) or 4 (AWS: each of two connections' two tunnels has
    #: its own); ``network.model.tunnel_interfaces`` pairs them across a link
    vpn_interfaces: ClassVar[int] = 2
    #: whether this cloud's VPN gateway always takes the first host of a tunnel's inside /30 (AWS), so the
    #: network plan gives it that address whichever side of the link it is
    vpn_first_inside_host: ClassVar[bool] = False
    #: the link-local ranges this cloud's VPN gateways accept as tunnels' inside addresses, and whether a
    #: tunnel's /30 must differ only from the other tunnels of its site's gateway or from every tunnel of
    #: the network on this cloud (``network.allocation.InsideAddressing``; default: the narrowest case)
    vpn_inside: ClassVar[InsideAddressing] = InsideAddressing()
    #: what a balancer of this cloud exports as its ``target`` (``rendering.service``): a host name (AWS's
    #: ALB DNS name) or an IPv4 address (a public IP, a forwarding rule's address)
    balancer_target: ClassVar[Literal["hostname", "ipv4"]] = "ipv4"
    #: how many certificate-validation CNAMEs an https balancer of this cloud exports (ACM: 1)
    balancer_validations: ClassVar[int] = 0
    #: whether one network of this cloud spans regions (GCP's global VPC), so two regions of one stack
    #: network need no link
    global_network: ClassVar[bool] = False

    def network_shape(self) -> NetworkShape:
        """What this cloud's sites and links are made of, in price-list items, so placement can price a
        split before anything is rendered (``plan`` checks it against the rendered resources' meters).
        Default: nothing, i.e. a site and a link cost nothing beyond what meters find later."""
        return NetworkShape()

    def address_range(self, kind: str, block: str) -> str:
        """Where a resource of ``kind`` ("compute", "database") takes its addresses inside a site's ``block``
        on this cloud, for the reachability proof. Default: anywhere in the block."""
        return block

    def meters(self, resource: RenderedResource) -> tuple[Meter | Unmetered, ...] | Unmetered | None:
        """How one of this provider's resources bills (``cloudorch.rendering.meters``): price-list items and
        quantities, ``()`` for nothing, ``Unmetered(reason)`` or None (billable, unknown) to list it as unpriced.
        An ``Unmetered`` among the meters is a part billed by a volume cloudorch cannot know (a zone's
        queries): the rest is priced, that part listed as unpriced with its reason.
        Default: unknown for the billable roles, nothing for the rest."""
        return None if resource.role in BILLABLE_ROLES else ()

    def error_classifier(self) -> ErrorClassifier | None:
        """How this cloud's failures read in Pulumi's output; None leaves them to the neutral rules."""
        return None

    def catalog_adapter(self) -> SkyPilotAdapter:
        """How this cloud's rows of a SkyPilot ``vms.csv`` become offerings. Default: the columns as SkyPilot
        documents them, nothing of the cloud's own."""
        return SkyPilotAdapter()

    def discovery(self) -> Discovery | NotOffered:
        """Live discovery of zones, offerings and quotas from the user's account, or why it is not offered."""
        return NotOffered(f"the {self.display_name} plugin does not discover anything from a live account")

    def engine_credentials(self) -> str | None:
        """Why this cloud's Pulumi provider would find no credentials here, in one line naming where it looked;
        None when it would find some, or when this plugin cannot tell. Asked before ``apply``/``destroy`` ask
        for confirmation, so a "yes" is never answered with an authentication error. Looks, never logs in:
        environment variables, the cloud CLI's files, at most one bounded local request."""
        return None

    def render_endpoint(self, ctx: RenderContext, view: EndpointView) -> EndpointRendering:
        """This cloud's side of a cross-cloud element (``view.element``, side ``view.index``).

        Render only this side's resources; name another side's outputs with ``view.peer_output(...)``, and
        export what the element kind declares (``view.element.exports(view.index)``) as references to the
        resources rendered here. A provider that cannot render a kind declares so among its capabilities,
        so placement never asks it to.
        """
        raise NotImplementedError(f"the {self.name} provider renders no {view.element.kind} endpoints")

    def render_balancer(self, ctx: RenderContext, balancer: Balancer) -> EndpointRendering:
        """The balancer of one location hosting replicas of a served resource, and what it exports
        (``cloudorch.rendering.service``: the contract, precisely). Not overriding it means no
        ``Capability.LOAD_BALANCER``, so placement never asks."""
        raise NotImplementedError(f"the {self.name} provider renders no load balancers")

    def render_global_name(self, ctx: RenderContext, view: EndpointView) -> EndpointRendering:
        """Endpoint 0 of the stack's ``GlobalNames`` element: the zone, health checks and steered records over
        every balancer (``cloudorch.rendering.service``). Not overriding it means no ``Capability.GLOBAL_DNS``."""
        raise NotImplementedError(f"the {self.name} provider renders no DNS zones")
