"""The journal: an append-only, hash-chained record of every plan, apply, check, retry, failover, rollback.

Each record is its own object, named by its sequence number (``records/000000000042.json``) and created
exclusively (``stores.Store.create``). Appending is optimistic: take the next number after the head this
journal last saw and try to create it; a writer that loses the race reads the record that won, chains
onto it and tries the next number. Every loss means another record was written, so the journal as a
whole always progresses; one writer gives up only after ``MAX_ATTEMPTS`` losses in a row. Local
directories and object stores run this one algorithm; only ``create`` differs.

``head.json`` is an index of the last record (sequence and hash) that saves nothing but a listing on
open; verification checks it as a claim and never relies on it.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cloudorch.engine.secrets import Secrets
from cloudorch.errors import UsageError
from cloudorch.journal.errors import JournalError, JournalLocked
from cloudorch.journal.records import GENESIS, Entry, actor, known_secrets, now, record_name, scrub, seal
from cloudorch.journal.stores import Store, open_store
from cloudorch.journal.verify import HEAD, RECORDS, Verification, parse, record_seqs, verify

#: lost races in a row before a writer gives up (each loss is another writer's success)
MAX_ATTEMPTS = 1000
LOCK = "lock.json"
#: kinds are short words; a typo'd kind should fail in a test, not land in every team's journal
_KIND_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz-_")


@dataclass(frozen=True)
class LockState:
    """Who holds the workflow lock: the holder it was taken as, the person and process, since when."""

    holder: str
    user: str
    host: str
    pid: int
    since: str
    token: str

    @property
    def who(self) -> str:
        return f"{self.user}@{self.host}, pid {self.pid}"

    def to_dict(self) -> dict[str, Any]:
        return {"holder": self.holder, "user": self.user, "host": self.host, "pid": self.pid, "since": self.since}


class Journal:
    def __init__(self, store: Store, *, secrets: Secrets | None = None,
                 environ: Mapping[str, str] | None = None) -> None:
        self.store = store
        environ = os.environ if environ is None else environ
        self._secrets = secrets if secrets is not None else known_secrets(environ)
        self._actor = actor(environ)
        self._head: tuple[int, str] | None = None

    @classmethod
    def open(cls, project_dir: Path, url: str | None = None, *, secrets: Iterable[str] = (),
             environ: Mapping[str, str] | None = None) -> Journal:
        """The project's journal: ``url`` None is ``.cloudorch/journal/`` under ``project_dir``; an
        ``s3://bucket/prefix`` (``gs://``, ``azblob://``, ``file:///dir``) one lives there. ``secrets``: values
        to scrub besides the credential-named environment variables and the URL's own credentials."""
        environ = os.environ if environ is None else environ
        found = known_secrets(environ, [url])
        found.add_exact(*secrets)
        return cls(open_store(project_dir, url), secrets=found, environ=environ)

    @property
    def where(self) -> str:
        return self.store.where

    # -- writing ------------------------------------------------------------------------------------------

    def append(self, kind: str, *, stack: str | None = None, outcome: str, **fields: Any) -> Entry:
        """Record one step. ``fields`` are JSON values (plan_hash, inputs_hash, duration_s, error_class,
        replaced, workflow_id, step, attempt, cloud, region, instance_type, ...); secrets are scrubbed first."""
        if not kind or not set(kind) <= _KIND_CHARS:
            raise ValueError(f"journal kinds are lower-case words, not {kind!r}")
        base = {"time": now(), "actor": self._actor, "kind": kind, "stack": stack, "outcome": outcome,
                "fields": scrub(fields, self._secrets)}
        try:
            json.dumps(base["fields"], allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"journal fields must be JSON values: {exc}") from None
        seq, prev = self._known_head()
        for _ in range(MAX_ATTEMPTS):
            entry, data = seal({**base, "seq": seq + 1, "prev": prev})
            if self.store.create(f"{RECORDS}/{record_name(entry.seq)}", data):
                self._head = (entry.seq, entry.hash)
                self._write_head(entry)
                return entry
            # lost the race for this number: chain onto the record that won it
            seq, prev = self._follow(seq + 1)
        raise JournalError(f"could not append to the journal at {self.where}: {MAX_ATTEMPTS} other records were "
                           "written first", hint="too many writers at once; retry the command")

    def _known_head(self) -> tuple[int, str]:
        if self._head is None:
            seqs, _ = record_seqs(self.store.names(RECORDS))
            self._head = (0, GENESIS)
            if seqs:
                self._head = self._follow(seqs[-1])
        return self._head

    def _follow(self, seq: int) -> tuple[int, str]:
        raw = self.store.read(f"{RECORDS}/{record_name(seq)}")
        try:
            return seq, parse(raw or b"").hash
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            raise JournalError(f"record {seq} of the journal at {self.where} is unreadable: nothing can be "
                               "chained onto it", hint="run `cloudorch audit verify` to see what happened to it") from None

    def _write_head(self, entry: Entry) -> None:
        # best effort and only forward: a lagging head is harmless, verification never relies on it
        current = self.store.read(HEAD)
        try:
            if current is not None and int(json.loads(current)["seq"]) >= entry.seq:
                return
        except (ValueError, KeyError, TypeError):
            pass
        self.store.replace(HEAD, json.dumps({"seq": entry.seq, "hash": entry.hash}).encode())

    # -- reading ------------------------------------------------------------------------------------------

    def entries(self, *, stack: str | None = None, since: datetime | None = None,
                kinds: frozenset[str] | None = None, containing: bytes | None = None) -> list[Entry]:
        """The records in order, those of ``stack`` / at or after ``since`` / of ``kinds`` only. Reading does
        not verify (``verify`` does): a record that is not one raises ``JournalError``. ``containing``: skip,
        unparsed, records whose bytes lack it (a canonical ``"key":"value"``): a plan reads a long journal
        for its few capacity failures."""
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        found = []
        for seq in record_seqs(self.store.names(RECORDS))[0]:
            raw = self.store.read(f"{RECORDS}/{record_name(seq)}")
            if raw is None or (containing is not None and containing not in raw):
                continue
            try:
                entry = parse(raw)
            except (ValueError, KeyError, TypeError, UnicodeDecodeError):
                raise JournalError(f"record {seq} of the journal at {self.where} is not a journal record",
                                   hint="run `cloudorch audit verify`") from None
            if ((stack is None or entry.stack == stack) and (kinds is None or entry.kind in kinds)
                    and (since is None or entry.moment >= since)):
                found.append(entry)
        return found

    def verify(self) -> Verification:
        """Whether every record is in place, sealed and chained (``verify.verify``), with the first problem."""
        return verify(self.store.names(RECORDS), self.store.read, self.store.read(HEAD))

    # -- the workflow lock --------------------------------------------------------------------------------

    @contextmanager
    def lock(self, holder: str) -> Iterator[LockState]:
        """Hold the workflow lock as ``holder`` (e.g. a workflow id) for the block.

        A lock held under the same holder is taken over: a workflow resumed after its runner died is the
        only one that may break its own lock without ``unlock(force=True)``, as no process can tell from
        another machine whether the holder still runs. Any other holder raises ``JournalLocked``.
        """
        state = LockState(holder=holder, user=self._actor["user"], host=socket.gethostname(), pid=os.getpid(),
                          since=now(), token=uuid.uuid4().hex)
        data = json.dumps(state.__dict__).encode()
        if not self.store.create(LOCK, data):
            held = self.lock_state()
            if held is not None and held.holder != holder:
                raise JournalLocked(held.holder, held.since, held.who)
            self.store.replace(LOCK, data)
        try:
            yield state
        finally:
            current = self.lock_state()
            if current is not None and current.token == state.token:
                self.store.delete(LOCK)

    def lock_state(self) -> LockState | None:
        raw = self.store.read(LOCK)
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            return LockState(**{k: data[k] for k in ("holder", "user", "host", "pid", "since", "token")})
        except (ValueError, KeyError, TypeError):
            return LockState("unknown", "unknown", "unknown", 0, "unknown", "")

    def unlock(self, holder: str | None = None, *, force: bool = False) -> LockState | None:
        """Break the workflow lock: as its ``holder``, or whoever holds it with ``force``. Returns what was
        held (None: nothing was); refuses (``UsageError``) a lock held by another holder without ``force``."""
        held = self.lock_state()
        if held is None:
            return None
        if not force and held.holder != holder:
            raise UsageError(f"the workflow lock is held by {held.holder!r} ({held.who}) since {held.since}",
                             hint="only its holder may break it; if that workflow is gone for good, break it with "
                                  "--force")
        self.store.delete(LOCK)
        return held
