"""How the AWS plugin reads security groups, RDS and S3 into neutral facts: what only AWS spells so."""

from __future__ import annotations

import json

from tests.support import describe_alone


def facts(type_: str, **inputs):
    return describe_alone("aws", type_, **inputs)


def test_inline_group_rules_read_in_both_directions():
    group = facts("aws:ec2/securityGroup:SecurityGroup",
                  ingress=[{"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]}],
                  egress=[{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}])
    inbound, outbound = group.rules
    assert (inbound.direction, inbound.ports, inbound.admits) == ("ingress", ((443, 443),), True)
    assert (outbound.direction, outbound.protocol, outbound.all_ports, outbound.admits) == ("egress", "all", True, False)


def test_a_bucket_policy_allowing_everyone_without_a_condition_is_public():
    def public(statement):
        return facts("aws:s3/bucketPolicy:BucketPolicy", policy=json.dumps({"Statement": [statement]})).public

    anyone = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
    assert public(anyone) is True
    assert public(anyone | {"Principal": {"AWS": "*"}}) is True
    assert public(anyone | {"Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1"}}}) is False
    assert public(anyone | {"Principal": {"AWS": "arn:aws:iam::123456789012:root"}}) is False


def test_rds_backup_retention_unset_is_the_api_default_of_one_day():
    db = facts("aws:rds/instance:Instance")
    assert db.backup_retention_days == 1 and "not set" in db.notes["backup_retention_days"]
    assert (db.publicly_reachable, db.encrypted_at_rest, db.deletion_protected) == (False, False, False)


def test_an_acm_certificate_reads_how_acm_proves_its_names():
    """DNS and email validation are ACM's; an imported or private-CA certificate is the operator's to renew."""
    from cloudorch.rendering.inputs import UNKNOWN
    from cloudorch.rendering.model import ref

    token = "aws:acm/certificate:Certificate"
    dns = facts(token, domainName="www.shop.example.com", subjectAlternativeNames=["shop.example.com"],
                validationMethod="DNS")
    assert (dns.names, dns.validation) == (("www.shop.example.com", "shop.example.com"), "dns")
    assert facts(token, domainName="a.example.com", validationMethod="EMAIL").validation == "email"
    imported = facts(token, certificateBody="-----BEGIN CERTIFICATE-----", privateKey=ref("key", "privateKeyPem"))
    assert imported.validation == "operator" and "imported" in imported.notes["validation"]
    assert facts(token, domainName="a.example.com", validationMethod=ref("m", "out")).validation is UNKNOWN
    unset = facts(token, domainName="a.example.com")
    assert unset.validation is None and "not set" in unset.notes["validation"]
