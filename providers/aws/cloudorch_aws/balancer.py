"""A served resource's balancer in one region (``cloudorch.rendering.service``): an internet-facing ALB (an NLB
for tcp) in the site's public subnets, its security group, a target group the resource's auto-scaling groups
join, listeners, an ACM certificate validated through the stack's zone, access logs, and a WAFv2 web ACL.

The replicas stay in private subnets without public addresses; their security group admits the backend
and health ports from the balancer's security group alone (``backend_rules``), so nothing else on the
internet reaches them. The ALB ends TLS with ``ELBSecurityPolicy-TLS13-1-2-2021-06`` (TLS 1.2 and 1.3,
forward-secret ciphers only), and its plain-HTTP listener only redirects.
"""

from __future__ import annotations

from cloudorch.rendering import RenderContext, RenderedResource, ref
from cloudorch.rendering.elements import EndpointRendering
from cloudorch.rendering.service import Balancer

from cloudorch_aws.bucket import _bucket, _policy
from cloudorch_aws.meters import REQUESTS_TAG, TRAFFIC_TAG
from cloudorch_aws.naming import logical, resource, subnets_for, tags
from cloudorch_aws.network import vpc_name
from cloudorch_aws.security import INGRESS

#: TLS 1.2 and 1.3 with forward-secret AEAD ciphers: AWS's recommended policy that still admits 1.2 clients
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
#: the managed rule groups every web ACL starts with: OWASP-style common attacks, known bad inputs (Log4j
#: and the like), and addresses Amazon's threat intelligence flags
MANAGED_RULE_GROUPS = ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet",
                       "AWSManagedRulesAmazonIpReputationList")
#: the ELB account of each region opened before August 2022, which writes access logs there; later regions
#: use the log-delivery service principal (granted too). "Enable access logs for your Application Load
#: Balancer", AWS documentation, read December 2026.
ELB_LOG_ACCOUNTS = {
    "us-east-1": "127311923021", "us-east-2": "033677994240", "us-west-1": "027434742980", "us-west-2": "797873946194",
    "ca-central-1": "985666609251", "eu-west-1": "156460612806", "eu-west-2": "652711504416",
    "eu-west-3": "009996457667", "eu-central-1": "054676820928", "eu-north-1": "897822967062",
    "ap-northeast-1": "582318560864", "ap-northeast-2": "600734575887", "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266", "ap-south-1": "718504428378", "sa-east-1": "507241528517",
}
LOG_DAYS = 365
_LB = "aws:lb/loadBalancer:LoadBalancer"


def lb_name(resource_name: str, region: str) -> str:
    return logical(resource_name, region, "lb")


def lb_security_group(resource_name: str, region: str) -> str:
    return logical(resource_name, region, "lb-sg")


def render_balancer(ctx: RenderContext, b: Balancer) -> EndpointRendering:
    name, region = b.resource, b.region
    block = ctx.block_for(b.network, region)
    out: list[RenderedResource] = []

    def add(type_: str, part: str, inputs: dict, *, taggable: bool = True, volume: dict | None = None, **extra) -> str:
        logical_name = logical(name, region, part)
        if taggable:
            inputs = inputs | {"tags": tags(ctx, name, logical_name) | (volume or {})}
        out.append(resource(type_, name, region, part, inputs, **extra))
        return logical_name

    sg = add("aws:ec2/securityGroup:SecurityGroup", "lb-sg", {
        "description": f"cloudorch {ctx.stack.stack}/{name} balancer", "vpcId": ref(vpc_name(b.network, region)),
        "revokeRulesOnDelete": True})
    for port in b.ports:
        for family, cidr in (("cidrIpv4", "0.0.0.0/0"), ("cidrIpv6", "::/0")):
            add(INGRESS, f"lb-in-{port}-{'any' if family == 'cidrIpv4' else 'any6'}", {
                "securityGroupId": ref(sg), "ipProtocol": "tcp", "fromPort": port, "toPort": port, family: cidr,
                "description": f"clients of {name} on {port}"})
    for port in sorted({b.backend_port, b.health.port}):
        add("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", f"lb-out-{port}", {
            "securityGroupId": ref(sg), "ipProtocol": "tcp", "fromPort": port, "toPort": port,
            "cidrIpv4": block.cidr, "description": f"to {name}'s replicas on {port}"})

    depends: tuple[str, ...] = ()
    lb_inputs: dict = {
        "loadBalancerType": "network" if b.protocol == "tcp" else "application", "internal": False,
        "ipAddressType": "ipv4", "securityGroups": [ref(sg)],
        "subnets": [ref(s) for s in subnets_for(ctx, b.network, region, "public")],
        "enableDeletionProtection": b.deletion_protection, "enableCrossZoneLoadBalancing": True,
    }
    if b.protocol != "tcp":
        lb_inputs["dropInvalidHeaderFields"] = True  # request smuggling: malformed headers never reach the replicas
    if b.access_logs:
        logs, grant = _log_bucket(ctx, b, out)
        lb_inputs["accessLogs"] = {"bucket": ref(logs), "enabled": True, "prefix": "lb"}
        depends = (grant,)  # the ALB checks it may write when logging is turned on
    lb = add(_LB, "lb", lb_inputs, depends_on=depends, volume={TRAFFIC_TAG: f"{b.gb_month:g}"})

    tg = add("aws:lb/targetGroup:TargetGroup", "lb-tg", {
        "port": b.backend_port, "protocol": "TCP" if b.protocol == "tcp" else "HTTP", "targetType": "instance",
        "vpcId": ref(vpc_name(b.network, region)), "deregistrationDelay": 30,
        "healthCheck": {
            "enabled": True, "protocol": "HTTP" if b.health.path else "TCP", "port": str(b.health.port),
            **({"path": b.health.path, "matcher": "200-399"} if b.health.path else {}),
            "interval": b.health.interval_s, "healthyThreshold": b.health.healthy_threshold,
            "unhealthyThreshold": b.health.unhealthy_threshold}})

    names, values = [], []
    certificate = None
    if b.protocol == "https":
        cert = add("aws:acm/certificate:Certificate", "lb-cert", {
            "domainName": b.hostname, "validationMethod": "DNS", "keyAlgorithm": "EC_prime256v1"})
        # waits until ACM sees the validation record the zone's side writes (on whichever cloud holds the zone)
        certificate = add("aws:acm/certificateValidation:CertificateValidation", "lb-cert-validation",
                          {"certificateArn": ref(cert, "arn")}, taggable=False)
        names = [ref(cert, "domainValidationOptions", path=(0, "resourceRecordName"))]
        values = [ref(cert, "domainValidationOptions", path=(0, "resourceRecordValue"))]

    for listener in b.listeners:
        part = f"lb-{listener.protocol}-{listener.port}"
        if listener.action == "redirect":
            action = {"type": "redirect", "redirect": {
                "protocol": "HTTPS", "port": str(next(x.port for x in b.listeners if x.protocol == "https")),
                "statusCode": "HTTP_301"}}
        else:
            action = {"type": "forward", "targetGroupArn": ref(tg, "arn")}
        inputs: dict = {"loadBalancerArn": ref(lb, "arn"), "port": listener.port,
                        "protocol": listener.protocol.upper(), "defaultActions": [action]}
        if listener.protocol == "https" and certificate is not None:
            inputs |= {"sslPolicy": TLS_POLICY, "certificateArn": ref(certificate, "certificateArn")}
        add("aws:lb/listener:Listener", part, inputs)

    if b.waf:
        acl = add("aws:wafv2/webAcl:WebAcl", "lb-waf", {
            "scope": "REGIONAL", "description": f"cloudorch {ctx.stack.stack}/{name}",
            "defaultAction": {"allow": {}},
            "rules": [{"name": group, "priority": i, "overrideAction": {"none": {}},
                       "statement": {"managedRuleGroupStatement": {"name": group, "vendorName": "AWS"}},
                       "visibilityConfig": _visibility(group)} for i, group in enumerate(MANAGED_RULE_GROUPS)],
            "visibilityConfig": _visibility(f"{ctx.stack.stack}-{name}")},
            volume={REQUESTS_TAG: f"{b.requests_million_month:g}"})
        add("aws:wafv2/webAclAssociation:WebAclAssociation", "lb-waf-attachment", {
            "resourceArn": ref(lb, "arn"), "webAclArn": ref(acl, "arn")}, taggable=False)
    return EndpointRendering(resources=tuple(out), exports={
        "target": ref(lb, "dnsName"), "validation_names": names, "validation_values": values})


def backend_rules(ctx: RenderContext, name: str, region: str, b: Balancer) -> list[RenderedResource]:
    """The replicas' security group admits the backend and health ports from the balancer's group alone."""
    sg = logical(name, region, "sg")
    out = []
    for port in sorted({b.backend_port, b.health.port}):
        part = f"in-lb-{port}"
        out.append(resource(INGRESS, name, region, part, {
            "securityGroupId": ref(sg), "ipProtocol": "tcp", "fromPort": port, "toPort": port,
            "referencedSecurityGroupId": ref(lb_security_group(name, region)),
            "description": f"tcp/{port} from {name}'s balancer", "tags": tags(ctx, name, logical(name, region, part))}))
    return out


def _log_bucket(ctx: RenderContext, b: Balancer, out: list[RenderedResource]) -> tuple[str, str]:
    """A private bucket beside the balancer for its access logs, kept a year. ALB log delivery accepts only
    S3-managed keys; it writes as the region's ELB account (older regions) or the log-delivery service."""
    from cloudorch.spec.models import Lifecycle

    name, region = b.resource, b.region
    out += _bucket(ctx, name, region, "lb-logs-", private=True, versioning=True, sse={"sseAlgorithm": "AES256"},
                   lifecycle=Lifecycle(delete_after_days=LOG_DAYS, delete_versions_after_days=1))
    logs = logical(name, region, "lb-logs-bucket")
    writers: dict = {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}
    if region in ELB_LOG_ACCOUNTS:
        writers["AWS"] = f"arn:aws:iam::{ELB_LOG_ACCOUNTS[region]}:root"
    out.append(resource("aws:s3/bucketPolicy:BucketPolicy", name, region, "lb-logs-delivery", {
        "bucket": ref(logs),
        "policy": _policy(logs, {"Sid": "ElbAccessLogs", "Principal": writers}, action="s3:PutObject")},
        depends_on=(logical(name, region, "lb-logs-public-access"),)))
    return logs, logical(name, region, "lb-logs-delivery")


def _visibility(metric: str) -> dict:
    return {"cloudwatchMetricsEnabled": True, "metricName": metric[:128], "sampledRequestsEnabled": True}

