"""Rebuilding the embedded machines.csv from a recorded catalog (SkyPilot layout): cloudorch/catalog/rebuild.py
and tools/rebuild_catalog.py. Recordings are built here in tmp_path; one test reads ../shared/data/skypilot."""

from __future__ import annotations

import csv
import importlib.util
import io
import shutil
from pathlib import Path

import pytest

from cloudorch.catalog import embedded
from cloudorch.catalog.rebuild import (
    ADDED, BEGIN, END, MISSING, NOT_ADDED, REMOVED, UNCHANGED, UPDATED, rebuild, write,
)
from cloudorch.errors import UsageError
from cloudorch.plugins import catalog_adapters

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "cloudorch" / "catalog" / "data"
SELECTION = REPO / "tools" / "catalog_selection.csv"
SKYPILOT = REPO.parent / "shared" / "data" / "skypilot"
HEADER = ("InstanceType", "AcceleratorName", "AcceleratorCount", "vCPUs", "MemoryGiB", "Price", "SpotPrice", "Region",
          "AvailabilityZone", "Arch")


def machines(text: str) -> dict[tuple[str, str], dict[str, str]]:
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    return {(r["cloud"], r["instance_type"]): r for r in csv.DictReader(io.StringIO("\n".join(lines)))}


def record(root: Path, cloud: str, rows: list[tuple]) -> Path:
    """rows: (type, accelerator, count, vcpus, memory, price, spot, region[, zone])"""
    (root / cloud).mkdir(parents=True, exist_ok=True)
    with (root / cloud / "vms.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for t, acc, n, cpu, mem, price, spot, region, *zone in rows:
            writer.writerow([t, acc, n, cpu, mem, price, spot, region, zone[0] if zone else "", ""])
    return root


@pytest.fixture
def data(tmp_path):
    shutil.copytree(DATA, tmp_path / "data")
    return tmp_path / "data"


@pytest.fixture
def aws_recording(tmp_path):
    return record(tmp_path / "rec", "aws", [
        ("m7i.large", "", "", 2, 8, 0.1100, 0.0440, "us-east-1"),
        ("m7i.large", "", "", 2, 8, 0.1100, 0.0500, "us-east-2"),
        ("m7i.large", "", "", 2, 8, round(0.11 * 1.115, 4), "", "eu-west-1"),   # on the band: listed
        ("m7i.large", "", "", 2, 8, round(0.11 * 1.198 * 1.04, 4), "", "eu-central-1"),  # 4% over: listed
        ("m7i.large", "", "", 2, 8, round(0.11 * 1.052 * 1.06, 4), "", "ap-south-1"),    # 6% over: not
        ("m8a.large", "", "", 2, 8, 0.0898, 0.0359, "us-east-1"),
        ("m7i.2xlarge", "", "", 8, 32, 0, 0, "us-east-1"),  # a zero price is no price: the row is kept
        ("p5.48xlarge", "H100", 8, 192, 2048, 55.04, 27.0, "us-east-1"),
    ])


@pytest.fixture
def selection(tmp_path):
    path = tmp_path / "selection.csv"
    path.write_text(SELECTION.read_text() + "aws,m8a.large,m8a,general,\naws,m9z.large,m9z,general,\n")
    return path


def run(data, recording, selection=SELECTION, **kw):
    return rebuild(data, recording, selection, catalog_adapters(), as_of=kw.get("as_of", "2026-12-07"),
                   source=kw.get("source", "synthetic recording"))


def test_prices_change_rows_appear_and_regions_follow_the_band(data, aws_recording, selection):
    before = machines((data / "machines.csv").read_text())
    result = run(data, aws_recording, selection)
    after = machines(result.machines_csv)
    m7i = after[("aws", "m7i.large")]
    assert (m7i["price"], m7i["spot_ratio"]) == ("0.1100", "0.40")
    # recorded regions by the 5% band; regions the recording does not cover keep the old row's (all of them)
    listed = m7i["regions"].split(";")
    assert {"us-east-1", "us-east-2", "eu-west-1", "eu-central-1", "us-west-2", "ap-southeast-2"} <= set(listed)
    assert "ap-south-1" not in listed
    p5 = after[("aws", "p5.48xlarge")]
    # us-east-2 is recorded without p5: dropped; regions the recording does not cover stay as they were
    assert (p5["price"], p5["spot_ratio"]) == ("55.0400", "0.49")
    assert p5["regions"] == "us-east-1;us-west-2;eu-north-1;ap-northeast-1;ap-southeast-2"
    assert after[("aws", "m8a.large")] == {
        "cloud": "aws", "instance_type": "m8a.large", "family": "m8a", "category": "general", "arch": "x86_64",
        "vcpus": "2", "memory_gib": "8", "accelerator": "", "accelerator_count": "0", "price": "0.0898",
        "spot_ratio": "0.40", "regions": "us-east-1"}  # a new row claims no region the recording does not show
    status = {(o.cloud, o.instance_type): o.status for o in result.outcomes}
    assert status[("aws", "m7i.large")] == status[("aws", "p5.48xlarge")] == UPDATED
    assert status[("aws", "m8a.large")] == ADDED
    assert status[("aws", "m9z.large")] == NOT_ADDED and ("aws", "m9z.large") not in after
    assert len(after) == len(before) + 1


def test_rows_the_recording_lacks_are_kept_verbatim_and_reported(data, aws_recording):
    old_lines = set((data / "machines.csv").read_text().splitlines())
    result = run(data, aws_recording)
    missing = {(o.cloud, o.instance_type) for o in result.outcomes if o.status == MISSING}
    assert {("aws", "m7i.xlarge"), ("aws", "m7i.2xlarge"), ("gcp", "a3-highgpu-8g")} <= missing
    assert len(missing) == result.count(MISSING) == len(machines(result.machines_csv)) - 2
    detail = next(o.detail for o in result.outcomes if o.instance_type == "m7i.2xlarge")
    assert "does not price it in us-east-1" in detail
    kept = [line for line in result.machines_csv.splitlines() if line.startswith(("aws,m7i.xlarge,", "gcp,a3-"))]
    assert kept and set(kept) <= old_lines
    assert "Not in the recording: current row kept (" in result.sources_md


def test_a_type_dropped_from_the_selection_is_reported_removed(data, aws_recording, tmp_path):
    short = tmp_path / "short.csv"
    short.write_text("\n".join(line for line in SELECTION.read_text().splitlines()
                               if not line.startswith("aws,m6i.large,")) + "\n")
    result = run(data, aws_recording, short)
    assert [(o.instance_type, o.status) for o in result.outcomes if o.status == REMOVED] == [("m6i.large", REMOVED)]
    assert ("aws", "m6i.large") not in machines(result.machines_csv)


def test_two_runs_are_byte_identical_and_a_rerun_changes_nothing(data, aws_recording, tmp_path):
    first = run(data, aws_recording)
    shutil.copytree(DATA, tmp_path / "other")
    second = run(tmp_path / "other", aws_recording)
    assert (first.machines_csv, first.sources_md) == (second.machines_csv, second.sources_md)
    write(data, first)
    again = run(data, aws_recording)
    assert again.machines_csv == first.machines_csv
    assert again.count(UPDATED) == 0 and again.count(UNCHANGED) == first.count(UPDATED) + first.count(UNCHANGED)


def test_only_the_generated_section_of_sources_changes(data, aws_recording):
    hand = (data / "SOURCES.md").read_text()
    write(data, run(data, aws_recording))
    write(data, run(data, aws_recording, source="a second recording"))
    text = (data / "SOURCES.md").read_text()
    assert text.count(BEGIN) == text.count(END) == 1
    head, tail = hand.split(BEGIN)[0], hand.split(END)[1]
    assert text.startswith(head) and text.endswith(tail)
    assert "**a second recording**, as of **2026-12-07**" in text and "synthetic recording" not in text


def test_an_unchanged_recording_leaves_machines_csv_byte_for_byte(data, tmp_path):
    # a recording of two types at exactly today's figures: every other row kept verbatim, these two rewritten
    rec = record(tmp_path / "same", "gcp", [
        ("n2-standard-2", "", "", 2, 8, 0.0971, 0.033985, "us-central1"),
        ("e2-standard-2", "", "", 2, 8, 0.0670, 0.0201, "us-central1"),
    ])
    result = run(data, rec)
    assert result.machines_csv == (data / "machines.csv").read_text()
    assert result.count(UNCHANGED) == 2


def test_pins_and_attached_gpus(data, tmp_path):
    rec = record(tmp_path / "rec", "azure", [
        ("Standard_ND96isr_H100_v5", "H100", 12, 96, 1900, 98.32, 98.32, "eastus"),
        ("Standard_NC24ads_A100_v4", "A100-80GB", 1, 24, 220, 3.673, 0.4444, "eastus"),
    ])
    record(rec, "gcp", [
        ("n1-standard-4", "", "", 4, 15, 0.19, 0.04815, "us-central1", "us-central1-a"),
        ("", "T4", 1, "", "", 0.35, 0.14, "us-central1", "us-central1-a"),
        ("n1-standard-4", "", "", 4, 15, 0.19, 0.04815, "us-west1", "us-west1-a"),  # no T4 priced there
    ])
    result = run(data, rec)
    after = machines(result.machines_csv)
    h100 = after[("azure", "Standard_ND96isr_H100_v5")]
    assert (h100["accelerator_count"], h100["spot_ratio"]) == ("8", "")  # spot at on-demand: no discount
    assert after[("azure", "Standard_NC24ads_A100_v4")]["accelerator"] == "A100"
    t4 = after[("gcp", "n1-standard-4")]
    assert (t4["accelerator"], t4["accelerator_count"], t4["price"], t4["spot_ratio"]) == ("T4", "1", "0.5400", "0.35")
    assert "us-west1" not in t4["regions"].split(";")
    detail = {o.instance_type: o.detail for o in result.outcomes}
    assert "accelerator_count 8 (recording: 12)" in detail["Standard_ND96isr_H100_v5"]


@pytest.mark.parametrize("breakage, message", [
    (lambda rec, sel: (rec / "aws" / "vms.csv").write_text("InstanceType,vCPUs,Region\nm7i.large,2,us-east-1\n"),
     "missing column(s) MemoryGiB, Price"),
    (lambda rec, sel: (rec / "aws" / "vms.csv").write_bytes(b"InstanceType,\xff\xfe\n"), "cannot be read"),
    (lambda rec, sel: sel.write_text(sel.read_text() + "oracle,VM.Standard3,std3,general,\n"),
     "cloud: unknown cloud 'oracle'"),
    (lambda rec, sel: sel.write_text(sel.read_text() + "aws,m8a.xlarge,m8a,general,cpus=2\n"), "is not a pin"),
    (lambda rec, sel: shutil.rmtree(rec / "aws"), "no <cloud>/vms.csv"),
    (lambda rec, sel: sel.write_text(sel.read_text() + "gcp,n2-standard-2,n2,general,\n"), "listed twice"),
])
def test_bad_input_is_a_usage_error_and_nothing_is_written(data, aws_recording, selection, breakage, message):
    before = {p.name: p.read_bytes() for p in data.iterdir()}
    breakage(aws_recording, selection)
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        write(data, run(data, aws_recording, selection))
    assert {p.name: p.read_bytes() for p in data.iterdir()} == before


def test_a_failure_while_writing_leaves_the_old_files(data, aws_recording, monkeypatch):
    before = {p.name: p.read_bytes() for p in data.iterdir()}
    result = run(data, aws_recording)

    def fail(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("cloudorch.catalog.rebuild.os.fsync", fail)
    with pytest.raises(OSError):
        write(data, result)
    assert {p.name: p.read_bytes() for p in data.iterdir()} == before
    assert not [p for p in data.parent.iterdir() if p.name.startswith(".rebuild-")]


def test_bad_dates_and_sources_are_refused(data, aws_recording):
    with pytest.raises(UsageError, match="not a date"):
        run(data, aws_recording, as_of="07/12/2026")
    with pytest.raises(UsageError, match="one line"):
        run(data, aws_recording, source="a\nb")


# every cloud that sells each accelerator the README names (T4 on GCP: attached to N1)
SOLD = {"A100": {"aws", "azure", "gcp"}, "H100": {"aws", "azure", "gcp"}, "L4": {"aws", "gcp"},
        "T4": {"aws", "azure", "gcp"}, "A10G": {"aws"}}


def test_the_selection_covers_every_readme_accelerator_on_every_cloud_offering_it():
    rows = machines(DATA.joinpath("machines.csv").read_text())
    lines = [line for line in SELECTION.read_text().splitlines() if line and not line.startswith("#")]
    selected = {(r["cloud"], r["instance_type"]) for r in csv.DictReader(io.StringIO("\n".join(lines)))}
    offered = {(r["cloud"], r["accelerator"]) for k, r in rows.items() if k in selected and r["accelerator"]}
    for gpu, clouds in SOLD.items():
        assert {c for c, a in offered if a == gpu} == clouds, gpu
    # and every GPU row the catalog has today stays selected
    assert {k for k, r in rows.items() if r["accelerator"]} <= selected


def _script():
    spec = importlib.util.spec_from_file_location("rebuild_catalog", REPO / "tools" / "rebuild_catalog.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_script_reports_bad_input_with_exit_2_and_no_traceback(data, tmp_path, capsys):
    code = _script().main([str(tmp_path / "nowhere"), "--as-of", "2026-12-07", "--source", "x", "--data", str(data)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and "hint: " in err and "Traceback" not in err


@pytest.fixture
def embedded_from(monkeypatch):
    """Point the embedded loader at another data directory (its caches cleared before and after)."""
    cached = (embedded.embedded_regions, embedded.embedded_databases_and_storage, embedded.embedded_catalog)

    def load(directory: Path):
        monkeypatch.setattr(embedded, "_data", lambda: directory)
        for f in cached:
            f.cache_clear()
        return embedded.embedded_catalog()

    yield load
    monkeypatch.undo()
    for f in cached:
        f.cache_clear()


@pytest.mark.skipif(not SKYPILOT.is_dir(), reason="../shared/data/skypilot (real SkyPilot catalog rows) is absent")
def test_the_script_on_real_skypilot_rows_yields_a_catalog_the_loader_accepts(data, capsys, embedded_from):
    code = _script().main([str(SKYPILOT), "--as-of", "2024-01-01", "--source", "SkyPilot catalog rows in ../shared",
                           "--data", str(data)])
    out = capsys.readouterr().out
    assert code == 0 and "rewrote" in out
    rows = machines((data / "machines.csv").read_text())
    assert rows.keys() == machines(DATA.joinpath("machines.csv").read_text()).keys()
    catalog = embedded_from(data)
    types = {(o.cloud, o.instance_type) for o in catalog.offerings}
    assert types == set(rows)  # every row has at least one region
    # real rows updated some prices (the shared recording holds GCP's A100 host and GPU rows)
    a2 = [o for o in catalog.offerings if o.instance_type == "a2-highgpu-1g" and o.region == "us-central1"]
    assert a2 and a2[0].accelerator == "A100" and a2[0].price == float(rows[("gcp", "a2-highgpu-1g")]["price"])


def test_a_catalog_written_by_refresh_is_a_recording(data, tmp_path):
    """What `cloudorch catalog refresh` writes (live.write_live_catalog) is read as it stands."""
    from cloudorch.catalog.live import MachineType, Price, SourceEntry, write_live_catalog

    g6 = MachineType("us-east-1", "g6.xlarge", 4, 16, "x86_64", "L4", 1, zones=("us-east-1a", "us-east-1b"))
    entries = {"aws": {
        "offerings": SourceEntry(0.0, ("us-east-1",), {"machines": (g6,), "restrictions": ()}),
        "prices": SourceEntry(0.0, ("us-east-1",), {"prices": (
            Price("us-east-1", "g6.xlarge", 0.81), Price("us-east-1", "g6.xlarge", 0.40, spot=True))}),
    }}
    link = tmp_path / "cache" / "live"
    write_live_catalog(link, entries)
    result = run(data, link, source="cloudorch catalog refresh")
    row = machines(result.machines_csv)[("aws", "g6.xlarge")]
    assert (row["price"], row["spot_ratio"]) == ("0.8100", "0.49")
    assert (row["accelerator"], row["accelerator_count"]) == ("L4", "1")
    assert [o.status for o in result.outcomes if o.instance_type == "g6.xlarge"] == [UPDATED]
