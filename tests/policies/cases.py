"""One passing and one failing fixture per built-in policy, with the exact set of flagged resources.

A flagged resource is ``(spec resource, rendered resource)``; a spec-level finding has no rendered name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from cloudorch.policy import PolicySubject
from cloudorch_policies import tokens as T

from tests.policies.helpers import placement, r, ref, slot, stack, subject

W = "0.0.0.0/0"
IAP = "35.235.240.0/20"


@dataclass
class Case:
    policy: str
    passing: PolicySubject
    failing: PolicySubject
    flagged: set[tuple[str | None, str | None]]
    config: dict[str, Any] = field(default_factory=dict)


def _sg(name, port, cidr=W, source="web", proto="tcp", to=None):
    return r(name, T.AWS_SG_INGRESS, source, cidrIpv4=cidr, fromPort=port, toPort=to or port, ipProtocol=proto,
             securityGroupId=ref("sg"))


def _az_rule(name, port, prefix, access="Allow", direction="Inbound", source="web"):
    return r(name, T.AZ_SECURITY_RULE, source, access=access, direction=direction, sourceAddressPrefix=prefix,
             destinationPortRange=port, protocol="Tcp", priority=100)


def _fw(name, ranges, allows, direction="INGRESS", source="web"):
    return r(name, T.GCP_FIREWALL, source, sourceRanges=ranges, allows=allows, direction=direction, network=ref("vpc"))


def _policy_doc(action, resource):
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]})


WORLD_WEB = "{kind: compute, network: net, cpu: 4, memory_gb: 16, ingress: [{port: 443, from: internet}]}"
PUBLIC_DB = '{kind: database, network: net, engine: postgres, version: "16", ingress: [{port: 5432, from: 0.0.0.0/0}]}'
HA_DB = '{kind: database, network: net, engine: postgres, version: "16", high_availability: true}'


def _served(serve: str) -> str:
    return "{kind: compute, network: net, cpu: 4, memory_gb: 16, serve: {%s}}" % serve


SERVED = _served("protocol: https, name: www")
ZONE = "dns: {zone: shop.example.com, provider: aws}\n"
WAF_ATTACHMENT = "aws:wafv2/webAclAssociation:WebAclAssociation"
# gcp balancers: a URL map behind forwarding rules and target proxies, over a backend service
G_RULE, G_URL_MAP = "gcp:compute/globalForwardingRule:GlobalForwardingRule", "gcp:compute/uRLMap:URLMap"
G_HTTPS, G_HTTP = "gcp:compute/targetHttpsProxy:TargetHttpsProxy", "gcp:compute/targetHttpProxy:TargetHttpProxy"
G_TLS, G_BACKEND = "gcp:compute/sSLPolicy:SSLPolicy", "gcp:compute/backendService:BackendService"


def _g_lb(name: str = "g-lb", **backend: Any) -> list:
    return [r(name, G_URL_MAP, defaultService=ref(f"{name}-bs")), r(f"{name}-bs", G_BACKEND, **backend)]
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
# azure: an Application Gateway holds its listeners, rules and backend settings inline
AZ_GATEWAY = "azure-native:network:ApplicationGateway"


def _az_child(gateway: str, collection: str, name: str) -> dict:
    return {"id": ref("rg", "id", suffix=f"/providers/Microsoft.Network/applicationGateways/{gateway}/{collection}/{name}")}


def _az_gateway(name: str, *, tls_policy: str | None = "AppGwSslPolicy20220101", http: str = "redirect",
                probe: bool = True, unused_setting: bool = False) -> Any:
    """A gateway with an http listener (its rule redirecting to https, or forwarding) and an https one."""
    def child(collection, part):
        return _az_child(name, collection, part)

    forward = {"backendAddressPool": child("backendAddressPools", "replicas"),
               "backendHttpSettings": child("backendHttpSettingsCollection", "replicas")}
    settings = [{"name": "replicas", "port": 8080, "protocol": "Http", **({"probe": child("probes", "health")} if probe else {})}]
    if unused_setting:
        settings.append({"name": "spare", "port": 8081, "protocol": "Http"})
    return r(name, AZ_GATEWAY, **({"sslPolicy": {"policyType": "Predefined", "policyName": tls_policy}} if tls_policy else {}),
             sslCertificates=[{"name": "managed", "keyVaultSecretId": ref("vault", "properties", path=("vaultUri",),
                                                                          suffix="secrets/www-shop-example-com")}],
             frontendPorts=[{"name": "port-80", "port": 80}, {"name": "port-443", "port": 443}],
             probes=[{"name": "health", "protocol": "Http", "path": "/healthz"}], backendHttpSettingsCollection=settings,
             redirectConfigurations=[{"name": "to-https", "redirectType": "Permanent",
                                      "targetListener": child("httpListeners", "listener-443")}],
             httpListeners=[{"name": "listener-80", "protocol": "Http", "frontendPort": child("frontendPorts", "port-80")},
                            {"name": "listener-443", "protocol": "Https", "frontendPort": child("frontendPorts", "port-443"),
                             "sslCertificate": child("sslCertificates", "managed")}],
             requestRoutingRules=[
                 {"name": "rule-80", "httpListener": child("httpListeners", "listener-80"),
                  **({"redirectConfiguration": child("redirectConfigurations", "to-https")} if http == "redirect" else forward)},
                 {"name": "rule-443", "httpListener": child("httpListeners", "listener-443"), **forward}])


# certificates: ACM's (validated in the zone) and its waiter, Google-managed ones (validated at the name's address)
ACM, ACM_VALIDATION = "aws:acm/certificate:Certificate", "aws:acm/certificateValidation:CertificateValidation"
G_CERT = "gcp:compute/managedSslCertificate:ManagedSslCertificate"
WWW = "www.shop.example.com"


def _certificates(*gcp_regions: str) -> list:
    """web's certificates: ACM's in eu-west-1, and a Google-managed one per GCP region (``g-<region>``)."""
    return [r("acm", ACM, domainName=WWW, validationMethod="DNS"),
            r("acm-validation", ACM_VALIDATION, certificateArn=ref("acm", "arn")),
            *(r(f"g-{region}", G_CERT, region=region, type="MANAGED", managed={"domains": [WWW]})
              for region in gcp_regions)]


def _az_lb(name: str, *, probe: bool) -> Any:
    """A Standard Load Balancer passing tcp 443 through, its rule naming a probe or none."""
    rule = {"name": "tcp-443", "protocol": "Tcp", "frontendPort": 443, "backendPort": 443,
            **({"probe": {"id": ref("rg", "id", suffix=f"/providers/Microsoft.Network/loadBalancers/{name}/probes/tcp")}}
               if probe else {})}
    return r(name, "azure-native:network:LoadBalancer", loadBalancingRules=[rule],
             probes=[{"name": "tcp", "protocol": "Tcp", "port": 443}])


def _db(extra: str) -> str:
    return '{kind: database, network: net, engine: postgres, version: "16", %s}' % extra


EU_PLACEMENT = placement(web=[slot("aws", "eu-west-1")], db=[slot("azure", "westeurope", "Standard_D2ds_v5", 2)],
                         assets=("gcp", "europe-west4"))

CASES = [
    Case("network.public-ingress",
         subject(stack(), [_sg("w-aws", 443, "10.0.0.0/8"), _az_rule("w-az", "443", "10.40.0.0/20"),
                           _fw("w-gcp", ["10.40.0.0/16"], [{"protocol": "tcp", "ports": ["443"]}])]),
         subject(stack(web=WORLD_WEB), [_sg("w-aws", 443), _az_rule("w-az", "443", "*"),
                                        _az_rule("w-az-deny", "443", "*", access="Deny"),
                                        _fw("w-gcp", [W], [{"protocol": "tcp", "ports": ["443"]}]),
                                        _fw("w-gcp-egress", [W], [{"protocol": "tcp"}], direction="EGRESS")]),
         {("web", None), ("web", "w-aws"), ("web", "w-az"), ("web", "w-gcp")}),
    Case("network.admin-ports-open",
         subject(stack(web=WORLD_WEB), [_sg("w-aws", 443), _az_rule("w-az", "22", "10.0.0.0/8"),
                                        _fw("w-gcp", [IAP], [{"protocol": "tcp", "ports": ["22"]}])]),
         subject(stack(web="{kind: compute, network: net, cpu: 4, memory_gb: 16, ingress: [{port: 20, to_port: 25, from: 0.0.0.0/0}]}"),
                 [r("sg-inline", T.AWS_SG, ingress=[{"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": [W]}]),
                  r("sg-rule", T.AWS_SG_RULE, type="ingress", protocol="tcp", fromPort=3389, toPort=3389, ipv6CidrBlocks=["::/0"]),
                  r("sg-rule-egress", T.AWS_SG_RULE, type="egress", protocol="tcp", fromPort=22, toPort=22, cidrBlocks=[W]),
                  r("nsg", T.AZ_NSG, securityRules=[{"access": "Allow", "direction": "Inbound", "sourceAddressPrefix": "Internet",
                                                     "destinationPortRange": "3389"}]),
                  _fw("fw-range", [W], [{"protocol": "tcp", "ports": ["20-30"]}]),
                  _fw("fw-https", [W], [{"protocol": "tcp", "ports": ["443"]}])]),
         {("web", None), ("web", "sg-inline"), ("web", "sg-rule"), ("web", "nsg"), ("web", "fw-range")}),
    Case("network.all-ports-open",
         subject(stack(), [_sg("w-aws", 443), _fw("w-gcp", [W], [{"protocol": "tcp", "ports": ["80", "443"]}])]),
         subject(stack(web="{kind: compute, network: net, cpu: 4, memory_gb: 16, ingress: [{port: 1, to_port: 65535, from: internet}]}"),
                 [_sg("w-aws", 0, proto="-1"), _az_rule("w-az", "*", W), _fw("w-gcp", [W], [{"protocol": "all"}]),
                  _sg("w-aws-ok", 443)]),
         {("web", None), ("web", "w-aws"), ("web", "w-az"), ("web", "w-gcp")}),
    Case("encryption.lb-https",
         subject(stack(web=SERVED, extra=ZONE), [
             r("l-tls", T.AWS_LB_LISTENER, protocol="HTTPS", sslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06"),
             r("l-redirect", T.AWS_LB_LISTENER, protocol="HTTP", defaultActions=[
                 {"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}]),
             r("l-tcp", T.AWS_LB_LISTENER, protocol="TCP"),
             r("g-443", G_RULE, portRange="443", target=ref("g-443-proxy")),
             r("g-443-proxy", G_HTTPS, urlMap=ref("g-lb"), sslPolicy=ref("g-tls")),
             r("g-tls", G_TLS, profile="RESTRICTED", minTlsVersion="TLS_1_2"),
             r("g-80", G_RULE, portRange="80", target=ref("g-80-proxy")), r("g-80-proxy", G_HTTP, urlMap=ref("g-redirect")),
             r("g-redirect", G_URL_MAP, defaultUrlRedirect={"httpsRedirect": True}),
             _az_gateway("az-gw"), _az_gateway("az-default", tls_policy=None)]),
         subject(stack(web=_served("protocol: http")), [
             r("l-http", T.AWS_LB_LISTENER, protocol="HTTP", defaultActions=[{"type": "forward"}]),
             r("l-old", T.AWS_LB_LISTENER, protocol="HTTPS", sslPolicy="ELBSecurityPolicy-2016-08"),
             *_g_lb(), r("g-80", G_RULE, portRange="80", target=ref("g-80-proxy")),
             r("g-80-proxy", G_HTTP, urlMap=ref("g-lb")),  # forwards plain HTTP
             r("g-443", G_RULE, portRange="443", target=ref("g-443-proxy")),
             r("g-443-proxy", G_HTTPS, urlMap=ref("g-lb")),  # no SSL policy: Google's default takes TLS 1.0
             _az_gateway("az-old", tls_policy="AppGwSslPolicy20150501"), _az_gateway("az-http", http="forward")]),
         {("web", None), ("web", "l-http"), ("web", "l-old"), ("web", "g-80"), ("web", "g-443"),
          ("web", "az-old.httpListeners[1]"), ("web", "az-http.httpListeners[0]")}),
    Case("compute.public-ip",
         subject(stack(), [r("i", T.AWS_INSTANCE, associatePublicIpAddress=False),
                           r("g", T.GCP_INSTANCE, networkInterfaces=[{"network": ref("vpc")}]),
                           r("nic", T.AZ_NIC, ipConfigurations=[{"name": "ip", "subnet": {"id": ref("subnet")}}]),
                           r("ss", T.AZ_VMSS, virtualMachineProfile={"networkProfile": {"networkInterfaceConfigurations": [
                               {"name": "nic", "ipConfigurations": [{"name": "ip"}]}]}})]),
         subject(stack(), [r("i", T.AWS_INSTANCE, associatePublicIpAddress=True),
                           r("ss", T.AZ_VMSS, virtualMachineProfile={"networkProfile": {"networkInterfaceConfigurations": [
                               {"name": "nic", "ipConfigurations": [{"name": "ip",
                                                                     "publicIPAddressConfiguration": {"name": "pip"}}]}]}}),
                           r("lt", T.AWS_LAUNCH_TEMPLATE, networkInterfaces=[{"associatePublicIpAddress": "true"}]),
                           r("tpl", T.GCP_TEMPLATE, networkInterfaces=[{"network": ref("vpc"), "accessConfigs": [{}]}]),
                           r("nic", T.AZ_NIC, ipConfigurations=[{"name": "ip", "publicIPAddress": {"id": ref("pip")}}]),
                           r("i-private", T.AWS_INSTANCE)]),
         {("web", "i"), ("web", "lt"), ("web", "tpl"), ("web", "nic"), ("web", "ss")}),
    Case("compute.password-login",
         subject(stack(), [r("vm", T.AZ_VM, osProfile={"linuxConfiguration": {"disablePasswordAuthentication": True}}),
                           r("win", T.AZ_VM, osProfile={"windowsConfiguration": {}}),
                           r("ss", T.AZ_VMSS, virtualMachineProfile={"osProfile": {"linuxConfiguration": {"disablePasswordAuthentication": True}}})]),
         subject(stack(), [r("vm", T.AZ_VM, osProfile={"linuxConfiguration": {}}),
                           r("ss", T.AZ_VMSS, virtualMachineProfile={"osProfile": {"linuxConfiguration": {"disablePasswordAuthentication": False}}})]),
         {("web", "vm"), ("web", "ss")}),
    Case("compute.imdsv2",
         subject(stack(), [r("i", T.AWS_INSTANCE, metadataOptions={"httpTokens": "required"}),
                           r("lt", T.AWS_LAUNCH_TEMPLATE, metadataOptions={"httpEndpoint": "disabled"})]),
         subject(stack(), [r("i", T.AWS_INSTANCE), r("lt", T.AWS_LAUNCH_TEMPLATE, metadataOptions={"httpTokens": "optional"}),
                           r("ok", T.AWS_INSTANCE, metadataOptions={"httpTokens": "required"})]),
         {("web", "i"), ("web", "lt")}),
    Case("compute.serial-port",
         subject(stack(), [r("g", T.GCP_INSTANCE, metadata={}), r("t", T.GCP_TEMPLATE, metadata={"serial-port-enable": "false"})]),
         subject(stack(), [r("g", T.GCP_INSTANCE, metadata={"serial-port-enable": "true"}),
                           r("t", T.GCP_TEMPLATE, metadata={"serial-port-enable": True}), r("ok", T.GCP_INSTANCE)]),
         {("web", "g"), ("web", "t")}),
    Case("compute.project-ssh-keys",
         subject(stack(), [r("g", T.GCP_INSTANCE, metadata={"block-project-ssh-keys": "true"})]),
         subject(stack(), [r("g", T.GCP_INSTANCE), r("t", T.GCP_TEMPLATE, metadata={"block-project-ssh-keys": "false"})]),
         {("web", "g"), ("web", "t")}),
    Case("compute.ip-forwarding",
         subject(stack(), [r("g", T.GCP_INSTANCE, canIpForward=False), r("t", T.GCP_TEMPLATE)]),
         subject(stack(), [r("g", T.GCP_INSTANCE, canIpForward=True), r("t", T.GCP_TEMPLATE)]),
         {("web", "g")}),
    Case("compute.shielded-vm",
         subject(stack(), [r("g", T.GCP_INSTANCE, shieldedInstanceConfig={"enableSecureBoot": True})]),
         subject(stack(), [r("g", T.GCP_INSTANCE),
                           r("t", T.GCP_TEMPLATE, shieldedInstanceConfig={"enableSecureBoot": True, "enableVtpm": False})]),
         {("web", "g"), ("web", "t")}),
    Case("network.subnet-public-ip",
         subject(stack(), [r("s1", T.AWS_SUBNET, "net", mapPublicIpOnLaunch=False), r("s2", T.AWS_SUBNET, "net")]),
         subject(stack(), [r("s1", T.AWS_SUBNET, "net", mapPublicIpOnLaunch=True), r("s2", T.AWS_SUBNET, "net")]),
         {("net", "s1")}),
    Case("encryption.disk",
         subject(stack(), [r("v", T.AWS_EBS, encrypted=True), r("i", T.AWS_INSTANCE, rootBlockDevice={"encrypted": True}),
                           r("lt", T.AWS_LAUNCH_TEMPLATE, blockDeviceMappings=[{"deviceName": "/dev/xvda", "ebs": {"encrypted": "true"}}]),
                           r("d", T.AZ_DISK), r("vm", T.AZ_VM), r("gd", T.GCP_DISK, diskEncryptionKey={"kmsKeySelfLink": ref("key")}),
                           r("gi", T.GCP_INSTANCE, bootDisk={"initializeParams": {"size": 40}})]),
         subject(stack(), [r("v", T.AWS_EBS), r("i", T.AWS_INSTANCE, rootBlockDevice={"encrypted": True}, ebsBlockDevices=[{"encrypted": False}]),
                           r("lt", T.AWS_LAUNCH_TEMPLATE, blockDeviceMappings=[{"deviceName": "/dev/xvda", "ebs": {}}]),
                           r("d", T.AZ_DISK, encryptionSettingsCollection={"enabled": False}),
                           r("vm", T.AZ_VM, storageProfile={"osDisk": {"encryptionSettings": {"enabled": False}}}),
                           r("gd", T.GCP_DISK, diskEncryptionKey={"rawKey": "c2VjcmV0"}), r("gi", T.GCP_INSTANCE)]),
         {("web", "v"), ("web", "i"), ("web", "lt"), ("web", "d"), ("web", "vm"), ("web", "gd")}),
    Case("encryption.disk-cmk",
         subject(stack(), [r("v", T.AWS_EBS, kmsKeyId=ref("key", "arn")), r("d", T.AZ_DISK, encryption={"diskEncryptionSetId": ref("des")}),
                           r("gd", T.GCP_DISK, diskEncryptionKey={"kmsKeySelfLink": "projects/p/locations/l/keyRings/r/cryptoKeys/k"}),
                           r("t", T.GCP_TEMPLATE, disks=[{"diskEncryptionKey": {"kmsKeySelfLink": ref("key")}}]),
                           # as the gcp plugin renders a keyed template: the key used as the resource's own account
                           r("t2", T.GCP_TEMPLATE, disks=[{"boot": True, "diskEncryptionKey": {
                               "kmsKeySelfLink": ref("key"), "kmsKeyServiceAccount": ref("sa", "email")}}]),
                           # as the azure plugin renders a keyed scale set: its disks through the disk encryption set
                           r("ss", T.AZ_VMSS, virtualMachineProfile={"storageProfile": {
                               "osDisk": {"managedDisk": {"diskEncryptionSet": {"id": ref("des", "id")}}}}})]),
         subject(stack(), [r("v", T.AWS_EBS, encrypted=True), r("vm", T.AZ_VM), r("gi", T.GCP_INSTANCE, bootDisk={}),
                           r("gd", T.GCP_DISK, diskEncryptionKey={"kmsKeySelfLink": ref("key")}),
                           r("t", T.GCP_TEMPLATE, disks=[{"boot": True, "sourceImage": "debian-12"}]),
                           r("ss", T.AZ_VMSS, virtualMachineProfile={"storageProfile": {
                               "osDisk": {"managedDisk": {"storageAccountType": "Premium_LRS"}}}}),
                           r("ss2", T.AZ_VMSS, virtualMachineProfile={"storageProfile": {
                               "osDisk": {"managedDisk": {"diskEncryptionSet": {"id": ref("des", "id")}}},
                               "dataDisks": [{"lun": 0, "managedDisk": {}}]}})]),
         {("web", "v"), ("web", "vm"), ("web", "gi"), ("web", "t"), ("web", "ss"), ("web", "ss2")}),
    Case("encryption.log-group-kms",
         subject(stack(), [r("lg", T.AWS_LOG_GROUP, None, kmsKeyId=ref("key", "arn"))]),
         subject(stack(), [r("lg", T.AWS_LOG_GROUP, None), r("ok", T.AWS_LOG_GROUP, None, kmsKeyId="arn:aws:kms:x")]),
         {(None, "lg")}),
    Case("network.default-security-group",
         subject(stack(), [r("vpc", T.AWS_VPC, "net"), r("dsg", T.AWS_DEFAULT_SG, "net", vpcId=ref("vpc"))]),
         subject(stack(), [r("vpc", T.AWS_VPC, "net"), r("vpc2", T.AWS_VPC, "net"),
                           r("dsg2", T.AWS_DEFAULT_SG, "net", vpcId=ref("vpc2"),
                             egress=[{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}])]),
         {("net", "vpc"), ("net", "vpc2")}),
    Case("encryption.database",
         subject(stack(), [r("rds", T.AWS_RDS, "db", storageEncrypted=True), r("pg", T.AZ_POSTGRES, "db"), r("sql", T.GCP_SQL, "db")]),
         subject(stack(), [r("rds", T.AWS_RDS, "db"), r("rds2", T.AWS_RDS, "db", storageEncrypted=False), r("pg", T.AZ_POSTGRES, "db")]),
         {("db", "rds"), ("db", "rds2")}),
    Case("encryption.bucket",
         subject(stack(), [r("b", T.AWS_S3_V2, "assets"),
                           r("b-sse", T.AWS_S3_SSE[1], "assets", bucket=ref("b"), rules=[{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}]),
                           r("b1", T.AWS_S3, "assets", serverSideEncryptionConfiguration={"rule": {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}}),
                           r("sa", T.AZ_STORAGE, "assets"), r("g", T.GCP_BUCKET, "assets", location="EU")]),
         subject(stack(), [r("b", T.AWS_S3_V2, "assets"), r("b2", T.AWS_S3_V2, "assets"),
                           r("b2-sse", T.AWS_S3_SSE[0], "assets", bucket=ref("b2"), rules=[{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "DES"}}]),
                           r("sa", T.AZ_STORAGE, "assets", encryption={"services": {"blob": {"enabled": False}}})]),
         {("assets", "b"), ("assets", "b2"), ("assets", "sa")}),
    Case("encryption.key-rotation",
         subject(stack(), [r("k", T.AWS_KMS_KEY, None, enableKeyRotation=True),
                           r("k-rsa", T.AWS_KMS_KEY, None, customerMasterKeySpec="RSA_2048"),
                           r("gk", T.GCP_CRYPTO_KEY, None, rotationPeriod="7776000s"),
                           # as the azure plugin renders a key
                           r("ak", T.AZ_KEY, None, properties={"rotationPolicy": {"lifetimeActions": [
                               {"action": {"type": "rotate"}, "trigger": {"timeAfterCreate": "P90D"}}]}}),
                           r("ak-expiry", T.AZ_KEY, None, properties={"rotationPolicy": {
                               "attributes": {"expiryTime": "P3M"}, "lifetimeActions": [
                                   {"action": {"type": "Rotate"}, "trigger": {"timeBeforeExpiry": "P30D"}}]}})]),
         subject(stack(), [r("k", T.AWS_KMS_KEY, None), r("gk", T.GCP_CRYPTO_KEY, None),
                           r("gk-year", T.GCP_CRYPTO_KEY, None, rotationPeriod="31536000s"),
                           r("ak", T.AZ_KEY, None, properties={"kty": "RSA"}),
                           r("ak-notify", T.AZ_KEY, None, properties={"rotationPolicy": {"lifetimeActions": [
                               {"action": {"type": "notify"}, "trigger": {"timeBeforeExpiry": "P30D"}}]}}),
                           r("ak-year", T.AZ_KEY, None, properties={"rotationPolicy": {"lifetimeActions": [
                               {"action": {"type": "rotate"}, "trigger": {"timeAfterCreate": "P1Y"}}]}})]),
         {(None, "k"), (None, "gk"), (None, "gk-year"), (None, "ak"), (None, "ak-notify"), (None, "ak-year")}),
    Case("encryption.storage-https-only",
         subject(stack(), [r("sa", T.AZ_STORAGE, "assets"), r("sa2", T.AZ_STORAGE, "assets", enableHttpsTrafficOnly=True)]),
         subject(stack(), [r("sa", T.AZ_STORAGE, "assets", enableHttpsTrafficOnly=False), r("sa2", T.AZ_STORAGE, "assets")]),
         {("assets", "sa")}),
    Case("encryption.storage-min-tls",
         subject(stack(), [r("sa", T.AZ_STORAGE, "assets", minimumTlsVersion="TLS1_2")]),
         subject(stack(), [r("sa", T.AZ_STORAGE, "assets"), r("sa2", T.AZ_STORAGE, "assets", minimumTlsVersion="TLS1_0"),
                           r("sa3", T.AZ_STORAGE, "assets", minimumTlsVersion="TLS1_2")]),
         {("assets", "sa"), ("assets", "sa2")}),
    Case("encryption.database-tls",
         subject(stack(), [r("sql", T.GCP_SQL, "db", settings={"ipConfiguration": {"sslMode": "ENCRYPTED_ONLY"}})]),
         subject(stack(), [r("sql", T.GCP_SQL, "db", settings={}),
                           r("sql2", T.GCP_SQL, "db", settings={"ipConfiguration": {"sslMode": "ALLOW_UNENCRYPTED_AND_ENCRYPTED"}})]),
         {("db", "sql"), ("db", "sql2")}),
    Case("storage.public-bucket",
         subject(stack(), [r("b", T.AWS_S3, "assets", acl="private"), r("iam", T.GCP_BUCKET_IAM, "assets", members=["group:ops@example.com"]),
                           r("c", T.AZ_CONTAINER, "assets", publicAccess="None"), r("sa", T.AZ_STORAGE, "assets", allowBlobPublicAccess=False)]),
         subject(stack(assets="{kind: bucket, public: true}"),
                 [r("b", T.AWS_S3_V2, "assets", acl="public-read"), r("iam", T.GCP_BUCKET_IAM, "assets", members=["allUsers"], role="roles/storage.objectViewer"),
                  r("c", T.AZ_CONTAINER, "assets", publicAccess="Blob"), r("sa", T.AZ_STORAGE, "assets", allowBlobPublicAccess=True),
                  r("b-ok", T.AWS_S3_V2, "assets")]),
         {("assets", None), ("assets", "b"), ("assets", "iam"), ("assets", "c"), ("assets", "sa")}),
    Case("storage.public-access-block",
         subject(stack(), [r("b", T.AWS_S3_V2, "assets"),
                           r("pab", T.AWS_S3_PAB, "assets", bucket=ref("b"), blockPublicAcls=True, blockPublicPolicy=True,
                             ignorePublicAcls=True, restrictPublicBuckets=ref("flag", "value")),
                           r("g", T.GCP_BUCKET, "assets", publicAccessPrevention="enforced"),
                           r("sa", T.AZ_STORAGE, "assets", allowBlobPublicAccess=False)]),
         subject(stack(), [r("b", T.AWS_S3_V2, "assets"), r("b2", T.AWS_S3, "assets"),
                           r("pab2", T.AWS_S3_PAB, "assets", bucket=ref("b2"), blockPublicAcls=True, blockPublicPolicy=False,
                             ignorePublicAcls=True, restrictPublicBuckets=True),
                           r("g", T.GCP_BUCKET, "assets", publicAccessPrevention="inherited"), r("sa", T.AZ_STORAGE, "assets")]),
         {("assets", "b"), ("assets", "b2"), ("assets", "g"), ("assets", "sa")}),
    Case("storage.versioning",
         subject(stack(), [r("b", T.AWS_S3_V2, "assets"),
                           r("bv", T.AWS_S3_VERSIONING[1], "assets", bucket=ref("b"), versioningConfiguration={"status": "Enabled"}),
                           r("g", T.GCP_BUCKET, "assets", versioning={"enabled": True}), r("sa", T.AZ_STORAGE, "assets"),
                           r("blob", T.AZ_BLOB_SERVICE, "assets", accountName=ref("sa", "name"), isVersioningEnabled=True)]),
         subject(stack(assets="{kind: bucket, versioning: false}"),
                 [r("b", T.AWS_S3, "assets"), r("g", T.GCP_BUCKET, "assets"), r("sa", T.AZ_STORAGE, "assets")]),
         {("assets", None), ("assets", "b"), ("assets", "g"), ("assets", "sa")}),
    Case("storage.access-logging",
         subject(stack(assets="{kind: bucket, versioning: true, access_logs: true}"),
                 [r("b", T.AWS_S3_V2, "assets"), r("bl", T.AWS_S3_LOGGING[1], "assets", bucket=ref("b"), targetBucket=ref("logs")),
                  r("logs", T.AWS_S3_V2, "assets"),  # receives the logs: not judged
                  r("g", T.GCP_BUCKET, "assets", logging={"logBucket": ref("g-logs", "name")}), r("g-logs", T.GCP_BUCKET, "assets"),
                  r("sa", T.AZ_STORAGE, "assets"), r("sa-logs", T.AZ_STORAGE, "assets"),
                  r("diag", T.AZ_DIAGNOSTIC_SETTING, "assets", resourceUri=ref("sa", "id", suffix="/blobServices/default"),
                    storageAccountId=ref("sa-logs", "id"),
                    logs=[{"category": c, "enabled": True} for c in ("StorageRead", "StorageWrite", "StorageDelete")])]),
         subject(stack(), [r("b", T.AWS_S3_V2, "assets"), r("g", T.GCP_BUCKET, "assets"), r("sa", T.AZ_STORAGE, "assets"),
                           r("sa2", T.AZ_STORAGE, "assets"),
                           r("diag", T.AZ_DIAGNOSTIC_SETTING, "assets", resourceUri=ref("sa2", "id"),
                             logs=[{"category": "StorageWrite", "enabled": True}])]),
         {("assets", None), ("assets", "b"), ("assets", "g"), ("assets", "sa"), ("assets", "sa2")}),
    Case("storage.lifecycle",
         subject(stack(assets="{kind: bucket, lifecycle: {delete_after_days: 30}}"),
                 [r("b", T.AWS_S3_V2, "assets", lifecycleRules=[{"enabled": True, "expirations": [{"days": 30}]}]),
                  r("g", T.GCP_BUCKET, "assets", lifecycleRules=[{"action": {"type": "Delete"}, "condition": {"age": 30}}]),
                  r("sa", T.AZ_STORAGE, "assets"), r("mp", T.AZ_MANAGEMENT_POLICY, "assets", accountName=ref("sa", "name"))]),
         subject(stack(), [r("b", T.AWS_S3_V2, "assets"), r("b2", T.AWS_S3_V2, "assets", lifecycleRules=[{"enabled": False}]),
                           r("g", T.GCP_BUCKET, "assets"), r("sa", T.AZ_STORAGE, "assets")]),
         {("assets", None), ("assets", "b"), ("assets", "b2"), ("assets", "g"), ("assets", "sa")}),
    Case("storage.uniform-access",
         subject(stack(), [r("g", T.GCP_BUCKET, "assets", uniformBucketLevelAccess=True)]),
         subject(stack(), [r("g", T.GCP_BUCKET, "assets"), r("g2", T.GCP_BUCKET, "assets", uniformBucketLevelAccess=True)]),
         {("assets", "g")}),
    Case("storage.shared-key-access",
         subject(stack(), [r("sa", T.AZ_STORAGE, "assets", allowSharedKeyAccess=False)]),
         subject(stack(), [r("sa", T.AZ_STORAGE, "assets")]),
         {("assets", "sa")}),
    Case("storage.network-default-deny",
         subject(stack(), [r("sa", T.AZ_STORAGE, "assets", networkRuleSet={"defaultAction": "Deny"})]),
         subject(stack(), [r("sa", T.AZ_STORAGE, "assets", networkRuleSet={"defaultAction": "Allow"})]),
         {("assets", "sa")}),
    Case("identity.keyvault-purge-protection",
         subject(stack(), [r("kv", T.AZ_VAULT, None, properties={"enablePurgeProtection": True})]),
         subject(stack(), [r("kv", T.AZ_VAULT, None, properties={"enableSoftDelete": True})]),
         {(None, "kv")}),
    Case("database.public",
         subject(stack(), [r("rds", T.AWS_RDS, "db", publiclyAccessible=False),
                           r("pg", T.AZ_POSTGRES, "db", network={"publicNetworkAccess": "Disabled"}),
                           r("my", T.AZ_MYSQL, "db", network={"delegatedSubnetResourceId": ref("subnet")}),
                           r("sql", T.GCP_SQL, "db", settings={"ipConfiguration": {"ipv4Enabled": False, "privateNetwork": ref("vpc")}})]),
         subject(stack(db=PUBLIC_DB), [r("rds", T.AWS_RDS, "db", publiclyAccessible=True),
                                       r("pg", T.AZ_POSTGRES, "db", network={"publicNetworkAccess": "Enabled"}),
                                       r("my", T.AZ_MYSQL, "db"),
                                       r("sql", T.GCP_SQL, "db", settings={"ipConfiguration": {"ipv4Enabled": True, "authorizedNetworks": [{"value": W}]}}),
                                       r("sql2", T.GCP_SQL, "db", settings={})]),
         {("db", None), ("db", "rds"), ("db", "pg"), ("db", "my"), ("db", "sql"), ("db", "sql2")}),
    Case("database.backups",
         subject(stack(), [r("rds", T.AWS_RDS, "db", backupRetentionPeriod=7), r("pg", T.AZ_POSTGRES, "db"),
                           r("sql", T.GCP_SQL, "db", settings={"backupConfiguration": {"enabled": True}})]),
         subject(stack(db='{kind: database, network: net, engine: postgres, version: "16", backup_days: 1}'),
                 [r("rds", T.AWS_RDS, "db"), r("rds3", T.AWS_RDS, "db", backupRetentionPeriod=3),
                  r("pg", T.AZ_POSTGRES, "db", backup={"backupRetentionDays": 3}), r("sql", T.GCP_SQL, "db", settings={})]),
         {("db", None), ("db", "rds"), ("db", "rds3"), ("db", "pg"), ("db", "sql")}),
    Case("database.deletion-protection",
         subject(stack(), [r("rds", T.AWS_RDS, "db", deletionProtection=True), r("sql", T.GCP_SQL, "db")]),
         subject(stack(), [r("rds", T.AWS_RDS, "db"), r("sql", T.GCP_SQL, "db", deletionProtection=False)]),
         {("db", "rds"), ("db", "sql")}),
    Case("database.high-availability",
         subject(stack(db=HA_DB), [r("rds", T.AWS_RDS, "db", multiAz=True),
                                   r("pg", T.AZ_POSTGRES, "db", highAvailability={"mode": "ZoneRedundant"}),
                                   r("sql", T.GCP_SQL, "db", settings={"availabilityType": "REGIONAL"})]),
         subject(stack(), [r("rds", T.AWS_RDS, "db"), r("pg", T.AZ_POSTGRES, "db", highAvailability={"mode": "Disabled"}),
                           r("sql", T.GCP_SQL, "db", settings={"availabilityType": "ZONAL"}),
                           r("rds-ok", T.AWS_RDS, "db", multiAz=ref("flag", "value"))]),
         {("db", None), ("db", "rds"), ("db", "pg"), ("db", "sql")}),
    Case("database.enhanced-monitoring",
         subject(stack(), [r("rds", T.AWS_RDS, "db", monitoringInterval=60, monitoringRoleArn=ref("role", "arn")),
                           r("sql", T.GCP_SQL, "db"), r("pg", T.AZ_POSTGRES, "db")]),
         subject(stack(db=_db("enhanced_monitoring: false")),
                 [r("rds", T.AWS_RDS, "db"), r("rds0", T.AWS_RDS, "db", monitoringInterval=0, monitoringRoleArn=ref("role", "arn")),
                  r("rds-norole", T.AWS_RDS, "db", monitoringInterval=60)]),
         {("db", None), ("db", "rds"), ("db", "rds0"), ("db", "rds-norole")}),
    Case("database.performance-insights",
         subject(stack(), [r("rds", T.AWS_RDS, "db", performanceInsightsEnabled=True),
                           r("sql", T.GCP_SQL, "db", settings={"insightsConfig": {"queryInsightsEnabled": True}}),
                           r("pg", T.AZ_POSTGRES, "db")]),
         subject(stack(db=_db("performance_insights: false")),
                 [r("rds", T.AWS_RDS, "db"), r("sql", T.GCP_SQL, "db", settings={"insightsConfig": {"queryInsightsEnabled": False}})]),
         {("db", None), ("db", "rds"), ("db", "sql")}),
    Case("database.iam-authentication",
         subject(stack(), [r("rds", T.AWS_RDS, "db", iamDatabaseAuthenticationEnabled=True),
                           r("sql", T.GCP_SQL, "db", settings={"databaseFlags": [{"name": "cloudsql.iam_authentication", "value": "on"}]}),
                           r("pg", T.AZ_POSTGRES, "db", authConfig={"activeDirectoryAuth": "Enabled"}), r("my", T.AZ_MYSQL, "db")]),
         subject(stack(db=_db("iam_authentication: false")),
                 [r("rds", T.AWS_RDS, "db"), r("sql", T.GCP_SQL, "db", settings={"databaseFlags": []}), r("pg", T.AZ_POSTGRES, "db")]),
         {("db", None), ("db", "rds"), ("db", "sql"), ("db", "pg")}),
    Case("logging.database-statements",
         subject(stack(), [r("rds", T.AWS_RDS, "db", engine="postgres", parameterGroupName=ref("params", "name")),
                           r("params", T.AWS_RDS_PARAMETERS, "db", parameters=[{"name": "log_statement", "value": "ddl"}]),
                           r("rds-mysql", T.AWS_RDS, "db", engine="mysql"),
                           r("sql", T.GCP_SQL, "db", databaseVersion="POSTGRES_16",
                             settings={"databaseFlags": [{"name": "log_statement", "value": "mod"}]})]),
         subject(stack(db=_db("statement_logging: none")),
                 [r("rds", T.AWS_RDS, "db", engine="postgres"),
                  r("rds2", T.AWS_RDS, "db", engine="postgres", parameterGroupName=ref("params", "name")),
                  r("params", T.AWS_RDS_PARAMETERS, "db", parameters=[{"name": "log_statement", "value": "none"}]),
                  r("sql", T.GCP_SQL, "db", databaseVersion="POSTGRES_16")]),
         {("db", None), ("db", "rds"), ("db", "rds2"), ("db", "sql")}),
    Case("logging.flow-logs",
         subject(stack(), [r("vpc", T.AWS_VPC, "net"), r("fl", T.AWS_FLOW_LOG, "net", vpcId=ref("vpc"), trafficType="ALL"),
                           r("sub", T.GCP_SUBNET, "net", logConfig={"aggregationInterval": "INTERVAL_5_SEC"})]),
         subject(stack(), [r("vpc", T.AWS_VPC, "net"), r("sub", T.GCP_SUBNET, "net")]),
         {("net", "vpc"), ("net", "sub")}),
    Case("logging.log-retention",
         subject(stack(), [r("lg", T.AWS_LOG_GROUP, None), r("lg0", T.AWS_LOG_GROUP, None, retentionInDays=0),
                           r("lg1", T.AWS_LOG_GROUP, None, retentionInDays=400)]),
         subject(stack(), [r("lg", T.AWS_LOG_GROUP, None, retentionInDays=30)]),
         {(None, "lg")}),
    Case("logging.lb-access-logs",
         subject(stack(web=SERVED, extra=ZONE), [r("lb", T.AWS_LB, accessLogs={"enabled": True, "bucket": ref("logs")}),
                                                  *_g_lb(logConfig={"enable": True, "sampleRate": 1.0})]),
         subject(stack(web=_served("protocol: http, access_logs: false")), [
             r("lb", T.AWS_LB), *_g_lb(logConfig={"enable": False})]),
         {("web", None), ("web", "lb"), ("web", "g-lb")}),
    Case("network.lb-waf",
         subject(stack(web=_served("protocol: http, waf: true")), [
             r("lb", T.AWS_LB), r("nlb", T.AWS_LB, loadBalancerType="network"),
             r("acl-lb", WAF_ATTACHMENT, resourceArn=ref("lb", "arn"), webAclArn=ref("acl", "arn")),
             *_g_lb(securityPolicy=ref("armor")),
             r("g-nlb", "gcp:compute/forwardingRule:ForwardingRule", loadBalancingScheme="EXTERNAL")]),
         subject(stack(web=_served("protocol: http")), [r("lb", T.AWS_LB), r("nlb", T.AWS_LB, loadBalancerType="network"),
                                                         *_g_lb()]),
         {("web", None), ("web", "lb"), ("web", "g-lb")}),
    Case("network.lb-deletion-protection",
         subject(stack(web=SERVED, extra=ZONE), [r("lb", T.AWS_LB, enableDeletionProtection=True),
                                                  r("g-lb", G_URL_MAP, deletionPolicy="PREVENT")]),
         subject(stack(web=_served("protocol: http, deletion_protection: false")), [
             r("lb", T.AWS_LB), r("g-lb", G_URL_MAP, deletionPolicy="DELETE")]),
         {("web", None), ("web", "lb"), ("web", "g-lb")}),
    Case("network.lb-health-check",
         subject(stack(web=SERVED, extra=ZONE), [r("tg", TARGET_GROUP, healthCheck={"enabled": True, "path": "/"}),
                                                  r("tg2", TARGET_GROUP), r("g-bs", G_BACKEND, healthChecks=ref("hc")),
                                                  _az_gateway("az-gw", unused_setting=True),  # an unused setting carries nothing
                                                  # the gateway's default probe, as tg2 has AWS's default check
                                                  _az_gateway("az-gw2", probe=False), _az_lb("az-lb", probe=True)]),
         subject(stack(web=SERVED, extra=ZONE), [r("tg", TARGET_GROUP, healthCheck={"enabled": False}),
                                                  r("g-bs", G_BACKEND), _az_lb("az-lb", probe=False)]),
         {("web", "tg"), ("web", "g-bs"), ("web", "az-lb.loadBalancingRules[0]")}),
    # failover to europe-west4 first: the name resolves there while it is healthy, so Google validates it there;
    # latency over three locations: neither Google-managed certificate is sure to be validated. ACM's passes,
    # Azure's (the operator's Key Vault certificate) is not judged
    Case("encryption.lb-certificate-renewal",
         subject(stack(web=SERVED, extra="dns: {zone: shop.example.com, provider: aws, steering: failover, "
                                         "order: [europe-west4]}\n"),
                 [*_certificates("europe-west4"), _az_gateway("az-gw")],
                 placement(web=[slot("aws", "eu-west-1"), slot("gcp", "europe-west4"), slot("azure", "westeurope")])),
         subject(stack(web=SERVED, extra=ZONE), _certificates("europe-west4", "europe-west1"),
                 placement(web=[slot("aws", "eu-west-1"), slot("gcp", "europe-west4"), slot("gcp", "europe-west1")])),
         {("web", "g-europe-west4"), ("web", "g-europe-west1")}),
    Case("logging.database-logs",
         subject(stack(), [r("rds", T.AWS_RDS, "db", enabledCloudwatchLogsExports=["postgresql"])]),
         subject(stack(), [r("rds", T.AWS_RDS, "db"), r("rds2", T.AWS_RDS, "db", enabledCloudwatchLogsExports=[])]),
         {("db", "rds"), ("db", "rds2")}),
    Case("identity.admin-privileges",
         subject(stack(), [r("role", T.AWS_IAM_ROLE, managedPolicyArns=["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"],
                             inlinePolicies=[{"name": "s3", "policy": _policy_doc("s3:GetObject", "*")}]),
                           r("att", T.AWS_IAM_ATTACHMENT, role=ref("role"), policyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")]),
         subject(stack(), [r("role", T.AWS_IAM_ROLE, inlinePolicies=[{"name": "all", "policy": _policy_doc("*", "*")}]),
                           r("att", T.AWS_IAM_ATTACHMENT, role=ref("role"), policyArn="arn:aws:iam::aws:policy/AdministratorAccess")]),
         {("web", "role"), ("web", "att")}),
    Case("identity.default-service-account",
         subject(stack(), [r("g", T.GCP_INSTANCE, serviceAccount={"email": ref("sa", "email"), "scopes": ["cloud-platform"]}),
                           r("g2", T.GCP_INSTANCE)]),
         subject(stack(), [r("t", T.GCP_TEMPLATE, serviceAccount={"scopes": ["https://www.googleapis.com/auth/cloud-platform"]}),
                           r("g", T.GCP_INSTANCE, serviceAccount={"email": "1234-compute@developer.gserviceaccount.com"})]),
         {("web", "t"), ("web", "g")}),
    Case("tags.required",
         subject(stack()),
         subject(stack(tags="{}", web="{kind: compute, network: net, cpu: 4, memory_gb: 16, tags: {team: web, env: dev}}",
                       net_tags="{team: net}")),
         {("net", None), ("db", None), ("assets", None)}),
    Case("residency.geo",
         subject(stack(), [r("i", T.AWS_INSTANCE), r("g", T.GCP_BUCKET, "assets", location="EU"),
                           r("pg", T.AZ_POSTGRES, "db", location="westeurope")], EU_PLACEMENT),
         subject(stack(), [r("i", T.AWS_INSTANCE, region="us-east-1"), r("g", T.GCP_BUCKET, "assets", location="US"),
                           r("pg", T.AZ_POSTGRES, "db", region="marsnorth", location="marsnorth"), r("ok", T.AWS_INSTANCE)],
                 placement(web=[slot("aws", "eu-west-1"), slot("aws", "us-east-1")], db=[slot("azure", "westeurope")],
                           assets=("gcp", "europe-west4"))),
         {("web", None), ("web", "i"), ("assets", "g"), ("db", "pg")}),
    Case("compute.allowed-sizes",
         subject(stack(), [r("i", T.AWS_INSTANCE, instanceType="m7i.large"),
                           r("g", T.GCP_INSTANCE, machineType="zones/europe-west4-a/machineTypes/n2-standard-4")],
                 placement(web=[slot("aws", "eu-west-1", "m7i.xlarge")])),
         subject(stack(), [r("i", T.AWS_INSTANCE, instanceType="t3.micro"), r("vm", T.AZ_VM, hardwareProfile={"vmSize": "Standard_D4s_v5"}),
                           r("ok", T.AWS_INSTANCE, instanceType="m7i.2xlarge")],
                 placement(web=[slot("aws", "eu-west-1", "m5.large")], db=[slot("aws", "eu-west-1", "m7i.large")])),
         {("web", None), ("web", "i"), ("web", "vm")},
         config={"allowed": ["m7i.*", "n2-standard-*"]}),
    Case("cost.budget",
         subject(stack(extra="budget: {monthly_usd: 6000}\n"), [], EU_PLACEMENT),
         subject(stack(extra="budget: {monthly_usd: 100}\n"), [], EU_PLACEMENT),
         {(None, None)}),
    Case("cost.max-machine-size",
         subject(stack(), [], placement(web=[slot("aws", "eu-west-1", vcpus=4)])),
         subject(stack(web="{kind: compute, network: net, cpu: 96, memory_gb: 384}"), [],
                 placement(db=[slot("aws", "eu-west-1", "r7i.32xlarge", vcpus=128)])),
         {("web", None), ("db", None)}),
    Case("cost.spot-for-nonprod",
         subject(stack(tags="{team: shop, env: dev}", web="{kind: compute, network: net, cpu: 4, memory_gb: 16, spot: true}")),
         subject(stack(tags="{team: shop, env: dev}")),
         {("web", None)}),
]

# the link policies judge a real rendering of every kind of link (tests/policies/link_cases.py)
from tests.policies import link_cases  # noqa: E402

CASES += [
    Case("network.link-ipsec", *link_cases.ipsec_case()),
    Case("network.link-default-route", *link_cases.default_route_case()),
    Case("database.cross-cloud-over-link", *link_cases.database_case()),
]
