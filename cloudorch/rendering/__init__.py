"""The seam between placement and providers: what a provider receives and what it returns."""

from cloudorch.rendering.context import RenderContext
from cloudorch.rendering.model import RenderedResource, is_ref, keyed_map, ref, refs_in

__all__ = ["RenderContext", "RenderedResource", "is_ref", "keyed_map", "ref", "refs_in"]
