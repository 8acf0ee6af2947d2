"""A journal in S3: records created with ``If-None-Match: *``, so of two runners racing for a record name
exactly one write lands (S3's conditional writes, 2024; moto's server enforces them too).

boto3 is imported here only, when an s3:// journal is opened: the core does not depend on it (the AWS
plugin does), and a run without it is told what to install. Endpoint and credentials come from boto3's
standard chain (``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL`` included), as for the AWS plugin.
"""

from __future__ import annotations

import time
from typing import Any

from cloudorch.engine.secrets import redact_url
from cloudorch.errors import UsageError
from cloudorch.journal.errors import JournalError

#: S3 answers 409 ConditionalRequestConflict while another conditional write of the key is in flight:
#: the outcome is unknown until it settles, so the write is retried (a 412 then says who won)
_CONFLICT_RETRIES = 20


class S3Store:
    def __init__(self, bucket: str, prefix: str, url: str) -> None:
        try:
            import boto3
            from botocore.config import Config
        except ImportError:
            raise UsageError(f"journal_url {redact_url(url)!r} needs boto3, which is not installed",
                             hint="pip install boto3 (the cloudorch-aws plugin brings it), or keep the journal local "
                                  "by leaving journal_url unset") from None
        self.where = redact_url(url)
        self.bucket = bucket
        self.prefix = f"{prefix}/" if prefix else ""
        self._client = boto3.client("s3", config=Config(retries={"mode": "standard", "max_attempts": 5}))

    def _key(self, name: str) -> str:
        return self.prefix + name

    def names(self, folder: str) -> list[str]:
        start = self._key(f"{folder}/")
        found = []
        with self._calls("list"):
            for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=start):
                found += [item["Key"][len(start):] for item in page.get("Contents", ())]
        return [n for n in found if n and "/" not in n and not n.startswith(".")]

    def read(self, name: str) -> bytes | None:
        with self._calls("read"):
            try:
                return self._client.get_object(Bucket=self.bucket, Key=self._key(name))["Body"].read()
            except self._client.exceptions.NoSuchKey:
                return None

    def create(self, name: str, data: bytes) -> bool:
        for attempt in range(_CONFLICT_RETRIES):
            with self._calls("write"):
                try:
                    self._client.put_object(Bucket=self.bucket, Key=self._key(name), Body=data, IfNoneMatch="*")
                    return True
                except self._client.exceptions.ClientError as exc:
                    status = _status(exc)
                    if status == 412:
                        return False
                    if status != 409:
                        raise
            time.sleep(0.05 * (attempt + 1))
        raise JournalError(f"S3 kept reporting a conflicting write of {name} in {self.where}",
                           hint="another runner is writing the same record; retry the command")

    def replace(self, name: str, data: bytes) -> None:
        with self._calls("write"):
            self._client.put_object(Bucket=self.bucket, Key=self._key(name), Body=data)

    def delete(self, name: str) -> None:
        with self._calls("write"):
            self._client.delete_object(Bucket=self.bucket, Key=self._key(name))

    def _calls(self, what: str) -> Any:
        return _Failures(what, self.where)


def _status(exc: Any) -> int | None:
    return exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")


class _Failures:
    """Turns boto3's failures into a JournalError naming the journal (credentials never in the message)."""

    def __init__(self, what: str, where: str) -> None:
        self.what, self.where = what, where

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        if isinstance(exc, (BotoCoreError, ClientError)):
            raise JournalError(f"cannot {self.what} the journal at {self.where}: {exc}",
                               hint="check the bucket, the AWS credentials and their permissions "
                                    "(s3:GetObject, s3:PutObject, s3:ListBucket, s3:DeleteObject for the lock)") from None
        return False
