"""Names and labels that GCP accepts.

GCP is stricter than the stack format: labels allow only ``[a-z0-9_-]`` (keys start with a letter), at most
63 characters; most resource names are RFC 1035 labels of at most 63 characters; bucket and service-account
names are global (bucket) or project-wide (account) and must not collide between stacks. Everything here is
deterministic so the same stack always renders the same names.
"""

from __future__ import annotations

import hashlib
import re

from cloudorch.rendering import RenderContext, RenderedResource
from cloudorch.rendering.roles import Role

from cloudorch_gcp.roles import ROLES

CLOUD = "gcp"
MAX_LABEL = 63
MAX_LABELS = 64

_LABEL_BAD = re.compile(r"[^a-z0-9_-]")
_NAME_BAD = re.compile(r"[^a-z0-9-]+")


def short_hash(*parts: str, length: int = 6) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def label_key(key: str) -> str:
    key = _LABEL_BAD.sub("_", key.lower())[:MAX_LABEL]
    # a key must start with a lower-case letter; prefixing keeps the original visible instead of dropping it
    return key if key[:1].isalpha() else ("k" + key)[:MAX_LABEL]


def label_value(value: str) -> str:
    return _LABEL_BAD.sub("_", value.lower())[:MAX_LABEL]


def labels(ctx: RenderContext, resource: str | None) -> dict[str, str]:
    """ctx.tags() made valid GCP labels. Sorted, so a key that two tags sanitise to resolves the same way."""
    out: dict[str, str] = {}
    for key, value in sorted(ctx.tags(resource).items()):
        out[label_key(key)] = label_value(value)
    return dict(sorted(out.items())[:MAX_LABELS])


def rfc1035(*parts: str, max_len: int = 63) -> str:
    """A lower-case ``[a-z]([-a-z0-9]*[a-z0-9])?`` name; too-long names keep a hash of the full name."""
    full = _NAME_BAD.sub("-", "-".join(parts).lower()).strip("-")
    if not full[:1].isalpha():
        full = "c-" + full
    if len(full) <= max_len:
        return full
    digest = short_hash(full)
    return f"{full[: max_len - len(digest) - 1].rstrip('-')}-{digest}"


def network_tag(ctx: RenderContext, resource: str) -> str:
    """The network tag firewall rules target; the VPC is per stack, so the resource name is unique in it."""
    return rfc1035("cloudorch", resource)


def bucket_name(ctx: RenderContext, resource: str, region: str, companion: str = "") -> str:
    """Globally unique and stable: readable prefix plus a hash of stack, resource and region.

    Bucket names may not start with "goog" nor contain "google" or close misspellings of it (GCS names
    "g00gle" as one), hence the fixed ``co-`` prefix and dropping the word altogether (a stack could
    legitimately be called "google-mirror"); the hash still tells such stacks apart. A ``companion`` bucket
    (``logs``) of a resource hashes the word in separately, so it never collides with a resource of the
    stack whose name happens to end in it.
    """
    digest = short_hash(ctx.stack.stack, resource, region, CLOUD, *([companion] if companion else []), length=8)
    readable = re.sub(r"-+", "-", "-".join(("co", ctx.stack.stack, resource, *([companion] if companion else [])))
                      .replace("google", ""))
    return f"{readable[: 63 - len(digest) - 1].rstrip('-')}-{digest}"


def account_name(resource: str) -> str:
    """The logical name of a compute resource's service account (one per resource, whatever its regions)."""
    return f"{resource}-{CLOUD}-sa"


def account_id(ctx: RenderContext, resource: str) -> str:
    """Service-account ids are 6-30 characters and project-wide: a readable prefix plus a stack hash."""
    digest = short_hash(ctx.stack.stack, resource, length=6)
    readable = rfc1035("co", resource)[: 30 - len(digest) - 1].rstrip("-")
    return f"{readable}-{digest}"


#: the explicit provider of global resources (VPC, firewalls, service accounts, private service access).
#: Not a regional provider: a global resource under the provider of, say, the first sorted region would
#: change provider, which Pulumi treats as a replacement, whenever an earlier-sorting region is added.
GLOBAL_PROVIDER = f"{CLOUD}-global"


def provider_name(region: str | None) -> str:
    return f"{CLOUD}-{region}" if region else GLOBAL_PROVIDER


def resource(
    name: str, type_: str, region: str | None, source: str, inputs: dict, *, depends_on: tuple[str, ...] = (),
    secret_outputs: tuple[str, ...] = (), provider: bool = True, role: Role | None = None,
) -> RenderedResource:
    """A GCP resource under the explicit provider of ``region``, or under the global one when it is None;
    ``role`` where this one does something else than its type usually does (a URL map that only redirects)."""
    return RenderedResource(
        name=name, type=type_, role=role or ROLES[type_], cloud=CLOUD, region=region, source=source, inputs=inputs,
        depends_on=depends_on, secret_outputs=secret_outputs, provider=provider_name(region) if provider else None,
    )
