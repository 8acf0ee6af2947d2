"""Rules the real GCP APIs enforce that the schema cannot express, pinned after the deployability audit."""

from __future__ import annotations

import pytest

from cloudorch.placement.model import Slot
from cloudorch.rendering import RenderContext
from cloudorch.spec.models import Database
from cloudorch_gcp import naming
from cloudorch_gcp.compute import _group
from cloudorch_gcp.database import _backups
from cloudorch_gcp.provider import Provider
from tests.support import webshop_context


def test_bucket_names_carry_neither_google_nor_its_misspellings():
    ctx = webshop_context("gcp")
    ctx = RenderContext(stack=ctx.stack.model_copy(update={"stack": "google-mirror"}), placement=ctx.placement,
                        cloud="gcp")
    name = naming.bucket_name(ctx, "assets", "europe-west4")
    assert "google" not in name and "g00gle" not in name and "--" not in name
    assert name.startswith("co-mirror-assets-")


@pytest.mark.parametrize("days", [0, 1, 2, 7, 14, 35])
@pytest.mark.parametrize("engine,version", [("postgres", "16"), ("mysql", "8.0")])
def test_transaction_logs_never_reach_the_oldest_backup(days, engine, version):
    spec = Database(kind="database", network="net", engine=engine, version=version, backup_days=days,
                    high_availability=True)
    backups = _backups(spec)
    retained = backups["backupRetentionSettings"]["retainedBackups"]
    assert 1 <= backups["transactionLogRetentionDays"] <= 7
    assert retained > backups["transactionLogRetentionDays"]
    assert retained >= days


def _render_group(itype: str, zones: tuple[str, ...], accelerator: str | None = None) -> tuple[dict, dict]:
    ctx = webshop_context("gcp")
    slot = Slot(cloud="gcp", region="us-central1", instance_type=itype, count=1, vcpus=12, memory_gib=85,
                zones=zones, hourly_usd=1.0, monthly_usd=730.0, accelerator=accelerator,
                accelerator_count=1 if accelerator else 0)
    template, mig = _group(ctx, "trainer", ctx.stack.resources["web"], slot, "", "cloudorch-trainer", "sa", False)
    return template.inputs, mig.inputs


def test_regional_group_surge_covers_every_zone_when_zones_are_unknown():
    _, mig = _render_group("n2-standard-4", ())
    assert "distributionPolicyZones" not in mig
    assert mig["updatePolicy"]["maxSurgeFixed"] == 4  # the most zones a GCP region has
    _, mig = _render_group("n2-standard-4", ("us-central1-a", "us-central1-b"))
    assert mig["updatePolicy"]["maxSurgeFixed"] == 2


def test_bundled_gpu_machine_types_terminate_on_maintenance_even_without_accelerator_details():
    template, _ = _render_group("a2-highgpu-1g", ("us-central1-a",))
    assert template["scheduling"]["onHostMaintenance"] == "TERMINATE"
    assert "guestAccelerators" not in template
    template, _ = _render_group("n2-standard-4", ("us-central1-a",))
    assert template["scheduling"]["onHostMaintenance"] == "MIGRATE"


def test_private_service_access_can_be_destroyed_after_cloud_sql():
    rendered = {r.name: r for r in Provider().render(webshop_context("gcp"))}
    assert rendered["net-gcp-psa-connection"].inputs["deletionPolicy"] == "REMOVE_PEERING"
