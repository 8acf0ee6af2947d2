"""The cloud-neutral stack file: pydantic models and a loader that locates every problem."""

from cloudorch.spec.loader import load_stack, parse_stack
from cloudorch.spec.models import (
    Bucket,
    Compute,
    Database,
    Network,
    Resource,
    Stack,
)

__all__ = ["Bucket", "Compute", "Database", "Network", "Resource", "Stack", "load_stack", "parse_stack"]
