"""Serving a resource to the internet: a balancer in every location, one global name over all of them.

A compute resource with ``serve:`` (``spec.models.Serve``) is reached by clients through a load balancer,
never directly: this module turns the spec and the placement into the neutral things providers render,
and states what each must render and export. It is the whole contract between the core and a provider
for this feature; nothing here names a cloud.

Balancers (``Balancer``, one per location -- cloud and region -- that hosts replicas of a served resource;
``balancers`` makes exactly one for each). The core calls ``CloudProvider.render_balancer(ctx, balancer)``
of the location's provider, which returns an ``EndpointRendering`` holding:

- a regional, internet-facing balancer in ``balancer.region`` inside the site of ``balancer.network`` (its
  public subnets), role ``balancer``; an application (layer 7) balancer for http/https, a network (layer 4)
  one for tcp;
- one ``balancer-listener`` per ``balancer.listeners`` entry: ``forward`` listeners send to the backend,
  a ``redirect`` listener (plain HTTP, port 80, beside an https one) answers every request with a
  permanent redirect to https on the https port and forwards nothing; an https listener ends TLS with a
  certificate the cloud manages and renews for ``balancer.hostname``, validated by DNS (below), and a TLS
  policy whose minimum version is ``balancer.min_tls`` (1.2) or higher;
- a ``balancer-backend`` (target group, backend pool, backend service) over the resource's replicas in
  this location (its auto-scaling group / scale set / instance group), on ``balancer.backend_port``, with
  the health check ``balancer.health``;
- ``balancer.access_logs``: every request logged where the cloud keeps such logs (a log bucket beside it);
  ``balancer.waf``: a web application firewall with the cloud's managed rule sets (common attacks, known
  bad inputs, IP reputation) in blocking mode, attached to the balancer; ``balancer.deletion_protection``
  where the cloud has such a switch;
- the replicas' firewall admits ``backend_port`` (and the health port) from the balancer only -- its
  security group, its subnets, or the cloud's published health-check ranges -- and nothing else from
  outside private space; the replicas of a served resource get no public address (``serve_only``).

It exports (``BALANCER_EXPORTS``; checked like any element's exports):

- ``target`` (ref): the balancer's public name or address, as a reference to the output that holds it
  (AWS: the ALB's ``dnsName``; Azure: the public IP's ``ipAddress``; GCP: the forwarding rule's ``ipAddress``).
  What it is -- a host name or an IPv4 address -- the provider states beforehand as its class attribute
  ``CloudProvider.balancer_target`` (``Balancer.target_kind``), so the DNS side, which sees only a
  placeholder, knows to write a CNAME or an A record and to probe a name or an address;
- ``validation_names`` and ``validation_values`` (refs, ``balancer.validation_records`` each): the CNAME
  records the zone must hold for the managed certificate to be issued (ACM's DNS validation, a Certificate
  Manager DNS authorisation). How many, the provider states beforehand (``CloudProvider.balancer_validations``
  per https balancer; 0 for other protocols), for the same reason as the target's kind.

The global name (``GlobalNames``, a cross-cloud element; one per stack with a ``dns:`` and at least one
named served resource). Endpoint 0 is the DNS provider (``dns.provider``; region None: DNS is global);
endpoints 1.. are the balancers of named resources, in ``GlobalNames.balancers`` order. The core renders
endpoint 0 with ``CloudProvider.render_global_name(ctx, view)``; the balancer endpoints are not rendered
again: their exports are those of ``render_balancer``, read with ``view.peer_output(name, endpoint=i)``.
Endpoint 0 renders:

- the zone ``dns.zone`` (role ``dns-zone``), public;
- per balancer of a named resource, a health check (role ``health-check``) probing ``target`` with the
  balancer's listener protocol and port (``GlobalNames.probe``) -- the path of ``balancer.health``, a TCP
  connection for tcp;
- the records of ``balancer.hostname`` (role ``dns-record``), one per balancer, each tied to its health
  check, steered by ``steering``: ``latency`` (the client's nearest healthy location; a cloud that measures
  latency only to its own regions maps another cloud's location to the nearest of them by its geography), ``weighted`` (weight =
  ``balancer.replicas``), ``failover`` (``GlobalNames.failover_order``: all traffic to the first healthy one);
- every ``validation_names[k]`` -> ``validation_values[k]`` CNAME of every balancer (once per name).

It exports nothing. A provider that does not override ``render_balancer`` (``render_global_name``) lacks
``Capability.LOAD_BALANCER`` (``GLOBAL_DNS``) with a "not rendered yet" reason: placement keeps served
resources off its cloud, and a ``dns.provider`` naming it is refused at its line.

Facts (``facts.py``): ``BalancerFacts`` (balancer), ``ListenerFacts`` (balancer-listener), ``BackendFacts``
(balancer-backend), ``CertificateFacts`` (certificate: its names and how they are validated, which says
whether it is issued wherever the global name sends the certificate authority); the policies judge those on
every cloud.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from cloudorch.rendering.elements import Element, ElementProblem, EndpointRendering, ExportShape, _Frozen

if TYPE_CHECKING:
    from cloudorch.placement.model import PlacementResult
    from cloudorch.spec.models import Stack

#: the lowest TLS version an https listener accepts, everywhere
MIN_TLS = "1.2"
#: the id of the stack's one global-name element
GLOBAL_NAMES_ID = "global-names"

BALANCER_EXPORTS: Mapping[str, ExportShape] = {"target": "ref", "validation_names": "refs", "validation_values": "refs"}


class Listener(_Frozen):
    port: int
    protocol: Literal["http", "https", "tcp"]
    #: forward to the backend, or (plain HTTP beside https) redirect every request to https
    action: Literal["forward", "redirect"] = "forward"


class HealthCheck(_Frozen):
    protocol: Literal["http", "tcp"]
    port: int
    path: str | None = None
    interval_s: int
    healthy_threshold: int
    unhealthy_threshold: int


class Balancer(_Frozen):
    """One location's balancer of one served resource."""

    resource: str
    cloud: str
    region: str
    network: str
    #: replicas of the resource in this location
    replicas: int = Field(gt=0)
    protocol: Literal["http", "https", "tcp"]
    listeners: tuple[Listener, ...]
    backend_port: int
    health: HealthCheck
    #: the global name (``www.shop.example.com``) when the resource asks for one
    hostname: str | None = None
    #: what the exported ``target`` is (the rendering provider's ``balancer_target``)
    target_kind: Literal["hostname", "ipv4"] = "ipv4"
    #: how many certificate-validation records it exports (the provider's ``balancer_validations``, https only)
    validation_records: int = 0
    min_tls: str = MIN_TLS
    waf: bool = False
    access_logs: bool = True
    deletion_protection: bool = True
    #: this location's share of the resource's declared traffic (by replicas), for the cost
    gb_month: float = 0.0
    requests_million_month: float = 0.0

    @property
    def id(self) -> str:
        return f"{self.resource}/{self.cloud}/{self.region}"

    @property
    def ports(self) -> tuple[int, ...]:
        """Ports the internet reaches on the balancer."""
        return tuple(sorted({listener.port for listener in self.listeners}))


class GlobalNames(Element):
    """The stack's DNS zone and the names in it; see the module docstring for what each endpoint renders."""

    kind: Literal["global-names"] = "global-names"
    zone: str
    steering: Literal["latency", "weighted", "failover"]
    #: failover preference as the stack names it (regions or clouds)
    order: tuple[str, ...] = ()
    #: endpoint i + 1 is balancers[i]
    balancers: tuple[Balancer, ...]
    #: the stack's declared DNS queries, millions a month (None: not declared, not priced)
    queries_million_month: float | None = None

    def exports(self, index: int) -> Mapping[str, ExportShape]:
        return {} if index == 0 else BALANCER_EXPORTS

    def endpoint_of(self, balancer: Balancer) -> int:
        return self.balancers.index(balancer) + 1

    def names(self) -> dict[str, tuple[Balancer, ...]]:
        """hostname -> its balancers, in endpoint order."""
        out: dict[str, list[Balancer]] = {}
        for b in self.balancers:
            out.setdefault(b.hostname or "", []).append(b)
        return {name: tuple(bs) for name, bs in sorted(out.items())}

    def failover_order(self, hostname: str) -> tuple[Balancer, ...]:
        """The balancers of ``hostname``, most preferred first: those ``order`` names (by region, or
        cloud/region, or cloud), in its order, then the rest by cloud and region."""
        def rank(b: Balancer) -> tuple[int, str, str]:
            for i, want in enumerate(self.order):
                if want in (b.region, b.cloud, f"{b.cloud}/{b.region}"):
                    return (i, b.cloud, b.region)
            return (len(self.order), b.cloud, b.region)

        return tuple(sorted(self.names()[hostname], key=rank))

    @staticmethod
    def probe(balancer: Balancer) -> Listener:
        """What the DNS health check of a balancer probes: its serving (not redirecting) listener."""
        return next(listener for listener in balancer.listeners if listener.action == "forward")


def balancers(stack: Stack, placement: PlacementResult,
              shapes: Mapping[str, tuple[str, int]] | None = None) -> tuple[Balancer, ...]:
    """Exactly one balancer per location hosting replicas of each served resource, by resource and location;
    ``shapes``: cloud -> its provider's (``balancer_target``, ``balancer_validations``); default (ipv4, 0)."""
    from cloudorch.spec.models import Compute

    out = []
    for name, spec in sorted(stack.resources.items()):
        where = placement.placements.get(name)
        if not isinstance(spec, Compute) or spec.serve is None or where is None:
            continue
        serve = spec.serve
        per_location: dict[tuple[str, str], int] = {}
        for slot in where.slots:
            per_location[(slot.cloud, slot.region)] = per_location.get((slot.cloud, slot.region), 0) + slot.count
        total = sum(per_location.values())
        listeners = [Listener(port=serve.listen_port, protocol=serve.protocol)]
        if serve.protocol == "https" and serve.listen_port != 80:
            listeners.append(Listener(port=80, protocol="http", action="redirect"))
        health = HealthCheck(protocol="tcp" if serve.health.path is None else "http",
                             port=serve.health.port or serve.backend_port, path=serve.health.path,
                             interval_s=serve.health.interval_s, healthy_threshold=serve.health.healthy_threshold,
                             unhealthy_threshold=serve.health.unhealthy_threshold)
        hostname = f"{serve.name}.{stack.dns.zone}" if serve.name and stack.dns else None
        for (cloud, region), count in sorted(per_location.items()):
            share = count / total
            out.append(Balancer(
                resource=name, cloud=cloud, region=region, network=spec.network, replicas=count,
                target_kind=(shapes or {}).get(cloud, ("ipv4", 0))[0],
                validation_records=(shapes or {}).get(cloud, ("ipv4", 0))[1] if serve.protocol == "https" else 0,
                protocol=serve.protocol, listeners=tuple(sorted(listeners, key=lambda x: x.port)),
                backend_port=serve.backend_port, health=health, hostname=hostname,
                waf=serve.waf_on(stack.policies.packs), access_logs=serve.access_logs,
                deletion_protection=serve.deletion_protection, gb_month=serve.gb_month * share,
                requests_million_month=serve.requests_million_month * share))
    return tuple(out)


def global_names(stack: Stack, served: Iterable[Balancer]) -> GlobalNames | None:
    """The stack's global-name element, or None when no served resource asks for a name."""
    from cloudorch.rendering.elements import Endpoint

    named = tuple(b for b in served if b.hostname)
    if stack.dns is None or not named:
        return None
    endpoints = (Endpoint(cloud=stack.dns.provider),
                 *(Endpoint(cloud=b.cloud, region=b.region, network=b.network) for b in named))
    return GlobalNames(id=GLOBAL_NAMES_ID, endpoints=endpoints, zone=stack.dns.zone, steering=stack.dns.steering,
                       order=tuple(stack.dns.order), balancers=named,
                       queries_million_month=stack.dns.queries_million_month)


def serve_only(spec: object) -> bool:
    """Whether a resource is reached from the internet only through its balancers: served, and no ingress
    rule of its own asks for a public address. Providers give such replicas no public address."""
    serve = getattr(spec, "serve", None)
    ingress = getattr(spec, "ingress", ())
    return serve is not None and not any(rule.from_outside_private_space for rule in ingress)


def check_balancer_exports(balancer: Balancer, rendering: EndpointRendering) -> None:
    """A balancer outside any global name still exports what the contract says (a provider bug otherwise):
    checked as endpoint 1 of a stand-in element of its own."""
    from cloudorch.rendering.elements import Endpoint, check_exports

    alone = GlobalNames(id=f"balancer {balancer.id}", zone="", steering="latency", balancers=(balancer,),
                        endpoints=(Endpoint(cloud=balancer.cloud),
                                   Endpoint(cloud=balancer.cloud, region=balancer.region, network=balancer.network)))
    check_exports(alone, 1, rendering)
    check_validations(balancer, rendering)


def check_validations(balancer: Balancer, rendering: EndpointRendering) -> None:
    """The validation records a balancer exports are as many as its provider said beforehand."""
    for name in ("validation_names", "validation_values"):
        if len(rendering.exports.get(name, ())) != balancer.validation_records:
            raise ElementProblem(balancer.cloud, f"the balancer {balancer.id} exports {len(rendering.exports.get(name, ()))} "
                                                 f"{name}, its provider declared {balancer.validation_records}")


def served_ports(spec: object) -> tuple[int, ...]:
    """The ports a served resource's balancers listen on for the internet (none when it is not served)."""
    serve = getattr(spec, "serve", None)
    if serve is None:
        return ()
    return serve.listen_ports
