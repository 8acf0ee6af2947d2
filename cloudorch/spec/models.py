"""Stack-file models. Frozen, unknown fields forbidden, a discriminated union on ``kind``.

Field names are a public contract (users' stack files and the JSON Schema from ``cloudorch schema``):
add fields freely, never rename.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, Strict, field_validator, model_validator
from pydantic_core import PydanticCustomError

from cloudorch.spec.yamlsource import UnquotedExponent
from cloudorch.inputs import MAX_ACCELERATORS, MAX_DAYS, MAX_GB_MONTH, MAX_MEMORY_GB, MAX_MONTHLY_USD, MAX_REPLICAS, MAX_VCPUS

NAME_RE = r"^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$"
NAME_PATTERN = re.compile(NAME_RE)
_NAME = NAME_PATTERN

def _no_double_dash(value: str) -> str:
    # several clouds reject "--" in the names derived from stack names (RDS identifiers, storage accounts)
    if "--" in value:
        raise ValueError(f"{value!r} is not a valid name: no two dashes in a row")
    return value


Name = Annotated[str, Field(pattern=NAME_RE, description="lower-case letters, digits and single dashes; 1-40 characters"),
                 AfterValidator(_no_double_dash)]
Tags = dict[Annotated[str, Field(min_length=1, max_length=63)], Annotated[str, Field(max_length=255)]]

#: private address space: RFC 1918 and IPv6 unique-local addresses. Deliberately not Python's
#: ``is_private``, which also counts documentation ranges (RFC 5737), benchmarking and other special
#: ranges: a stack that names 203.0.113.0/24 stands for a public office range, and CGNAT (100.64.0.0/10)
#: reaches a cloud over the internet. Anything outside this list is treated as the internet's.
PRIVATE_RANGES = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"))


def in_private_space(cidr: str) -> bool:
    """True when every address of ``cidr`` is private address space (``PRIVATE_RANGES``)."""
    net = ipaddress.ip_network(cidr, strict=False)
    return any(net.version == p.version and net.subnet_of(p) for p in PRIVATE_RANGES)  # type: ignore[arg-type]


def _number(expected: str) -> BeforeValidator:
    """What makes a field a number of a stack file: pydantic's lax mode would read `true` as 1 and "2" as 2,
    where a stack file's author wrote a boolean (YAML's `yes`, `on`) or quoted a number by mistake;
    cloudorch.toml refuses both (strict), a stack file must too. Not the models' ``strict=True``: that
    would also refuse an int for a float field, which every YAML reader means as a number."""

    def refuse(value: Any) -> Any:
        if isinstance(value, UnquotedExponent):
            return value.number
        if isinstance(value, bool):  # before str: bool is also an int, which the field would take as 0 or 1
            raise PydanticCustomError("number_is_bool", "expected {expected}, got a boolean", {"expected": expected})
        if isinstance(value, str):
            raise PydanticCustomError("number_is_string", "expected {expected}, got a string", {"expected": expected})
        return value

    return BeforeValidator(refuse)


#: the last word of every number field's ``Annotated`` (tests/spec/test_strict_numbers.py checks every
#: field): an int or a float, never a boolean or a string; a whole float (2.0, 1e3) still fills an int.
#: Last, so that it wraps the field's bounds: before them, pydantic would check the bounds in a function
#: of its own and the JSON Schema would lose its minimum and maximum
INT = _number("an integer")
FLOAT = _number("a number")
#: a yes/no field of a stack file: true or false, never 1 or "yes" (lax mode would read both as true)
Flag = Annotated[bool, Strict()]

# Every number has an upper bound (README, "Limits"): past them, prices and counts overflow the solver or
# make the search for a way out of an infeasible stack take a step per replica for a billion replicas.
Replicas = Annotated[int, Field(gt=0, le=MAX_REPLICAS), INT]
GbMonth = Annotated[float, Field(ge=0, le=MAX_GB_MONTH), FLOAT]
Days = Annotated[int, Field(gt=0, le=MAX_DAYS), INT]


class Model(BaseModel):
    # .inf and .nan are valid YAML floats, never a valid size or price
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, allow_inf_nan=False)


class Spread(Model):
    """How replicas spread across failure domains."""

    min_clouds: Replicas = 1
    min_regions: Replicas = 1
    max_per_region: Replicas | None = None
    max_per_cloud: Replicas | None = None


class Ingress(Model):
    """Who may connect in. ``from`` is ``internet``, a CIDR, or another resource's name."""

    port: Annotated[int, Field(ge=1, le=65535), INT]
    to_port: Annotated[int, Field(ge=1, le=65535), INT] | None = Field(
        default=None, description="last port of a range starting at `port`"
    )
    protocol: Literal["tcp", "udp"] = "tcp"
    from_: str = Field(alias="from", min_length=1)
    gb_month: GbMonth = Field(
        default=0, description="GB a month the `from` resource sends over this flow (billed at the sender); "
                               "only for a flow from another resource")

    @field_validator("from_")
    @classmethod
    def _source_shape(cls, value: str) -> str:
        if value == "internet" or _NAME.match(value):
            return value
        try:
            ipaddress.ip_network(value, strict=True)
        except ValueError as exc:
            raise ValueError(f"must be `internet`, a CIDR or a resource name ({exc})") from None
        return value

    @model_validator(mode="after")
    def _range_order(self) -> Ingress:
        if self.to_port is not None and self.to_port < self.port:
            raise ValueError("to_port must not be below port")
        if self.gb_month and self.source_kind != "resource":
            raise ValueError("gb_month is the traffic of a flow between two resources of the stack; internet "
                             "traffic a resource sends is its egress_gb_month")
        return self

    @property
    def source_kind(self) -> Literal["internet", "cidr", "resource"]:
        if self.from_ == "internet":
            return "internet"
        return "resource" if _NAME.match(self.from_) else "cidr"

    @property
    def is_world_open(self) -> bool:
        return self.from_ == "internet" or self.from_ in ("0.0.0.0/0", "::/0")

    @property
    def last_port(self) -> int:
        return self.to_port or self.port

    @property
    def ports_text(self) -> str:
        """``22`` or ``1000-2000``: how a message names the rule's ports."""
        return f"{self.port}" if self.last_port == self.port else f"{self.port}-{self.last_port}"

    @property
    def from_outside_private_space(self) -> bool:
        """Admits addresses outside private space (the internet, or any CIDR not wholly private): the
        resource then needs a public address to be reached at all."""
        return self.source_kind == "internet" or (self.source_kind == "cidr" and not in_private_space(self.from_))


class Health(Model):
    """How a balancer decides a replica can take traffic: an HTTP(S) GET of ``path`` answered 2xx/3xx, or
    (without a path) a TCP connection to ``port``."""

    path: Annotated[str, Field(pattern=r"^/[\x21-\x7e]{0,254}$")] | None = Field(
        default=None, description="HTTP path probed on each replica, e.g. /healthz; tcp services give none")
    port: Annotated[int, Field(ge=1, le=65535), INT] | None = Field(
        default=None, description="port probed; default: the replicas' backend_port")
    # bounds every cloud accepts: ALB 5-300 s, Application Gateway 1-86400 s, GCP 1-300 s; thresholds 2-10
    interval_s: Annotated[int, Field(ge=5, le=300), INT] = 30
    healthy_threshold: Annotated[int, Field(ge=2, le=10), INT] = 3
    unhealthy_threshold: Annotated[int, Field(ge=2, le=10), INT] = 3


class Serve(Model):
    """The resource serves clients on the internet through a load balancer in every location hosting its
    replicas; the replicas themselves get no public address and admit only their balancer."""

    protocol: Literal["http", "https", "tcp"] = "https"
    port: Annotated[int, Field(ge=1, le=65535), INT] | None = Field(
        default=None, description="port clients connect to; default 443 for https, 80 for http, backend_port for tcp")
    backend_port: Annotated[int, Field(ge=1, le=65535), INT] = Field(
        default=80, description="port the replicas listen on (plain HTTP or TCP: the balancer ends TLS)")
    health: Health = Health()
    name: Annotated[str, Field(pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$",
                               max_length=120)] | None = Field(
        default=None, description="host name under the stack's dns zone (`www` -> www.<zone>): one name over "
                                  "every location's balancer; https needs one (the certificate is for it)")
    waf: Flag | None = Field(default=None, description="a web application firewall (managed rule sets) in front "
                             "of http(s) balancers; default: on when the pci-dss policy pack is used")
    access_logs: Flag = Field(default=True, description="the balancer logs every request (kept a year)")
    deletion_protection: Flag = Field(default=True, description="the balancer refuses deletion (set false before "
                                                                "destroy)")
    gb_month: GbMonth = Field(default=0, description="GB a month the balancers process (requests and responses, "
                                                     "all locations), for the cost")
    requests_million_month: Annotated[float, Field(ge=0, le=1e7), FLOAT] = Field(
        default=0, description="millions of requests a month (all locations), for the WAF's and DNS's cost")

    @model_validator(mode="after")
    def _health_of_protocol(self) -> Serve:
        if self.protocol == "tcp" and self.health.path is not None:
            raise ValueError("a tcp balancer probes a port, not an HTTP path: leave health.path out")
        if self.protocol == "tcp" and self.waf:
            raise ValueError("a WAF inspects HTTP requests; a tcp balancer has none (set waf: false or leave it out)")
        return self

    @property
    def listen_port(self) -> int:
        if self.port is not None:
            return self.port
        return {"https": 443, "http": 80}.get(self.protocol, self.backend_port)

    @property
    def listen_ports(self) -> tuple[int, ...]:
        """Every port its balancers listen on: ``listen_port``, and 80 redirecting to it for https."""
        return tuple(sorted({self.listen_port} | ({80} if self.protocol == "https" else set())))

    def waf_on(self, packs: list[str]) -> bool:
        """Whether a WAF is rendered: as asked, else on for http(s) when the pci-dss pack is in use."""
        if self.waf is not None:
            return self.waf
        return self.protocol != "tcp" and "pci-dss" in packs


class Dns(Model):
    """One global name: a DNS zone the stack renders and how its records steer clients over locations."""

    zone: Annotated[str, Field(pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", max_length=200)] = Field(
        description="the zone's domain, e.g. shop.example.com (delegate it to the name servers the plan outputs)")
    provider: Name = Field(description="the cloud whose DNS serves the zone: aws, azure, gcp (an installed provider)")
    steering: Literal["latency", "weighted", "failover"] = Field(
        default="latency", description="latency: the nearest healthy location; weighted: by replica count; "
                                       "failover: the first healthy location in `order`")
    order: list[Annotated[str, Field(min_length=1)]] = Field(
        default=[], description="failover: regions (or clouds) in order of preference; unnamed locations follow")
    queries_million_month: Annotated[float, Field(ge=0, le=1e7), FLOAT] | None = Field(
        default=None, description="millions of DNS queries a month the zone answers, for the cost (resolvers cache "
                                  "answers for the records' 60 s: far fewer than requests); unset: the queries are "
                                  "listed as unpriced")

    @model_validator(mode="after")
    def _order_for_failover(self) -> Dns:
        if self.order and self.steering != "failover":
            raise ValueError("order is the preference of failover steering; set steering: failover or drop it")
        return self


class Accelerator(Model):
    type: Annotated[str, Field(min_length=1, description="accelerator model, e.g. A100, T4, L4")]
    count: Annotated[int, Field(gt=0, le=MAX_ACCELERATORS), INT] = 1


class Network(Model):
    kind: Literal["network"]
    cidr: str = Field(description="IPv4 address space, e.g. 10.40.0.0/16; split per cloud and region")
    links: list[str] = Field(default=[], description="other networks of the stack joined to this one: flows "
                             "between their resources get private links (their address spaces must not overlap)")
    tags: Tags = {}

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            net = ipaddress.IPv4Network(value, strict=True)
        except ValueError as exc:
            raise ValueError(f"not a valid IPv4 CIDR ({exc})") from None
        if net.prefixlen > 20:
            raise ValueError("must be /20 or larger (it is split into one block per cloud and region)")
        if not in_private_space(value):
            raise ValueError("must be a private range (10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16)")
        return value

    @property
    def ip_network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.cidr)


class _Placed(Model):
    """Fields shared by the kinds the planner places."""

    near: str | None = Field(default=None, description="co-locate (same cloud and region) with this resource")
    egress_gb_month: GbMonth = Field(
        default=0, description="GB a month this resource sends to the internet (all replicas together), "
                               "for the cost -- a served resource's leave through its balancers, past no NAT; "
                               "traffic to other resources is their ingress entries' gb_month")
    tags: Tags = {}
    customer_managed_key: Flag = Field(
        default=False, description="encrypt the data at rest (disks, database storage, objects) with a key of the "
                                   "stack's own, rotated yearly, instead of the cloud's service key (AWS KMS)")


class Compute(_Placed):
    kind: Literal["compute"]
    network: str
    count: Replicas = 1
    cpu: Annotated[int, Field(gt=0, le=MAX_VCPUS), INT]
    memory_gb: Annotated[float, Field(gt=0, le=MAX_MEMORY_GB), FLOAT]
    image: str = "ubuntu-24.04"
    disk_gb: Annotated[int, Field(ge=10, le=16384, description="boot disk; the clouds' images need at least 10 GB"), INT] = 20
    arch: Literal["x86_64", "arm64"] = "x86_64"
    spot: Flag = False
    burstable: Flag = Field(default=False, description="allow burstable and shared-core machine types (AWS t*, Azure "
                            "B*, GCP e2-micro/small/medium, f1-micro, g1-small): cheaper, but their CPU is shared or "
                            "runs on credits, so a steady load gets less than it asked for")
    accelerator: Accelerator | None = None
    spread: Spread = Spread()
    apart: list[str] = Field(default=[], description="never share a region with these resources")
    ingress: list[Ingress] = []
    serve: Serve | None = Field(default=None, description="serve internet clients through a load balancer per "
                                "location (and one global name); replicas get no public address")


#: major versions every cloud offers as a managed service (RDS, Azure flexible server, Cloud SQL)
ENGINE_VERSIONS = {"postgres": ("13", "14", "15", "16", "17"), "mysql": ("8.0",)}


class Database(_Placed):
    kind: Literal["database"]
    network: str
    engine: Literal["postgres", "mysql"]
    version: str
    cpu: Annotated[int, Field(gt=0, le=MAX_VCPUS), INT] = 2
    memory_gb: Annotated[float, Field(gt=0, le=MAX_MEMORY_GB), FLOAT] = 8
    storage_gb: Annotated[int, Field(ge=20, le=16384, description="managed databases start at 20 GB"), INT] = 20
    backup_days: Annotated[int, Field(ge=0, le=35), INT] = 7
    high_availability: Flag = False
    deletion_protection: Flag = Field(default=True, description="refuse deletion (set false before destroy)")
    ingress: list[Ingress] = []
    enhanced_monitoring: Flag = Field(default=True, description="operating-system metrics every 60 s (RDS "
                                      "enhanced monitoring; the other clouds collect them unasked)")
    performance_insights: Flag = Field(default=True, description="query performance history (RDS Performance "
                                       "Insights, 7 days free; Cloud SQL Query Insights)")
    iam_authentication: Flag = Field(default=True, description="logins with the cloud's identities besides the "
                                     "password (RDS IAM, Cloud SQL IAM, Entra ID on Azure PostgreSQL)")
    statement_logging: Literal["none", "ddl", "mod", "all"] = Field(
        default="ddl", description="PostgreSQL statements written to the server log (log_statement): ddl "
                                   "records every schema change; mod adds data changes, all every query")

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not re.fullmatch(r"\d+(\.\d+)?", value):
            raise ValueError('must be a major version such as "16" or "8.0" (quote it in YAML)')
        return value

    @model_validator(mode="after")
    def _version_of_engine(self) -> Database:
        supported = ENGINE_VERSIONS[self.engine]
        if self.version not in supported:
            raise ValueError(f"{self.engine} {self.version} is not offered as a managed database on all three "
                             f"clouds; use one of {', '.join(supported)}")
        return self

    @model_validator(mode="after")
    def _statement_logging_of_engine(self) -> Database:
        if self.engine != "postgres" and "statement_logging" in self.model_fields_set:
            raise ValueError("statement_logging is PostgreSQL's log_statement; mysql has no such setting (leave it out)")
        return self


class Lifecycle(Model):
    """What happens to objects as they age: moved to a colder (cheaper, slower to read) class, deleted."""

    archive_after_days: Days | None = Field(default=None, description="move objects to the cloud's "
                                                   "infrequent-access class this many days after they are written")
    delete_after_days: Days | None = Field(default=None, description="delete objects this many days "
                                                  "after they are written")
    delete_versions_after_days: Days | None = Field(
        default=None, description="delete replaced (noncurrent) versions this many days after they are replaced")

    @model_validator(mode="after")
    def _some_rule(self) -> Lifecycle:
        if all(v is None for v in (self.archive_after_days, self.delete_after_days, self.delete_versions_after_days)):
            raise ValueError("give at least one of archive_after_days, delete_after_days, delete_versions_after_days")
        if self.archive_after_days and self.delete_after_days and self.delete_after_days <= self.archive_after_days:
            raise ValueError("delete_after_days must come after archive_after_days")
        return self


class Bucket(_Placed):
    kind: Literal["bucket"]
    versioning: Flag = False
    public: Flag = Field(default=False, description="public content; policies judge it")
    size_gb: GbMonth = Field(default=0, description="expected stored data, for the cost estimate")
    access_logs: Flag = Field(default=False, description="record every request to the objects in a log bucket "
                              "of its own, beside it (AWS server access logs, Cloud Storage usage logs)")
    lifecycle: Lifecycle | None = Field(default=None, description="age-based archiving and expiry of objects")


Resource = Annotated[Network | Compute | Database | Bucket, Field(discriminator="kind")]
RESOURCE_KINDS = ("network", "compute", "database", "bucket")


class PlacementSettings(Model):
    clouds: list[Name] | None = Field(default=None, description="candidate clouds; default: every installed provider")
    geo: list[Annotated[str, Field(pattern=r"^[a-z]+$")]] | None = Field(
        default=None, description="residency: only regions in these geographies (us, eu, apac)"
    )
    regions: list[str] | None = Field(default=None, description="allow-list of regions")
    exclude_regions: list[str] = []
    objective: Literal["cost", "availability", "balanced"] = "cost"
    cross_cloud: Literal["allow", "forbid"] = Field(
        default="allow", description="forbid: resources joined by a flow share a cloud (no cross-cloud link)")


class Waiver(Model):
    policy: str = Field(min_length=1, description="policy id, e.g. network.public-ingress")
    resource: str = Field(default="*", min_length=1, description="resource name or glob")
    reason: str = Field(min_length=1)
    owner: str = Field(min_length=1)
    expires: dt.date


class PolicySettings(Model):
    packs: list[str] = ["baseline"]
    waivers: list[Waiver] = []
    enforcement: dict[str, Literal["advisory", "mandatory", "disabled"]] = Field(
        default={}, description="override enforcement per policy id or pack name"
    )


class Budget(Model):
    monthly_usd: Annotated[float, Field(gt=0, le=MAX_MONTHLY_USD), FLOAT] | None = None


class Stack(Model):
    stack: Name
    description: str = ""
    tags: Tags = {}
    placement: PlacementSettings = PlacementSettings()
    policies: PolicySettings = PolicySettings()
    budget: Budget = Budget()
    dns: Dns | None = Field(default=None, description="the zone of the global names served resources ask for")
    resources: dict[Name, Resource] = Field(min_length=1)
    # Workflows (cloudorch.workflow): the stacks whose outputs this one reads, by a local alias. A value
    # then names an output as ``${ALIAS.outputs.KEY}`` (KEY may continue with ``.PART``s into a mapping).
    uses: dict[Name, Annotated[str, Field(min_length=1, pattern=r"\.ya?ml$")]] = Field(
        default={}, description="stacks whose outputs this stack reads, alias -> stack file (relative to this "
        "file); a value refers to an output as ${ALIAS.outputs.KEY}; a workflow applies them first")
