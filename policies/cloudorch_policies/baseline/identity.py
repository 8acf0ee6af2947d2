"""Identity: no administrator-everything grants, no default service accounts."""

from __future__ import annotations

import json

from cloudorch.policy import Policy, Violation, rendered_check
from cloudorch.policy.values import UNKNOWN, get, items

from cloudorch_policies import tokens as T
from cloudorch_policies._meta import fw

ADMIN_ARN_SUFFIX = ":policy/AdministratorAccess"


def _as_list(value):
    return value if isinstance(value, list) else [value]


def _wildcard_statements(document):
    """Statements allowing every action on every resource."""
    if not isinstance(document, str):
        return []
    try:
        data = json.loads(document)
    except ValueError:
        return []
    statements = _as_list(data.get("Statement", [])) if isinstance(data, dict) else []
    return [s for s in statements if isinstance(s, dict) and s.get("Effect") == "Allow"
            and "*" in _as_list(s.get("Action")) and "*" in _as_list(s.get("Resource"))]


@rendered_check(T.AWS_IAM_ROLE, T.AWS_IAM_ATTACHMENT)
def _admin(res, ctx):
    inputs = res.inputs
    if res.type == T.AWS_IAM_ATTACHMENT:
        arn = get(inputs, "policyArn")
        return [Violation("attaches AdministratorAccess")] if isinstance(arn, str) and arn.endswith(ADMIN_ARN_SUFFIX) else []
    out = [Violation("attaches AdministratorAccess") for arn in items(inputs, "managedPolicyArns")
           if isinstance(arn, str) and arn.endswith(ADMIN_ARN_SUFFIX)]
    for policy in items(inputs, "inlinePolicies"):
        if policy is not UNKNOWN and _wildcard_statements(get(policy, "policy")):
            name = get(policy, "name")
            out.append(Violation(f"inline policy {name} allows * on *" if isinstance(name, str) else
                                 "an inline policy allows * on *"))
    return out


ADMIN = Policy(
    id="identity.admin-privileges",
    title="Roles are not granted full administrator privileges",
    severity="high",
    checks=(_admin,),
    description="A workload role with Action * on Resource * (or AdministratorAccess) turns any compromise of "
                "the workload into a compromise of the account.",
    remediation="Grant the specific actions and resources the workload needs.",
    frameworks=fw(("CKV_AWS_62", "CKV_AWS_274"), aws=("1.16",)),
    tags=("identity",),
)

_DEFAULT_SA = "-compute@developer.gserviceaccount.com"
_FULL_SCOPE = "https://www.googleapis.com/auth/cloud-platform"


@rendered_check(T.GCP_INSTANCE, T.GCP_TEMPLATE)
def _default_sa(res, ctx):
    account = get(res.inputs, "serviceAccount")
    if account is None or account is UNKNOWN:
        return []
    email = get(account, "email")
    if email is UNKNOWN or (isinstance(email, str) and not email.endswith(_DEFAULT_SA) and email != "default"):
        return []
    scopes = " with full cloud-platform scope" if _FULL_SCOPE in items(account, "scopes") else ""
    return [Violation(f"runs as the default compute service account{scopes}")]


DEFAULT_SERVICE_ACCOUNT = Policy(
    id="identity.default-service-account",
    title="VMs do not run as the default compute service account",
    severity="medium",
    enforcement="advisory",
    checks=(_default_sa,),
    description="The default compute service account has the Editor role on the project.",
    remediation="Render a dedicated gcp:serviceaccount/account with only the roles the workload needs.",
    frameworks=fw(("CKV_GCP_30", "CKV_GCP_31"), gcp=("4.1", "4.2")),
    tags=("identity",),
)

POLICIES = (ADMIN, DEFAULT_SERVICE_ACCOUNT)
