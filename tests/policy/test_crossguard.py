from __future__ import annotations

import textwrap

import pytest

from cloudorch.policy import PolicySubject, evaluate, load_policy_dir
from cloudorch.policy.crossguard import crossguard_pack
from cloudorch.rendering.model import RenderedResource, keyed_map, ref
from tests.policy.conftest import TODAY

pulumi_policy = pytest.importorskip("pulumi_policy")

BUCKET = "aws:s3/bucketV2:BucketV2"


def _no_public_acl(args, report_violation):
    if args.resource_type == BUCKET and args.props.get("acl") == "public-read":
        report_violation(f"{args.name} is public-read")


def _resources():
    return [
        RenderedResource(name="public", type=BUCKET, cloud="aws", source="web", inputs={"acl": "public-read"}),
        RenderedResource(name="private", type=BUCKET, cloud="aws", source="web", inputs={"acl": "private"}),
        RenderedResource(name="unknown", type=BUCKET, cloud="aws", source="web", inputs={"acl": ref("x", "acl")}),
        # a map keyed at deploy time is unknown as a whole, as an unknown map is in a Pulumi preview
        RenderedResource(name="keyed", type=BUCKET, cloud="aws", source="web",
                         inputs={"acl": keyed_map([(ref("x", "id"), "public-read")])}),
    ]


def test_resource_validation_policy_results_are_folded_into_the_report(loaded):
    policy = pulumi_policy.ResourceValidationPolicy(
        name="s3-no-public-read", description="S3 buckets must not be public-read.", validate=_no_public_acl,
        enforcement_level=pulumi_policy.EnforcementLevel.MANDATORY, severity=pulumi_policy.Severity.HIGH)
    pack = crossguard_pack("team-guard", [policy])
    report = evaluate(PolicySubject(loaded, None, _resources()), [pack], today=TODAY)
    by_name = {f.rendered: f for f in report.findings}
    assert by_name["public"].status == "fail" and by_name["public"].policy == "crossguard.s3-no-public-read"
    assert by_name["public"].message == "S3 buckets must not be public-read.: public is public-read"
    assert by_name["public"].enforcement == "mandatory" and by_name["public"].severity == "high"
    assert by_name["private"].status == "pass"
    assert "unknown" not in by_name  # CrossGuard's unknown-value proxy: not judged during planning
    assert "keyed" not in by_name


def test_crossguard_module_with_policy_pack_call_loads_from_a_directory(tmp_path, loaded):
    (tmp_path / "__main__.py").write_text("")  # ignored: starts with an underscore
    (tmp_path / "guard.py").write_text(textwrap.dedent("""\
        from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy

        def validate(args, report_violation):
            if args.resource_type == "aws:s3/bucketV2:BucketV2" and args.props.get("acl") == "public-read":
                report_violation("public bucket")

        PolicyPack(
            name="aws-guard",
            enforcement_level=EnforcementLevel.ADVISORY,
            policies=[ResourceValidationPolicy(name="no-public", description="No public buckets", validate=validate)],
        )
        """))
    [pack] = load_policy_dir(tmp_path)
    assert pack.name == "aws-guard" and [p.id for p in pack.policies] == ["crossguard.no-public"]
    report = evaluate(PolicySubject(loaded, None, _resources()), [pack], today=TODAY)
    assert [(f.rendered, f.enforcement) for f in report.failures] == [("public", "advisory")]
    assert pulumi_policy.PolicyPack.__name__ == "PolicyPack"  # the recorder was removed again


def test_not_applicable_and_crashes(loaded):
    def declines(args, report_violation):
        args.not_applicable("only for buckets")

    def crashes(args, report_violation):
        raise RuntimeError("bug in team policy")

    pack = crossguard_pack("g", [
        pulumi_policy.ResourceValidationPolicy(name="declines", description="d", validate=declines),
        pulumi_policy.ResourceValidationPolicy(name="crashes", description="c", validate=crashes),
    ])
    report = evaluate(PolicySubject(loaded, None, _resources()), [pack], today=TODAY)
    statuses = {(f.policy, f.status) for f in report.findings}
    assert ("crossguard.declines", "not-applicable") in statuses
    assert ("crossguard.crashes", "error") in statuses
