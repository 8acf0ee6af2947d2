"""Mutated inputs and a judge of what cloudorch does with them: shared by the fuzz test in CI
(tests/fuzz/test_fuzz_inputs.py, a few cases) and the fuzz runner (benchmarks/fuzz_bench.py, thousands).

A case is a seed: everything in it (which example, which mutations) comes from ``random.Random(seed)``, so
any case the runner reports can be rebuilt and replayed alone. The mutations aim at the classes of issue 15:
byte flips and control characters, other encodings, YAML and TOML structure (deleted, doubled or re-indented
lines, renamed keys), values past every limit (huge integers, 1e30, .inf, .nan, negative), impossible dates,
tagged scalars, aliases (billion laughs), deep nesting; and for SkyPilot catalogs, rows cut short and prices
that are no prices. A planted secret (in the config's backend URL and secrets provider, and the passphrase
variable) must never be echoed.
"""

from __future__ import annotations

import contextlib
import io
import random
import re
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STACKS = tuple(sorted((ROOT / "stacks").glob("*.yaml")))
#: planted in the config and the environment; no output may contain it
SECRET = "fz-Secret-7f3a9c1e5d"
#: what the exit-code contract allows validate and plan to return (README, "Exit codes")
CONTRACT = {0, 2, 3, 4, 5}
KINDS = ("stack", "config", "catalog")

BASE_CONFIG = f"""\
project = "fuzz"
backend_url = "s3://fuzz-state?token={SECRET}"
secrets_provider = "awskms://alias/{SECRET}"
policy_dirs = []
[vcpu_quotas]
aws = 512
"gcp/europe-west4" = 96
[enforcement]
"network.public-ingress" = "advisory"
[[capacity_failures]]
cloud = "aws"
region = "eu-west-1"
instance_type = "m7i.xlarge"
count = 2
"""


def _laughs(levels: int) -> str:
    anchors = ["&l0 [x, x, x, x, x, x, x, x, x]"]
    anchors += [f"&l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "[" + ", ".join(anchors) + "]"


YAML_VALUES = (
    "2027-02-30", "2027-13-01", "9" * 5000, "1" * 4300, "1.0e+30", "1e30", "1000000000", "99999999999999999999",
    "-1", "0", "0.5", ".inf", "-.inf", ".nan", "!!float abc", "!!int abc", "!!int 0x", "!!timestamp abc",
    "!!bool maybe", "!!binary '@@'", "!!set {a, b}", "!!omap [a: 1]", "!!str", "!!null x", "!custom x",
    "~", "''", "[]", "{}", "[1, 2]", "{a: 1}", "*nowhere", "&x 1", "yes", "true", '"\\x07"', "é\U0001F600",
    "x" * 10000, "0x10", "0o17", "1_000", "12:30:00", "2027-06-30T25:00:00", "- a", "[[[[[[", "}}",
    "[" * 100 + "]" * 100, "[" * 900 + "]" * 900, "{a: " * 700 + "1" + "}" * 700, _laughs(9),
    "internet", "0.0.0.0/0", "10.0.0.0/8", "::/0", "web", "net", "aws", "eu", "apac", "cost", "mysql", '"16"',
)
TOML_VALUES = (
    "true", "false", "1e20", "1.0e+20", "nan", "inf", "-inf", "-1", "0", "9" * 5000, "{}", '"x"', "[1, 2]",
    "[" * 600 + "]" * 600, "{a = " * 300 + "1" + "}" * 300, "1979-02-30", "1979-05-27T07:32:00Z", '"""multi"""',
    "'lit'", "0x10", '"aws/xx-fake-1"', '"mandatory"', '"../nowhere"', '"awskms://x"', "[\"a\", 3]",
)
INTERESTING_BYTES = b"\x00\x07\x1b\x7f\x85\xa0\xfe\xff\t\r\n:-[]{}&*!|>'\"#%@`,?= "


# --- mutations ----------------------------------------------------------------------------------------

def _lines_op(text: str, rng: random.Random, values: tuple[str, ...], assign: str) -> str:
    """One structural change to one line: a new value, deleted, doubled, moved, re-indented or re-keyed."""
    lines = text.split("\n")
    i = rng.randrange(len(lines))
    line = lines[i]
    op = rng.choice(("value", "value", "value", "delete", "double", "swap", "indent", "key", "key-deep"))
    head, sep, _ = line.partition(assign)
    if op == "value" and sep:
        lines[i] = f"{head}{sep} {rng.choice(values)}"
    elif op == "delete":
        del lines[i]
    elif op == "double":
        lines.insert(i, line)
    elif op == "swap":
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif op == "indent":
        lines[i] = (" " * rng.choice((1, 2, 4)) + line) if rng.random() < 0.5 else line.lstrip()
    elif op == "key" and sep:
        lines[i] = f"{head.rstrip()}{rng.choice(('x', '_', '', ' ', '-2'))}{sep}{line.partition(assign)[2]}"
    elif op == "key-deep" and sep:
        lines[i] = f"{head}{sep} {rng.choice(values)}\n{' ' * (len(head) - len(head.lstrip()) + 2)}{rng.choice(values)}{sep} 1"
    return "\n".join(lines)


def _flip(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if not buf:
            break
        at = rng.randrange(len(buf))
        buf[at] = rng.choice(INTERESTING_BYTES) if rng.random() < 0.7 else rng.randrange(256)
    return bytes(buf)


def _encode(text: str, rng: random.Random) -> bytes:
    """Mostly UTF-8; sometimes another encoding, a byte-order mark, or the file cut short."""
    roll = rng.random()
    if roll < 0.04:
        return text.encode(rng.choice(("utf-16", "utf-16-le", "utf-32", "latin-1")), errors="replace")
    if roll < 0.06:
        return b"\xef\xbb\xbf" + text.encode()
    data = text.encode("utf-8", errors="surrogatepass")
    if roll < 0.09:
        return data[:rng.randrange(len(data) + 1)]
    return data


def mutate_text(text: str, rng: random.Random, values: tuple[str, ...], assign: str) -> bytes:
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        text = _lines_op(text, rng, values, assign)
    data = _encode(text, rng)
    return _flip(data, rng) if rng.random() < 0.3 else data


def _catalog(rng: random.Random) -> dict[str, bytes]:
    """A small SkyPilot catalog (the embedded offerings of Europe and the US), its rows mutated."""
    from cloudorch.catalog.embedded import embedded_catalog

    header = "InstanceType,vCPUs,MemoryGiB,AcceleratorName,AcceleratorCount,Price,SpotPrice,Region,AvailabilityZone,Arch"
    columns = header.split(",")
    files: dict[str, list[list[str]]] = {}
    for o in embedded_catalog().offerings:
        if o.region in ("eu-west-1", "westeurope", "europe-west4", "us-east-1", "eastus", "us-central1"):
            files.setdefault(o.cloud, []).append([
                o.instance_type, str(o.vcpus), str(o.memory_gib), o.accelerator or "", str(o.accelerator_count or ""),
                str(o.price), "" if o.spot_price is None else str(o.spot_price), o.region,
                o.zones[0] if o.zones else "", o.arch])
    bad = ("-1", "nan", "inf", "-inf", "", "abc", "1e400", "0", "9" * 5000, "1,5", '"')
    out = {}
    for cloud, rows in files.items():
        for _ in range(rng.choice((0, 1, 3, 10, len(rows)))):
            row = rng.choice(rows)
            roll = rng.random()
            if not row:
                continue
            if roll < 0.5:
                row[rng.randrange(len(row))] = rng.choice(bad)
            elif roll < 0.8:
                del row[rng.randrange(len(row)):]
            else:
                row.append(rng.choice(bad))
        names = list(columns)
        if rng.random() < 0.1:
            names.pop(rng.randrange(len(names)))
        text = "\n".join([",".join(names), *(",".join(r) for r in rows)]) + "\n"
        out[cloud] = _flip(text.encode(), rng) if rng.random() < 0.3 else text.encode()
    return out


@dataclass
class Case:
    """One fuzz case: the files to write (relative path -> bytes) and the options naming them."""

    seed: int
    kind: str
    stack: str  # the example it starts from
    files: dict[str, bytes] = field(default_factory=dict)


def make_case(seed: int, kind: str | None = None) -> Case:
    rng = random.Random(seed)
    drawn = rng.choices(KINDS, weights=(7, 2, 1))[0]  # drawn even when given, so a replay is the same case
    kind = kind or drawn
    example = rng.choice(STACKS)
    text = example.read_text(encoding="utf-8")
    case = Case(seed, kind, example.name)
    case.files["stack.yaml"] = mutate_text(text, rng, YAML_VALUES, ":") if kind == "stack" else text.encode()
    case.files["cloudorch.toml"] = mutate_text(BASE_CONFIG, rng, TOML_VALUES, "=") if kind == "config" \
        else BASE_CONFIG.encode()
    if kind == "catalog":
        for cloud, data in _catalog(rng).items():
            case.files[f"catalog/{cloud}/vms.csv"] = data
    return case


# --- running and judging ------------------------------------------------------------------------------

class Hang(BaseException):
    """Raised by the watchdog; a BaseException so that the CLI's last line of defence does not catch it."""


@dataclass
class Outcome:
    command: str
    code: int
    output: str
    seconds: float


def write(case: Case, directory: Path) -> None:
    for name, data in case.files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def run(case: Case, directory: Path, timeout: float | None = None) -> list[Outcome]:
    """``validate`` (as JSON, so that each problem's line can be judged) and ``plan`` on the case's files in
    ``directory``, in this process, each under a watchdog of ``timeout`` seconds (Unix, main thread)."""
    from cloudorch.cli.app import main

    write(case, directory)
    shared = ["--config", str(directory / "cloudorch.toml")]
    if case.kind == "catalog":
        shared += ["--catalog", str(directory / "catalog")]
    stack = str(directory / "stack.yaml")
    outcomes = []
    for command, args in (("validate", [*shared, "--format", "json", "validate", stack]), ("plan", [*shared, "plan", stack])):
        buffer = io.StringIO()
        started = time.monotonic()
        with _watchdog(timeout), contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
            code = main(args)
        outcomes.append(Outcome(command, code, buffer.getvalue(), time.monotonic() - started))
    return outcomes


@contextlib.contextmanager
def _watchdog(seconds: float | None):
    if not seconds or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum, frame):
        raise Hang(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def findings(outcomes: list[Outcome]) -> dict[str, list[str]]:
    """What is wrong with the outcomes, by class: bug (exit 1 or outside the contract), traceback, leak,
    lineless (a problem in a file that has lines, reported without one)."""
    import json

    found: dict[str, list[str]] = {}
    for o in outcomes:
        if o.code not in CONTRACT:
            found.setdefault("bug", []).append(f"{o.command}: exit {o.code}: {_last_line(o.output)}")
        if "Traceback (most recent call last)" in o.output:
            found.setdefault("traceback", []).append(f"{o.command}: {_last_line(o.output)}")
        if SECRET in o.output:
            found.setdefault("leak", []).append(f"{o.command}: {o.output[max(0, o.output.find(SECRET) - 80):][:160]}")
        if o.command == "validate" and o.code == 2:
            try:
                problems = json.loads(o.output).get("problems", [])
            except ValueError:
                problems = []
            for p in problems:
                if p.get("line") is None and not _NO_LINE.search(p.get("message", "")):
                    found.setdefault("lineless", []).append(f"{p.get('file')}: {p.get('path')}: {p.get('message')}")
        elif o.command == "plan":
            for problem in _TEXT_PROBLEM.findall(o.output):
                if not _NO_LINE.search(problem):
                    found.setdefault("lineless", []).append(problem)
    return found


#: problems that have no line to point at
_NO_LINE = re.compile(r"file is empty|file not found|^empty$")
#: a problem in human output whose file is not followed by a line number
_TEXT_PROBLEM = re.compile(r"^error: (\S+\.(?:yaml|toml): (?!\d).*)$", re.MULTILINE)


def _last_line(output: str) -> str:
    """The gist of a command's output: a JSON error's message, or the last line of text."""
    import json

    try:
        return str(json.loads(output).get("message"))[:200]
    except (ValueError, AttributeError):
        lines = [line for line in output.strip().splitlines() if line.strip()]
        return lines[-1][:200] if lines else ""
