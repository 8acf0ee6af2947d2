"""Customer-managed keys on GCP: one Cloud KMS key per network site, rotated, granted to its users, and named
by every disk and database that asks for one; buckets still cannot ask (placement keeps them off GCP)."""

from __future__ import annotations

import json
import re

import pytest

from cloudorch.capabilities import Capability, requirement_of
from cloudorch.rendering import RenderContext, ref
from cloudorch.rendering.facts import GraphOf
from cloudorch.rendering.meters import Meter
from cloudorch.rendering.schema_check import PackageSchema
from cloudorch.spec.models import Bucket, Compute, Database
from cloudorch_gcp import keys, meters
from cloudorch_gcp.provider import Provider
from tests.support import OUTSIDE_SCHEMA_SUBSET, SCHEMAS, require_shared, webshop_placement

TEMPLATE = "gcp:compute/instanceTemplate:InstanceTemplate"
SQL = "gcp:sql/databaseInstance:DatabaseInstance"
KMS_TYPES = {keys.KEY_RING, keys.CRYPTO_KEY, keys.KEY_MEMBER, keys.SERVICE_IDENTITY}


def render(*keyed: str):
    """The webshop example on GCP (web in two regions, the database in the first) with ``keyed`` asking for keys."""
    stack, placement = webshop_placement("gcp")
    resources = {n: r.model_copy(update={"customer_managed_key": n in keyed}) if n in keyed else r
                 for n, r in stack.resources.items()}
    stack = stack.model_copy(update={"resources": resources})
    return Provider().render(RenderContext(stack=stack, placement=placement, cloud="gcp"))


def of_type(rendered, type_):
    return [r for r in rendered if r.type == type_]


def test_each_site_a_keyed_resource_uses_gets_one_rotated_key_in_its_region():
    rendered = {r.name: r for r in render("web", "orders-db")}
    key_list = of_type(rendered.values(), keys.CRYPTO_KEY)
    # web spans both regions, the database the first: one key per (network, region), shared by its users
    assert sorted(k.name for k in key_list) == ["net-gcp-europe-west1-key", "net-gcp-europe-west4-key"]
    for key in key_list:
        ring = rendered[key.inputs["keyRing"]["$ref"]]
        assert ring.type == keys.KEY_RING and ring.inputs["location"] == key.region == ring.region
        assert key.inputs["purpose"] == "ENCRYPT_DECRYPT"
        seconds = int(re.fullmatch(r"(\d+)s", key.inputs["rotationPeriod"]).group(1))
        assert 86400 < seconds <= 90 * 86400
        assert key.provider == ring.provider == f"gcp-{key.region}"


def test_every_keyed_disk_and_database_names_its_sites_key_and_waits_for_its_grant():
    rendered = render("web", "orders-db")
    by_name = {r.name: r for r in rendered}
    templates, databases = of_type(rendered, TEMPLATE), of_type(rendered, SQL)
    assert len(templates) == 2 and len(databases) == 1
    for template in templates:
        key = keys.key_name("net", template.region)
        (disk,) = template.inputs["disks"]
        assert disk["diskEncryptionKey"] == {"kmsKeySelfLink": ref(key, "id"),
                                             "kmsKeyServiceAccount": ref("web-gcp-sa", "email")}
        (grant,) = template.depends_on
        # the account the disks' key requests are made as is the one granted the key
        assert by_name[grant].inputs == {"cryptoKeyId": ref(key, "id"), "role": keys.ENCRYPTER,
                                         "member": ref("web-gcp-sa", "member")}
    (database,) = databases
    key = keys.key_name("net", database.region)
    assert database.inputs["encryptionKeyName"] == ref(key, "id")
    grants = [by_name[d] for d in database.depends_on if by_name[d].type == keys.KEY_MEMBER]
    assert [g.inputs["member"] for g in grants] == [ref(keys.SQL_AGENT, "member")]
    assert grants[0].inputs["cryptoKeyId"] == ref(key, "id")
    assert by_name[keys.SQL_AGENT].inputs == {"service": "sqladmin.googleapis.com"}


def test_only_what_asks_for_a_key_gets_one():
    rendered = render("orders-db")
    assert all("diskEncryptionKey" not in t.inputs["disks"][0] for t in of_type(rendered, TEMPLATE))
    assert [k.region for k in of_type(rendered, keys.CRYPTO_KEY)] == ["europe-west4"]
    assert not {r.type for r in render()} & KMS_TYPES
    assert "encryptionKeyName" not in of_type(render(), SQL)[0].inputs


def test_the_facts_read_the_key_and_its_absence():
    provider = Provider()
    for keyed, expected in ((("orders-db",), True), ((), False)):
        rendered = render(*keyed)
        graph = GraphOf(rendered)
        (database,) = of_type(rendered, SQL)
        assert provider.describe(database, graph).customer_managed_key is expected


def test_rendering_is_deterministic():
    first, second = render("web", "orders-db"), render("web", "orders-db")
    assert json.dumps([r.model_dump() for r in first]) == json.dumps([r.model_dump() for r in second])


@pytest.mark.shared
def test_keys_conform_to_the_schema_and_the_two_types_outside_it_are_really_outside():
    require_shared(SCHEMAS)
    schema = PackageSchema.load(SCHEMAS / "gcp.json")
    rendered = [r for r in render("web", "orders-db") if r.type in KMS_TYPES | {TEMPLATE, SQL}]
    checked = [r for r in rendered if r.type not in OUTSIDE_SCHEMA_SUBSET]
    assert {keys.KEY_RING, keys.CRYPTO_KEY, TEMPLATE, SQL} <= {r.type for r in checked}
    assert [str(v) for r in checked for v in schema.check(r)] == []
    # the day the subset gains them, they are checked like the rest (and leave OUTSIDE_SCHEMA_SUBSET)
    types = json.loads((SCHEMAS / "gcp.json").read_text())["resources"]
    assert keys.KEY_MEMBER not in types and keys.SERVICE_IDENTITY not in types


def test_placement_keeps_only_keyed_buckets_off_gcp():
    provider = Provider()
    keyed = {"compute": Compute(kind="compute", network="net", cpu=2, memory_gb=4, customer_managed_key=True),
             "database": Database(kind="database", network="net", engine="postgres", version="16",
                                  customer_managed_key=True),
             "bucket": Bucket(kind="bucket", customer_managed_key=True)}
    gaps = {kind: dict(provider.unsupported(requirement_of(spec), "europe-west4")) for kind, spec in keyed.items()}
    assert gaps == {"compute": {}, "database": {}, "bucket": {Capability.CUSTOMER_MANAGED_KEY: keys.UNSUPPORTED["bucket"]}}
    assert "storage.getProjectServiceAccount" in keys.UNSUPPORTED["bucket"]
    assert dict(provider.unsupported(requirement_of(Bucket(kind="bucket")), "europe-west4")) == {}


@pytest.mark.parametrize(("period", "versions"), [
    (None, 1.0), ("31536000s", 1.0),
    # 90 days: one version for 90 days, two for the next 90, ... five for the year's last 5 days
    ("7776000s", round((90 * (1 + 2 + 3 + 4) + 5 * 5) / 365, 3)),
])
def test_a_key_bills_its_first_years_average_of_active_versions(period, versions):
    key = render("web")[0].model_copy(update={"type": keys.CRYPTO_KEY, "inputs": {"rotationPeriod": period}})
    assert meters.meters(key) == (Meter("kms_key_month", versions),)
