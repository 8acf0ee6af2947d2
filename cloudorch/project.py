"""A project: the directory its stacks' state lives in, and the name its stacks have on a backend.

A Pulumi stack is known by (project, stack) on its backend. The stack name comes from the stack file;
the project name from ``project`` in ``cloudorch.toml``, or, without one, from the project's directory,
pinned in ``.cloudorch/project`` the first time the engine runs, so that renaming or moving the
directory later does not orphan the state (the pin moves with it, like the local state beside it).

The root is found the way git and hatch find theirs, never from where a stack file happens to lie: the
directory of ``--config FILE``, else the nearest directory from the working directory up that holds a
``cloudorch.toml`` or is the top of a repository (``.git``), else the working directory itself.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cloudorch.errors import UsageError

CONFIG_FILE = "cloudorch.toml"
CONFIG_ENV = "CLOUDORCH_CONFIG"
DOT_DIR = ".cloudorch"
#: the fixed project name of cloudorch before projects had names: state made then is still found
LEGACY_PROJECT = "cloudorch"
#: Pulumi's rule for project names
PROJECT_NAME_RE = r"^[A-Za-z0-9_.-]{1,100}$"
_PROJECT_NAME = re.compile(PROJECT_NAME_RE)
_STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")

#: how the project name was decided: set in cloudorch.toml, read from the pin, or derived from the root
NameSource = Literal["config", "pinned", "legacy", "derived"]


@dataclass(frozen=True)
class StackIdentity:
    """Which Pulumi stack a stack file is on its backend: the key of its state, its lock and its secrets."""

    project: str
    stack: str

    def __post_init__(self) -> None:
        # Callers validate user input with located messages first; reaching this is a bug, not bad input.
        if not _PROJECT_NAME.match(self.project) or not _STACK_NAME.match(self.stack):
            raise ValueError(f"invalid stack identity {self.project!r}/{self.stack!r}")

    def __str__(self) -> str:
        return f"{self.project}/{self.stack}"


@dataclass(frozen=True)
class ProjectLocation:
    """Where the project is and which config file is in force (None: there is none; defaults apply)."""

    root: Path
    config_file: Path | None
    #: named by --config or $CLOUDORCH_CONFIG, so a missing file is an error rather than "no config"
    explicit: bool = False


def locate(explicit: str | Path | None = None, start: Path | None = None) -> ProjectLocation:
    named = explicit or os.environ.get(CONFIG_ENV)
    if named:
        file = Path(named).absolute()
        return ProjectLocation(file.parent, file, explicit=True)
    start = (start or Path.cwd()).absolute()
    for directory in (start, *start.parents):
        config = directory / CONFIG_FILE
        if config.is_file():
            return ProjectLocation(directory, config)
        if (directory / ".git").exists():  # a directory in a worktree, a file in a linked one
            return ProjectLocation(directory, None)
    return ProjectLocation(start, None)


def dot_dir(root: Path) -> Path:
    return Path(root) / DOT_DIR


def state_dir(root: Path) -> Path:
    """The default (file) backend of the project's stacks."""
    return dot_dir(root) / "state"


def pin_file(root: Path) -> Path:
    return dot_dir(root) / "project"


@dataclass(frozen=True)
class Project:
    root: Path
    name: str
    source: NameSource

    def identity(self, stack: str) -> StackIdentity:
        return StackIdentity(self.name, stack)


def resolve(location: ProjectLocation, configured: str | None, cwd: Path | None = None) -> Project:
    """The project at ``location``; ``configured`` is ``project`` from its cloudorch.toml, if set."""
    root = location.root
    _refuse_state_left_outside(root, (cwd or Path.cwd()).absolute())
    if configured:
        return Project(root, configured, "config")
    pinned = _read_pin(root)
    if pinned:
        return Project(root, pinned, "pinned")
    if _has_state(root):
        # state without a pin was made before projects had names, under the one fixed name
        return Project(root, LEGACY_PROJECT, "legacy")
    return Project(root, derive_name(root), "derived")


def derive_name(root: Path) -> str:
    """The root directory's name, made a valid Pulumi project name."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(root).name).strip("-.")[:100]
    return name or LEGACY_PROJECT


def record(root: Path, name: str) -> None:
    """Pin the project name beside the state, so that the name a stack's state was made under is kept."""
    if _read_pin(root) == name:
        return
    path = pin_file(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    # per thread too: a workflow's stacks run in threads of one process, each pinning before its first run
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    tmp.write_text(name + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _read_pin(root: Path) -> str | None:
    try:
        name = pin_file(root).read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the project pin {pin_file(root)}: {exc}",
                         hint=f"set `project = \"...\"` in {CONFIG_FILE}, or delete the file to derive the name again") from None
    if not _PROJECT_NAME.match(name):
        raise UsageError(f"the project pin {pin_file(root)} holds {name!r}, not a project name",
                         hint=f"set `project = \"...\"` in {CONFIG_FILE}, or fix the file")
    return name


def _has_state(root: Path) -> bool:
    try:
        return any(state_dir(root).iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return False


def _refuse_state_left_outside(root: Path, cwd: Path) -> None:
    """Earlier versions kept state in the working directory. Using the root instead while such state sits
    here would start an empty stack beside a live one (apply would create everything a second time)."""
    if cwd != root and _has_state(cwd):
        raise UsageError(
            f"this directory holds stack state ({state_dir(cwd)}), but the project root is {root}",
            hint=f"move {dot_dir(cwd)} to {root}, or create {cwd / CONFIG_FILE} to make this directory the project root",
        )
