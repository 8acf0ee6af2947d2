"""Where azure-native finds credentials, looked at without logging in (asked before apply/destroy confirm).

The chain azure-native documents (registry: azure-native "Installation & Configuration", read 2026-12):
a service principal (``ARM_CLIENT_ID`` + ``ARM_TENANT_ID`` with ``ARM_CLIENT_SECRET``, a certificate in
``ARM_CLIENT_CERTIFICATE_PATH``, or OIDC: ``ARM_USE_OIDC`` / ``ARM_OIDC_TOKEN``), a managed identity
(``ARM_USE_MSI``), or the Azure CLI's login (``az login``, kept in ``$AZURE_CONFIG_DIR``, default
``~/.azure``). Every way needs a subscription: ``ARM_SUBSCRIPTION_ID``, else the CLI's default one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes")


def cli_default_subscription(environ: Mapping[str, str]) -> str | None:
    """The subscription ``az login`` made the default, from the CLI's profile (None without a login)."""
    folder = Path(environ.get("AZURE_CONFIG_DIR") or Path.home() / ".azure")
    try:
        # the CLI writes it with a byte-order mark
        profile = json.loads((folder / "azureProfile.json").read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return None
    subscriptions = profile.get("subscriptions") if isinstance(profile, dict) else None
    for subscription in subscriptions if isinstance(subscriptions, list) else ():
        if isinstance(subscription, dict) and subscription.get("isDefault") and subscription.get("id"):
            return str(subscription["id"])
    return None


def missing(environ: Mapping[str, str] | None = None) -> str | None:
    env = os.environ if environ is None else environ
    principal = env.get("ARM_CLIENT_ID")
    if principal:
        if not env.get("ARM_TENANT_ID"):
            return "ARM_CLIENT_ID is set without ARM_TENANT_ID (azure-native needs both for a service principal)"
        signs_in = (env.get("ARM_CLIENT_SECRET") or env.get("ARM_CLIENT_CERTIFICATE_PATH")
                    or _true(env.get("ARM_USE_OIDC")) or env.get("ARM_OIDC_TOKEN") or _true(env.get("ARM_USE_MSI")))
        if not signs_in:
            return ("ARM_CLIENT_ID is set but nothing signs it in (ARM_CLIENT_SECRET, ARM_CLIENT_CERTIFICATE_PATH, "
                    "ARM_USE_OIDC or ARM_USE_MSI)")
    cli_subscription = cli_default_subscription(env)
    if not principal and not _true(env.get("ARM_USE_MSI")) and cli_subscription is None:
        return ("no Azure credentials: no service principal (ARM_CLIENT_ID ...), no managed identity (ARM_USE_MSI) "
                "and no `az login`")
    if not env.get("ARM_SUBSCRIPTION_ID") and cli_subscription is None:
        return "no Azure subscription: set ARM_SUBSCRIPTION_ID (or `az account set` after `az login`)"
    return None
