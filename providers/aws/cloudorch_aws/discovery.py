"""Live discovery from an AWS account through boto3 (imported here, lazily, only when discovery runs).

Per region: the zones (``describe_availability_zones``), machine types (``describe_instance_types``) and
the zones offering each (``describe_instance_type_offerings`` by zone; a type no zone offers is a
restriction), spot prices per zone (``describe_spot_price_history``, the latest of each), Linux on-demand
prices (the Price List API's ``get_products``) and the EC2 vCPU quotas (Service Quotas
``list_service_quotas``) with what the account runs under each (its running instances' vCPUs). With the
offerings, spot placement scores (``get_spot_placement_scores``, ``spot_scores``): see ``_Run.spot_scores``.

Credentials and endpoints are boto3's own: its standard chain, and ``AWS_ENDPOINT_URL`` /
``AWS_ENDPOINT_URL_<SERVICE>`` for private endpoints, proxies and tests. Throttling and 5xx answers are
retried by botocore's standard retry mode (exponential backoff with jitter, honouring the service's
throttling codes), so no second retry layer is stacked on it.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from cloudorch.catalog.live import OFFERINGS, SOURCE_FIELDS, MachineType, Price, Quota, Restriction, SpotScore
from cloudorch.catalog.model import Region, geo_of_region_name
from cloudorch.provider import Discovered, Discovery, DiscoveryScope

#: the Price List API answers in these regions only; us-east-1 serves every region's prices
PRICING_REGION = "us-east-1"
LINUX_ON_DEMAND = {"operatingSystem": "Linux", "tenancy": "Shared", "preInstalledSw": "NA", "capacitystatus": "Used",
                   "licenseModel": "No License required"}

#: EC2's On-Demand vCPU quotas by Service Quotas code: the name users see
ON_DEMAND_QUOTAS: dict[str, str] = {
    "L-1216C47A": "standard (A, C, D, H, I, M, R, T, Z)", "L-74FC7D96": "F", "L-DB2E81BA": "G and VT",
    "L-1945791B": "Inf", "L-417A185B": "P", "L-7295265B": "X", "L-6E869C2A": "DL", "L-2C3B7624": "Trn",
    "L-F7808C92": "HPC",
}
#: a family's leading letters -> its quota, longest prefix first (dl before d, hpc before h); the rest of
#: "acdhimrtz" is the standard group; mac and u- (high memory) have quotas of their own, not tracked here
_QUOTA_PREFIXES = (("inf", "L-1945791B"), ("trn", "L-2C3B7624"), ("hpc", "L-F7808C92"), ("mac", None), ("dl", "L-6E869C2A"),
                   ("vt", "L-DB2E81BA"), ("g", "L-DB2E81BA"), ("p", "L-417A185B"), ("f", "L-74FC7D96"),
                   ("x", "L-7295265B"), ("u", None))
_STANDARD = "acdhimrtz"
#: describe_instance_types takes at most 100 InstanceTypes by name (botocore's ec2 model)
TYPES_PER_CALL = 100
#: get_spot_placement_scores takes at most 10 RegionNames (botocore's ec2 model: ``RegionNames`` max 10)
SCORE_REGIONS_PER_CALL = 10
#: AWS scores fewer than three instance types low whatever the capacity (its API reference), so a family
#: with fewer spot-capable sizes is not asked about: no score (neutral) beats a misleading one
MIN_TYPES_SCORED = 3
#: score calls in flight at once: each is one small round trip, so a handful hides the latency (a refresh
#: of every region makes ~3 per family) without a burst that botocore's retries would have to absorb
SCORE_CALLS_AT_ONCE = 4
#: what each score is asked for: one instance, the question placement asks per replica
SCORE_TARGET_CAPACITY = 1
#: the account lacks the permission, or spot placement scores are not offered to it: asking again is useless
_DENIED = {"UnauthorizedOperation", "AccessDenied", "AccessDeniedException", "OptInRequired", "AuthFailure"}
#: AWS limits how many new score configurations (instance types, capacity) an account may ask a day; the
#: same ones may be asked again. Past the limit it answers this code until the next day.
_CONFIGURATIONS_SPENT = "MaxConfigLimitExceeded"
#: the families to ask scores for (comma-separated, e.g. ``g6,p5``): the way to stay within that limit
SCORE_FAMILIES_VARIABLE = "CLOUDORCH_AWS_SPOT_SCORE_FAMILIES"


def _before_first_gap(answered: list) -> int:
    """How many calls were answered before the one that failed, in call order: the same on every run, where
    how many later calls in flight got their answer in depends on timing."""
    return next((i for i, a in enumerate(answered) if a is None), len(answered))


def _unscored(exc: Exception, done: int, calls: int) -> str:
    """What a failed score call leaves: nothing to add when the account may not ask at all."""
    code = exc.response.get("Error", {}).get("Code") if isinstance(getattr(exc, "response", None), dict) else None
    if code in _DENIED:
        return ""
    left = f" ({done} of {calls} score calls answered; none kept, so no family stands scored beside unscored ones)"
    if code == _CONFIGURATIONS_SPENT:
        left += (f"; AWS limits new score configurations per account a day: name the families worth scoring in "
                 f"{SCORE_FAMILIES_VARIABLE} (e.g. g6,p5)")
    return left


def quota_code_of(instance_type: str) -> str | None:
    """The On-Demand quota an instance type counts against (``g6.xlarge`` -> G and VT), None if untracked."""
    letters = re.match(r"[a-z]*", instance_type).group(0)
    for prefix, code in _QUOTA_PREFIXES:
        if letters.startswith(prefix):
            return code
    return "L-1216C47A" if letters[:1] and letters[0] in _STANDARD else None


class AwsDiscovery(Discovery):
    scopes = frozenset(DiscoveryScope)

    def __init__(self, session_factory: Callable[[], Any] | None = None) -> None:
        self._session_factory = session_factory

    def _session(self):
        if self._session_factory is not None:
            return self._session_factory()
        import boto3

        return boto3.Session()

    def unavailable(self) -> str | None:
        try:
            credentials = self._session().get_credentials()
        except Exception as exc:  # a broken profile file: one line, never a traceback
            return f"AWS credentials cannot be read: {type(exc).__name__}: {exc}"
        if credentials is None:
            return "no AWS credentials (environment, shared profile or instance role)"
        return None

    def endpoints(self) -> dict[str, str]:
        """boto3's own resolution (``AWS_ENDPOINT_URL_<SERVICE>``, ``AWS_ENDPOINT_URL``, the profile's
        ``services`` section, else the public endpoint): a client is made per service, nothing is called."""
        run = _Run(self._session())
        region = run.session.region_name or PRICING_REGION
        return {service: run.client(service, PRICING_REGION if service == "pricing" else region).meta.endpoint_url
                for service in ("ec2", "pricing", "service-quotas")}

    def discover(self, regions: Sequence[str], scopes: frozenset[DiscoveryScope]) -> Discovered:
        run = _Run(self._session())
        names = list(regions) or run.all_regions()
        found: dict[str, list] = defaultdict(list)
        fetched_at: dict[str, float] = {}
        for scope in sorted(scopes & self.scopes):
            fetched_at[scope] = time.time()
            for region in names:
                try:
                    for name, rows in run.read(scope, region).items():
                        found[name] += rows
                except Exception as exc:  # noqa: BLE001 - one region's failure is a gap, said, not a crash
                    run.missing.append(f"{scope} {region}: {_reason(exc)}")
            if scope == OFFERINGS:
                found["spot_scores"] += run.spot_scores([r for r in names if r in run.types])
        fields = {name: tuple(found[name]) for scope in fetched_at for name in SOURCE_FIELDS[scope]}
        return Discovered(cloud="aws", fetched_at=fetched_at, missing=tuple(run.missing), requests=run.requests,
                          **fields)


def _reason(exc: Exception) -> str:
    """One line: the AWS error code and message when it is a service error, else the exception's text."""
    error = getattr(exc, "response", {}).get("Error", {}) if hasattr(exc, "response") else {}
    if error:
        return f"{error.get('Code', 'error')}: {error.get('Message', '')}".strip()
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


class _Run:
    """One discovery run: the clients it made (one per service and region) and what it counted."""

    def __init__(self, session) -> None:
        from botocore.config import Config

        self.session = session
        # standard mode: exponential backoff with jitter on throttling and 5xx; bounded so a dead endpoint
        # costs seconds, not minutes
        self.config = Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=5, read_timeout=30)
        self.clients: dict[tuple[str, str], Any] = {}
        self.requests = 0
        self.counting = threading.Lock()
        self.missing: list[str] = []
        self.types: dict[str, dict[str, dict]] = {}

    def client(self, service: str, region: str):
        if (service, region) not in self.clients:
            self.clients[(service, region)] = self.session.client(service, region_name=region, config=self.config)
        return self.clients[(service, region)]

    def pages(self, service: str, region: str, operation: str, key: str, **kwargs: Any) -> Iterator[Any]:
        paginator = self.client(service, region).get_paginator(operation)
        for page in paginator.paginate(**kwargs):
            with self.counting:  # score calls count from several threads
                self.requests += 1
            yield from page.get(key, [])

    def all_regions(self) -> list[str]:
        self.requests += 1
        answer = self.client("ec2", PRICING_REGION).describe_regions(
            Filters=[{"Name": "opt-in-status", "Values": ["opt-in-not-required", "opted-in"]}])
        return sorted(r["RegionName"] for r in answer["Regions"])

    def read(self, scope: str, region: str) -> dict[str, list]:
        return getattr(self, f"_{scope}")(region)

    def _zones(self, region: str) -> dict[str, list]:
        self.requests += 1
        answer = self.client("ec2", region).describe_availability_zones(
            Filters=[{"Name": "zone-type", "Values": ["availability-zone"]}])
        zones = tuple(sorted(z["ZoneName"] for z in answer["AvailabilityZones"] if z.get("State", "available") == "available"))
        return {"regions": [Region("aws", region, geo_of_region_name(region), zones, region)]}

    def _instance_types(self, region: str) -> dict[str, dict]:
        if region not in self.types:
            self.types[region] = {t["InstanceType"]: t for t in self.pages("ec2", region, "describe_instance_types",
                                                                           "InstanceTypes")}
        return self.types[region]

    def _running_types(self, region: str, names: set[str]) -> dict[str, dict]:
        """What the quotas need of the types running without CpuOptions: their default vCPUs. Asked by name
        (100 a call, the API's limit) rather than listed whole: a region lists ~1,400 types over ~10 pages,
        read again for every quotas refresh, where an account runs a few."""
        if region in self.types or not names:
            return self.types.get(region, {})
        ordered = sorted(names)
        return {t["InstanceType"]: t for start in range(0, len(ordered), TYPES_PER_CALL)
                for t in self.pages("ec2", region, "describe_instance_types", "InstanceTypes",
                                    InstanceTypes=ordered[start:start + TYPES_PER_CALL])}

    def _offerings(self, region: str) -> dict[str, list]:
        zones_of: dict[str, set[str]] = defaultdict(set)
        for offer in self.pages("ec2", region, "describe_instance_type_offerings", "InstanceTypeOfferings",
                                LocationType="availability-zone"):
            zones_of[offer["InstanceType"]].add(offer["Location"])
        machines, restrictions = [], []
        for name, info in sorted(self._instance_types(region).items()):
            zones = tuple(sorted(zones_of.get(name, ())))
            machines.append(_machine(region, info, zones))
            if not zones:
                restrictions.append(Restriction(region, name, f"no availability zone of {region} offers it to this account"))
        return {"machines": machines, "restrictions": restrictions}

    def spot_scores(self, regions: Sequence[str]) -> list[SpotScore]:
        """Spot placement scores of each family of spot-capable types, per region.

        A score rates a set of types together, so asking per type would rate every type low (AWS scores
        one or two types low by design); asking for every type at once would rate only the whole region.
        A family (``g6``: its sizes) is the set a spot request for one of its sizes could fall back on,
        and what placement chooses between, so each of its types gets the family's score (every generation:
        an unscored type would stand at full availability beside scored ones, so as few as possible are
        left out -- only families of fewer than three spot types, ``MIN_TYPES_SCORED``). Regions go 10 to
        a call (the API's limit); the answer pages by NextToken. ``CLOUDORCH_AWS_SPOT_SCORE_FAMILIES``
        narrows the families asked: AWS limits the new configurations an account may ask a day (answering
        ``MaxConfigLimitExceeded`` past it), so an account meeting that limit names the few families worth
        scoring. A denied permission stops the reading with one line in ``missing``; any other failure
        (throttling past botocore's retries, the daily limit) does too and keeps no score at all, so no
        family stands scored beside unscored ones: the offerings are read either way.
        """
        calls = self._score_calls(regions)
        answered, failure = self._ask_in_order(calls)
        if failure is not None:
            self.missing.append(f"spot placement scores not read: {_reason(failure)}"
                                f"{_unscored(failure, _before_first_gap(answered), len(calls))}")
            # all or none: a family scored beside unscored ones (or in some regions only) would stand
            # less available than they do for want of a score, not for want of capacity
            return []
        return [score for scores in answered for score in scores]

    def _score_calls(self, regions: Sequence[str]) -> list[tuple[list[str], str, list[str]]]:
        """(regions, family, its spot types) of each score call, in the order their scores are kept."""
        wanted = {f.strip() for f in os.environ.get(SCORE_FAMILIES_VARIABLE, "").split(",") if f.strip()}
        calls = []
        for start in range(0, len(regions), SCORE_REGIONS_PER_CALL):
            batch = sorted(regions[start:start + SCORE_REGIONS_PER_CALL])
            families: dict[str, set[str]] = defaultdict(set)
            for region in batch:
                for name, info in self.types[region].items():
                    if "spot" in info.get("SupportedUsageClasses", ()):
                        families[name.split(".")[0]].add(name)
            calls += [(batch, family, sorted(types)) for family, types in sorted(families.items())
                      if len(types) >= MIN_TYPES_SCORED and (not wanted or family in wanted)]
        return calls

    def _ask_in_order(self, calls: list[tuple[list[str], str, list[str]]]
                      ) -> tuple[list[list[SpotScore] | None], Exception | None]:
        """Each call's scores (None: not answered) and the first failure in call order, if any.

        The calls are independent round trips, so after the first a few go at once
        (``SCORE_CALLS_AT_ONCE``); results are kept by position, never by arrival. The first goes alone so
        that an account denied the permission is asked once, not once per worker. After a failure, calls
        not yet started are never made and those in flight are waited for (each bounded by the client's
        timeouts and retries)."""
        from concurrent.futures import ThreadPoolExecutor

        answered: list[list[SpotScore] | None] = [None] * len(calls)
        for batch, _, _ in calls:
            self.client("ec2", batch[0])  # made here: creating a client is not thread-safe, using one is
        try:
            if calls:
                answered[0] = self._scores(*calls[0])
        except Exception as exc:  # noqa: BLE001 - an availability signal lost is a gap, said, not a crash
            return answered, exc
        failure = None
        with ThreadPoolExecutor(max(1, min(SCORE_CALLS_AT_ONCE, len(calls) - 1))) as pool:
            futures = [pool.submit(self._scores, *call) for call in calls[1:]]
            for future in futures:
                failure = future.exception()
                if failure is not None:
                    pool.shutdown(cancel_futures=True)
                    break
        for index, future in enumerate(futures, 1):
            if future.done() and not future.cancelled() and future.exception() is None:
                answered[index] = future.result()
        return answered, failure

    def _scores(self, batch: list[str], family: str, types: list[str]) -> list[SpotScore]:
        """One family's scores in one batch of regions, every page of them (a worker of ``spot_scores``)."""
        scores = []
        for item in self.pages("ec2", batch[0], "get_spot_placement_scores", "SpotPlacementScores",
                               InstanceTypes=types, TargetCapacity=SCORE_TARGET_CAPACITY,
                               SingleAvailabilityZone=False, RegionNames=batch):
            region, score = item.get("Region"), item.get("Score")
            if region in batch and score is not None:
                scores += [SpotScore(region, t, int(score), family, SCORE_TARGET_CAPACITY)
                           for t in types if t in self.types.get(region, {})]
        return scores

    def _prices(self, region: str) -> dict[str, list]:
        prices = []
        filters = [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region}]
        filters += [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in LINUX_ON_DEMAND.items()]
        for item in self.pages("pricing", PRICING_REGION, "get_products", "PriceList", ServiceCode="AmazonEC2",
                               Filters=filters, FormatVersion="aws_v1"):
            price = on_demand_price(json.loads(item) if isinstance(item, str) else item)
            if price is not None:
                prices.append(Price(region, *price))
        latest: dict[tuple[str, str], tuple[Any, float]] = {}
        for row in self.pages("ec2", region, "describe_spot_price_history", "SpotPriceHistory",
                              ProductDescriptions=["Linux/UNIX"], StartTime=time.time()):
            key = (row["InstanceType"], row["AvailabilityZone"])
            if key not in latest or row["Timestamp"] > latest[key][0]:
                latest[key] = (row["Timestamp"], float(row["SpotPrice"]))
        prices += [Price(region, itype, usd, spot=True, zone=zone) for (itype, zone), (_, usd) in sorted(latest.items())]
        return {"prices": prices}

    def _quotas(self, region: str) -> dict[str, list]:
        used: dict[str, float] = defaultdict(float)
        counted = []
        for reservation in self.pages("ec2", region, "describe_instances", "Reservations",
                                      Filters=[{"Name": "instance-state-name", "Values": ["pending", "running"]}]):
            for instance in reservation.get("Instances", []):
                if instance.get("InstanceLifecycle") == "spot":
                    continue  # spot instances count against the Spot quotas, not these
                code = quota_code_of(instance["InstanceType"])
                if code is not None:
                    counted.append((code, instance))
        types = self._running_types(region, {i["InstanceType"] for _, i in counted if not (i.get("CpuOptions") or {}).get("CoreCount")})
        for code, instance in counted:
            used[code] += _vcpus(instance, types.get(instance["InstanceType"], {}))
        quotas = []
        for quota in self.pages("service-quotas", region, "list_service_quotas", "Quotas", ServiceCode="ec2"):
            code = quota.get("QuotaCode", "")
            if code in ON_DEMAND_QUOTAS:
                quotas.append(Quota(region, ON_DEMAND_QUOTAS[code], float(quota["Value"]), used.get(code, 0.0), code))
        return {"quotas": quotas}


def _vcpus(instance: dict, info: dict) -> float:
    options = instance.get("CpuOptions") or {}
    if options.get("CoreCount"):
        return float(options["CoreCount"] * options.get("ThreadsPerCore", 1))
    return float(info.get("VCpuInfo", {}).get("DefaultVCpus", 0))


def _machine(region: str, info: dict, zones: tuple[str, ...]) -> MachineType:
    archs = info.get("ProcessorInfo", {}).get("SupportedArchitectures", ["x86_64"])
    arch = "arm64" if "arm64" in archs and "x86_64" not in archs else "x86_64"
    gpus = info.get("GpuInfo", {}).get("Gpus") or info.get("InferenceAcceleratorInfo", {}).get("Accelerators") or []
    accelerator = gpus[0].get("Name") if gpus else None
    return MachineType(region, info["InstanceType"], float(info["VCpuInfo"]["DefaultVCpus"]),
                       round(info["MemoryInfo"]["SizeInMiB"] / 1024, 3), arch, accelerator,
                       sum(int(g.get("Count", 0)) for g in gpus) if gpus else 0, zones)


def on_demand_price(product: dict) -> tuple[str, float] | None:
    """(instance type, USD per hour) of one Price List product, or None when it holds no hourly USD price."""
    itype = product.get("product", {}).get("attributes", {}).get("instanceType")
    if not itype:
        return None
    for term in product.get("terms", {}).get("OnDemand", {}).values():
        for dimension in term.get("priceDimensions", {}).values():
            usd = dimension.get("pricePerUnit", {}).get("USD")
            if dimension.get("unit") in ("Hrs", "Hours") and usd is not None and float(usd) > 0:
                return itype, float(usd)
    return None
