"""Published list prices of what a stack's network bills: NAT, public addresses, VPN, peering and transfer,
internet egress tiers, load balancers, keys, flow logs, DNS (data/network.csv; sources in data/SOURCES.md).

A price that is not published, or that could not be found, is absent: every lookup then answers ``None``,
never 0, so the caller lists the resource as unpriced instead of counting it as free. A published zero
(a free virtual private gateway, Cloud Router) is a row with usd 0.

Volume prices are answered per declared GB: rows the cloud publishes per GiB (2^30 bytes) are converted,
so callers never see the unit. Plain frozen dataclasses rather than pydantic: the file is parsed once per
process and consulted in the placement's inner loops.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from importlib.resources import files

from cloudorch.errors import CloudorchError

FILE = "network.csv"
COLUMNS = ("cloud", "item", "unit", "usd", "from_gb", "to_gb", "scope", "source", "note")
#: units a row may be priced in; volume units scale with a declared GB, the others are counts
UNITS = frozenset({"hour", "vm_hour", "tunnel_hour", "gb", "gib", "month", "gb_month", "gib_month", "zone_month",
                   "10k_operations", "million_requests", "million_queries"})
#: hourly items priced by how many of them one resource has, through their tiers (a free allowance, then per
#: one): a VPN gateway's tunnels where its price includes some
_COUNT_TIERED = frozenset({"tunnel_hour"})
GIB_PER_GB = 10**9 / 2**30
_PER_GIB = frozenset({"gib", "gib_month"})

#: the item of a NAT gateway's hourly charge: flat where the cloud publishes one rate (AWS, Azure), per VM
#: using it up to a cap where it does not (GCP Cloud NAT; ``NetworkPrices.nat_gateway_hourly``)
NAT_GATEWAY = "nat_gateway"
#: the billing month all three clouds' calculators use
HOURS_PER_MONTH = 730

#: Traffic that leaves a cloud through a site-to-site VPN is billed as internet data transfer out on all
#: three clouds (AWS: EC2 data transfer out; Azure: outbound data transfer; GCP: internet data transfer
#: out when the peer gateway is outside Google Cloud), so VPN paths are priced with this item.
VPN_EGRESS_ITEM = "internet_egress_gb"

# regions.csv geographies grouped into the continents the clouds price transfer by
_CONTINENT_OF_GEO = {"us": "na", "ca": "na", "mx": "na", "eu": "eu", "apac": "apac", "sa": "sa", "me": "me", "af": "af"}
# GCP prices transfer within Asia and to or from Oceania apart, while regions.csv's apac geography holds both:
# a region there is told apart by its name (GCP's australia-*, Azure's australia* and newzealand*, AWS's
# Sydney and Melbourne), and a row scoped apac still applies where no finer one does
_OCEANIA_PREFIXES = ("australia", "newzealand")
_OCEANIA_REGIONS = frozenset({"ap-southeast-2", "ap-southeast-4"})


class NetworkPriceError(CloudorchError):
    """The shipped price file is malformed: a bug in cloudorch's data, not in the user's input."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"{FILE}:{line}: {message}", hint="fix the row in cloudorch/catalog/data/network.csv "
                                                          "(SOURCES.md says where its figures come from)")
        self.line = line


@dataclass(frozen=True, slots=True)
class NetworkPrice:
    """One published price, or one tier of it (``to_gb`` None = no upper bound)."""

    cloud: str
    item: str
    unit: str
    usd: float
    from_gb: float
    to_gb: float | None
    scope: str
    source: str
    note: str
    line: int

    @property
    def per_gib(self) -> bool:
        return self.unit in _PER_GIB


@dataclass(frozen=True)
class NetworkPrices:
    rows: tuple[NetworkPrice, ...]
    #: sha256 of the file's text; feeds ``Catalog.digest`` so a saved plan goes stale when a price changes
    digest: str

    @cached_property
    def _index(self) -> dict[tuple[str, str, str], tuple[NetworkPrice, ...]]:
        grouped: dict[tuple[str, str, str], list[NetworkPrice]] = {}
        for row in self.rows:
            grouped.setdefault((row.cloud, row.item, row.scope), []).append(row)
        return {key: tuple(sorted(tiers, key=lambda r: r.from_gb)) for key, tiers in grouped.items()}

    def tiers(self, cloud: str, item: str, scope: str | Sequence[str] | None = None) -> tuple[NetworkPrice, ...]:
        """The rows that apply: the first of ``scope`` (a scope or candidates, most specific first) that has
        rows, else the unscoped rows; empty when the price is not known."""
        for candidate in (*_candidates(scope), ""):
            found = self._index.get((cloud, item, candidate))
            if found:
                return found
        return ()

    def price(self, cloud: str, item: str, scope: str | Sequence[str] | None = None) -> float | None:
        """USD per unit (per declared GB for volume items). For a tiered item, the rate of the first paid tier:
        the marginal price once any free allowance is used up. None when not published or not found."""
        tiers = self.tiers(cloud, item, scope)
        if not tiers:
            return None
        paid = next((t for t in tiers if t.usd > 0), tiers[0])
        return paid.usd * GIB_PER_GB if paid.per_gib else paid.usd

    def tiered(self, cloud: str, item: str, gb: float, scope: str | Sequence[str] | None = None) -> float | None:
        """USD for ``gb`` a month (GB of volume; VMs or zones for count-priced items) through the published
        tiers, free allowances included. None when not known, or when ``gb`` lies beyond the last published
        tier (a price we could not find is not assumed to continue)."""
        tiers = self.tiers(cloud, item, scope)
        if not tiers:
            return None
        quantity = gb * GIB_PER_GB if tiers[0].per_gib else gb
        last = tiers[-1].to_gb
        if last is not None and quantity > last:
            return None
        return sum(t.usd * (min(quantity, t.to_gb if t.to_gb is not None else quantity) - t.from_gb)
                   for t in tiers if quantity > t.from_gb)

    def monthly(self, cloud: str, item: str, quantity: float = 1.0, scope: str | Sequence[str] | None = None,
                vms: int = 1) -> float | None:
        """USD a month of ``quantity`` of a fixed-charge item (an hourly one runs all month; ``NAT_GATEWAY``
        is this cloud's NAT gateway serving ``vms`` machines: where billed per VM, none bills nothing; an item
        priced by the count, ``quantity`` of them on one resource through its tiers). None when not published."""
        if item == NAT_GATEWAY:
            hourly = self.nat_gateway_hourly(cloud, vms)
            return None if hourly is None else hourly * HOURS_PER_MONTH * quantity
        tiers = self.tiers(cloud, item, scope)
        if tiers and tiers[0].unit in _COUNT_TIERED:
            hourly = self.tiered(cloud, item, quantity, scope)
            return None if hourly is None else hourly * HOURS_PER_MONTH
        usd = self.price(cloud, item, scope)
        if usd is None:
            return None
        per = HOURS_PER_MONTH if tiers[0].unit in ("hour", "vm_hour") else 1.0
        return usd * per * quantity

    def nat_gateway_hourly(self, cloud: str, vms: int) -> float | None:
        """USD per hour of one NAT gateway serving ``vms`` machines: a flat rate where the cloud publishes one,
        otherwise per VM up to the published cap and the cloud's flat rate beyond it (GCP Cloud NAT)."""
        flat = self.price(cloud, "nat_gateway_hour")
        if flat is not None:
            return flat
        per_vm = self.tiers(cloud, "nat_gateway_vm_hour")
        if not per_vm:
            return None
        within = self.tiered(cloud, "nat_gateway_vm_hour", vms)
        if within is not None:
            return within
        return self.price(cloud, "nat_gateway_hour", f"over-{_number(per_vm[-1].to_gb)}-vms")


def path_scopes(src_geo: str, dst_geo: str, src_region: str = "", dst_region: str = "") -> tuple[str, ...]:
    """Scopes to look a transfer between two regions up under, most specific first: by the continents the
    regions are on (Asia-Pacific split into asia and oceania where the regions' names are given), then by
    their geographies' continents, then same- or inter-continent."""
    fine = _continent(src_geo, src_region), _continent(dst_geo, dst_region)
    coarse = _continent(src_geo), _continent(dst_geo)
    scopes = [_scope(*fine)]
    if coarse != fine:
        scopes.append(_scope(*coarse))
    scopes.append("same-continent" if fine[0] == fine[1] else "inter-continent")
    return tuple(scopes)


def _continent(geo: str, region: str = "") -> str:
    continent = _CONTINENT_OF_GEO.get(geo, geo)
    if continent == "apac" and region:
        return "oceania" if region.startswith(_OCEANIA_PREFIXES) or region in _OCEANIA_REGIONS else "asia"
    return continent


def _scope(src: str, dst: str) -> str:
    if src == dst:
        return f"within:{src}"
    first, second = sorted((src, dst))
    return f"between:{first}-{second}"


@cache
def network_prices() -> NetworkPrices:
    """The embedded network prices, parsed once per process."""
    return parse_network_prices(files("cloudorch.catalog").joinpath("data", FILE).read_text(encoding="utf-8"))


def price(cloud: str, item: str, scope: str | Sequence[str] | None = None) -> float | None:
    return network_prices().price(cloud, item, scope)


def tiered(cloud: str, item: str, gb: float, scope: str | Sequence[str] | None = None) -> float | None:
    return network_prices().tiered(cloud, item, gb, scope)


def parse_network_prices(text: str) -> NetworkPrices:
    rows = tuple(_parse_rows(text))
    _check_tiers(rows)
    return NetworkPrices(rows=rows, digest=hashlib.sha256(text.encode()).hexdigest())


def _parse_rows(text: str) -> Iterable[NetworkPrice]:
    seen_header = False
    for line, content in enumerate(text.splitlines(), start=1):
        if not content.strip() or content.startswith("#"):
            continue
        fields = [field.strip() for field in next(csv.reader([content]))]
        if not seen_header:
            if tuple(fields) != COLUMNS:
                raise NetworkPriceError(line, f"header must be {','.join(COLUMNS)}, found {','.join(fields)}")
            seen_header = True
            continue
        if len(fields) != len(COLUMNS):
            raise NetworkPriceError(line, f"{len(fields)} fields, expected {len(COLUMNS)} "
                                          "(quote a note that holds a comma)")
        row = dict(zip(COLUMNS, fields))
        if not row["cloud"] or not row["item"] or not row["source"]:
            raise NetworkPriceError(line, "cloud, item and source are required")
        if row["unit"] not in UNITS:
            raise NetworkPriceError(line, f"unknown unit {row['unit']!r}; known: {', '.join(sorted(UNITS))}")
        usd = _float(row["usd"], "usd", line)
        start = _float(row["from_gb"] or "0", "from_gb", line)
        end = _float(row["to_gb"], "to_gb", line) if row["to_gb"] else None
        if usd < 0 or start < 0:
            raise NetworkPriceError(line, "usd and from_gb must not be negative")
        if end is not None and end <= start:
            raise NetworkPriceError(line, f"to_gb {end:g} must be above from_gb {start:g}")
        yield NetworkPrice(row["cloud"], row["item"], row["unit"], usd, start, end, row["scope"], row["source"],
                           row["note"], line)


def _check_tiers(rows: tuple[NetworkPrice, ...]) -> None:
    """Rows of one (cloud, item, scope) must chain from 0 without gap or overlap, in one unit."""
    grouped: dict[tuple[str, str, str], list[NetworkPrice]] = {}
    for row in rows:
        grouped.setdefault((row.cloud, row.item, row.scope), []).append(row)
    for tiers in grouped.values():
        expected: float | None = 0.0
        for tier in tiers:
            first = tiers[0]
            if tier.unit != first.unit:
                raise NetworkPriceError(tier.line, f"unit {tier.unit} differs from {first.unit} on line {first.line}")
            if expected is None or tier.from_gb != expected:
                reach = "an open-ended tier" if expected is None else f"{expected:g}"
                raise NetworkPriceError(tier.line, f"tier starts at {tier.from_gb:g} but the previous one ends at "
                                        f"{reach} (tiers of one item and scope are listed in order and contiguous)")
            expected = tier.to_gb


def _candidates(scope: str | Sequence[str] | None) -> tuple[str, ...]:
    if scope is None:
        return ()
    return (scope,) if isinstance(scope, str) else tuple(scope)


def _float(text: str, field: str, line: int) -> float:
    try:
        return float(text)
    except ValueError:
        raise NetworkPriceError(line, f"{field} {text!r} is not a number") from None


def _number(value: float | None) -> str:
    return "inf" if value is None else f"{value:g}"
