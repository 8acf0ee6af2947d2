"""What a workflow is made of: its stacks (found in a directory or given as files), the order their
``uses`` give, and the steps of an optional ``workflow.yaml`` (waves of stacks and checks between them).

Every problem here is an input error (exit 2) located at file:line, found before anything is planned: a
stack used but not part of the workflow, two files with one stack name, a cycle (named with the line of
each ``uses`` entry on it), a step naming an unknown stack, waves in an order their ``uses`` contradict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError, field_validator, model_validator

from cloudorch.errors import Problem, SpecError, UsageError
from cloudorch.spec.loader import OutputReference, load_stack_header, output_references, read_located, validation_problems
from cloudorch.spec.models import FLOAT, INT, Name
from cloudorch.spec.yamlsource import Located

#: the file of a directory that holds its steps; every other YAML file there is a stack
WORKFLOW_FILES = ("workflow.yaml", "workflow.yml")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


Seconds = Annotated[float, Field(gt=0, le=86_400), FLOAT]


class HttpProbe(_Model):
    url: str = Field(description="the http:// or https:// URL to GET")
    status: Annotated[int, Field(ge=100, le=599), INT] = 200
    body: str | None = Field(default=None, description="a regular expression the response body must match")
    max_latency_ms: Annotated[float, Field(gt=0), FLOAT] | None = None
    timeout_s: Seconds = 10

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value


class CommandProbe(_Model):
    run: list[Annotated[str, Field(min_length=1)]] = Field(min_length=1, description="the program and its arguments "
                                                           "(no shell); exit 0 passes")
    timeout_s: Seconds = 60


class OutputCondition(_Model):
    stack: Name
    key: str = Field(pattern=r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$", description="the output, with .PARTs into a mapping")
    equals: Any = None
    matches: str | None = Field(default=None, description="a regular expression its text must match")
    timeout_s: Seconds = 300
    interval_s: Seconds = 5


class Check(_Model):
    """A step that is not a stack: a probe, and what to do when it keeps failing."""

    check: Name
    http: HttpProbe | None = None
    command: CommandProbe | None = None
    output: OutputCondition | None = None
    retries: Annotated[int, Field(ge=0, le=100), INT] = 0
    interval_s: Seconds = 2
    on_failure: Literal["stop", "continue", "rollback"] = "stop"
    #: rolled back on failure: default the stacks of the wave just before the check
    rollback: list[Name] | None = None
    #: in a rehearsal, a probe of what the workflow creates cannot reach anything: it is simulated (passes unless
    #: --inject check:NAME); ``run`` probes for real, for what exists outside the workflow
    rehearsal: Literal["simulate", "run"] = "simulate"

    @model_validator(mode="after")
    def _one_probe(self) -> Check:
        given = [name for name in ("http", "command", "output") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"a check has exactly one of http, command, output ({len(given)} given)")
        return self


class Wave(_Model):
    wave: str | None = None
    stacks: list[Name] = Field(min_length=1)


class RetrySettings(_Model):
    """Transient engine errors (throttling, 5xx, eventual consistency): how often and how long to retry."""

    attempts: Annotated[int, Field(ge=1, le=20), INT] = 4
    initial_s: Annotated[float, Field(ge=0, le=600), FLOAT] = 1.0
    max_s: Annotated[float, Field(ge=0, le=3600), FLOAT] = 30.0
    jitter_s: Annotated[float, Field(ge=0, le=600), FLOAT] = 1.0


def _step_kind(value: Any) -> str:
    return "check" if isinstance(value, dict) and "check" in value or isinstance(value, Check) else "wave"


#: a step with ``check:`` is a check, any other a wave: so an error in either names that kind's fields only
Step = Annotated[Annotated[Wave, Tag("wave")] | Annotated[Check, Tag("check")], Discriminator(_step_kind)]


class WorkflowFile(_Model):
    workflow: Name | None = None
    parallel: Annotated[int, Field(ge=1, le=64), INT] | None = None
    retry: RetrySettings = RetrySettings()
    steps: list[Step] = []


@dataclass(frozen=True)
class StackFile:
    name: str
    path: Path
    file: str  # as messages name it
    text: str
    #: alias -> stack name, with the line of the alias
    uses: dict[str, str]
    uses_lines: dict[str, int | None]
    references: tuple[OutputReference, ...]
    lines: dict = field(default_factory=dict, compare=False, repr=False)  # of every value, as the loader keeps them

    def line_of(self, path: tuple) -> int | None:
        return Located(None, self.lines).line_of(tuple(path))

    def line_of_use(self, upstream: str) -> int | None:
        return next((self.uses_lines[a] for a, s in self.uses.items() if s == upstream), None)


@dataclass(frozen=True)
class Phase:
    """What runs at one point of the workflow: a wave of stacks (in their order, in parallel where they
    are independent) or a check."""

    stacks: tuple[str, ...] = ()
    check: Check | None = None
    label: str = ""


@dataclass(frozen=True)
class Workflow:
    name: str
    root: Path  # the directory of the workflow (of its first stack, when files were given)
    stacks: dict[str, StackFile]
    phases: tuple[Phase, ...]
    settings: WorkflowFile = field(default_factory=WorkflowFile)

    def upstream(self, stack: str) -> set[str]:
        return set(self.stacks[stack].uses.values())

    def downstream(self, stack: str) -> set[str]:
        return {s for s, f in self.stacks.items() if stack in f.uses.values()}

    def order(self) -> list[str]:
        """Every stack in the order a serial run applies them: phase by phase, and within a phase each after
        the stacks it uses (ties by name)."""
        done: list[str] = []
        for phase in self.phases:
            pending = sorted(phase.stacks)
            while pending:
                ready = [s for s in pending if self.upstream(s) <= set(done)]
                done += ready
                pending = [s for s in pending if s not in ready]
        return done


def load_workflow(paths: list[Path]) -> Workflow:
    """The workflow of a directory (its stack files and optional workflow.yaml) or of several stack files."""
    if not paths:
        raise UsageError("no stack files given", hint="name a directory of stack files or the files themselves")
    files, steps_file = _stack_files(paths)
    if not files:
        raise UsageError(f"no stack files in {paths[0]}", hint="a workflow directory holds one .yaml file per stack")
    stacks = _read_stacks(files)
    _check_cycles(stacks)
    settings, steps_located = WorkflowFile(), None
    if steps_file is not None:
        settings, steps_located = _read_steps(steps_file)
    root = paths[0] if paths[0].is_dir() else files[0].parent
    name = settings.workflow or root.resolve().name
    phases = _phases(stacks, settings, steps_located)
    return Workflow(name=name, root=root, stacks=stacks, phases=phases, settings=settings)


def _stack_files(paths: list[Path]) -> tuple[list[Path], Path | None]:
    files: list[Path] = []
    steps: Path | None = None
    for path in paths:
        if path.is_dir():
            for child in sorted(path.iterdir()):
                if child.name in WORKFLOW_FILES:
                    steps = child
                elif child.suffix in (".yaml", ".yml") and child.is_file():
                    files.append(child)
        elif path.name in WORKFLOW_FILES:
            steps = path
        elif path.exists():
            files.append(path)
        else:
            raise UsageError(f"{path}: no such file or directory")
    return files, steps


def _read_stacks(files: list[Path]) -> dict[str, StackFile]:
    problems: list[Problem] = []
    headers = []
    for path in files:
        try:
            header = load_stack_header(path)
            text, file, located = read_located(path)
        except SpecError as exc:
            problems += exc.problems
            continue
        headers.append((path, header.stack, file, text, located))
    by_path = {p.resolve(): name for p, name, *_ in headers}
    seen: dict[str, str] = {}
    stacks: dict[str, StackFile] = {}
    for path, name, file, text, located in headers:
        if name in seen:
            problems.append(Problem(file, located.line_of(("stack",)), "stack",
                                    f"stack {name!r} is also the stack of {seen[name]}; each stack has one file"))
            continue
        seen[name] = file
        uses: dict[str, str] = {}
        lines: dict[str, int | None] = {}
        raw = located.data.get("uses") or {}
        if not isinstance(raw, dict):
            problems.append(Problem(file, located.line_of(("uses",)), "uses", "must be a mapping alias -> stack file"))
            raw = {}
        for alias, target in raw.items():
            line = located.line_of(("uses", alias))
            target_path = (path.parent / str(target)).resolve()
            if target_path not in by_path:
                problems.append(Problem(file, line, f"uses.{alias}", f"{target!r} is not a stack file of this "
                                        "workflow (run the directory that holds both, or name both files)"))
                continue
            uses[str(alias)] = by_path[target_path]
            lines[str(alias)] = line
            if by_path[target_path] == name:
                problems.append(Problem(file, line, f"uses.{alias}", "a stack cannot use itself"))
        refs, _ = output_references({k: v for k, v in located.data.items() if k != "uses"})
        stacks[name] = StackFile(name, path, file, text, uses, lines, tuple(refs), located.lines)
    if problems:
        raise SpecError(problems)
    return stacks


def _check_cycles(stacks: dict[str, StackFile]) -> None:
    """A cycle of ``uses`` is an input error naming each step of it with its file and line."""
    state: dict[str, int] = {}  # 1 on the path, 2 done
    trail: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        trail.append(name)
        for upstream in sorted(set(stacks[name].uses.values())):
            if state.get(upstream) == 1:
                cycle = trail[trail.index(upstream):] + [upstream]
                steps = []
                for a, b in zip(cycle, cycle[1:]):
                    f = stacks[a]
                    steps.append(f"{f.file}:{f.line_of_use(b)}: {a} uses {b}")
                first = stacks[cycle[0]]
                raise SpecError([Problem(first.file, first.line_of_use(cycle[1]), "uses",
                                         "a cycle of stacks using each other's outputs: " + "; ".join(steps))],
                                hint="a stack can only use stacks applied before it: remove one of these uses")
            if state.get(upstream) is None:
                visit(upstream)
        trail.pop()
        state[name] = 2

    for name in sorted(stacks):
        if name not in state:
            visit(name)


def _read_steps(path: Path) -> tuple[WorkflowFile, Any]:
    _, file, located = read_located(path)
    try:
        return WorkflowFile.model_validate(located.data), (file, located)
    except ValidationError as exc:
        # the step's kind is in pydantic's path (steps, 1, "check", ...), not in the file's
        errors = [err | {"loc": tuple(p for i, p in enumerate(err["loc"]) if not (i == 2 and err["loc"][0] == "steps"))}
                  for err in exc.errors()]
        raise SpecError(validation_problems(errors, located, file)) from None


def _phases(stacks: dict[str, StackFile], settings: WorkflowFile, located: Any) -> tuple[Phase, ...]:
    """The steps as phases; the stacks no wave lists join the earliest wave after everything they use (with
    no steps, all stacks are one wave)."""
    if not settings.steps:
        return (Phase(stacks=tuple(sorted(stacks)), label="all stacks"),)
    file, where = located
    problems: list[Problem] = []
    wave_of: dict[str, int] = {}
    for i, step in enumerate(settings.steps):
        for j, name in enumerate(step.stacks if isinstance(step, Wave) else ()):
            path = ("steps", i, "stacks", j)
            if name not in stacks:
                problems.append(Problem(file, where.line_of(path), f"steps.{i}.stacks.{j}",
                                        f"no stack {name!r} in this workflow (stacks: {', '.join(sorted(stacks))})"))
            elif name in wave_of:
                problems.append(Problem(file, where.line_of(path), f"steps.{i}.stacks.{j}", f"{name!r} is in two steps"))
            else:
                wave_of[name] = i
        if isinstance(step, Check):
            named = list(step.rollback or []) + ([step.output.stack] if step.output else [])
            for name in named:
                if name not in stacks:
                    problems.append(Problem(file, where.line_of(("steps", i)), f"steps.{i}",
                                            f"check {step.check!r} names no stack of this workflow: {name!r}"))
    if problems:
        raise SpecError(problems)
    first_wave = next(i for i, s in enumerate(settings.steps) if isinstance(s, Wave)) if wave_of else 0
    for name in stacks:  # unlisted: after what they use (fixed point: upstreams may be unlisted too)
        if name not in wave_of:
            wave_of[name] = -1
    changed = True
    while changed:
        changed = False
        for name in stacks:
            if name in _listed(settings):
                continue
            want = max([first_wave, *(wave_of[u] for u in stacks[name].uses.values())])
            if wave_of[name] != want:
                wave_of[name], changed = want, True
    for name, f in stacks.items():
        for upstream in f.uses.values():
            if wave_of[upstream] > wave_of[name]:
                problems.append(Problem(f.file, f.line_of_use(upstream), "uses", f"{name} uses {upstream}, which "
                                        f"{file} runs in a later step ({wave_of[upstream]} > {wave_of[name]})"))
    if problems:
        raise SpecError(problems, hint="a stack's step must come after the steps of every stack it uses")
    phases = []
    for i, step in enumerate(settings.steps):
        if isinstance(step, Check):
            phases.append(Phase(check=step, label=f"check {step.check}"))
        else:
            members = tuple(sorted(n for n, w in wave_of.items() if w == i))
            phases.append(Phase(stacks=members, label=f"wave {step.wave or i}"))
    return tuple(phases)


def _listed(settings: WorkflowFile) -> set[str]:
    return {n for s in settings.steps if isinstance(s, Wave) for n in s.stacks}


def select(workflow: Workflow, targets: list[str], excludes: list[str]) -> set[str]:
    """The stacks a run acts on (``--target``/``--exclude``); the others are read from their state."""
    unknown = sorted((set(targets) | set(excludes)) - set(workflow.stacks))
    if unknown:
        raise UsageError(f"no stack {', '.join(map(repr, unknown))} in workflow {workflow.name!r}",
                         hint=f"its stacks: {', '.join(sorted(workflow.stacks))}")
    chosen = set(targets) if targets else set(workflow.stacks)
    return chosen - set(excludes)
