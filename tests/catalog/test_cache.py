from __future__ import annotations

from cloudorch.catalog import load_catalog
from cloudorch.catalog.adapter import SkyPilotAdapter

ADAPTERS = {"gcp": SkyPilotAdapter()}

HEADER = "InstanceType,vCPUs,MemoryGiB,Price,SpotPrice,Region,AvailabilityZone\n"


def write(tmp_path, price: str) -> None:
    (tmp_path / "gcp").mkdir(exist_ok=True)
    (tmp_path / "gcp" / "vms.csv").write_text(HEADER + f"n2-standard-4,4,16,{price},,europe-west4,europe-west4-a\n")


def test_parsed_catalogs_are_cached_and_never_served_stale(tmp_path, monkeypatch):
    write(tmp_path, "0.2")
    first = load_catalog(str(tmp_path), ADAPTERS)
    assert first.offerings[0].price == 0.2
    import cloudorch.catalog as catalog

    calls = []
    real = catalog.read_skypilot_catalog
    monkeypatch.setattr(catalog, "read_skypilot_catalog", lambda d, a: calls.append(d) or real(d, a))
    again = load_catalog(str(tmp_path), ADAPTERS)
    assert calls == [] and again.digest == first.digest  # served from the cache
    write(tmp_path, "0.3")  # an edited file is a different key
    changed = load_catalog(str(tmp_path), ADAPTERS)
    assert calls and changed.offerings[0].price == 0.3


def test_cache_can_be_turned_off(tmp_path, monkeypatch):
    write(tmp_path, "0.2")
    monkeypatch.setenv("CLOUDORCH_NO_CACHE", "1")
    assert load_catalog(str(tmp_path), ADAPTERS).offerings[0].price == 0.2
