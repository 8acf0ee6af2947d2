"""Reading a journal back and proving it whole: every record in place, sealed, and linked to the one before.

Verification trusts nothing but the record files: the names are listed afresh, every record is read and
re-hashed, and each one's ``prev`` must be the hash of the record before it. The head index is read only
as a claim to check (a head it names that the chain lacks is a deleted tail); a missing or lagging head
is no error, as racing writers may leave it a record behind.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cloudorch.journal.records import GENESIS, NAME, Entry, digest, record_name

RECORDS = "records"
HEAD = "head.json"


@dataclass(frozen=True)
class Problem:
    seq: int
    #: edited | deleted | inserted | reordered | unreadable
    what: str
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "what": self.what, "detail": self.detail}


@dataclass(frozen=True)
class Verification:
    ok: bool
    count: int
    #: the hash of the last record: keep it elsewhere (a CI log) to detect a later cut-off tail
    head: str | None = None
    problem: Problem | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "count": self.count, "head": self.head,
                "problem": self.problem.to_dict() if self.problem else None}


def parse(raw: bytes) -> Entry:
    """A record's bytes as an entry; ValueError (or KeyError, TypeError) for anything else."""
    return Entry.from_dict(json.loads(raw.decode("utf-8")))


def record_seqs(names: list[str]) -> tuple[list[int], list[str]]:
    """The sequence numbers of the record names, sorted, and the names that are not records."""
    seqs, strangers = [], []
    for name in names:
        found = NAME.match(name)
        if found:
            seqs.append(int(found[1]))
        else:
            strangers.append(name)
    return sorted(seqs), sorted(strangers)


def verify(names: list[str], read: Callable[[str], bytes | None], head: bytes | None = None) -> Verification:
    """Check the records named ``names`` (their folder's listing), read through ``read``; the first problem."""
    seqs, strangers = record_seqs(names)
    if strangers:
        return Verification(False, len(seqs), problem=Problem(0, "inserted", f"{strangers[0]!r} is not a record name"))
    entries: list[Entry] = []
    prev = GENESIS
    for expected, seq in enumerate(seqs, 1):
        if seq != expected:
            return _failed(entries, Problem(expected, "deleted", f"record {expected} is missing; the next is {seq}"))
        raw = read(f"{RECORDS}/{record_name(seq)}")
        if raw is None:
            return _failed(entries, Problem(seq, "deleted", "the record vanished while being verified"))
        try:
            entry = parse(raw)
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            return _failed(entries, Problem(seq, "edited", "the record is not a journal record any more"))
        found = _problem(entry, seq, prev, entries, seqs, read)
        if found is not None:
            return _failed(entries, found)
        entries.append(entry)
        prev = entry.hash
    claim = _head_claim(head)
    if claim is not None:
        claimed_seq, claimed_hash = claim
        if claimed_seq > len(entries):
            return _failed(entries, Problem(len(entries) + 1, "deleted",
                                            f"the head index names record {claimed_seq}, the chain ends at {len(entries)}"))
        if claimed_seq >= 1 and entries[claimed_seq - 1].hash != claimed_hash:
            return _failed(entries, Problem(claimed_seq, "edited", "the record differs from the one the head index names"))
    return Verification(True, len(entries), head=prev if entries else None)


def _problem(entry: Entry, seq: int, prev: str, earlier: list[Entry], seqs: list[int],
             read: Callable[[str], bytes | None]) -> Problem | None:
    if entry.seq != seq:
        # pushed down a place by a record put before it, or moved from elsewhere
        what = "inserted" if entry.seq == seq - 1 and entry.prev != prev else "reordered"
        return Problem(seq, what, f"the file of record {seq} holds record {entry.seq}")
    if digest(entry.to_dict()) != entry.hash:
        return Problem(seq, "edited", "its content does not match its hash")
    if entry.prev == prev:
        return None
    # Sealed but linked elsewhere: it was put here from another place in the chain, or made up and slipped in.
    if any(e.hash == entry.prev for e in earlier):
        return Problem(seq, "reordered", "it follows an earlier record than the one before it")
    if seq == seqs[-1]:
        return Problem(seq, "inserted", "the last record, sealed, links to no record of the chain")
    try:
        if parse(read(f"{RECORDS}/{record_name(seq + 1)}") or b"").prev == prev:
            return Problem(seq, "inserted", "the record after it links to the one before it")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        pass
    return Problem(seq, "edited", "its link to the record before it is wrong")


def _failed(entries: list[Entry], problem: Problem) -> Verification:
    return Verification(False, len(entries), head=entries[-1].hash if entries else None, problem=problem)


def _head_claim(raw: bytes | None) -> tuple[int, str] | None:
    if raw is None:
        return None
    try:
        data = json.loads(raw)
        return int(data["seq"]), str(data["hash"])
    except (ValueError, KeyError, TypeError):
        return None  # an index, not evidence: an unreadable one claims nothing
