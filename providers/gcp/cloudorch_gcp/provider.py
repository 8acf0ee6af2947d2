"""The GCP provider plugin: renders a stack's share on Google Cloud as pulumi-gcp 10.x resources.

Rendering is pure data, so neither pulumi nor google.cloud is imported here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Literal

from cloudorch.errors import Problem
from cloudorch.placement.rates import NetworkShape
from cloudorch.capabilities import Capability, Requirement
from cloudorch.network.allocation import InsideAddressing
from cloudorch.provider import CloudProvider, Discovery, ErrorClassifier, PulumiPlugin
from cloudorch.rendering import RenderContext, RenderedResource
from cloudorch.rendering.elements import EndpointRendering, EndpointView
from cloudorch.rendering.facts import Facts, RenderedGraph, read_by_type
from cloudorch.rendering.meters import Meter, Unmetered
from cloudorch.rendering.roles import Role
from cloudorch.rendering.service import Balancer, GlobalNames
from cloudorch.spec.models import Bucket, Compute, Database

from cloudorch_gcp import balancer, dns, errors, facts, keys, meters
from cloudorch_gcp.catalog import GcpSkyPilotAdapter
from cloudorch_gcp.bucket import render_bucket
from cloudorch_gcp.compute import render_compute
from cloudorch_gcp.database import render_database
from cloudorch_gcp.images import IMAGES
from cloudorch_gcp.links import GATEWAY_LIMIT, INSIDE, render_link_endpoint
from cloudorch_gcp.naming import CLOUD, GLOBAL_PROVIDER, provider_name
from cloudorch_gcp.network import check_psa_room, check_sql_over_peering, private_service_access, render_networks, split_block

PROVIDER_TYPE = "pulumi:providers:gcp"


#: why a database joined by flows to another stack network stays off GCP (``check_sql_over_peering`` refuses
#: what a placement made elsewhere still puts there)
SQL_ACROSS_NETWORKS = ("Cloud SQL is reached through its own VPC peering, and peering is not transitive: a flow "
                       "partner of another stack network that the placement puts on GCP (peered to this one) could "
                       "neither reach it nor hear back; put both in one network to use Cloud SQL with it")


class Provider(CloudProvider):
    name: ClassVar[str] = CLOUD
    display_name: ClassVar[str] = "Google Cloud"
    pulumi_plugins: ClassVar[tuple[PulumiPlugin, ...]] = (
        PulumiPlugin("gcp", "10.2.0"),
        PulumiPlugin("random", "4.21.4"),  # generated database passwords
    )
    images: ClassVar[tuple[str, ...]] = IMAGES
    #: one VPC per stack network spans every region (regional subnetworks), so the core links no two
    #: regions of one network on GCP; GLOBAL dynamic routing carries what one region's tunnels learn to all
    global_network: ClassVar[bool] = True
    #: an HA VPN gateway has two interfaces, each with its own public address
    vpn_interfaces: ClassVar[int] = 2
    vpn_inside: ClassVar[InsideAddressing] = INSIDE
    #: a forwarding rule's address; a Google-managed certificate is authorized through the balancer itself,
    #: so no validation record is exported
    balancer_target: ClassVar[Literal["hostname", "ipv4"]] = "ipv4"
    balancer_validations: ClassVar[int] = 0

    def unsupported(self, requirement: Requirement, region: str) -> Mapping[Capability, str]:
        # a key is rendered for disks and databases; a kind in keys.UNSUPPORTED cannot use one
        gaps = dict(super().unsupported(requirement, region))
        if Capability.CUSTOMER_MANAGED_KEY in requirement.needs and requirement.kind in keys.UNSUPPORTED:
            gaps[Capability.CUSTOMER_MANAGED_KEY] = keys.UNSUPPORTED[requirement.kind]
        if Capability.CROSS_NETWORK_ACCESS in requirement.needs:
            gaps[Capability.CROSS_NETWORK_ACCESS] = SQL_ACROSS_NETWORKS
        return gaps

    def check(self, ctx: RenderContext) -> list[Problem]:
        return check_psa_room(ctx) + check_sql_over_peering(ctx) + balancer.check_balancers(ctx) + dns.check_names(ctx)

    def render(self, ctx: RenderContext) -> list[RenderedResource]:
        providers = [
            # only the region: the project comes from the user's environment (gcloud config,
            # GOOGLE_PROJECT or `pulumi config set gcp:project`), so a plan is not tied to one project
            RenderedResource(name=provider_name(region), type=PROVIDER_TYPE, role=Role.PROVIDER, cloud=CLOUD,
                             region=region, inputs={"region": region})
            for region in ctx.regions()
        ]
        out = render_networks(ctx)
        db_regions: dict[str, list[str]] = {}
        for name, placement in ctx.placed(Compute):
            spec = ctx.stack.resources[name]
            slots = [s for s in placement.slots if s.cloud == CLOUD]
            out += render_compute(ctx, name, spec, slots)
        for name, placement in ctx.placed(Database):
            spec = ctx.stack.resources[name]
            for slot in (s for s in placement.slots if s.cloud == CLOUD):
                db_regions.setdefault(spec.network, []).append(slot.region)
                out += render_database(ctx, name, spec, slot)
        for network, regions in sorted(db_regions.items()):
            out += private_service_access(ctx, network, regions)
        for name, placement in ctx.placed(Bucket):
            out += render_bucket(ctx, name, ctx.stack.resources[name], placement.region)
        out += keys.render_keys(ctx)
        hosts_zone = any(isinstance(e, GlobalNames) and e.endpoints[0].cloud == CLOUD for e in ctx.elements)
        if hosts_zone or any(r.provider == GLOBAL_PROVIDER for r in out):
            # global resources need no region; without one in its inputs, no region can ever change it
            providers.insert(0, RenderedResource(name=GLOBAL_PROVIDER, type=PROVIDER_TYPE, role=Role.PROVIDER,
                                                  cloud=CLOUD, inputs={}))
        return providers + sorted(out, key=lambda r: (r.region or "", r.name))

    def render_endpoint(self, ctx: RenderContext, view: EndpointView) -> EndpointRendering:
        return render_link_endpoint(ctx, view)

    def render_balancer(self, ctx: RenderContext, b: Balancer) -> EndpointRendering:
        return balancer.render_balancer(ctx, b)

    def render_global_name(self, ctx: RenderContext, view: EndpointView) -> EndpointRendering:
        return dns.render_global_name(ctx, view)

    def describe(self, resource: RenderedResource, graph: RenderedGraph) -> Facts | None:
        return read_by_type(facts.READERS, resource, graph)

    def network_shape(self) -> NetworkShape:
        # what render() and render_endpoint() build, in the meters they bill by: Cloud NAT, billed per VM,
        # and its one address per site; HA VPN gateways and Cloud Routers cost nothing; each tunnel bills
        # (four to AWS, two to Azure: ``rates.tunnels_per_link``)
        return NetworkShape(site=(Meter("public_ipv4_hour"),), nat_per_vm=True,
                            vpn_site=(Meter("vpn_gateway_hour"), Meter("cloud_router_hour")),
                            vpn_tunnel=(Meter("vpn_tunnel_hour"),), vpn_interfaces=self.vpn_interfaces,
                            serving=meters.SERVING_SHAPE, vpn_gateway=GATEWAY_LIMIT)

    def address_range(self, kind: str, block: str) -> str:
        # machines live in the subnetwork (the lower half of the site's block); Cloud SQL in the private
        # service access range (the upper half), inside Google's producer network
        low, psa = split_block(block)
        return psa if kind == "database" and psa is not None else low

    def meters(self, resource: RenderedResource) -> tuple[Meter, ...] | Unmetered | None:
        return meters.meters(resource)

    def discovery(self) -> Discovery:
        from cloudorch_gcp.discovery import GcpDiscovery  # small; google-cloud-compute loads inside it, when discovery runs

        return GcpDiscovery()

    def engine_credentials(self) -> str | None:
        from cloudorch_gcp import credentials

        return credentials.missing()

    def error_classifier(self) -> ErrorClassifier:
        return errors.CLASSIFIER

    def catalog_adapter(self) -> GcpSkyPilotAdapter:
        return GcpSkyPilotAdapter()
