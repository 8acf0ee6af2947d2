"""What an Azure balancer holds inline, read into neutral parts (``rendering.facts.Part``).

An Application Gateway is one resource with its listeners (``httpListeners``), the rules routing their
requests (``requestRoutingRules``, ``redirectConfigurations``, ``urlPathMaps``), its backend settings
(``backendHttpSettingsCollection``) and their health probes (``probes``) as lists of its inputs; a Standard
Load Balancer holds its ``loadBalancingRules`` and ``probes`` the same way. AWS and GCP render those as
resources of their own (listeners, target groups, proxies, backend services, certificates), so each entry
here becomes a part with the facts of that role, and ``encryption.lb-https``, ``network.lb-health-check`` and
``encryption.lb-certificate-renewal`` judge an Azure gateway's listeners, backends and certificates
(``sslCertificates``) exactly as they judge the other clouds'.

Entries refer to each other by id: the gateway's own id followed by ``/<collection>/<name>`` (``balancer._child``
renders it as a reference to the resource group's id with that suffix; an imported template may spell the
whole id). The name after the collection is what ties a rule to its listener.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cloudorch.rendering.facts import BackendFacts, CertificateFacts, ListenerFacts, Part
from cloudorch.rendering.inputs import UNKNOWN, items
from cloudorch.rendering.model import RenderedResource, is_ref
from cloudorch.rendering.roles import Role

#: the lowest TLS version of each predefined policy (Azure's "Application Gateway TLS policy overview":
#: 20150501 accepts 1.0, 20170401 1.1, the "S" variant and both 2022 policies 1.2); an unlisted one is unknown
PREDEFINED_MIN_TLS = {"AppGwSslPolicy20150501": "1.0", "AppGwSslPolicy20170401": "1.1", "AppGwSslPolicy20170401S": "1.2",
                      "AppGwSslPolicy20220101": "1.2", "AppGwSslPolicy20220101S": "1.2"}
#: what a gateway naming no policy gets: the default follows the API version the gateway is created with, and
#: azure-native 3.x creates it with 2024-05-01, whose default is AppGwSslPolicy20220101 (before 2023-02-01 it
#: was AppGwSslPolicy20150501, TLS 1.0)
DEFAULT_POLICY = "AppGwSslPolicy20220101"
_VERSIONS = ("TLSv1_0", "TLSv1_1", "TLSv1_2", "TLSv1_3")


def gateway_parts(res: RenderedResource) -> tuple[Part, ...]:
    inputs = res.inputs
    return (*_listeners(inputs), *_backends(inputs), *_certificates(inputs))


def load_balancer_parts(res: RenderedResource) -> tuple[Part, ...]:
    """A Standard Load Balancer's rules: each is a backend, checked by the probe it names (it has no default
    probe: a rule naming none keeps sending to replicas that stopped answering)."""
    return tuple(Part("loadBalancingRules", i, Role.BALANCER_BACKEND, _probed(rule, _no_probe))
                 for i, rule in enumerate(items(res.inputs, "loadBalancingRules")))


def child_name(value: Any, collection: str) -> Any:
    """The name of the gateway's ``collection`` entry that ``value`` (``{"id": ...}``) names; None for none,
    UNKNOWN when the id is only known at deploy time or names another collection."""
    if value is None:
        return None
    ident = value.get("id") if isinstance(value, dict) else UNKNOWN
    text = ident.get("suffix") if is_ref(ident) else ident
    if not isinstance(text, str):
        return UNKNOWN
    segments = text.rstrip("/").split("/")
    return segments[-1] if len(segments) >= 2 and segments[-2].lower() == collection.lower() else UNKNOWN


def _named(inputs: dict, collection: str) -> dict[str, dict]:
    return {e["name"]: e for e in items(inputs, collection) if isinstance(e, dict) and isinstance(e.get("name"), str)}


# -- listeners ----------------------------------------------------------------------------------------------
def _listeners(inputs: dict) -> list[Part]:
    listeners = items(inputs, "httpListeners")
    https = {e["name"] for e in _named(inputs, "httpListeners").values() if _protocol(e) == "https"}
    ports = _named(inputs, "frontendPorts")
    parts = []
    for i, listener in enumerate(listeners):
        if not isinstance(listener, dict):
            facts = ListenerFacts(port=UNKNOWN, protocol=UNKNOWN, redirects_to_https=UNKNOWN, min_tls=UNKNOWN)
        else:
            port = ports.get(child_name(listener.get("frontendPort"), "frontendPorts"), {}).get("port", UNKNOWN)
            protocol, notes = _protocol(listener), {}
            redirects: Any = UNKNOWN if protocol is UNKNOWN else None
            if protocol == "http":
                redirects, why = _redirects(inputs, listener.get("name"), https)
                if why:
                    notes["redirects_to_https"] = why
            tls: Any = UNKNOWN if protocol is UNKNOWN else None
            if protocol == "https":
                tls, words = _min_tls(inputs, listener)
                if tls is not UNKNOWN and tls < "1.2":
                    notes["min_tls"] = f"{words} accepts TLS {tls}"
            facts = ListenerFacts(port=port, protocol=protocol, redirects_to_https=redirects, min_tls=tls, notes=notes)
        parts.append(Part("httpListeners", i, Role.BALANCER_LISTENER, facts))
    return parts


def _protocol(listener: dict) -> Any:
    protocol = listener.get("protocol")
    return protocol.lower() if isinstance(protocol, str) else UNKNOWN


def _redirects(inputs: dict, name: Any, https: set[str]) -> tuple[Any, str | None]:
    """Whether every rule answering listener ``name`` redirects to https (and forwards nothing), and if not, why."""
    rules = [r for r in items(inputs, "requestRoutingRules") if r is UNKNOWN or isinstance(r, dict)]
    if any(r is UNKNOWN or child_name(r.get("httpListener"), "httpListeners") is UNKNOWN for r in rules):
        return UNKNOWN, None
    own = [r for r in rules if child_name(r.get("httpListener"), "httpListeners") == name]
    if not own:
        return False, f"no request routing rule redirects listener {name} to https"
    redirects, maps = _named(inputs, "redirectConfigurations"), _named(inputs, "urlPathMaps")
    outcome: Any = True
    for rule in own:
        if rule.get("urlPathMap") is not None:
            path_map = maps.get(child_name(rule["urlPathMap"], "urlPathMaps"))
            targets = ([path_map.get("defaultRedirectConfiguration")]
                       + [p.get("redirectConfiguration") if isinstance(p, dict) else UNKNOWN for p in items(path_map, "pathRules")]
                       if path_map is not None else [UNKNOWN])
        else:
            targets = [rule.get("redirectConfiguration")]
        for target in targets:
            verdict = _to_https(target, redirects, https)
            if verdict is False:
                return False, (f"rule {rule.get('name')} sends listener {name}'s plain HTTP on instead of "
                               "redirecting it to an https listener")
            if verdict is UNKNOWN:
                outcome = UNKNOWN
    return outcome, None


def _to_https(target: Any, redirects: dict[str, dict], https: set[str]) -> Any:
    """A rule's (or path's) redirect configuration: True when it sends clients to https, False when there is
    none (the rule forwards to a backend) or it sends them elsewhere, UNKNOWN when that is decided later."""
    if target is None:
        return False
    name = child_name(target, "redirectConfigurations")
    if name is UNKNOWN:
        return UNKNOWN
    config = redirects.get(name)
    if config is None:
        return UNKNOWN  # a dangling id: Azure refuses the gateway, and nothing is served
    listener = child_name(config.get("targetListener"), "httpListeners")
    url = config.get("targetUrl")
    if listener is None:
        return url.lower().startswith("https://") if isinstance(url, str) else UNKNOWN
    return UNKNOWN if listener is UNKNOWN else listener in https


def _min_tls(inputs: dict, listener: dict) -> tuple[Any, str]:
    """The lowest TLS version an https listener accepts: its SSL profile's policy, else the gateway's."""
    profile = child_name(listener.get("sslProfile"), "sslProfiles")
    if profile is UNKNOWN:
        return UNKNOWN, ""
    if profile is not None:
        policy = _named(inputs, "sslProfiles").get(profile, {}).get("sslPolicy")
        if policy is not None:
            return _policy_tls(policy, f"SSL profile {profile}'s policy")
    return _policy_tls(inputs.get("sslPolicy"), "the gateway's sslPolicy")


def _policy_tls(policy: Any, where: str) -> tuple[Any, str]:
    if policy is None or policy == {}:
        return PREDEFINED_MIN_TLS[DEFAULT_POLICY], f"the default policy ({DEFAULT_POLICY})"
    if not isinstance(policy, dict):
        return UNKNOWN, where
    kind, name = policy.get("policyType"), policy.get("policyName")
    if kind == "Predefined" or (kind is None and name is not None):
        return (PREDEFINED_MIN_TLS.get(name, UNKNOWN) if isinstance(name, str) else UNKNOWN), f"{where} {name}"
    lowest = policy.get("minProtocolVersion")
    if lowest is None:  # a custom policy accepts every version it does not disable
        disabled = policy.get("disabledSslProtocols") or []
        if not isinstance(disabled, list) or UNKNOWN in disabled or any(not isinstance(v, str) for v in disabled):
            return UNKNOWN, where
        lowest = next((v for v in _VERSIONS if v not in disabled), None)
    if not isinstance(lowest, str) or lowest not in _VERSIONS:
        return UNKNOWN, where
    return lowest.removeprefix("TLSv").replace("_", "."), f"{where} ({kind or 'Custom'}, {lowest})"


# -- certificates --------------------------------------------------------------------------------------------
def _certificates(inputs: dict) -> list[Part]:
    """Azure issues no certificate for a gateway (``balancer``'s docstring says why): every one it serves, a Key
    Vault certificate or a PFX given inline, is the operator's."""
    return [Part("sslCertificates", i, Role.CERTIFICATE, CertificateFacts(validation="operator", notes={
                "validation": "the operator supplies it (a Key Vault certificate the gateway reads): Azure neither "
                              "issues nor validates it"}))
            for i, _ in enumerate(items(inputs, "sslCertificates"))]


# -- backends ------------------------------------------------------------------------------------------------
def _backends(inputs: dict) -> list[Part]:
    """Backend settings a rule sends requests through (one no rule uses carries no traffic), each checked
    by the probe it names."""
    used = _used_settings(inputs)
    parts = []
    for i, setting in enumerate(items(inputs, "backendHttpSettingsCollection")):
        if used is not UNKNOWN and isinstance(setting, dict) and setting.get("name") not in used:
            continue
        parts.append(Part("backendHttpSettingsCollection", i, Role.BALANCER_BACKEND, _probed(setting, _default_probe)))
    return parts


def _used_settings(inputs: dict) -> Any:
    """The names of the backend settings rules use (directly or through a path map); UNKNOWN if unsure."""
    refs = []
    for rule in items(inputs, "requestRoutingRules"):
        refs.append(rule.get("backendHttpSettings") if isinstance(rule, dict) else UNKNOWN)
    for path_map in items(inputs, "urlPathMaps"):
        if not isinstance(path_map, dict):
            return UNKNOWN
        refs.append(path_map.get("defaultBackendHttpSettings"))
        refs += [p.get("backendHttpSettings") if isinstance(p, dict) else UNKNOWN for p in items(path_map, "pathRules")]
    names = {child_name(r, "backendHttpSettingsCollection") if r is not UNKNOWN else UNKNOWN for r in refs}
    return UNKNOWN if UNKNOWN in names else names - {None}


def _probed(entry: Any, without_probe: Callable[[Any], BackendFacts]) -> BackendFacts:
    """An entry naming its probe is health-checked; ``without_probe(name)`` is what one naming none is."""
    if not isinstance(entry, dict):
        return BackendFacts(health_check=UNKNOWN)
    if entry.get("probe") is None:
        return without_probe(entry.get("name"))
    return BackendFacts(health_check=True)


def _default_probe(name: Any) -> BackendFacts:
    """A gateway's backend setting naming no probe is watched by the gateway's default probe (GET / on the
    setting's port every 30 s), as an AWS target group without a ``healthCheck`` block has AWS's default
    check -- the policy means the same on both clouds."""
    return BackendFacts(health_check=True, notes={"health_check": f"backend setting {name} names no probe: the "
                                                  "gateway's default probe (GET / on its port) watches the replicas, "
                                                  "not the service's own health path"})


def _no_probe(name: Any) -> BackendFacts:
    """A Standard Load Balancer has no default probe: a rule naming none is not health-checked."""
    return BackendFacts(health_check=False, notes={"health_check": f"load-balancing rule {name} names no probe: the "
                                                   "balancer keeps sending to replicas that stopped answering"})
