"""Finding providers and policy packs through entry points, lazily.

Nothing registers itself at import time: the entry-point metadata is read when a command first needs a
plugin, and a plugin's module is imported only when that plugin is used.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from cloudorch.catalog.adapter import SkyPilotAdapter
from cloudorch.errors import PluginError
from cloudorch.provider import CloudProvider

PROVIDER_GROUP = "cloudorch.providers"
POLICY_PACK_GROUP = "cloudorch.policy_packs"


def _entry_points(group: str) -> dict[str, EntryPoint]:
    found: dict[str, EntryPoint] = {}
    for ep in sorted(entry_points(group=group), key=lambda e: (e.name, e.value)):
        found.setdefault(ep.name, ep)
    return found


@cache
def provider_names() -> tuple[str, ...]:
    return tuple(sorted(_entry_points(PROVIDER_GROUP)))


@cache
def policy_pack_names() -> tuple[str, ...]:
    return tuple(sorted(_entry_points(POLICY_PACK_GROUP)))


@cache
def load_provider(name: str) -> CloudProvider:
    ep = _entry_points(PROVIDER_GROUP).get(name)
    if ep is None:
        raise PluginError(
            f"no provider plugin for cloud {name!r}",
            hint=f"installed providers: {', '.join(provider_names()) or 'none'}; install e.g. cloudorch-{name}",
        )
    obj = _load(ep)
    if not (isinstance(obj, type) and issubclass(obj, CloudProvider)):
        raise PluginError(f"entry point {ep.value!r} for provider {name!r} is not a CloudProvider subclass")
    try:
        provider = obj()
    except TypeError as exc:  # abstract methods left unimplemented
        raise PluginError(f"provider {name!r} is incomplete: {exc}") from None
    if provider.name != name:
        raise PluginError(f"provider registered as {name!r} calls itself {provider.name!r}")
    return provider


def catalog_adapters() -> dict[str, SkyPilotAdapter]:
    """Every installed provider's SkyPilot catalog adapter, by cloud: what reads ``--catalog DIR``."""
    return {name: load_provider(name).catalog_adapter() for name in provider_names()}


def load_policy_pack_object(name: str) -> Any:
    ep = _entry_points(POLICY_PACK_GROUP).get(name)
    if ep is None:
        raise PluginError(
            f"no policy pack named {name!r}",
            hint=f"installed packs: {', '.join(policy_pack_names()) or 'none'}",
        )
    return _load(ep)


def _load(ep: EntryPoint) -> Any:
    try:
        return ep.load()
    except Exception as exc:  # a broken plugin must not take the CLI down with a traceback
        raise PluginError(f"cannot load plugin {ep.name!r} ({ep.value}): {type(exc).__name__}: {exc}") from exc
