"""What each stack looked like after its last apply, and before that: what a rollback goes back to.

``.cloudorch/workflow/applied/<stack>.json`` holds the rendered resources of the stack's last successful
apply, ``<stack>.previous.json`` those it replaced (absent: before it, the stack did not exist). A rehearsal
keeps its own under ``.cloudorch/rehearsal/applied/``. Rendered resources hold no secret values (those are
generated inside Pulumi), so nothing here needs protecting. Writes replace files atomically.
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

    def _path(self, stack: str, which: str) -> Path:
        return self.directory / (f"{stack}.json" if which == "current" else f"{stack}.previous.json")

    def read(self, stack: str, which: str = "current") -> tuple[RenderedResource, ...] | None:
        try:
            data = json.loads(self._path(stack, which).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        return tuple(RenderedResource.model_validate(r) for r in data)

    def applied(self, stack: str, resources: tuple[RenderedResource, ...]) -> None:
        """After a successful apply: the current becomes the previous (when it changed), ``resources`` current."""
        current = self.read(stack)
        if current is None:
            self._path(stack, "previous").unlink(missing_ok=True)
        elif current != resources:
            self._write(stack, "previous", current)
        self._write(stack, "current", resources)

    def rolled_back(self, stack: str, to: tuple[RenderedResource, ...] | None) -> None:
        self._path(stack, "previous").unlink(missing_ok=True)
        if to is None:
            self._path(stack, "current").unlink(missing_ok=True)
        else:
            self._write(stack, "current", to)

    def destroyed(self, stack: str) -> None:
        for which in ("current", "previous"):
            self._path(stack, which).unlink(missing_ok=True)

    def _write(self, stack: str, which: str, resources: tuple[RenderedResource, ...]) -> None:
        path = self._path(stack, which)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps([r.model_dump(mode="json", exclude_defaults=True) for r in resources]), encoding="utf-8")
        os.replace(tmp, path)
