"""Where a stack's state and secrets live: the backend URL and the secrets provider, resolved once.

Defaults need nothing but the Pulumi CLI: a file backend inside the project and a passphrase. Teams point
``backend_url`` at s3://, azblob://, gs:// or Pulumi Cloud and may use a cloud KMS key for secrets.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cloudorch.engine.secrets import redact_url, url_credentials
from cloudorch.engine.workspace import EngineSettings
from cloudorch.errors import EngineError, UsageError

PASSPHRASE_ENVS = ("CLOUDORCH_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE")
KEYRING_SERVICE = "cloudorch"
KMS_SCHEMES = ("awskms://", "azurekeyvault://", "gcpkms://", "hashivault://")
BACKEND_SCHEMES = ("file://", "s3://", "azblob://", "gs://", "https://", "http://", "postgres://")
#: Pulumi derives the secrets key from the passphrase alone, and anyone who can read the state can try
#: passphrases offline: a short one protects nothing
MIN_PASSPHRASE_LENGTH = 8


@dataclass(frozen=True)
class StackConfig:
    backend_url: str
    secrets_provider: str  # "passphrase", "default" (Pulumi Cloud) or a KMS URL
    env: Mapping[str, str] = field(default_factory=dict, repr=False)  # for the Pulumi CLI; holds the passphrase

    @property
    def passphrase(self) -> str | None:
        return self.env.get("PULUMI_CONFIG_PASSPHRASE")

    @property
    def secret_values(self) -> list[str]:
        """What this configuration holds that no output may show: the passphrase, credentials in the URLs."""
        return [v for v in (self.passphrase, *url_credentials(self.backend_url),
                            *url_credentials(self.secrets_provider)) if v]


def resolve_backend_url(settings: EngineSettings, environ: Mapping[str, str] = os.environ) -> str:
    """Settings override, then $PULUMI_BACKEND_URL, then a file backend in the project (created if missing)."""
    if settings.backend_url:
        url = settings.backend_url
        if not url.startswith(BACKEND_SCHEMES):
            raise UsageError(
                f"unsupported Pulumi backend URL {redact_url(url)!r}",
                hint="use file://PATH, s3://BUCKET, azblob://CONTAINER, gs://BUCKET or https://api.pulumi.com",
            )
    else:
        url = environ.get("PULUMI_BACKEND_URL") or ""
    if not url:
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        return settings.state_dir.resolve().as_uri()
    if not settings.project_named_in_config:
        # A name derived from a directory differs between checkouts (a CI runner's workspace is named
        # after the job): on a shared backend that silently becomes a second stack, a second copy of
        # everything on apply. Only a committed name is the same everywhere.
        raise UsageError(
            f"the state of {settings.identity} would live on {redact_url(url)}, but its project name "
            f"{settings.identity.project!r} was not set in cloudorch.toml",
            hint=f'add `project = "{settings.identity.project}"` to cloudorch.toml (stacks made before '
            'projects had names live under project "cloudorch")',
        )
    if url.startswith("file://") and not url.startswith("file://~"):
        Path(url[len("file://"):] or ".").mkdir(parents=True, exist_ok=True)
    return url


def resolve_stack_config(
    settings: EngineSettings,
    environ: Mapping[str, str] = os.environ,
    keyring_lookup: Callable[[str, str], str | None] | None = None,
) -> StackConfig:
    backend = resolve_backend_url(settings, environ)
    provider = settings.secrets_provider or "passphrase"
    if provider.startswith(KMS_SCHEMES) or provider == "default":
        return StackConfig(backend, provider)
    if provider != "passphrase":
        raise UsageError(
            f"unsupported secrets provider {provider!r}",
            hint=f"use passphrase (the default) or a KMS URL starting with {', '.join(KMS_SCHEMES)}",
        )
    passphrase, source = _passphrase(settings, environ, keyring_lookup)
    if len(passphrase) < MIN_PASSPHRASE_LENGTH:
        # Refused rather than warned about: a warning scrolls past in CI, and a stack's secrets stay encrypted
        # under the passphrase they were first written with. Its length only: never the value.
        raise UsageError(
            f"the secrets passphrase from {source} has {len(passphrase)} character"
            f"{'' if len(passphrase) == 1 else 's'}; cloudorch needs at least {MIN_PASSPHRASE_LENGTH}",
            hint="set a longer passphrase (a few random words); a stack already encrypted under a short one can be "
            "re-encrypted with `pulumi stack change-secrets-provider passphrase`, or use a KMS secrets provider "
            "(awskms://, azurekeyvault://, gcpkms://)",
        )
    return StackConfig(backend, "passphrase", {"PULUMI_CONFIG_PASSPHRASE": passphrase})


def _passphrase(
    settings: EngineSettings, environ: Mapping[str, str], keyring_lookup: Callable[[str, str], str | None] | None
) -> tuple[str, str]:
    """The passphrase and where it came from."""
    for name in PASSPHRASE_ENVS:
        if name in environ:  # set but empty is refused as too short, not passed over
            return environ[name], name
    lookup = keyring_lookup or _keyring_lookup()
    account = str(settings.identity)
    found = lookup(KEYRING_SERVICE, account) if lookup else None
    if found is not None:
        return found, f"the OS keyring ({KEYRING_SERVICE} {account})"
    via_keyring = (
        f"or store it in the OS keyring: `keyring set {KEYRING_SERVICE} {account}`"
        if lookup else "or install the `keyring` package to keep it in the OS keyring"
    )
    raise EngineError(
        "no passphrase for the stack's secrets",
        hint=f"set CLOUDORCH_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE), {via_keyring}; "
        "or set a KMS secrets provider (awskms://, azurekeyvault://, gcpkms://)",
        kind="auth",
    )


def _keyring_lookup() -> Callable[[str, str], str | None] | None:
    if importlib.util.find_spec("keyring") is None:
        return None

    def lookup(service: str, account: str) -> str | None:
        # optional and slow to import (it loads its backends): only when a passphrase is looked up
        import keyring
        from keyring.errors import KeyringError

        try:
            return keyring.get_password(service, account)
        except KeyringError:  # no usable backend (headless CI): same as not stored
            return None

    return lookup
