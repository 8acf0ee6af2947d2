"""Every provider reads its own rendering into the same neutral facts: the webshop example, on each cloud.

The same stack rendered on AWS, Azure and GCP must read the same where the clouds agree (a private,
encrypted, backed-up database; a private, versioned bucket; the internet admitted on 443 and nowhere else),
and say so where one cloud cannot (None: Azure servers have no deletion protection).
"""

from __future__ import annotations

import datetime as dt

import pytest

from cloudorch.plugins import load_provider
from cloudorch.policy import Context, PolicySubject
from cloudorch.rendering import RenderContext
from cloudorch.rendering.facts import FACTS_OF_ROLE
from cloudorch.rendering.inputs import UNKNOWN
from cloudorch.spec.loader import load_stack
from tests.support import REGIONS, ROOT, webshop_placement

PROVIDERS = sorted(REGIONS)


def facts_of(name: str):
    stack, placement = webshop_placement(name)
    rendered = load_provider(name).render(RenderContext(stack=stack, placement=placement, cloud=name))
    ctx = Context(PolicySubject(load_stack(ROOT / "tests" / "data" / "webshop.yaml"), placement, rendered),
                  today=dt.date(2026, 6, 1))
    return {r.name: (r, ctx.facts(r)) for r in rendered if r.role in FACTS_OF_ROLE}


@pytest.mark.parametrize("name", PROVIDERS)
def test_every_resource_of_a_role_with_facts_is_described_with_that_roles_facts(name):
    described = facts_of(name)
    assert {"firewall-rule", "database", "bucket"} <= {r.role for r, _ in described.values()}
    for resource, facts in described.values():
        assert isinstance(facts, FACTS_OF_ROLE[resource.role]), resource.name


@pytest.mark.parametrize("name", PROVIDERS)
def test_the_database_reads_private_encrypted_backed_up_and_protected(name):
    [facts] = [f for r, f in facts_of(name).values() if r.role == "database"]
    assert (facts.publicly_reachable, facts.encrypted_at_rest, facts.backup_retention_days) == (False, True, 14)
    assert facts.deletion_protected is (None if name == "azure" else True)
    if facts.deletion_protected is None:
        assert "deletion-protection" in facts.notes["deletion_protected"]  # says why it cannot be judged


@pytest.mark.parametrize("name", PROVIDERS)
def test_the_bucket_reads_private_blocked_encrypted_and_versioned(name):
    described = facts_of(name).values()
    # the stack's bucket (access_logs renders a log bucket beside it, which receives logs: not judged for them)
    [facts] = [f for r, f in described if r.role == "bucket" and f.access_logging is not None]
    assert facts.access_logging is True and facts.lifecycle is True
    assert facts.public in (False, None) and facts.public_access_blocked is True
    assert (facts.encrypted_at_rest, facts.versioning) == (True, True)
    # nothing else the rendering creates makes the objects public (an Azure container, a GCP grant)
    assert all(f.public is False for r, f in described if r.role in ("bucket-container", "bucket-policy"))


@pytest.mark.parametrize("name", PROVIDERS)
def test_only_the_declared_internet_ingress_admits_the_world(name):
    world = sorted({(rule.protocol, rule.ports)
                    for r, f in facts_of(name).values() if r.role in ("firewall-rule", "security-group")
                    for rule in f.rules if rule.admits and rule.from_world})
    assert world == [("tcp", ((443, 443),))]


@pytest.mark.parametrize("name", PROVIDERS)
def test_the_database_admits_exactly_the_web_tiers_blocks_on_its_port(name):
    """web runs in both blocks (10.40.0.0/20, 10.40.16.0/20); the database's rules admit them on 5432."""
    admitted = {peer for r, f in facts_of(name).values() if r.source == "orders-db" and r.role == "firewall-rule"
                for rule in f.rules if rule.admits and rule.covers(5432) and not rule.all_ports for peer in rule.peers}
    assert {"10.40.0.0/20", "10.40.16.0/20"} <= admitted
    assert not any(peer is UNKNOWN for peer in admitted)


@pytest.mark.parametrize("name, validation", [("aws", "dns"), ("azure", "operator"), ("gcp", "http")])
def test_the_served_webshops_certificates_say_how_their_names_are_validated(name, validation):
    """ACM proves the name in the zone (its validation waiter says nothing of it), Google over HTTP at the
    address the name resolves to, and an Azure gateway serves the operator's Key Vault certificate, held
    inline (a part)."""
    from cloudorch.rendering.assemble import render_stack
    from cloudorch.spec.loader import LoadedStack

    stack, placement = webshop_placement(name, served=True)
    stack = stack.model_copy(update={"dns": stack.dns.model_copy(update={"provider": name})})
    loaded = LoadedStack(stack=stack, file="webshop.yaml", text="", lines={})
    rendered = render_stack(loaded, placement, {name: load_provider(name)})
    ctx = Context(PolicySubject(loaded, placement, list(rendered)), today=dt.date(2026, 6, 1))
    certificates = [*(r for r in rendered if r.role == "certificate"),
                    *(p for r in rendered if r.role == "balancer" for p in ctx.parts(r, "certificate"))]
    read = {f.validation for f in map(ctx.facts, certificates)} - {None}
    assert read == {validation}
    # one certificate per location (both regions), for the global name (a Key Vault entry names a secret only)
    judged = [c for c in certificates if ctx.facts(c).validation is not None]
    assert len(judged) == 2
    assert {ctx.facts(c).names for c in judged} == ({()} if name == "azure" else {("www.shop.example.com",)})
