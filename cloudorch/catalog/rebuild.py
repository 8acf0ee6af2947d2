"""Rebuild the embedded ``machines.csv`` from a recorded price catalog (``tools/rebuild_catalog.py`` runs it).

The recording is a catalog directory in SkyPilot's layout (``<cloud>/vms.csv``): what ``cloudorch catalog
refresh`` writes from the clouds' public price APIs, or SkyPilot's public catalog. It is read by the same
reader and the same provider adapters as ``--catalog DIR`` (GCP GPU hosts priced with their GPUs, Azure's
unbootable sizes skipped), so a rebuilt row means what a plan on that directory would mean.

Which types the embedded catalog holds is a checked-in *selection* (``tools/catalog_selection.csv``: cloud,
type, family, category and, where the recording is known to be wrong or to name things differently, pinned
values). Each selected type takes from the recording its price and spot price in the cloud's reference
region, its size, arch and accelerators, and its regions by the rule SOURCES.md states: offered there
**and** priced within 5% of the reference price times the region's ``price_factor``. A type the recording
lacks keeps its current row and is reported; nothing is invented and nothing is dropped without a word.

``rebuild`` only reads and returns the new text; ``write`` replaces the files. Output is a function of the
inputs alone (no clock, no absolute paths), so two runs give byte-identical files.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import os
import tempfile
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cloudorch.catalog.adapter import SkyPilotAdapter
from cloudorch.catalog.model import Offering
from cloudorch.catalog.skypilot import REQUIRED, catalog_files, read_skypilot_catalog
from cloudorch.errors import UsageError

#: each cloud's US reference region: the one every embedded price is quoted in (SOURCES.md)
REFERENCE = {"aws": "us-east-1", "azure": "eastus", "gcp": "us-central1"}
#: a region is listed when its recorded price is within this share of reference price x price_factor
BAND = 0.05
MACHINE_COLUMNS = ("cloud", "instance_type", "family", "category", "arch", "vcpus", "memory_gib", "accelerator",
                   "accelerator_count", "price", "spot_ratio", "regions")
SELECTION_COLUMNS = ("cloud", "instance_type", "family", "category", "pins")
#: what a selection may pin (the recording's value is then reported and not used)
PINNABLE = ("arch", "vcpus", "memory_gib", "accelerator", "accelerator_count")
BEGIN = "<!-- rebuild_catalog: generated from here to the end marker; tools/rebuild_catalog.py rewrites it -->"
END = "<!-- rebuild_catalog: end of generated section -->"

UPDATED, UNCHANGED, ADDED, MISSING, NOT_ADDED, REMOVED = "updated", "unchanged", "added", "missing", "not added", \
    "removed"


@dataclass(frozen=True)
class Selected:
    line: int
    cloud: str
    instance_type: str
    family: str
    category: str
    pins: Mapping[str, str] = field(default_factory=dict)
    #: GCP sells some GPUs only attached to a general type (T4 on N1): (accelerator, count) priced onto it
    attach: tuple[str, int] | None = None


@dataclass(frozen=True)
class RowOutcome:
    cloud: str
    instance_type: str
    status: str  # updated | unchanged | added | missing | not added | removed
    detail: str = ""


@dataclass(frozen=True)
class Rebuild:
    machines_csv: str
    sources_md: str
    outcomes: tuple[RowOutcome, ...]
    #: things the recording holds that were not used, and regions it does not cover (kept from the old rows)
    notes: tuple[str, ...] = ()

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)


def _read_csv(path: Path, columns: tuple[str, ...]) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """(leading comment lines, [(line number, row)]) of a commented CSV, its header checked."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot be read: {exc}", hint="pass a readable UTF-8 CSV file") from None
    lines = text.splitlines()
    comments = [line for line in lines if line.startswith("#")]
    numbered = [(n, line) for n, line in enumerate(lines, 1) if line and not line.startswith("#")]
    if not numbered:
        raise UsageError(f"{path}: no header row", hint=f"the header is {','.join(columns)}")
    header_line, header = numbered[0]
    found = next(csv.reader([header]))
    if tuple(found) != columns:
        raise UsageError(f"{path}:{header_line}: header is {','.join(found)}", hint=f"expected {','.join(columns)}")
    rows = []
    for n, line in numbered[1:]:
        cells = next(csv.reader([line]))
        if len(cells) != len(columns):
            raise UsageError(f"{path}:{n}: {len(cells)} fields, expected {len(columns)}",
                             hint=f"the columns are {','.join(columns)}")
        rows.append((n, dict(zip(columns, cells, strict=True))))
    return comments, rows


def read_selection(path: Path, clouds: set[str]) -> list[Selected]:
    _, rows = _read_csv(path, SELECTION_COLUMNS)
    selected, seen = [], set()
    for n, row in rows:
        where = f"{path}:{n}"
        if row["cloud"] not in clouds:
            raise UsageError(f"{where}: cloud: unknown cloud {row['cloud']!r}",
                             hint=f"the embedded catalog's clouds are {', '.join(sorted(clouds))}")
        key = (row["cloud"], row["instance_type"])
        if not row["instance_type"] or key in seen:
            raise UsageError(f"{where}: instance_type: {'empty' if not row['instance_type'] else 'listed twice'}",
                             hint="list each type once")
        seen.add(key)
        pins, attach = {}, None
        for item in filter(None, (p.strip() for p in row["pins"].split(";"))):
            name, _, value = item.partition("=")
            if name == "attach" and value.partition(":")[2].isdigit():
                gpu, _, count = value.partition(":")
                attach = (gpu, int(count))
            elif name in PINNABLE and value:
                pins[name] = value
            else:
                raise UsageError(f"{where}: pins: {item!r} is not a pin",
                                 hint=f"pins are name=value;... with names {', '.join(PINNABLE)}, or attach=GPU:COUNT")
        selected.append(Selected(n, row["cloud"], row["instance_type"], row["family"], row["category"], pins, attach))
    return selected


def _recording(directory: Path, adapters: Mapping[str, SkyPilotAdapter]) -> tuple[dict, list[str]]:
    """{(cloud, type): {region: offering}} of the recording, and notes on what of it is not used."""
    root = Path(directory)
    notes = []
    if root.is_dir():
        for sub in sorted(p.name for p in root.iterdir() if (p / "vms.csv").is_file() and p.name not in adapters):
            notes.append(f"{sub}/vms.csv: not a cloud of the embedded catalog; not read")
    for cloud, path in catalog_files(root, adapters).items():
        try:
            with path.open(newline="", encoding="utf-8") as handle:
                header = next(csv.reader(handle), [])
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise UsageError(f"{path}: cannot be read: {exc}", hint="recordings are UTF-8 CSV files") from None
        if missing := [c for c in REQUIRED if c not in header]:
            raise UsageError(f"{path}:1: missing column(s) {', '.join(missing)}",
                             hint="a recording is laid out as SkyPilot's <cloud>/vms.csv (InstanceType, vCPUs, "
                                  "MemoryGiB, Price, Region, ...)")
    catalog = read_skypilot_catalog(root, adapters)
    if catalog.issues:
        notes.append(f"{len(catalog.issues):,} recording row(s) not offerings, e.g. {catalog.issues[0]}")
    found: dict[tuple[str, str], dict[str, Offering]] = defaultdict(dict)
    for o in catalog.offerings:
        found[(o.cloud, o.instance_type)][o.region] = o
    return found, notes


def _gpu_prices(directory: Path, cloud: str) -> dict[tuple[str, str], tuple[float, float | None]]:
    """{(accelerator, region): (price of one, spot of one)} from SkyPilot's accelerator rows (empty
    InstanceType): what GCP charges for a GPU attached to a general type. Cheapest zone, as for machines."""
    path = Path(directory) / cloud / "vms.csv"
    prices: dict[tuple[str, str], tuple[float, float | None]] = {}
    if not path.is_file():
        return prices
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            name, count = (row.get("AcceleratorName") or "").strip(), (row.get("AcceleratorCount") or "1").strip()
            if (row.get("InstanceType") or "").strip() or not name:
                continue
            try:
                n = float(count or 1)
                price = float(row["Price"]) / n
                spot = float(row["SpotPrice"]) / n if (row.get("SpotPrice") or "").strip() else None
            except (TypeError, ValueError, ZeroDivisionError):
                continue  # the reader reports unusable rows; an unpriced GPU leaves its host unpriced too
            key = (name, (row.get("Region") or "").strip())
            if key not in prices or price < prices[key][0]:
                prices[key] = (price, spot)
    return prices


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _attached(offerings: dict[str, Offering], attach: tuple[str, int],
              gpus: dict[tuple[str, str], tuple[float, float | None]]) -> dict[str, Offering]:
    name, count = attach
    out = {}
    for region, o in offerings.items():
        if (gpu := gpus.get((name, region))) is None:
            continue  # the host without its GPU is not this row's offering
        spot = o.spot_price + count * gpu[1] if o.spot_price is not None and gpu[1] is not None else None
        out[region] = o._replace(price=o.price + count * gpu[0], spot_price=spot, accelerator=name,
                                 accelerator_count=count)
    return out


def _row_from(sel: Selected, offerings: dict[str, Offering], old: dict[str, str] | None,
              regions: list[tuple[str, float]], covered: set[str]) -> tuple[dict[str, str], list[str]]:
    """The new row of a selected type the recording prices in its reference region, and what its pins overrode."""
    ref = offerings[REFERENCE[sel.cloud]]
    spot = ref.spot_price
    recorded = {"arch": ref.arch, "vcpus": _num(ref.vcpus), "memory_gib": _num(ref.memory_gib),
                "accelerator": ref.accelerator or "", "accelerator_count": str(ref.accelerator_count)}
    overridden = [f"{k} {v} (recording: {recorded[k]})" for k, v in sorted(sel.pins.items()) if recorded[k] != v]
    old_regions = set(filter(None, (old or {}).get("regions", "").split(";")))
    listed = []
    for name, factor in regions:
        if name not in covered:
            # the recording says nothing of this region: keep what the current row says (a new row: not listed)
            keep = old is not None and (not old_regions or name in old_regions)
        else:
            expected = ref.price * factor
            keep = name in offerings and abs(offerings[name].price - expected) <= BAND * expected
        if keep:
            listed.append(name)
    row = {"cloud": sel.cloud, "instance_type": sel.instance_type, "family": sel.family, "category": sel.category,
           **recorded, **sel.pins, "price": f"{ref.price:.4f}",
           # a spot price at or over on-demand is no discount: no spot price (as for ND H100 v5)
           "spot_ratio": f"{spot / ref.price:.2f}" if spot is not None and 0 < spot < ref.price else "",
           "regions": "" if len(listed) == len(regions) else ";".join(listed)}
    return row, overridden


def _one(sel: Selected, offered: dict[str, Offering], old: dict[str, str] | None, regions: list[tuple[str, float]],
         covered: set[str]) -> tuple[dict[str, str] | None, RowOutcome]:
    """A selected type's row (None: none to write) and what happened to it."""
    key = (sel.cloud, sel.instance_type)
    ref = offered.get(REFERENCE[sel.cloud])
    if ref is None or ref.price <= 0:
        why = (f"the recording has no {sel.instance_type}" if not offered
               else f"the recording does not price it in {REFERENCE[sel.cloud]}")
        if old is None:
            return None, RowOutcome(*key, NOT_ADDED, why + "; nothing to price a new row from")
        return old, RowOutcome(*key, MISSING, why + "; current row kept")
    new, overridden = _row_from(sel, offered, old, regions, covered)
    pinned = f"pinned: {'; '.join(overridden)}" if overridden else ""
    if old is None:
        return new, RowOutcome(*key, ADDED, "; ".join(filter(None, [f"${new['price']}/h", pinned])))
    changes = _changes(old, new)
    return new, RowOutcome(*key, UPDATED if changes else UNCHANGED, "; ".join(filter(None, [changes, pinned])))


def _changes(old: dict[str, str], new: dict[str, str]) -> str:
    return ", ".join(f"{k} {old[k] or '-'} -> {new[k] or '-'}" for k in MACHINE_COLUMNS if old[k] != new[k])


def _digest(directory: Path, adapters: Mapping[str, SkyPilotAdapter]) -> list[str]:
    return [f"`{cloud}/vms.csv` sha256 {hashlib.sha256(path.read_bytes()).hexdigest()[:16]}"
            for cloud, path in catalog_files(Path(directory), adapters).items()]


def rebuild(data_dir: Path, recording: Path, selection: Path, adapters: Mapping[str, SkyPilotAdapter], *,
            as_of: str, source: str) -> Rebuild:
    """The rebuilt ``machines.csv`` and ``SOURCES.md`` of ``data_dir`` (nothing is written)."""
    try:
        dt.date.fromisoformat(as_of)
    except ValueError:
        raise UsageError(f"--as-of {as_of!r} is not a date", hint="give the recording's date as YYYY-MM-DD") from None
    if not source.strip() or "\n" in source:
        raise UsageError("--source must name the recording on one line",
                         hint="e.g. 'skypilot-org/skypilot-catalog catalogs/v7 at commit 001367d'")
    data_dir = Path(data_dir)
    _, region_rows = _read_csv(data_dir / "regions.csv", ("cloud", "region", "geo", "zones", "price_factor", "display"))
    regions: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for n, r in region_rows:
        try:
            regions[r["cloud"]].append((r["region"], float(r["price_factor"])))
        except ValueError:
            raise UsageError(f"{data_dir / 'regions.csv'}:{n}: price_factor: {r['price_factor']!r} is not a number",
                             hint="a factor such as 1.115") from None
    comments, machine_rows = _read_csv(data_dir / "machines.csv", MACHINE_COLUMNS)
    current = {(r["cloud"], r["instance_type"]): r for _, r in machine_rows}
    chosen = read_selection(Path(selection), set(regions))
    adapters = {c: a for c, a in adapters.items() if c in regions}
    found, notes = _recording(Path(recording), adapters)
    covered = {c: {reg for (cl, _), offered in found.items() if cl == c for reg in offered} for c in regions}
    for cloud in sorted(regions):
        if not covered[cloud]:
            notes.append(f"{cloud}: not in the recording; its rows are kept as they were")
        elif uncovered := [name for name, _ in regions[cloud] if name not in covered[cloud]]:
            notes.append(f"{cloud}: the recording has no row in {', '.join(uncovered)}; "
                         "those regions of each row are kept as they were")
    gpus = {c: _gpu_prices(Path(recording), c) for c in {s.cloud for s in chosen if s.attach}}

    rows, outcomes = [], []
    for sel in chosen:
        offered = found.get((sel.cloud, sel.instance_type), {})
        if sel.attach:
            offered = _attached(offered, sel.attach, gpus[sel.cloud])
        row, outcome = _one(sel, offered, current.get((sel.cloud, sel.instance_type)), regions[sel.cloud],
                            covered[sel.cloud])
        rows += [row] if row is not None else []
        outcomes.append(outcome)
    chosen_keys = {(s.cloud, s.instance_type) for s in chosen}
    outcomes += [RowOutcome(*k, REMOVED, "not in the selection") for k in current if k not in chosen_keys]

    out = io.StringIO()
    out.write("".join(c + "\n" for c in comments))
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(MACHINE_COLUMNS)
    writer.writerows([row[c] for c in MACHINE_COLUMNS] for row in rows)
    sources = _sources(data_dir / "SOURCES.md", _provenance(as_of, source, _digest(recording, adapters),
                                                           outcomes, notes))
    return Rebuild(out.getvalue(), sources, tuple(outcomes), tuple(notes))


def _provenance(as_of: str, source: str, files: list[str], outcomes: list[RowOutcome], notes: list[str]) -> str:
    by_status: dict[str, list[RowOutcome]] = defaultdict(list)
    for o in outcomes:
        by_status[o.status].append(o)
    lines = ["## `machines.csv` rebuilt from a recording (generated)", "",
             f"Rebuilt by `tools/rebuild_catalog.py` from **{source}**, as of **{as_of}** "
             f"({'; '.join(files) or 'no file read'}). Rows priced from the recording supersede the figures "
             "quoted for them in the hand-written sections; rows listed as kept still have those sources.", ""]
    titles = {UPDATED: "Priced from the recording, changed", UNCHANGED: "Priced from the recording, unchanged",
              ADDED: "Added from the recording", MISSING: "Not in the recording: current row kept",
              NOT_ADDED: "Selected but not in the recording: not added", REMOVED: "Removed (not in the selection)"}
    for status, title in titles.items():
        if not by_status[status]:
            continue
        lines.append(f"- {title} ({len(by_status[status])}):")
        lines += [f"  - {o.cloud} `{o.instance_type}`" + (f": {o.detail}" if o.detail else "")
                  for o in by_status[status]]
    lines += [f"- Note: {n}" for n in notes]
    return "\n".join(lines)


def _sources(path: Path, generated: str) -> str:
    """SOURCES.md with the generated section replaced (or appended once); the hand-written text untouched."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot be read: {exc}", hint="the data directory holds SOURCES.md") from None
    block = f"{BEGIN}\n{generated}\n{END}"
    start, end = text.find(BEGIN), text.find(END)
    if start == -1 and end == -1:
        return text.rstrip("\n") + "\n\n" + block + "\n"
    if start == -1 or end < start:
        raise UsageError(f"{path}: the generated section's markers are broken",
                         hint=f"restore the two lines {BEGIN!r} and {END!r} (or remove both)")
    return text[:start] + block + text[end + len(END):]


def write(data_dir: Path, result: Rebuild) -> None:
    """Replace ``machines.csv`` and ``SOURCES.md``: both are written in full to a temporary directory beside
    them first, then renamed over the originals (same file system: each rename is atomic), so an error
    leaves the old files, never a half-written one."""
    data_dir = Path(data_dir)
    with tempfile.TemporaryDirectory(dir=data_dir.parent, prefix=".rebuild-") as tmp:
        staged = {}
        for name, text in (("machines.csv", result.machines_csv), ("SOURCES.md", result.sources_md)):
            path = Path(tmp) / name
            with path.open("w", encoding="utf-8", newline="") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            staged[name] = path
        for name, path in staged.items():
            os.replace(path, data_dir / name)
