"""The library API: each function runs part of the pipeline and returns typed results.

stack file -> spec models -> resource graph -> placement -> provider rendering -> policy -> plan.
Nothing here prints or exits; errors are ``CloudorchError`` subclasses that the CLI maps to exit codes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cloudorch import __version__
from cloudorch.catalog import Catalog, load_catalog
from cloudorch.config import HINT, QUOTA_KEYS_HINT, Config, ConfigError, quota_key_problems, read_config
from cloudorch.capabilities import link_requirement
from cloudorch.errors import CloudorchError, InfeasiblePlacement, OverBudget, PluginBug, PluginError, Problem, SpecError, UsageError
from cloudorch.engine.secrets import redact_url, url_credentials
from cloudorch.graph import ResourceGraph, build_graph, flows_of
from cloudorch.journal import Journal
from cloudorch.journal.history import CAPACITY_BYTES, CAPACITY_KINDS, CapacityHistory, capacity_history
from cloudorch.network.allocation import Allocation
from cloudorch.network.links import check_gateway_limits, stack_blocks_left
from cloudorch.network.links import plan_network as plan_network_of
from cloudorch.network.model import NetworkPlan
from cloudorch.network.record import read_record, record_path, write_record
from cloudorch.placement.bill import nat_site_vms
from cloudorch.placement.candidates import PlacementSettings
from cloudorch.placement.model import PlacementResult
from cloudorch.placement.planner import plan_placement
from cloudorch.placement.rates import GatewayLimit, NetworkShape, network_rates
from cloudorch.plan import (
    CatalogInfo,
    Fingerprint,
    Plan,
    cost_of,
    explain_section,
    network_section,
    placement_entries,
    resource_entries,
    sha256_text,
)
from cloudorch.plugins import load_provider, provider_names
from cloudorch.policy import PolicySubject, blocking_error, evaluate, list_policies, load_packs
from cloudorch.policy.names import policy_name_problems
from cloudorch.project import Project, ProjectLocation, StackIdentity, locate, resolve
from cloudorch.rendering import RenderedResource
from cloudorch.plan.costs import bill_of
from cloudorch.plan.document import read_plan_file
from cloudorch.rendering.assemble import render_stack
from cloudorch.rendering.reach import MissingResources, NetworkProof, prove
from cloudorch.report import PlanDiff, diff_plans
from cloudorch.report.graph import PlanGraph, plan_graph
from cloudorch.report.html import to_html
from cloudorch.spec.loader import LoadedStack, Vocabulary, display_path, load_stack, parse_stack

#: the ``--catalog`` value that plans on the catalog discovery wrote (``catalog refresh``)
LIVE_CATALOG = "live"


@dataclass(frozen=True)
class Options:
    """Per-run options; ``None`` means "take it from the config file"."""

    catalog_dir: str | None = None
    #: the config file, which also fixes the project root; default: found from the working directory up
    config_path: str | None = None
    #: added to the config's ``policy_dirs``
    policy_dirs: tuple[str, ...] = ()
    today: dt.date | None = None
    #: the default of ``plan(explain=...)`` for this session
    explain: bool = False


@dataclass(frozen=True)
class ValidatedStack:
    file: str
    stack: str
    resources: dict[str, str]  # name -> kind
    graph: ResourceGraph = field(repr=False)


@dataclass(frozen=True)
class PlanResult:
    loaded: LoadedStack
    placement: PlacementResult
    rendered: tuple[RenderedResource, ...]
    report: Any  # cloudorch.policy report
    plan: Plan
    #: set when no placement fits the budget; the plan then shows the placement the budget rules out
    over_budget: OverBudget | None = None
    #: the network stage's plan (blocks, links, flows) and the allocation it kept or made
    network: NetworkPlan | None = None
    allocation: Allocation | None = field(default=None, repr=False)
    #: the reachability proof of the rendered network
    proof: NetworkProof | None = None
    #: capacity failures the journal recorded, as placement counted them (``cloudorch.journal.history``)
    capacity_history: tuple[CapacityHistory, ...] = ()

    @property
    def blocked(self) -> bool:
        return bool(self.report is not None and self.report.blocking)

    @property
    def warnings(self) -> tuple[str, ...]:
        """What does not stop the plan but must be seen before it is applied: recorded blocks that move.
        Not part of the plan document: once the plan is recorded, its re-derivation has nothing to warn of."""
        return tuple(r.describe() for r in self.network.renumbered) if self.network is not None else ()

    def refusal(self) -> CloudorchError | None:
        """Why this plan may not be applied, in gate order: a mandatory policy (3), then the budget (4)."""
        if self.blocked:
            return blocking_error(self.report)
        return self.over_budget


class Session:
    """What several commands share within one run: project, config, catalog, providers (each loaded once)."""

    def __init__(self, options: Options | None = None) -> None:
        self.options = options or Options()
        self._location: ProjectLocation | None = None
        self._config: Config | None = None
        self._project: Project | None = None
        self._catalog: Catalog | None = None

    @property
    def location(self) -> ProjectLocation:
        """The project root and the config file in force."""
        if self._location is None:
            self._location = locate(self.options.config_path)
        return self._location

    @property
    def config(self) -> Config:
        """The config's settings; refused with every problem of the file when any setting is of the wrong
        type or shape: those the installed clouds and the catalog find in its sound part too (the checks
        ``check_config`` makes of a config whose types are right), so no problem waits for a second run."""
        if self._config is None:
            try:
                self._config = read_config(self.location)
            except ConfigError as exc:
                found, _ = config_name_problems(self, exc.partial, exc.data, exc.problems)
                raise SpecError([*exc.problems, *found], hint=HINT) from None
        return self._config

    @property
    def project(self) -> Project:
        """The project's root and name (``cloudorch.project``); only the engine commands need it."""
        if self._project is None:
            self._project = resolve(self.location, self.config.project)
        return self._project

    def identity(self, stack: str) -> StackIdentity:
        """The identity of the stack named ``stack`` in this project: the key of its state on the backend."""
        return self.project.identity(stack)

    def policy_dirs(self) -> list[str]:
        """The config's policy directories, then the run's own."""
        return [*self.config.policy_dirs, *self.options.policy_dirs]

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = self.catalog_of(self.config)
        return self._catalog

    def catalog_of(self, config: Config) -> Catalog:
        """The catalog this run plans on, under ``config`` (the run's --catalog-dir wins over it)."""
        directory = self.options.catalog_dir or config.catalog
        adapters = {name: p.catalog_adapter() for name, p in self.providers().items()} if directory else None
        if directory == LIVE_CATALOG:
            return live_catalog(adapters or {})
        return load_catalog(directory, adapters)

    @property
    def live(self) -> bool:
        """Whether this run plans on the live catalog (``--catalog live``)."""
        return (self.options.catalog_dir or self.config.catalog) == LIVE_CATALOG

    def live_vcpu_quotas(self) -> dict[str, float]:
        """The account's vCPU quotas read by discovery ("cloud/region" -> vCPUs free), when on the live catalog."""
        if not self.live:
            return {}
        from cloudorch.catalog.cache import cache_dir
        from cloudorch.catalog.live import live_catalog_dir, read_quotas, vcpu_quotas

        return vcpu_quotas(read_quotas(live_catalog_dir(cache_dir())))

    def providers(self) -> dict[str, Any]:
        return {name: load_provider(name) for name in provider_names()}

    def vocabulary(self) -> Vocabulary:
        catalog = self.catalog
        providers = self.providers()
        return Vocabulary(
            clouds=frozenset(providers),
            regions=frozenset(r.name for r in catalog.regions),
            geos=frozenset(catalog.geos) | {"us", "eu", "apac"},
            images=frozenset(image for p in providers.values() for image in p.images),
            places=frozenset((r.cloud, r.name, r.geo) for r in catalog.regions),
        )

    def today(self) -> dt.date:
        return self.options.today or dt.date.today()


def check_config(session: Session) -> Config:
    """The config in force, with every problem of it raised at once: its types and shape (``Session.config``)
    and its names judged against the installed clouds and the catalog (quota keys, ``vpn_links_per_site``).
    ``validate`` and ``plan`` both check it, so a stack never validates under a config its plan refuses."""
    config = session.config
    problems, hint = config_name_problems(session, config, {"vcpu_quotas": config.vcpu_quotas,
                                                            "vpn_links_per_site": config.vpn_links_per_site},
                                          run_config=True)
    if problems:
        raise SpecError(problems, hint=hint)
    return config


def config_name_problems(session: Session, config: Config, tables: dict[str, Any],
                         refused: Sequence[Problem] = (), run_config: bool = False) -> tuple[list[Problem], str]:
    """What of ``config`` names no installed cloud, no catalog region or a limit no account raises, judged on
    the keys of ``tables`` (the file's own, also those whose values ``refused`` names), and the hint for them.
    With ``refused`` problems, ``config`` is the sound part of the file (``ConfigError.partial``);
    ``run_config``: ``config`` is the session's own, whose catalog the run then plans on (loaded once)."""

    def keys(name: str) -> list[str]:
        table = tables.get(name)
        return [str(key) for key in table] if isinstance(table, dict) else []

    providers = session.providers()
    quota_keys = keys("vcpu_quotas")
    problems: list[Problem] = []
    regions = None
    own_catalog = not session.options.catalog_dir
    if any("/" in key for key in quota_keys) and not (own_catalog and any(p.path == "catalog" for p in refused)):
        try:
            # the run's own catalog when judging the run's config: loaded once, the one the plan then uses
            catalog = session.catalog if run_config else session.catalog_of(config)
            regions = {(r.cloud, r.name) for r in catalog.regions}
        except UsageError as exc:
            if not own_catalog:
                raise
            # the directory the config names: a problem of its `catalog` setting, beside the others
            problems.append(config.problem(("catalog",), f"{exc}" + (f" ({exc.hint})" if exc.hint else "")))
    problems += quota_key_problems(config, quota_keys, set(providers), regions)
    problems += vpn_link_problems(providers, config, keys("vpn_links_per_site"))
    hint = (QUOTA_KEYS_HINT if problems and all(p.path.startswith("vcpu_quotas") for p in problems) else
            VPN_LINKS_HINT if problems and all(p.path.startswith("vpn_links_per_site") for p in problems) else HINT)
    return problems, hint


def validate(paths: Sequence[str | Path], session: Session | None = None) -> list[ValidatedStack]:
    """Validate stack files; every problem of every file is raised together as one SpecError."""
    session = session or Session()
    check_config(session)
    vocabulary = session.vocabulary()
    results, problems, hints = [], [], []
    for path in paths:
        try:
            loaded, graph = _load(path, session, vocabulary)
        except SpecError as exc:
            problems += exc.problems
            hints.append(exc.hint)
            continue
        results.append(ValidatedStack(
            file=str(path), stack=loaded.stack.stack,
            resources={n: r.kind for n, r in sorted(loaded.stack.resources.items())}, graph=graph,
        ))
    if problems:
        # one file's own hint (convert it to UTF-8, ...) is kept; several files' hints would not read as one
        raise SpecError(problems, hint=hints[0] if len(set(hints)) == 1 else None)
    return results


def _load(path: str | Path, session: Session, vocabulary: Vocabulary | None = None,
          text: str | None = None) -> tuple[LoadedStack, ResourceGraph]:
    """A stack file checked as far as anything is knowable before placing it: shape, references, regions,
    and the policy packs and ids it names (which only this layer, that loads packs, can tell)."""
    vocabulary = vocabulary or session.vocabulary()
    loaded = load_stack(path, vocabulary) if text is None else parse_stack(text, display_path(path), vocabulary)
    graph = build_graph(loaded.stack, loaded.file)
    problems = policy_name_problems(loaded, session.policy_dirs())
    if problems:
        raise SpecError(problems)
    return loaded, graph


def plan(path: str | Path, session: Session | None = None, *, explain: bool | None = None,
         text: str | None = None, blocked: frozenset[tuple[str, str, str]] = frozenset(),
         record: Path | None = None) -> PlanResult:
    """Run the whole pipeline for one stack and return the plan with everything that led to it.

    ``explain`` adds alternatives and exclusions to the plan (default: the session's ``Options.explain``).
    A workflow (``cloudorch.workflow``) passes ``text``, the file with its upstream outputs filled in, and
    ``blocked``, the offerings (cloud, region, instance type) that failed for lack of capacity in its run;
    a rehearsal passes ``record``, its own allocation record (``read_allocation``).
    """
    session = session or Session()
    explain = session.options.explain if explain is None else explain
    config = check_config(session)
    loaded, _ = _load(path, session, text=text)
    providers = session.providers()
    failures = journal(session).entries(kinds=CAPACITY_KINDS, containing=CAPACITY_BYTES)
    # a rehearsal's capacity failures are injected ones: no cloud ran out of anything
    history = tuple(capacity_history([e for e in failures if not e.fields.get("rehearsal")], session.today(),
                                     config.journal_half_life_days))
    shapes = network_shapes(providers, config)
    allocation = read_allocation(loaded.stack.stack, session, record)
    settings = PlacementSettings(
        clouds=tuple(sorted(providers)),
        unsupported=_asking(providers),
        # quotas typed into the config win over the ones read from the account: the user knows better
        vcpu_quotas={**session.live_vcpu_quotas(), **config.vcpu_quotas},
        capacity_failures=_capacity_failures(config, history),
        rates=network_rates(session.catalog, shapes),
        global_clouds=frozenset(name for name, p in providers.items() if p.global_network),
        blocked=blocked,
        blocks_left=stack_blocks_left(loaded.stack, allocation),
    )
    over_budget = None
    try:
        placement = plan_placement(loaded.stack, session.catalog, settings, explain_choices=explain)
    except OverBudget as exc:
        # Keep going without the budget so policies (cost.budget among them) still judge the stack and the
        # user sees what the budget rules out; the caller refuses the plan with exit 4.
        over_budget = exc
        unbudgeted = loaded.stack.model_copy(update={"budget": loaded.stack.budget.model_copy(update={"monthly_usd": None})})
        placement = plan_placement(unbudgeted, session.catalog, settings, explain_choices=explain)
    network = plan_network(loaded, placement, providers, allocation)
    _check_links_supported(network, providers)
    check_gateway_limits(network, {name: shape.vpn_gateway for name, shape in shapes.items() if shape.vpn_gateway})
    rendered = render(loaded, placement, providers, network)
    proof = prove_network(loaded, network, rendered, providers)
    report, policy_digest = check_policies(loaded, placement, rendered, session)
    plan = _build_plan(loaded, placement, rendered, report, policy_digest, session, explain, network, proof, providers)
    if explain and history:
        # what the journal taught placement is part of why things are where they are; the weights are left
        # out, as they decay daily while a saved plan must equal its re-derivation
        plan = plan.model_copy(update={"explain": {**plan.explain, "capacity_history": [h.to_dict() for h in history]}})
    return PlanResult(loaded, placement, rendered, report, plan, over_budget, network, allocation, proof, history)


def journal(session: Session) -> Journal:
    """The project's journal (``journal_url`` in the config, else ``.cloudorch/journal/`` at the root)."""
    return Journal.open(session.location.root, session.config.journal_url,
                        secrets=url_credentials(session.config.backend_url))


def _capacity_failures(config: Config, history: Sequence[CapacityHistory]) -> dict[tuple[str, str, str], float]:
    """The failures typed into the config, plus those the journal recorded (decayed): both count."""
    failures: dict[tuple[str, str, str], float] = {}
    for f in config.capacity_failures:
        key = (f.cloud, f.region, f.instance_type)
        failures[key] = failures.get(key, 0) + f.count
    for h in history:
        failures[h.offering] = failures.get(h.offering, 0) + h.weight
    return failures


def prove_network(loaded: LoadedStack, network: NetworkPlan, rendered: Sequence[RenderedResource],
                  providers: dict[str, Any]) -> NetworkProof:
    """Prove from the rendered resources that every declared flow can flow and nothing else admits the
    internet (``rendering.reach``). A flow the rendering cannot carry, or an exposure nobody asked for, is a
    bug in cloudorch or a provider: ``PluginBug`` (exit 1), never a plan."""

    def describe(resource, graph):
        provider = providers.get(resource.cloud)
        return provider.describe(resource, graph) if provider is not None else None

    try:
        proof = prove(loaded.stack, network, rendered, describe,
                      global_clouds=frozenset(c for c, p in providers.items() if p.global_network),
                      address_range=lambda cloud, kind, block: (providers[cloud].address_range(kind, block)
                                                                if cloud in providers else block))
    except MissingResources as exc:
        raise PluginBug(", ".join(sorted({r.cloud for r in rendered})), f"the rendered network is incomplete: {exc}") from None
    problems = [f"flow {f.flow}: " + "; ".join(p.reason or p.status for p in f.paths if p.status == "broken")
                for f in proof.broken]
    problems += [f"{e.resource} admits the internet on {', '.join(f'{a}-{b}' if a != b else str(a) for a, b in e.ports)}"
                 f" but {e.source or 'no resource'} declares no such ingress" for e in proof.undeclared]
    problems += [f"{s.resource} at {s.cloud}/{s.region}: {s.reason}" for s in proof.broken_services]
    if problems:
        clouds = ", ".join(sorted({r.cloud for r in rendered}))
        raise PluginBug(clouds, "the rendered network does not do what the stack declares: " + "; ".join(problems[:5])
                        + (f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""))
    return proof


def read_allocation(stack: str, session: Session, record: Path | None = None) -> Allocation:
    """What earlier plans of ``stack`` allocated (blocks, ASNs, tunnel addresses), from the project's record;
    with ``record`` (a rehearsal's), from that one once it exists: a rehearsal starts from the project's
    addresses, and what its simulated applies allocate stays its own."""
    project_record = record_path(session.location.root, stack)
    return read_record(record if record is not None and record.is_file() else project_record)


def record_allocation(result: PlanResult, session: Session, record: Path | None = None) -> Path | None:
    """Keep the plan's addresses for every later plan of the stack (``plan --out``, ``apply``): writes
    ``.cloudorch/<stack>.network.json`` at the project root, or ``record`` (a rehearsal's own); returns it, or
    None when it was already current."""
    if result.allocation is None:
        return None
    path = record if record is not None else record_path(session.location.root, result.loaded.stack.stack)
    return path if write_record(path, result.loaded.stack.stack, result.allocation) else None


def plan_network(loaded: LoadedStack, placement: PlacementResult, providers: dict[str, Any],
                 allocation: Allocation | None = None) -> NetworkPlan:
    """The network stage: sites, blocks and links of a placed stack (``cloudorch.network``)."""
    return plan_network_of(loaded.stack, placement, flows_of(loaded.stack),
                           global_clouds=frozenset(c for c, p in providers.items() if p.global_network),
                           vpn_interfaces={c: p.vpn_interfaces for c, p in providers.items()}, allocation=allocation,
                           first_host_clouds=frozenset(c for c, p in providers.items() if p.vpn_first_inside_host),
                           inside={c: p.vpn_inside for c, p in providers.items()})


def _check_links_supported(network: NetworkPlan, providers: dict[str, Any]) -> None:
    """A link needs both sides' clouds to render it: a cloud that cannot (its plugin says why) makes a split
    that needs one unplaceable as it stands, which the user resolves by keeping flows on one cloud."""
    gaps = []
    for link in network.links:
        for site in link.sites():
            provider = providers.get(site.cloud)
            found = dict(provider.unsupported(link_requirement(link.kind), site.region)) if provider else {}
            gaps += [f"{link.id} needs a {link.kind} on {site.cloud}: {reason}" for reason in found.values()]
    if gaps:
        raise InfeasiblePlacement(
            "the placement needs links a provider cannot render: " + "; ".join(sorted(set(gaps))[:3]),
            conflicts=["placement.cross_cloud"],
            hint="set placement.cross_cloud: forbid (both ends of every flow on one cloud), or leave that cloud "
                 "out of placement.clouds")


VPN_LINKS_HINT = ("vpn_links_per_site is for a limit your account raised (AWS: Site-to-Site VPN connections per "
                  "virtual private gateway, two per link)")


def vpn_link_problems(providers: dict[str, Any], config: Config, clouds: Sequence[str] | None = None) -> list[Problem]:
    """``vpn_links_per_site`` entries (``clouds``, default the config's) no provider's gateway limit takes:
    an unknown cloud, or a limit of the gateway itself, which no account raises."""
    problems = []
    for cloud in sorted(config.vpn_links_per_site if clouds is None else clouds):
        shape = providers[cloud].network_shape() if cloud in providers else None
        if shape is None:
            problems.append(config.problem(("vpn_links_per_site", cloud),
                                           f"unknown cloud {cloud!r} (installed: {', '.join(sorted(providers))})"))
        elif not (shape.vpn_gateway and shape.vpn_gateway.adjustable):
            why = f": {shape.vpn_gateway.why}" if shape.vpn_gateway else ""
            problems.append(config.problem(("vpn_links_per_site", cloud),
                                           f"{cloud}'s limit is not a quota an account can raise{why}"))
    return problems


def network_shapes(providers: dict[str, Any], config: Config) -> dict[str, NetworkShape]:
    """What each cloud's sites and links are made of (``CloudProvider.network_shape``), with the VPN links a
    site's gateway takes as ``vpn_links_per_site`` in the config says, where the account's quota was raised
    (``check_config`` has refused the entries no gateway takes; a caller that skipped it gets them here)."""
    problems = vpn_link_problems(providers, config)
    if problems:
        raise SpecError(problems, hint=VPN_LINKS_HINT)
    shapes = {}
    for name, provider in providers.items():
        # the addresses the network stage wires tunnels to (``CloudProvider.vpn_interfaces``), whatever a
        # plugin's shape says (the built-in ones say the same): a link is priced for the tunnels it is rendered with
        shape = replace(provider.network_shape(), vpn_interfaces=provider.vpn_interfaces)
        raised = config.vpn_links_per_site.get(name)
        if raised is not None:
            shape = replace(shape, vpn_gateway=GatewayLimit(
                links=raised, adjustable=True, why=f"vpn_links_per_site.{name} in the config says so"))
        shapes[name] = shape
    return shapes


def _asking(providers: dict[str, Any]):
    """Placement's question "can this cloud host the requirement in this region?", put to its provider."""

    def unsupported(requirement, cloud: str, region: str):
        if cloud not in providers:
            return {}  # placement never offers a cloud without a provider
        try:
            return dict(providers[cloud].unsupported(requirement, region))
        except CloudorchError:
            raise
        except Exception as exc:  # a provider bug must name the provider, not surface as a bare traceback
            raise PluginError(f"provider {cloud!r} failed to say whether it can host a {requirement.kind} in {region}: "
                              f"{type(exc).__name__}: {exc}",
                              hint="this is a bug in the provider plugin; rerun with --debug for the traceback") from exc

    return unsupported


def render(loaded: LoadedStack, placement: PlacementResult, providers: dict[str, Any],
           network: NetworkPlan | None = None) -> tuple[RenderedResource, ...]:
    """Each provider renders its share (``cloudorch.rendering.assemble``), links included; names are unique
    across all. Without a network plan, one is made (with no earlier allocation)."""
    if network is None:
        network = plan_network(loaded, placement, providers)
    return render_stack(loaded, placement, providers, network=network)


def check_policies(loaded: LoadedStack, placement: PlacementResult | None, rendered: Sequence[RenderedResource],
                   session: Session) -> tuple[Any, str]:
    """Evaluate the stack's policy packs; returns the report and a digest of the policy set."""
    stack = loaded.stack
    packs = load_packs(stack.policies.packs, policy_dirs=session.policy_dirs(), base_dir=Path(loaded.file).parent)
    overrides = {**session.config.enforcement, **stack.policies.enforcement}
    catalog = session.catalog

    def region_geo(cloud: str, region: str) -> str | None:
        # Local on purpose: at module level, the name would be shadowed by this nested `region_geo`.
        from cloudorch.policy import region_geo as by_name

        known = catalog.region(cloud, region)
        return known.geo if known else by_name(cloud, region)

    report = evaluate(PolicySubject(loaded=loaded, placement=placement, rendered=list(rendered)), packs,
                      today=session.today(), overrides=overrides, region_geo=region_geo)
    return report, _policy_digest(packs, overrides)


def _policy_digest(packs: Sequence[Any], overrides: dict[str, str]) -> str:
    """Identifies the policy set: which rules, at which enforcement, from which pack versions and files.

    A saved plan is stale when this changes, as a policy that would now block it was never checked.
    """
    h = hashlib.sha256()
    h.update(json.dumps(list_policies(packs, overrides=overrides), sort_keys=True, default=str).encode())
    for pack in sorted(packs, key=lambda p: p.name):
        h.update(f"{pack.name}\0{pack.version}\0".encode())
        origin = Path(pack.origin) if pack.origin else None
        if origin is not None and origin.is_file():
            h.update(hashlib.sha256(origin.read_bytes()).digest())
        elif origin is not None and origin.is_dir():
            for file in sorted(origin.rglob("*")):
                if file.is_file() and file.suffix in (".py", ".yaml", ".yml"):
                    h.update(file.name.encode() + hashlib.sha256(file.read_bytes()).digest())
    return h.hexdigest()


def _build_plan(loaded: LoadedStack, placement: PlacementResult, rendered: Sequence[RenderedResource], report: Any,
                policy_digest: str, session: Session, explain: bool, network: NetworkPlan | None = None,
                proof: NetworkProof | None = None, providers: dict[str, Any] | None = None) -> Plan:
    catalog = session.catalog
    bill = None
    if providers is not None:
        bill = bill_of(placement, rendered, {name: p.meters for name, p in providers.items()}, catalog.network,
                       nat_site_vms(loaded.stack, placement))
    return Plan(
        stack=loaded.stack.stack,
        objective=placement.objective,
        fingerprint=Fingerprint(cloudorch_version=__version__, stack_sha256=sha256_text(loaded.text),
                                catalog_sha256=catalog.digest, policy_sha256=policy_digest),
        catalog=CatalogInfo(source=catalog.source, as_of=catalog.as_of, offerings=len(catalog.offerings),
                            unparsed_rows=len(catalog.issues), unparsed_examples=[str(i) for i in catalog.issues[:5]],
                            parts=catalog_parts() if session.live else {}),
        placements=placement_entries(placement),
        resources=resource_entries(list(rendered)),
        # passes are counted in the summary, not listed: a large stack has tens of thousands (check lists them)
        policy=report.to_dict(include_passing=False) if report is not None else {},
        cost=cost_of(placement, loaded.stack.budget.monthly_usd, bill),
        network=network_section(network, proof) if network is not None else None,
        explain=explain_section(placement) if explain else None,
    )


# -- reviews: two plans compared, a plan drawn (cloudorch.report) -----------------------------------------

def load_plan(path: str | Path) -> Plan:
    """A saved plan file (`plan --out`), read as hostile input: a located ``UsageError`` for anything else."""
    return read_plan_file(path)[0]


def plan_of(path: str | Path, session: Session | None = None) -> Plan:
    """The plan in ``path``: a file ending in ``.json`` is a saved plan, anything else a stack file planned
    now (a plan over budget or blocked by policy is still a plan to compare: the refusal is apply's)."""
    if str(path).lower().endswith(".json"):
        return load_plan(path)
    return plan(path, session).plan


def diff(base: str | Path | Plan, new: str | Path | Plan, session: Session | None = None) -> PlanDiff:
    """What changes from ``base`` to ``new`` (plans, saved plan files or stack files): placements, rendered
    resources, cost and findings (``cloudorch.report.diff``)."""
    session = session or Session()
    before = base if isinstance(base, Plan) else plan_of(base, session)
    after = new if isinstance(new, Plan) else plan_of(new, session)
    return diff_plans(before, after)


def graph(path: str | Path | Plan, session: Session | None = None) -> PlanGraph:
    """The plan as a picture's content: locations, what runs in each, the flows and links between them."""
    return plan_graph(path if isinstance(path, Plan) else plan_of(path, session))


# --- live discovery -----------------------------------------------------------------------------------------

def live_catalog(adapters: dict[str, Any]) -> Catalog:
    """The live catalog from the cache; installed clouds it lacks come from the embedded catalog, as its
    source says (``catalog.refresh.load_live_catalog``)."""
    from cloudorch.catalog.cache import cache_dir
    from cloudorch.catalog.refresh import load_live_catalog

    return load_live_catalog(cache_dir(), adapters, fallback=load_catalog())


def refresh_catalog(session: Session, clouds: Sequence[str] = (), regions: Sequence[str] = (), *,
                    stale_only: bool = False, progress: Any = None) -> Any:
    """Read the clouds' accounts through their providers' discovery and rewrite the live catalog.

    ``clouds``: which (default: every installed provider that offers discovery; one that does not is
    skipped with its reason). ``regions``: each goes to the clouds whose embedded catalog lists it, a name
    no cloud lists to every cloud asked (which reports it missing); none: each cloud's regions in the
    embedded catalog, or with ``stale_only`` the regions already cached. ``stale_only``: fetch only
    sources older than their TTL. ``progress`` receives each
    ``RefreshEvent``. Returns the ``RefreshResult``.
    """
    from cloudorch.catalog.cache import DiscoveryCache
    from cloudorch.catalog.refresh import RefreshEvent, refresh
    from cloudorch.provider import NotOffered

    providers = session.providers()
    unknown = sorted(set(clouds) - set(providers))
    if unknown:
        raise PluginError(
            f"no provider plugin for cloud(s) {', '.join(unknown)}",
            hint=f"installed providers: {', '.join(sorted(providers))}")
    chosen = sorted(clouds) if clouds else sorted(providers)
    discoveries, not_offered = {}, []
    for cloud in chosen:
        offered = providers[cloud].discovery()
        if isinstance(offered, NotOffered):
            not_offered.append(RefreshEvent(cloud, "", "skipped", offered.reason))
        else:
            discoveries[cloud] = offered
    for event in not_offered:
        if progress is not None:
            progress(event)
    cache = DiscoveryCache()
    wanted = _regions_per_cloud(discoveries, regions)
    if stale_only and not regions:
        # topping up (plan --catalog live): the regions the catalog was refreshed for, not the default set
        for cloud, sources in cache.entries().items():
            if cloud in wanted:
                wanted[cloud] = tuple(sorted({r for e in sources.values() for r in e.regions}))
    result = refresh(discoveries, wanted, cache, stale_only=stale_only, progress=progress)
    return type(result)(result.directory, tuple(not_offered) + result.events,
                        {**{e.cloud: e.detail for e in not_offered}, **result.skipped})


def _regions_per_cloud(clouds: Sequence[str], regions: Sequence[str]) -> dict[str, tuple[str, ...]]:
    embedded = load_catalog()
    known = {cloud: tuple(r.name for r in embedded.regions if r.cloud == cloud) for cloud in clouds}
    if not regions:
        return known
    owners = {name: cloud for cloud, names in known.items() for name in names}
    return {cloud: tuple(r for r in regions if owners.get(r, cloud) == cloud) for cloud in clouds}


def catalog_status() -> dict[str, Any]:
    """What the live catalog holds: per cloud and source, when fetched, its age and TTL, whether stale,
    what is missing; the clouds skipped and why; where it lives. ``{"directory": ..., "exists": False}``
    before the first refresh."""
    import time

    from cloudorch.catalog.cache import cache_dir
    from cloudorch.catalog.live import live_catalog_dir, read_manifest

    directory = live_catalog_dir(cache_dir())
    manifest = read_manifest(directory)
    if manifest is None:
        return {"directory": str(directory), "exists": False, "clouds": {}, "skipped": {}}
    now = time.time()
    clouds = {
        cloud: {source: {**info, "age_seconds": round(now - info["fetched_at"], 1),
                         "stale": now - info["fetched_at"] > info["ttl"]}
                for source, info in sources.items()}
        for cloud, sources in manifest.get("clouds", {}).items()
    }
    return {"directory": str(directory), "exists": True, "written_at": manifest.get("written_at"), "clouds": clouds,
            "skipped": manifest.get("skipped", {})}


def catalog_parts() -> dict[str, str]:
    """"cloud/source" -> when the live catalog's part was fetched (UTC), for the plan."""
    import time

    return {f"{cloud}/{source}": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(info["fetched_at"]))
            for cloud, sources in sorted(catalog_status()["clouds"].items()) for source, info in sorted(sources.items())}


def check_catalog_age(session: Session, max_age_seconds: float) -> None:
    """Refuse to plan on a live catalog with a part older than ``max_age_seconds`` (``plan --max-catalog-age``,
    for CI): a ``CatalogTooOld``, exit 2, naming each part and its age. Only the live catalog has ages to
    judge; asking it of another catalog is a usage error rather than a silent pass."""
    from cloudorch.catalog.refresh import CatalogTooOld, ago

    if not session.live:
        raise UsageError("--max-catalog-age judges the live catalog's age; this run plans on "
                         f"{session.options.catalog_dir or session.config.catalog or 'the embedded catalog'}",
                         hint="add --catalog live (or catalog = \"live\" in cloudorch.toml)")
    status = catalog_status()
    old = [f"{cloud} {source} (fetched {ago(info['age_seconds'])})"
           for cloud, sources in sorted(status["clouds"].items()) for source, info in sorted(sources.items())
           if info["age_seconds"] > max_age_seconds]
    if not status["exists"]:
        raise CatalogTooOld(f"there is no live catalog in {status['directory']} yet",
                            hint="run `cloudorch catalog refresh` first")
    if old:
        raise CatalogTooOld(f"the live catalog is older than --max-catalog-age allows: {'; '.join(old)}",
                            hint="refresh it (`cloudorch catalog refresh`, or plan without --offline), or raise the limit")


def clear_catalog() -> int:
    """Forget every cached discovery entry and the live catalog written from them; returns the entries removed."""
    import shutil

    from cloudorch.catalog.cache import DiscoveryCache, cache_dir
    from cloudorch.catalog.live import live_catalog_dir

    removed = DiscoveryCache().clear()
    link = live_catalog_dir(cache_dir())
    if link.is_symlink() or link.is_file():
        link.unlink()
    elif link.is_dir():
        shutil.rmtree(link)
    for old in link.parent.glob("live-*"):
        shutil.rmtree(old, ignore_errors=True)
    return removed


def doctor(session: Session, clouds: Sequence[str] = (), *, timeout: float | None = None) -> Any:
    """Whether this machine can run cloudorch against the clouds: a ``doctor.DoctorReport`` (per cloud,
    credentials and endpoints; the cache and the live catalog's age per part; the Pulumi CLI; the journal).
    ``clouds``: which (default: every installed provider)."""
    import os
    import shutil

    from cloudorch.catalog.cache import cache_dir
    from cloudorch.doctor import PROBE_TIMEOUT, DoctorReport, PartAge, check_clouds
    from cloudorch.provider import NotOffered

    providers = session.providers()
    unknown = sorted(set(clouds) - set(providers))
    if unknown:
        raise PluginError(f"no provider plugin for cloud(s) {', '.join(unknown)}",
                          hint=f"installed providers: {', '.join(sorted(providers))}")
    discoveries = {}
    for cloud in sorted(clouds or providers):
        offered = providers[cloud].discovery()
        discoveries[cloud] = offered.reason if isinstance(offered, NotOffered) else offered
    status = catalog_status()
    parts = tuple(PartAge(cloud, source, info["age_seconds"], info["ttl"], info["stale"])
                  for cloud, sources in sorted(status["clouds"].items()) for source, info in sorted(sources.items()))
    try:
        where, journal_problem = journal(session).where, None
    except CloudorchError as exc:
        where, journal_problem = redact_url(session.config.journal_url or "-"), exc.message
    cache = cache_dir()
    existing = next((p for p in (cache, *cache.parents) if p.exists()), cache)
    return DoctorReport(
        clouds=check_clouds(discoveries, PROBE_TIMEOUT if timeout is None else timeout),
        cache_dir=str(cache), cache_writable=existing.is_dir() and os.access(existing, os.W_OK | os.X_OK),
        live_catalog=status["directory"] if status["exists"] else None, parts=parts,
        pulumi=shutil.which("pulumi"), journal=where, journal_problem=journal_problem)


def html_report(path: str | Path | Plan, session: Session | None = None, *,
                compare_to: str | Path | Plan | None = None) -> str:
    """The plan as one self-contained web page (``cloudorch.report.html``); with ``compare_to`` (a base plan,
    saved plan file or stack file), also what changed since it."""
    session = session or Session()
    after = path if isinstance(path, Plan) else plan_of(path, session)
    changes = None if compare_to is None else diff(compare_to, after, session)
    return to_html(after, changes)
