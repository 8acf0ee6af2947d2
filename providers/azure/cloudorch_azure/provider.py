"""The Azure provider plugin: renders a stack's Azure share as pulumi-azure-native resources.

Rendering is pure data; neither the Azure SDK nor pulumi is imported here, so loading the plugin stays
cheap (the SDK dependency is for discovery).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Literal

from cloudorch.capabilities import Capability, Requirement
from cloudorch.errors import Problem
from cloudorch.placement.rates import NetworkShape
from cloudorch.network.allocation import InsideAddressing
from cloudorch.provider import CloudProvider, Discovery, ErrorClassifier, PulumiPlugin
from cloudorch.rendering import RenderContext, RenderedResource
from cloudorch.rendering.elements import EndpointRendering, EndpointView
from cloudorch.rendering.facts import Facts, RenderedGraph, read_by_type
from cloudorch.rendering.meters import NAT_GATEWAY, Meter, Unmetered
from cloudorch.rendering.service import Balancer

from cloudorch_azure import balancer, checks, dns, errors, facts, keys, links, meters
from cloudorch_azure.catalog import AzureSkyPilotAdapter
from cloudorch_azure.bucket import render_buckets
from cloudorch_azure.compute import render_compute
from cloudorch_azure.database import render_databases
from cloudorch_azure.images import IMAGES
from cloudorch_azure.naming import CLOUD, region_base
from cloudorch_azure.network import render_networks


class Provider(CloudProvider):
    name: ClassVar[str] = CLOUD
    display_name: ClassVar[str] = "Microsoft Azure"
    pulumi_plugins: ClassVar[tuple[PulumiPlugin, ...]] = (
        PulumiPlugin("azure-native", "3.29.0"),
        PulumiPlugin("random", "4.21.4"),
        PulumiPlugin("tls", "5.2.1"),
    )
    images: ClassVar[tuple[str, ...]] = IMAGES
    vpn_inside: ClassVar[InsideAddressing] = links.INSIDE
    #: a balancer's Standard public IP; its Key Vault certificate needs no DNS record (``balancer``)
    balancer_target: ClassVar[Literal["hostname", "ipv4"]] = "ipv4"
    balancer_validations: ClassVar[int] = 0

    def render(self, ctx: RenderContext) -> list[RenderedResource]:
        if ctx.cloud != self.name:
            raise ValueError(f"the {self.name} provider cannot render a context for {ctx.cloud!r}")
        out: list[RenderedResource] = []
        for region in ctx.regions():
            out += region_base(ctx, region)
        out += render_networks(ctx) + links.render_gateways(ctx)
        out += keys.render_keys(ctx) + render_compute(ctx) + render_databases(ctx) + render_buckets(ctx)
        return sorted(out, key=_order)

    def render_endpoint(self, ctx: RenderContext, view: EndpointView) -> EndpointRendering:
        return links.render_endpoint(ctx, view)

    def render_balancer(self, ctx: RenderContext, served: Balancer) -> EndpointRendering:
        return balancer.render_balancer(ctx, served)

    def render_global_name(self, ctx: RenderContext, view: EndpointView) -> EndpointRendering:
        return dns.render_global_name(ctx, view)

    def unsupported(self, requirement: Requirement, region: str) -> Mapping[Capability, str]:
        gaps = dict(super().unsupported(requirement, region))
        if (reason := checks.passthrough_gap(requirement)) is not None:
            gaps[Capability.LOAD_BALANCER] = reason
        return requirement.gaps(gaps)

    def check(self, ctx: RenderContext) -> list[Problem]:
        return checks.check(ctx)

    def network_shape(self) -> NetworkShape:
        # what render() and render_endpoint() build, in the meters they bill by: a NAT gateway and its public
        # IP per site; an active-active gateway and its two public IPs per VPN site; connections are in the
        # gateway's price, which includes its first tunnels and bills the rest (``meters.TUNNELS``)
        return NetworkShape(site=(Meter(NAT_GATEWAY), Meter("public_ipv4_hour")),
                            vpn_site=(Meter("vpn_gateway_hour"), Meter("public_ipv4_hour", 2)),
                            vpn_gateway_tunnel=meters.TUNNELS,
                            serving=meters.SERVING_SHAPE, vpn_gateway=links.GATEWAY_LIMIT,
                            vpn_interfaces=self.vpn_interfaces)

    def meters(self, resource: RenderedResource) -> tuple[Meter, ...] | Unmetered | None:
        return meters.of(resource)

    def describe(self, resource: RenderedResource, graph: RenderedGraph) -> Facts | None:
        return read_by_type(facts.READERS, resource, graph)

    def discovery(self) -> Discovery:
        from cloudorch_azure.discovery import AzureDiscovery  # small; azure-mgmt-compute loads inside it, when discovery runs

        return AzureDiscovery()

    def engine_credentials(self) -> str | None:
        from cloudorch_azure import credentials

        return credentials.missing()

    def error_classifier(self) -> ErrorClassifier:
        return errors.CLASSIFIER

    def catalog_adapter(self) -> AzureSkyPilotAdapter:
        return AzureSkyPilotAdapter()


def _order(resource: RenderedResource) -> tuple[str, int, str]:
    """Region, then the region's provider and resource group, then by stack resource.

    The sort is stable, so each stack resource's parts keep the order they were rendered in.
    """
    rank = 0 if resource.is_provider else 1 if resource.source is None else 2
    return (resource.region or "", rank, resource.source or "")
