"""The AWS provider plugin: renders a stack's AWS share as pulumi-aws resources.

Pure data in, pure data out: nothing here imports boto3 or pulumi, so planning never pays their import
cost; boto3 loads only when live discovery runs (``discovery.py``).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from cloudorch.errors import Problem
from cloudorch.placement.rates import NetworkShape
from cloudorch.network.allocation import InsideAddressing
from cloudorch.provider import CloudProvider, Discovery, ErrorClassifier, PulumiPlugin
from cloudorch.rendering import RenderContext, RenderedResource
from cloudorch.rendering.elements import EndpointRendering, EndpointView
from cloudorch.rendering.facts import Facts, RenderedGraph, read_by_type
from cloudorch.rendering.meters import NAT_GATEWAY, Meter, Unmetered
from cloudorch.rendering.service import Balancer
from cloudorch.spec.models import Bucket, Compute, Database

from cloudorch_aws import errors, facts, meters
from cloudorch_aws.balancer import render_balancer
from cloudorch_aws.bucket import bucket_problems, render_bucket
from cloudorch_aws.compute import render_compute
from cloudorch_aws.database import render_database
from cloudorch_aws.dns import render_global_name
from cloudorch_aws.images import IMAGES
from cloudorch_aws.links import GATEWAY_LIMIT, INSIDE, link_problems, render_link_endpoint, render_vpn_gateway
from cloudorch_aws.naming import CLOUD, region_provider
from cloudorch_aws.network import render_network


class Provider(CloudProvider):
    name: ClassVar[str] = CLOUD
    display_name: ClassVar[str] = "Amazon Web Services"
    pulumi_plugins: ClassVar[tuple[PulumiPlugin, ...]] = (
        PulumiPlugin("aws", "7.51.1"),
        PulumiPlugin("random", "4.21.4"),  # the VPN links' generated pre-shared keys
    )
    images: ClassVar[tuple[str, ...]] = tuple(sorted(IMAGES))
    vpn_first_inside_host: ClassVar[bool] = True
    #: two VPN connections per link, each of two tunnels with its own outside address
    vpn_interfaces: ClassVar[int] = 4
    vpn_inside: ClassVar[InsideAddressing] = INSIDE
    #: an ALB's or NLB's DNS name; its ACM certificate asks for one validation record
    balancer_target: ClassVar[Literal["hostname", "ipv4"]] = "hostname"
    balancer_validations: ClassVar[int] = 1

    def check(self, ctx: RenderContext) -> list[Problem]:
        return link_problems(ctx) + bucket_problems(ctx)

    def render(self, ctx: RenderContext) -> list[RenderedResource]:
        out = [region_provider(ctx, region) for region in ctx.regions()]
        for network, _spec, block in ctx.network_blocks():
            out += render_network(ctx, network, block)
            out += render_vpn_gateway(ctx, network, block.region)
        for name, placement in ctx.placed(Compute):
            out += render_compute(ctx, name, ctx.stack.resources[name], placement)
        for name, placement in ctx.placed(Database):
            out += render_database(ctx, name, ctx.stack.resources[name], placement)
        for name, placement in ctx.placed(Bucket):
            out += render_bucket(ctx, name, ctx.stack.resources[name], placement)
        return sorted(out, key=lambda r: (r.region or "", r.name))

    def render_endpoint(self, ctx: RenderContext, view: EndpointView) -> EndpointRendering:
        return render_link_endpoint(ctx, view)

    def render_balancer(self, ctx: RenderContext, balancer: Balancer) -> EndpointRendering:
        return render_balancer(ctx, balancer)

    def render_global_name(self, ctx: RenderContext, view: EndpointView) -> EndpointRendering:
        return render_global_name(ctx, view)

    def describe(self, resource: RenderedResource, graph: RenderedGraph) -> Facts | None:
        return read_by_type(facts.READERS, resource, graph)

    def network_shape(self) -> NetworkShape:
        # what render() and render_endpoint() build, in the meters they bill by: a NAT gateway, its
        # Elastic IP and the site's KMS key per site; a virtual private gateway per VPN site; two VPN connections per link
        return NetworkShape(site=(Meter(NAT_GATEWAY), Meter("public_ipv4_hour"), Meter("kms_key_month")),
                            vpn_site=(Meter("vpn_gateway_hour"),),
                            vpn_link_side=(Meter("vpn_connection_hour", 2),), vpn_interfaces=self.vpn_interfaces,
                            serving=meters.SERVING_SHAPE, vpn_gateway=GATEWAY_LIMIT)

    def meters(self, resource: RenderedResource) -> tuple[Meter, ...] | Unmetered | None:
        return meters.meters_of(resource)

    def discovery(self) -> Discovery:
        from cloudorch_aws.discovery import AwsDiscovery  # its module is small; boto3 loads inside it, later

        return AwsDiscovery()

    def engine_credentials(self) -> str | None:
        from cloudorch_aws.discovery import AwsDiscovery

        # pulumi-aws reads the AWS SDKs' standard chain (environment, shared profile and SSO, web identity,
        # container and instance roles), which is the chain boto3 resolves
        return AwsDiscovery().unavailable()

    def error_classifier(self) -> ErrorClassifier:
        return errors.CLASSIFIER
