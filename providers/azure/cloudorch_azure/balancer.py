"""A served resource's balancer in one Azure region (``cloudorch.rendering.service``).

http / https: an Application Gateway v2 (WAF_v2 when ``waf``) with a Standard public IP, in the site's
balancer subnet (``network.render_balancer_subnet``), its backend pool joined by the resource's scale sets,
HTTP settings with the health probe, an HTTPS listener ending TLS under ``AppGwSslPolicy20220101`` (TLS 1.2
and 1.3 only) and a plain-HTTP listener whose rule only redirects (301) to it; a WAF policy in Prevention
mode with Microsoft's Default Rule Set 2.1 (OWASP CRS 3.3 based: common attacks, known bad inputs) and the
Bot Manager rule set (Microsoft threat intelligence's bad IPs and bots) when ``waf``; its access (and
firewall) logs to a storage account beside it, kept a year.

tcp: a Standard Load Balancer with a public frontend, a TCP probe and one rule per port. Standard Load
Balancer passes the client's address through, so the replicas' NSG admits the backend port from
``Internet``: the replicas still have no public address, so the balancer's frontend is the only way in;
``balancer_facts.passthrough_clients`` reads that rule as the balancer's own filter for the proof (reach.py)
while no machine of the subnet has a public address.

The certificate. Azure manages no certificate for an Application Gateway (App Service managed
certificates and Front Door's serve only those services). What Azure documents for the v2 SKU is a Key
Vault certificate the gateway reads through a user-assigned identity, by a version-less secret id, and
polls every four hours, so a renewed certificate is served without a change here. Key Vault issues and
renews a certificate itself with an integrated CA (DigiCert or GlobalSign, through the owner's account
with that CA), or holds one imported from elsewhere; either way the certificate is a data-plane object
outside Azure Resource Manager (and outside the pinned schema), so the stack renders the vault, the
identity and its read access, and the operator creates the certificate named ``certificate_name`` in the
vault before the first apply (the gateway fails to provision without it). No DNS record is needed for it:
``balancer_validations`` is 0.
"""

from __future__ import annotations

from cloudorch.rendering import RenderContext, RenderedResource, ref
from cloudorch.rendering.elements import EndpointRendering
from cloudorch.rendering.service import Balancer

from cloudorch_azure.bucket import LOG_LIFECYCLE, _account, _blob_service, _lifecycle
from cloudorch_azure.meters import TRAFFIC_TAG
from cloudorch_azure.naming import (
    ZONAL_REGIONS, logical, make, resource_group, rg_ref, slug, storage_account_name, vault_name,
)
from cloudorch_azure.network import (
    balancer_nsg_name, balancer_rule_priority, balancer_subnet_name, nsg_name, security_rule,
)

APP_GATEWAY = "azure-native:network:ApplicationGateway"
LOAD_BALANCER = "azure-native:network:LoadBalancer"
WAF_POLICY = "azure-native:network:WebApplicationFirewallPolicy"
#: TLS 1.2 minimum, forward-secret ciphers only (the 2022 predefined policies; the "S" variant is 1.2 only)
SSL_POLICY = "AppGwSslPolicy20220101"
#: Microsoft's Default Rule Set (OWASP CRS based, Microsoft's own rules added) and the Bot Manager set
MANAGED_RULE_SETS = (("Microsoft_DefaultRuleSet", "2.1"), ("Microsoft_BotManagerRuleSet", "1.0"))
#: autoscaling from zero reserved instances (billed by capacity units used); 10 instances at most, well
#: inside the /27 subnet's 27 addresses
MAX_INSTANCES = 10
#: the gateway's access log, and the firewall's log of matched rules when a WAF policy is attached
ACCESS_LOGS = ("ApplicationGatewayAccessLog",)
FIREWALL_LOGS = ("ApplicationGatewayFirewallLog",)


def gateway_name(resource: str, region: str) -> str:
    return logical(resource, region, "appgw")


def lb_name(resource: str, region: str) -> str:
    return logical(resource, region, "lb")


def certificate_name(b: Balancer) -> str:
    """The Key Vault certificate (and secret) the gateway serves: the host name, dots made dashes."""
    return slug(b.hostname or b.resource)


def backend_pool(ctx: RenderContext, b: Balancer) -> dict:
    """What a scale set's ipConfiguration names to join the balancer's backend pool."""
    stack = ctx.stack.stack
    if b.protocol == "tcp":
        return {"loadBalancerBackendAddressPools": [_child(stack, b.region, "loadBalancers", lb_name(b.resource, b.region),
                                                           "backendAddressPools", "replicas")]}
    return {"applicationGatewayBackendAddressPools": [
        _child(stack, b.region, "applicationGateways", gateway_name(b.resource, b.region), "backendAddressPools", "replicas")]}


def front_name(b: Balancer) -> str:
    return gateway_name(b.resource, b.region) if b.protocol != "tcp" else lb_name(b.resource, b.region)


def _child(stack: str, region: str, kind: str, parent: str, collection: str, name: str) -> dict:
    """A sub-resource of a gateway or load balancer, by the id Azure gives it (its parent's id and names)."""
    return {"id": ref(resource_group(stack, region), "id",
                      suffix=f"/providers/Microsoft.Network/{kind}/{parent}/{collection}/{name}")}


def render_balancer(ctx: RenderContext, b: Balancer) -> EndpointRendering:
    name, region, stack = b.resource, b.region, ctx.stack.stack
    rg, tags = rg_ref(stack, region), ctx.tags(name)
    zones = {"zones": ["1", "2", "3"]} if region in ZONAL_REGIONS else {}
    ip = logical(name, region, "lb-ip")
    out = [make(ip, "azure-native:network:PublicIPAddress", region, name, {
        "resourceGroupName": rg, "location": region, "sku": {"name": "Standard", "tier": "Regional"},
        "publicIPAllocationMethod": "Static", "publicIPAddressVersion": "IPv4", **zones, "tags": tags})]
    out += _front_rules(ctx, b)
    if b.protocol == "tcp":
        out.append(_load_balancer(ctx, b, ip, zones))
    else:
        out += _gateway(ctx, b, ip, zones)
    return EndpointRendering(resources=tuple(out), exports={
        "target": ref(ip, "ipAddress"), "validation_names": [], "validation_values": []})


def _front_rules(ctx: RenderContext, b: Balancer) -> list[RenderedResource]:
    """The internet reaches the gateway's subnet on the listener ports only (tcp: the load balancer has no
    subnet; its rules are the replicas', ``backend_rules``)."""
    if b.protocol == "tcp":
        return []
    nsg = balancer_nsg_name(b.network, b.region)
    return [security_rule(logical(b.resource, b.region, f"lb-in-{port}"), b.region, b.resource, ctx.stack.stack, nsg,
                          priority=balancer_rule_priority(ctx, b, k), source_prefix="Internet", ports=str(port),
                          protocol="Tcp", description=f"clients of {b.resource} on {port}")
            for k, port in enumerate(b.ports)]


def backend_rules(ctx: RenderContext, b: Balancer, prefix: str) -> list[RenderedResource]:
    """The replicas' subnet admits the backend and health ports from the gateway's subnet (``prefix``) --
    or, behind a Standard Load Balancer, which keeps the client's address, the backend port from the
    internet and both from the platform's probes (AzureLoadBalancer, where a Standard Load Balancer's
    health probes come from: the internet has no business on a health port of its own)."""
    ports = sorted({b.backend_port, b.health.port})
    sources = ["Internet", "AzureLoadBalancer"] if b.protocol == "tcp" else [prefix]
    out, k = [], 0
    for source in sources:
        for port in ports if source != "Internet" else [b.backend_port]:
            part = f"in-lb-{port}" if source == prefix else f"in-lb-{slug(source)}-{port}"
            out.append(security_rule(
                logical(b.resource, b.region, part), b.region, b.resource, ctx.stack.stack, nsg_name(b.network, b.region),
                priority=balancer_rule_priority(ctx, b, k, backend=True), source_prefix=source, ports=str(port),
                protocol="Tcp", description=f"tcp/{port} from {b.resource}'s balancer"))
            k += 1
    return out


def _gateway(ctx: RenderContext, b: Balancer, ip: str, zones: dict) -> list[RenderedResource]:
    name, region, stack = b.resource, b.region, ctx.stack.stack
    rg, tags, gw = rg_ref(stack, region), ctx.tags(name), gateway_name(name, region)

    def child(collection: str, part: str) -> dict:
        return _child(stack, region, "applicationGateways", gw, collection, part)

    out: list[RenderedResource] = []
    sku = "WAF_v2" if b.waf else "Standard_v2"
    health_path = b.health.path or "/"  # a gateway probes HTTP backends over HTTP: / is its default probe's path
    inputs: dict = {
        "resourceGroupName": rg, "location": region, "applicationGatewayName": gw, **zones,
        "sku": {"name": sku, "tier": sku},
        "autoscaleConfiguration": {"minCapacity": 0, "maxCapacity": MAX_INSTANCES},
        "enableHttp2": True,
        "gatewayIPConfigurations": [{"name": "gateway", "subnet": {"id": ref(balancer_subnet_name(b.network, region), "id")}}],
        "frontendIPConfigurations": [{"name": "public", "publicIPAddress": {"id": ref(ip, "id")}}],
        "frontendPorts": [{"name": f"port-{port}", "port": port} for port in b.ports],
        "backendAddressPools": [{"name": "replicas"}],
        "probes": [{
            "name": "health", "protocol": "Http", "host": "127.0.0.1", "path": health_path, "port": b.health.port,
            "interval": b.health.interval_s, "timeout": min(b.health.interval_s, 30),
            "unhealthyThreshold": b.health.unhealthy_threshold, "pickHostNameFromBackendHttpSettings": False,
            "match": {"statusCodes": ["200-399"]}}],
        "backendHttpSettingsCollection": [{
            "name": "replicas", "port": b.backend_port, "protocol": "Http", "cookieBasedAffinity": "Disabled",
            "requestTimeout": 30, "probe": child("probes", "health"),
            "connectionDraining": {"enabled": True, "drainTimeoutInSec": 30}}],
        "httpListeners": [], "requestRoutingRules": [], "tags": tags | {TRAFFIC_TAG: f"{b.gb_month:g}"},
    }
    https = next((x.port for x in b.listeners if x.protocol == "https"), None)
    if https is not None:
        out += _vault(ctx, b)
        identity = logical(name, region, "lb-identity")
        inputs |= {
            "identity": {"type": "UserAssigned", "userAssignedIdentities": [ref(identity, "id")]},
            "sslCertificates": [{"name": "managed", "keyVaultSecretId": ref(
                logical(name, region, "lb-vault"), "properties", path=("vaultUri",), suffix=f"secrets/{certificate_name(b)}")}],
            "sslPolicy": {"policyType": "Predefined", "policyName": SSL_POLICY},
        }
        inputs["redirectConfigurations"] = [{
            "name": "to-https", "redirectType": "Permanent", "targetListener": child("httpListeners", f"listener-{https}"),
            "includePath": True, "includeQueryString": True}]
    for i, listener in enumerate(b.listeners):
        part = f"listener-{listener.port}"
        inputs["httpListeners"].append({
            "name": part, "protocol": listener.protocol.capitalize(), "frontendIPConfiguration": child("frontendIPConfigurations", "public"),
            "frontendPort": child("frontendPorts", f"port-{listener.port}"),
            **({"sslCertificate": child("sslCertificates", "managed")} if listener.protocol == "https" else {})})
        action = ({"redirectConfiguration": child("redirectConfigurations", "to-https")} if listener.action == "redirect"
                  else {"backendAddressPool": child("backendAddressPools", "replicas"),
                        "backendHttpSettings": child("backendHttpSettingsCollection", "replicas")})
        inputs["requestRoutingRules"].append({"name": f"rule-{listener.port}", "ruleType": "Basic", "priority": 100 + i,
                                              "httpListener": child("httpListeners", part), **action})
    if b.waf:
        policy = logical(name, region, "lb-waf")
        out.append(make(policy, WAF_POLICY, region, name, {
            "resourceGroupName": rg, "location": region, "policyName": slug(policy).replace("-", "")[:80],
            "policySettings": {"state": "Enabled", "mode": "Prevention", "requestBodyCheck": True},
            "managedRules": {"managedRuleSets": [{"ruleSetType": t, "ruleSetVersion": v} for t, v in MANAGED_RULE_SETS]},
            "tags": tags}))
        inputs["firewallPolicy"] = {"id": ref(policy, "id")}
    out.append(make(gw, APP_GATEWAY, region, name, inputs))
    if b.access_logs:
        out += _logs(ctx, b, gw)
    return out


def _vault(ctx: RenderContext, b: Balancer) -> list[RenderedResource]:
    """The identity the gateway reads its certificate as, and the vault holding it (read: get only)."""
    name, region, stack = b.resource, b.region, ctx.stack.stack
    identity, vault = logical(name, region, "lb-identity"), logical(name, region, "lb-vault")
    tenant = ref(identity, "tenantId")
    return [
        make(identity, "azure-native:managedidentity:UserAssignedIdentity", region, name, {
            "resourceGroupName": rg_ref(stack, region), "location": region, "resourceName": identity,
            "tags": ctx.tags(name)}),
        make(vault, "azure-native:keyvault:Vault", region, name, {
            "resourceGroupName": rg_ref(stack, region), "location": region,
            "vaultName": vault_name(stack, name, region),
            "properties": {
                "tenantId": tenant, "sku": {"family": "A", "name": "standard"},
                # access policies rather than Azure RBAC: a role assignment is outside the pinned schema
                "enableRbacAuthorization": False,
                "accessPolicies": [{"tenantId": tenant, "objectId": ref(identity, "principalId"),
                                    "permissions": {"secrets": ["get"], "certificates": ["get"]}}],
                # a deleted vault (and the certificate in it) stays recoverable for 90 days
                "enableSoftDelete": True, "softDeleteRetentionInDays": 90, "enablePurgeProtection": True},
            "tags": ctx.tags(name)}),
    ]


def _logs(ctx: RenderContext, b: Balancer, gw: str) -> list[RenderedResource]:
    """A private storage account beside the gateway keeps its access (and firewall) logs a year."""
    name, region, stack = b.resource, b.region, ctx.stack.stack
    logs = logical(name, region, "lb-logs")
    # named apart from any resource of the stack: "/" never occurs in a resource's name
    return [
        _account(ctx, name, region, logs, storage_account_name(stack, f"{name}/lb-logs", region), public=False),
        _blob_service(ctx, name, region, logs, "lb-logs-blob-service", versioning=False),
        *_lifecycle(ctx, name, region, logs, "lb-logs-lifecycle", LOG_LIFECYCLE),
        make(logical(name, region, "lb-access-logs"), "azure-native:monitor:DiagnosticSetting", region, name, {
            "name": "access-logs", "resourceUri": ref(gw, "id"),
            "logs": [{"category": c, "enabled": True} for c in ACCESS_LOGS + (FIREWALL_LOGS if b.waf else ())],
            "storageAccountId": ref(logs, "id")}),
    ]


def _load_balancer(ctx: RenderContext, b: Balancer, ip: str, zones: dict) -> RenderedResource:
    name, region, stack = b.resource, b.region, ctx.stack.stack
    lb = lb_name(name, region)

    def child(collection: str, part: str) -> dict:
        return _child(stack, region, "loadBalancers", lb, collection, part)

    return make(lb, LOAD_BALANCER, region, name, {
        "resourceGroupName": rg_ref(stack, region), "location": region, "loadBalancerName": lb,
        "sku": {"name": "Standard", "tier": "Regional"},
        "frontendIPConfigurations": [{"name": "public", "publicIPAddress": {"id": ref(ip, "id")}}],
        "backendAddressPools": [{"name": "replicas"}],
        "probes": [{"name": "health", "protocol": "Tcp", "port": b.health.port, "intervalInSeconds": b.health.interval_s,
                    "probeThreshold": b.health.unhealthy_threshold}],
        "loadBalancingRules": [{
            "name": f"tcp-{listener.port}", "protocol": "Tcp", "frontendPort": listener.port, "backendPort": b.backend_port,
            "frontendIPConfiguration": child("frontendIPConfigurations", "public"),
            "backendAddressPool": child("backendAddressPools", "replicas"), "probe": child("probes", "health"),
            # outbound traffic leaves through the site's NAT gateway, not the balancer's address
            "enableTcpReset": True, "disableOutboundSnat": True, "idleTimeoutInMinutes": 4} for listener in b.listeners],
        "tags": ctx.tags(name) | {TRAFFIC_TAG: f"{b.gb_month:g}"},
    })

