"""The provider plugin contract.

A provider is a class registered under the entry-point group ``cloudorch.providers``; the built-in aws,
azure and gcp providers register exactly the way a third party would. Abstract methods fail when the
class is instantiated, not halfway through a plan. A provider states what it cannot do, with a reason
for each gap, so the planner can explain an exclusion instead of failing late: cloud-wide through
``unsupported_features``, or per requirement and region by overriding ``unsupported``. ``Capability`` and
``Requirement`` live in ``cloudorch.capabilities`` (placement asks in those terms without importing this
module) and are importable from here, the plugin API.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from cloudorch.capabilities import Capability, Requirement
from cloudorch.rendering import RenderContext, RenderedResource

__all__ = ["Capability", "CloudProvider", "PulumiPlugin", "Requirement"]


@dataclass(frozen=True)
class PulumiPlugin:
    """A Pulumi resource plugin the rendered resources need, pinned to the schema they were written for."""

    name: str
    version: str


class CloudProvider(ABC):
    #: short cloud name used in stack files and catalogs ("aws")
    name: ClassVar[str]
    display_name: ClassVar[str]
    #: Pulumi plugins (and versions) whose schemas the rendered resources conform to
    pulumi_plugins: ClassVar[tuple[PulumiPlugin, ...]]
    #: neutral image names this provider resolves (``ubuntu-24.04``)
    images: ClassVar[tuple[str, ...]]

    def unsupported_features(self) -> Mapping[Capability, str]:
        """Capabilities this provider lacks everywhere, each with the reason shown to users. Default: none."""
        return {}

    def unsupported(self, requirement: Requirement, region: str) -> Mapping[Capability, str]:
        """Can this cloud host ``requirement`` in ``region``? Each capability it lacks for it, with the reason
        shown to users; empty means yes.

        Placement asks this for every resource (compute, database, bucket, the network a resource joins)
        and every candidate region, once per distinct requirement and region, before it prices anything: a
        region with a gap in ``requirement.needs`` is excluded, with the reason in ``plan --explain``; one
        with a gap in ``requirement.prefers`` (spot) still hosts the resource, without it.

        The default answers from ``unsupported_features``, the same everywhere: a simple plugin declares
        only that. Override to judge per region or per detail, e.g. no GPUs in one region, or not the
        accelerator ``requirement.detail("accelerator")`` names. Capabilities outside
        ``requirement.capabilities`` are ignored; must be a pure function of its arguments.
        """
        return requirement.gaps(self.unsupported_features())

    @abstractmethod
    def render(self, ctx: RenderContext) -> list[RenderedResource]:
        """Every concrete resource of the stack's share on this cloud, including explicit providers.

        Must be a pure function of ``ctx``: the same context renders the same list, in the same order.
        """
