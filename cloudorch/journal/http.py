"""Journals in Google Cloud Storage and Azure Blob Storage: not yet written.

Both offer what a journal needs (GCS ``ifGenerationMatch=0``, Azure ``If-None-Match: *``), so either
would be a ``Store`` like ``s3.S3Store``; until one is, opening such a journal says what is supported,
rather than keeping records somewhere two runners could overwrite each other's.
"""

from __future__ import annotations

from typing import NoReturn

from cloudorch.engine.secrets import redact_url
from cloudorch.errors import UsageError


def blob_store(scheme: str, container: str, prefix: str, url: str) -> NoReturn:
    raise UsageError(f"journal_url {redact_url(url)!r}: {scheme}:// journals are not supported yet",
                     hint="supported: s3://bucket/prefix (any S3-compatible store with conditional writes) and "
                          "file:///path (a shared directory), or no journal_url for the project's .cloudorch/journal/")
