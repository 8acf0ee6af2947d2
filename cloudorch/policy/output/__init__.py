"""Report formats: SARIF 2.1.0 for code scanning, JUnit XML for CI test views, GitHub workflow
annotations, a Markdown PR comment, and plain text. Each returns a value; none prints."""

from cloudorch.policy.output.junit import to_junit
from cloudorch.policy.output.sarif import to_sarif
from cloudorch.policy.output.text import to_github, to_json, to_markdown, to_text

__all__ = ["to_github", "to_json", "to_junit", "to_markdown", "to_sarif", "to_text"]
