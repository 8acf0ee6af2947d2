"""Rules that judge one stack field and the fact its rendering gives, on every cloud.

Most rules added for Checkov parity have the same shape: a setting of the stack file (``iam_authentication``)
that the providers render and read back as a neutral fact of the same meaning. One factory writes both
checks, so the spec-level finding and the rendered one always agree on what is wrong and where to fix it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cloudorch.policy import Policy, Violation, expect_fact, rendered_check, spec_check


def field_rule(*, id: str, title: str, kind: str, field: str, roles: tuple[str, ...], fact: str, message: str,
               wanted: Any = True, applies: Callable[[Any], bool] = lambda spec: True, **policy: Any) -> Policy:
    """A policy failing where the stack resource's ``field`` is not ``wanted`` (a value, or a predicate) and
    where a rendered resource's ``fact`` is not. ``applies(spec)`` leaves out resources the field does not
    concern (statement logging on MySQL)."""
    def ok(value: Any) -> bool:
        return wanted(value) if callable(wanted) else value == wanted

    @spec_check(kind)
    def _spec(target, ctx):
        spec = target.model
        return [] if not applies(spec) or ok(getattr(spec, field)) else [Violation(message, (field,))]

    @rendered_check(roles=roles)
    def _rendered(res, ctx):
        return expect_fact(ctx, res, fact, wanted, message)

    return Policy(id=id, title=title, checks=(_spec, _rendered), **policy)
