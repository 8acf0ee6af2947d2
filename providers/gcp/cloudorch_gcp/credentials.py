"""Where pulumi-gcp finds credentials, looked at without logging in (asked before apply/destroy confirm).

The chain pulumi-gcp documents (registry: gcp "Installation & Configuration", read 2026-12): a key or
token in the environment (``GOOGLE_CREDENTIALS``, ``GOOGLE_CLOUD_KEYFILE_JSON``, ``GCLOUD_KEYFILE_JSON``,
``GOOGLE_APPLICATION_CREDENTIALS``, ``GOOGLE_OAUTH_ACCESS_TOKEN``), the application-default credentials
``gcloud auth application-default login`` writes (``$CLOUDSDK_CONFIG``, default ``~/.config/gcloud``), or
the metadata server of a Google Cloud machine: asked once, with a short timeout, only when nothing else is
there, and trusted only when it answers as Google's does (the ``Metadata-Flavor: Google`` header; AWS
answers at the same address).
"""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Mapping
from pathlib import Path

ENVIRONMENT = ("GOOGLE_CREDENTIALS", "GOOGLE_CLOUD_KEYFILE_JSON", "GCLOUD_KEYFILE_JSON",
               "GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_OAUTH_ACCESS_TOKEN")
METADATA_TIMEOUT_S = 0.5


def _application_default(environ: Mapping[str, str]) -> Path:
    folder = Path(environ.get("CLOUDSDK_CONFIG") or Path.home() / ".config" / "gcloud")
    return folder / "application_default_credentials.json"


def _on_google_cloud(environ: Mapping[str, str]) -> bool:
    host = environ.get("GCE_METADATA_HOST") or "169.254.169.254"
    request = urllib.request.Request(f"http://{host}/computeMetadata/v1/", headers={"Metadata-Flavor": "Google"})
    try:
        with urllib.request.urlopen(request, timeout=METADATA_TIMEOUT_S) as response:  # noqa: S310 - fixed http URL
            return response.headers.get("Metadata-Flavor") == "Google"
    except (OSError, ValueError):
        return False


def missing(environ: Mapping[str, str] | None = None) -> str | None:
    env = os.environ if environ is None else environ
    named = [name for name in ENVIRONMENT if env.get(name)]
    if "GOOGLE_APPLICATION_CREDENTIALS" in named and len(named) == 1:
        path = Path(env["GOOGLE_APPLICATION_CREDENTIALS"])
        if not path.is_file():
            return f"GOOGLE_APPLICATION_CREDENTIALS names {path}, which is not a file"
    if named or _application_default(env).is_file() or _on_google_cloud(env):
        return None
    return ("no Google Cloud credentials: none of " + ", ".join(ENVIRONMENT) + " is set, no application-default "
            "credentials (`gcloud auth application-default login`), not on a Google Cloud machine")
