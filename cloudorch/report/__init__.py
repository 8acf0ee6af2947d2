"""Reports beside the plan, for the people who review it: what changed between two plans (``diff``), the
pull-request comment that says so (``markdown``), and the plan as a picture (``graph``).

Everything here is a pure function of plan documents (``cloudorch.plan.Plan``), so a saved plan file and
a stack planned on the fly report alike. Only ``cloudorch.api`` and the CLI import this package.
"""

from cloudorch.report.diff import PlanDiff, diff_plans, increase_refusal, percent_label, signed_usd
from cloudorch.report.markdown import MAX_CHARS, headline, marker, to_markdown

__all__ = ["MAX_CHARS", "PlanDiff", "diff_plans", "headline", "increase_refusal", "marker", "percent_label",
           "signed_usd", "to_markdown"]
