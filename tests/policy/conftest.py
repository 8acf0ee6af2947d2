from __future__ import annotations

import datetime as dt

import pytest

from cloudorch.policy import Pack, Policy, PolicySubject, Violation, rendered_check, spec_check
from cloudorch.rendering.model import RenderedResource
from cloudorch.spec.loader import parse_stack

TODAY = dt.date(2026, 6, 1)

STACK = """stack: shop
tags: {team: shop, env: prod}
policies:
  packs: [baseline]
  waivers:
    - policy: test.public-ingress
      resource: web
      reason: serves HTTPS to the internet
      owner: web-team@example.com
      expires: 2026-12-31
    - policy: test.public-ingress
      resource: "api-*"
      reason: old exception
      owner: api-team@example.com
      expires: 2026-01-31
    - policy: test.never-fails
      resource: "*"
      reason: nothing to waive
      owner: nobody@example.com
      expires: 2027-01-01
resources:
  net: {kind: network, cidr: 10.40.0.0/16}
  web:
    kind: compute
    network: net
    cpu: 2
    memory_gb: 4
    ingress:
      - {port: 443, from: internet}
  api-one:
    kind: compute
    network: net
    cpu: 2
    memory_gb: 4
    ingress:
      - {port: 8080, from: internet}
  db:
    kind: database
    network: net
    engine: postgres
    version: "16"
"""


@spec_check("compute", "database")
def _public(target, ctx):
    return [Violation(f"port {rule.port} open to the internet", ("ingress", i))
            for i, rule in enumerate(target.model.ingress) if rule.is_world_open]


PUBLIC = Policy(id="test.public-ingress", title="no public ingress", severity="high", checks=(_public,),
                remediation="close it")


@rendered_check("aws:ec2/instance:Instance")
def _never(res, ctx):
    return []


NEVER = Policy(id="test.never-fails", title="never fails", severity="low", enforcement="advisory", checks=(_never,))


@pytest.fixture
def loaded():
    return parse_stack(STACK, "stacks/shop.yaml")


@pytest.fixture
def rendered():
    return [RenderedResource(name="web-vm", type="aws:ec2/instance:Instance", cloud="aws", region="eu-west-1",
                             source="web", inputs={"instanceType": "m7i.large"})]


@pytest.fixture
def subject(loaded, rendered):
    return PolicySubject(loaded=loaded, rendered=rendered)


@pytest.fixture
def pack():
    return Pack(name="test", policies=(PUBLIC, NEVER))
