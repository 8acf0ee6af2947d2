"""The provider plugin contract.

A provider is a class registered under the entry-point group ``cloudorch.providers``; the built-in aws,
azure and gcp providers register exactly the way a third party would. Abstract methods fail when the
class is instantiated, not halfway through a plan. A provider states what it cannot do, with a reason
for each gap, so the planner can explain an exclusion instead of failing late.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from cloudorch.errors import Problem
from cloudorch.rendering import RenderContext, RenderedResource
from cloudorch.rendering.elements import EndpointRendering, EndpointView


class Capability(StrEnum):
    NETWORK = "network"
    COMPUTE = "compute"
    SPOT = "spot"
    ARM64 = "arm64"
    GPU = "gpu"
    POSTGRES = "postgres"
    MYSQL = "mysql"
    BUCKET = "bucket"


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
        """Capabilities this provider lacks, each with the reason shown to users. Default: none."""
        return {}

    def check(self, ctx: RenderContext) -> list[Problem]:
        """Limits of this cloud the user controls, checked for every cloud before anything is rendered.

        Return one located problem per field to change (``ctx.problem(path, message)``); cloudorch reports
        them all at once with exit 2. What ``render`` raises other than a ``CloudorchError`` is a bug.
        """
        return []

    @abstractmethod
    def render(self, ctx: RenderContext) -> list[RenderedResource]:
        """Every concrete resource of the stack's share on this cloud, including explicit providers.

        Must be a pure function of ``ctx``: the same context renders the same list, in the same order.
        """

    def render_endpoint(self, ctx: RenderContext, view: EndpointView) -> EndpointRendering:
        """This cloud's side of a cross-cloud element (``view.element``, side ``view.index``).

        Render only this side's resources; name another side's outputs with ``view.peer_output(...)``, and
        export what the element kind declares (``view.element.exports(view.index)``) as references to the
        resources rendered here. A provider that cannot render a kind declares so among its capabilities,
        so placement never asks it to.
        """
        raise NotImplementedError(f"the {self.name} provider renders no {view.element.kind} endpoints")
