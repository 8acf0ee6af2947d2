"""What the providers' serving tests share: an https balancer of the webshop's web, as the neutral contract
(``cloudorch.rendering.service``) hands it to a provider, and the global names over some of them."""

from __future__ import annotations

from cloudorch.rendering.elements import Endpoint
from cloudorch.rendering.service import Balancer, GlobalNames, HealthCheck, Listener


def https_balancer(cloud: str, region: str, kind: str = "ipv4", validations: int = 0, replicas: int = 2) -> Balancer:
    """web's balancer in ``cloud``/``region``: 443 forwarding to 8080, 80 redirecting, /healthz checked."""
    return Balancer(resource="web", cloud=cloud, region=region, network="net", replicas=replicas, protocol="https",
                    listeners=(Listener(port=80, protocol="http", action="redirect"), Listener(port=443, protocol="https")),
                    backend_port=8080, hostname="www.shop.example.com", target_kind=kind, validation_records=validations,
                    health=HealthCheck(protocol="http", port=8080, path="/healthz", interval_s=10, healthy_threshold=2,
                                       unhealthy_threshold=3))


def names_over(zone_cloud: str, steering: str, *balancers: Balancer, order: tuple[str, ...] = ()) -> GlobalNames:
    """www.shop.example.com over ``balancers``, its zone on ``zone_cloud`` (endpoint 0; balancer i is i + 1)."""
    return GlobalNames(id="global-names", zone="shop.example.com", steering=steering, order=order, balancers=balancers,
                       endpoints=(Endpoint(cloud=zone_cloud), *(Endpoint(cloud=b.cloud, region=b.region, network="net")
                                                                for b in balancers)))
