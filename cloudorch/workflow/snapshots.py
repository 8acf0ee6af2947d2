"""What each stack looked like after its last apply, and before that: what a rollback goes back to.

``.cloudorch/workflow/applied/<stack>.json`` holds the rendered resources of the stack's last successful
apply, ``<stack>.previous.json`` those it replaced (absent: before it, the stack did not exist). A rehearsal
keeps its own under ``.cloudorch/rehearsal/applied/``. Rendered resources hold no secret values (those are
generated inside Pulumi), so nothing here needs protecting. Writes replace files atomically.

Beside each, ``<stack>.network.json`` and ``<stack>.previous.network.json`` are the stack's allocation record as
that apply left it: a rollback puts the record back with the resources, so a rolled-back change of a network's
CIDR is still seen (and warned of) as one by the next plan, rather than recorded as if it had been applied.
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
            self._path(stack, "previous").unlink(missing_ok=True)
            self._path(stack, "previous", "network.json").unlink(missing_ok=True)
        elif current != resources:
            self._write(stack, "previous", current)
            self._copy(self.record(stack), self._path(stack, "previous", "network.json"))
        self._write(stack, "current", resources)
        self._copy(record if record is not None and record.is_file() else None,
                   self._path(stack, "current", "network.json"))

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

    def destroyed(self, stack: str) -> None:
        for which in ("current", "previous"):
            self._path(stack, which).unlink(missing_ok=True)
            self._path(stack, which, "network.json").unlink(missing_ok=True)

    def _copy(self, source: Path | None, path: Path) -> None:
        """``source`` copied to ``path`` (atomically); no source: no copy."""
        if source is None:
            path.unlink(missing_ok=True)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(source.read_bytes())
        os.replace(tmp, path)

    def _write(self, stack: str, which: str, resources: tuple[RenderedResource, ...]) -> None:
        path = self._path(stack, which)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps([r.model_dump(mode="json", exclude_defaults=True) for r in resources]), encoding="utf-8")
        os.replace(tmp, path)
