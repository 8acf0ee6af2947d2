"""Judging a rendered resource by the neutral facts its provider reads, the same way on every cloud."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cloudorch.policy.model import CheckResult, NotApplicable, Violation
from cloudorch.rendering.inputs import UNKNOWN
from cloudorch.rendering.model import RenderedResource


def expect_fact(ctx: Any, resource: RenderedResource, fact: str, wanted: Any,
                message: str | Callable[[Any], str]) -> list[CheckResult]:
    """Judge one fact of ``resource`` (``ctx.facts(resource).<fact>``): the ``wanted`` value, or a value
    ``wanted(value)`` accepts, passes, and so does a value only known at deploy time; anything else is a
    violation, in the provider's words when it has some, else ``message`` (or ``message(value)``). A fact
    the provider says this resource does not settle (None) is not judged here, for the provider's reason.

        @rendered_check(roles=("database",))
        def private(resource, ctx):
            return expect_fact(ctx, resource, "publicly_reachable", False, "the database has a public endpoint")
    """
    facts = ctx.facts(resource)
    value = getattr(facts, fact)
    if value is None:
        return [NotApplicable(facts.note(fact, f"{resource.type} does not settle {fact.replace('_', ' ')}"))]
    if value is UNKNOWN or (wanted(value) if callable(wanted) else value == wanted):
        return []
    return [Violation(facts.note(fact, message(value) if callable(message) else message))]
