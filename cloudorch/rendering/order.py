"""The rendered resources as a graph: checked closed and acyclic, and ordered by dependency.

Both the plan (right after the providers render) and the engine (before Pulumi registers anything) need
this; one function serves both and each caller turns the problem into its own error class.
"""

from __future__ import annotations

from collections.abc import Sequence

from cloudorch.rendering.model import RenderedResource


class RenderGraphProblem(ValueError):
    """Duplicate names, references to unrendered resources, a non-provider used as provider, or a cycle."""


def dependency_order(resources: Sequence[RenderedResource]) -> list[RenderedResource]:
    """Resources ordered so each comes after everything it depends on; stable in the rendered order."""
    by_name: dict[str, RenderedResource] = {}
    for res in resources:
        if res.name in by_name:
            raise RenderGraphProblem(f"two rendered resources are named {res.name!r} "
                                     f"({by_name[res.name].cloud} and {res.cloud})")
        by_name[res.name] = res
    # worked out once: each walks the resource's inputs for references
    dependencies = {res.name: res.dependencies for res in resources}
    for res in resources:
        missing = [d for d in dependencies[res.name] if d not in by_name]
        if missing:
            raise RenderGraphProblem(f"resource {res.name!r} refers to unknown resource(s): {', '.join(missing)}")
        if res.provider and not by_name[res.provider].is_provider:
            raise RenderGraphProblem(
                f"resource {res.name!r} names {res.provider!r} as its provider, but that is a "
                f"{by_name[res.provider].type}, not a pulumi:providers:* resource"
            )

    ordered: list[RenderedResource] = []
    state: dict[str, str] = {}  # name -> "visiting" | "done"

    def visit(res: RenderedResource, path: list[str]) -> None:
        mark = state.get(res.name)
        if mark == "done":
            return
        if mark == "visiting":
            cycle = path[path.index(res.name):] + [res.name]
            raise RenderGraphProblem(f"dependency cycle among rendered resources: {' -> '.join(cycle)}")
        state[res.name] = "visiting"
        for dep in dependencies[res.name]:
            visit(by_name[dep], [*path, res.name])
        state[res.name] = "done"
        ordered.append(res)

    for res in resources:
        visit(res, [])
    return ordered
