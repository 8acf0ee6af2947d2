"""`public: true` on an S3 bucket makes its objects readable by anyone: a bucket policy granting
s3:GetObject to everyone, applied after the access block that would refuse it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cloudorch.rendering.facts import GraphOf
from cloudorch_aws.provider import Provider
from tests.providers.aws.test_aws_render import mixed_context, named
from tests.support import webshop_context

POLICY = "site-aws-us-east-1-public-read"


def test_a_public_bucket_gets_a_public_read_policy_after_its_access_block():
    rendered = Provider().render(mixed_context())
    policy = named(rendered, POLICY)
    assert policy.type == "aws:s3/bucketPolicy:BucketPolicy"
    assert policy.depends_on == ("site-aws-us-east-1-public-access",)
    document = policy.inputs["policy"]
    assert document["$ref"] == "site-aws-us-east-1-bucket" and document["output"] == "arn"
    statement = json.loads(document["prefix"] + "arn:aws:s3:::site-x" + document["suffix"])["Statement"][0]
    assert statement == {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                         "Resource": "arn:aws:s3:::site-x/*"}
    facts = Provider().describe(policy, GraphOf(rendered))
    assert facts.public is True


def test_a_private_bucket_has_no_public_policy():
    rendered = Provider().render(webshop_context("aws"))
    policies = [r for r in rendered if r.type == "aws:s3/bucketPolicy:BucketPolicy"]
    # the one policy lets S3 deliver access logs into the log bucket; it makes nothing public
    assert [p.name for p in policies] == ["assets-aws-eu-west-1-logs-delivery"]
    assert Provider().describe(policies[0], GraphOf(rendered)).public is False


def test_the_engine_completes_the_document_around_the_generated_arn(monkeypatch):
    pulumi = pytest.importorskip("pulumi")
    from cloudorch.engine.program import build_program

    rendered = Provider().render(mixed_context())
    wanted = {POLICY, "site-aws-us-east-1-bucket", "site-aws-us-east-1-public-access", "aws-us-east-1"}

    class Mocks(pulumi.runtime.Mocks):
        registered: dict[str, Any] = {}

        def new_resource(self, args):
            self.registered[args.name] = args
            return f"{args.name}-id", dict(args.inputs) | {"arn": f"arn:aws:s3:::{args.name}"}

        def call(self, args):
            return {}

    mocks = Mocks()
    pulumi.runtime.set_mocks(mocks, project="t", stack="dev", preview=False)
    monkeypatch.setattr(pulumi, "export", lambda *a: None)
    program = build_program([r for r in rendered if r.name in wanted])

    @pulumi.runtime.test
    def run():
        program()

    run()
    document = json.loads(mocks.registered[POLICY].inputs["policy"])
    assert document["Statement"][0]["Resource"] == "arn:aws:s3:::site-aws-us-east-1-bucket/*"
