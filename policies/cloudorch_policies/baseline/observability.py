"""Network flow logs: the record an incident responder needs first."""

from __future__ import annotations

from cloudorch.policy import Policy, Violation, rendered_check
from cloudorch.policy.values import get

from cloudorch_policies import tokens as T
from cloudorch_policies._meta import fw


@rendered_check(T.AWS_VPC, T.GCP_SUBNET)
def _flow_logs(res, ctx):
    if res.type == T.GCP_SUBNET:
        return [] if get(res.inputs, "logConfig") is not None else [Violation("subnet flow logs are off (no logConfig)")]
    logs = [f for f in ctx.referrers(res.name, T.AWS_FLOW_LOG) if get(f.inputs, "vpcId") is not None]
    return [] if logs else [Violation("no aws:ec2/flowLog records this VPC's traffic")]


FLOW_LOGS = Policy(
    id="logging.flow-logs",
    title="Network traffic is recorded in flow logs",
    severity="medium",
    enforcement="advisory",
    checks=(_flow_logs,),
    description="Every AWS VPC needs a FlowLog whose vpcId refers to it; every GCP subnetwork a logConfig. "
                "Azure flow logs are Network Watcher resources outside the rendered schema, so Azure networks "
                "are not judged by this rule.",
    remediation="Render an aws:ec2/flowLog (trafficType ALL) per VPC; set logConfig on GCP subnetworks.",
    frameworks=fw(("CKV2_AWS_11", "CKV_GCP_26"), aws=("3.7",), gcp=("3.8",)),
    tags=("logging", "network"),
)

POLICIES = (FLOW_LOGS,)
