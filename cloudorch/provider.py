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

from cloudorch.rendering import RenderContext, RenderedResource


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

    @abstractmethod
    def render(self, ctx: RenderContext) -> list[RenderedResource]:
        """Every concrete resource of the stack's share on this cloud, including explicit providers.

        Must be a pure function of ``ctx``: the same context renders the same list, in the same order.
        """
