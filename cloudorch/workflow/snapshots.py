"""What each stack looked like after its last apply, and before that: what a rollback goes back to.

``.cloudorch/workflow/applied/<stack>.json`` holds the rendered resources of the stack's last successful
apply, ``<stack>.previous.json`` those it replaced (absent: before it, the stack did not exist). A rehearsal
keeps its own under ``.cloudorch/rehearsal/applied/``. Rendered resources hold no secret values (those are
generated inside Pulumi), so nothing here needs protecting. Writes replace files atomically.

Beside each, ``<stack>.network.json`` and ``<stack>.previous.network.json`` are the stack's allocation record as
that apply left it: a rollback puts the record back with the resources, so a rolled-back change of a network's
CIDR is still seen (and warned of) as one by the next plan, rather than recorded as if it had been applied.
A stack no apply has left a snapshot of yet gets ``<stack>.before.network.json`` instead, the record as it was
before the run's first attempt (empty: there was none); its first apply turns it into the previous one. A
rollback to nothing puts it back: the blocks a failed first apply reserved would otherwise fill its network
for locations where nothing runs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from cloudorch.project import dot_dir
from cloudorch.rendering.model import RenderedResource


class Snapshots:
    def __init__(self, project_dir: Path, rehearsal: bool) -> None:
        base = dot_dir(project_dir) / ("rehearsal" if rehearsal else "workflow")
        self.directory = base / "applied"

    def _path(self, stack: str, which: str, kind: str = "json") -> Path:
        return self.directory / (f"{stack}.{kind}" if which == "current" else f"{stack}.previous.{kind}")

    def record(self, stack: str, which: str = "current") -> Path | None:
        """The allocation record as the apply of that snapshot left it; None when none was kept."""
        path = self._path(stack, which, "network.json")
        return path if path.is_file() else None

    def keep_record_before(self, stack: str, record: Path, *, resumed: bool) -> None:
        """Before a run's first attempt at a stack no apply has a snapshot of: keep its record as it is (a run
        resumed after a crash keeps what its first part kept, which the attempt since may have changed)."""
        path = self._before(stack)
        if not (resumed and path.is_file()):
            _replace(path, record.read_bytes() if record.is_file() else b"")

    def put_record_back(self, stack: str, which: str, record: Path) -> None:
        """After a rollback to nothing (no snapshot ``which``): ``record`` as it was before the stack's first
        apply (removed if there was none); untouched when nothing was kept (a run of an older cloudorch)."""
        kept_at = self._path(stack, which, "network.json") if which == "previous" else self._before(stack)
        try:
            kept = kept_at.read_bytes()
        except FileNotFoundError:
            return
        if kept:
            _replace(record, kept)
        else:
            record.unlink(missing_ok=True)

    def read(self, stack: str, which: str = "current") -> tuple[RenderedResource, ...] | None:
        try:
            data = json.loads(self._path(stack, which).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        return tuple(RenderedResource.model_validate(r) for r in data)

    def applied(self, stack: str, resources: tuple[RenderedResource, ...], record: Path | None = None) -> None:
        """After a successful apply: the current becomes the previous (when it changed), ``resources`` current;
        ``record``, the allocation record the apply was made with, is kept beside them."""
        current = self.read(stack)
        if current is None:
            # before it, nothing: the record as it was then is what a rollback to nothing puts back
            self._path(stack, "previous").unlink(missing_ok=True)
            before = self._before(stack)
            self._copy(before if before.is_file() else None, self._path(stack, "previous", "network.json"))
        elif current != resources:
            self._write(stack, "previous", current)
            self._copy(self.record(stack), self._path(stack, "previous", "network.json"))
        self._write(stack, "current", resources)
        self._copy(record if record is not None and record.is_file() else None,
                   self._path(stack, "current", "network.json"))
        self._forget_before(stack)

    def rolled_back(self, stack: str, to: tuple[RenderedResource, ...] | None, which: str = "previous") -> None:
        """After a rollback to the snapshot ``which`` (``to``: its resources): that one is the current."""
        if to is None:
            self._path(stack, "current").unlink(missing_ok=True)
            self._path(stack, "current", "network.json").unlink(missing_ok=True)
        else:
            self._write(stack, "current", to)
            if which != "current":
                self._copy(self.record(stack, which), self._path(stack, "current", "network.json"))
        self._path(stack, "previous").unlink(missing_ok=True)
        self._path(stack, "previous", "network.json").unlink(missing_ok=True)
        self._forget_before(stack)

    def destroyed(self, stack: str) -> None:
        for which in ("current", "previous"):
            self._path(stack, which).unlink(missing_ok=True)
            self._path(stack, which, "network.json").unlink(missing_ok=True)
        self._forget_before(stack)

    def _before(self, stack: str) -> Path:
        return self.directory / f"{stack}.before.network.json"

    def _forget_before(self, stack: str) -> None:
        self._before(stack).unlink(missing_ok=True)

    def _copy(self, source: Path | None, path: Path) -> None:
        """``source`` copied to ``path`` (atomically); no source: no copy."""
        if source is None:
            path.unlink(missing_ok=True)
        else:
            _replace(path, source.read_bytes())

    def _write(self, stack: str, which: str, resources: tuple[RenderedResource, ...]) -> None:
        data = json.dumps([r.model_dump(mode="json", exclude_defaults=True) for r in resources])
        _replace(self._path(stack, which), data.encode("utf-8"))


def _replace(path: Path, data: bytes) -> None:
    """``path`` holding ``data``, written beside it and renamed over it: a crash leaves the old or the new."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
