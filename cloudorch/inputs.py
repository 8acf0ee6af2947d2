"""Reading the files users hand cloudorch (stack files, `cloudorch.toml`), and the limits on what they say.

One place refuses what no parser should be given -- a device or a pipe that never ends (`/dev/zero`), a
file far larger than any stack, text that is not UTF-8 -- before any parser sees it, each as a located
problem with a hint. The limits on sizes and counts live here too, below both the stack models and the
config, so that one number serves the loaders, the JSON Schema and the README.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cloudorch.errors import Problem, SpecError

#: the largest input file read (a 3,000-resource stack is well under 1 MiB)
MAX_FILE_BYTES = 8 * 1024 * 1024
#: the most replicas of one resource; the placement's search for a way out of an infeasible spread takes
#: a step per replica, so this also bounds how long an infeasible stack takes to explain
MAX_REPLICAS = 1_000
#: the most vCPUs or GiB of memory one replica may ask for (the largest machines have 1,920 vCPUs, 32 TiB)
MAX_VCPUS = 4_096
MAX_MEMORY_GB = 65_536
#: the most accelerators one replica may ask for
MAX_ACCELERATORS = 64
#: the largest traffic or stored data in GB a month (an exabyte): beyond it, prices overflow the solver
MAX_GB_MONTH = 1e9
#: the longest time in days a setting may name (a bucket's lifecycle): a hundred years
MAX_DAYS = 36_500
#: the largest budget in USD a month
MAX_MONTHLY_USD = 1e12
#: the largest vCPU quota
MAX_VCPU_QUOTA = 10_000_000
#: the most VPN links a config may say one site's gateway takes
MAX_VPN_LINKS = 10_000

#: a field of an input file: keys and list positions from the top, e.g. ("resources", "web", "ingress", 0)
FieldPath = tuple[str | int, ...]

_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),  # before UTF-16: FF FE starts both
    (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"),
)


def read_text(path: str | Path, shown: str, what: str, max_bytes: int = MAX_FILE_BYTES) -> str:
    """The text of the file at ``path`` (named ``shown`` in messages), a ``what`` such as "stack file", of
    at most ``max_bytes``.

    Raises ``SpecError`` (exit 2) for a missing, special, oversized or non-UTF-8 file."""
    def refuse(message: str, hint: str | None = None, line: int | None = None, column: int | None = None):
        raise SpecError([Problem(shown, line, "", message, column)], hint=hint)

    try:
        # stat before opening: opening a FIFO blocks until a writer comes, reading /dev/zero never ends
        info = os.stat(path)
    except FileNotFoundError:
        refuse("file not found", "check the path")
    except OSError as exc:
        refuse(f"cannot read: {exc.strerror}")
    if stat.S_ISDIR(info.st_mode):
        refuse(f"is a directory, not a {what}")
    if not stat.S_ISREG(info.st_mode):
        refuse(f"is not a regular file (a device, pipe or socket), so it cannot be a {what}",
               f"name a {what} saved as an ordinary file")
    if info.st_size > max_bytes:
        refuse(f"is {info.st_size:,} bytes; a {what} may have at most {max_bytes:,}",
               f"is this the right file? A {what} this large is not one cloudorch can use")
    try:
        with Path(path).open("rb") as handle:
            raw = handle.read(max_bytes + 1)  # the file may have grown since stat
    except OSError as exc:
        refuse(f"cannot read: {exc.strerror}")
    if len(raw) > max_bytes:
        refuse(f"is larger than {max_bytes:,} bytes, the most a {what} may have")
    return decode(raw, shown, what)


def decode(raw: bytes, shown: str, what: str) -> str:
    """UTF-8 text (a UTF-8 byte-order mark is dropped); other encodings are named, with how to convert."""
    encoding = next((name for bom, name in _BOMS if raw.startswith(bom)), None)
    if encoding is None and _looks_utf16(raw):
        encoding = "UTF-16"
    if encoding:
        raise SpecError([Problem(shown, 1, "", f"the file is {encoding}-encoded; a {what} must be UTF-8")],
                        hint=f"convert it, e.g. `iconv -f {encoding} -t UTF-8 {shown} > fixed` (or save it as "
                             "UTF-8 in your editor)")
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line, column = position(raw, exc.start)
        raise SpecError([Problem(shown, line, "", f"not UTF-8 text: byte 0x{raw[exc.start]:02x} cannot start "
                                 f"or continue a character; a {what} must be UTF-8", column)],
                        hint="save the file as UTF-8 (`file -i` shows its current encoding)") from None


def _looks_utf16(raw: bytes) -> bool:
    """UTF-16 without a byte-order mark: text where every other byte of the first few hundred is NUL."""
    head = raw[:512]
    return len(head) >= 4 and max(head[0::2].count(0), head[1::2].count(0)) * 4 >= len(head)


def position(text: str | bytes, offset: int) -> tuple[int, int]:
    """The 1-based line and column of ``offset`` in ``text``."""
    newline = "\n" if isinstance(text, str) else b"\n"
    line = text.count(newline, 0, offset) + 1  # type: ignore[arg-type]
    return line, offset - (text.rfind(newline, 0, offset) + 1) + 1  # type: ignore[arg-type]



def dotted_path(path: FieldPath) -> str:
    """A field's path as messages show it: ``resources.web.ingress[0].port``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def line_of(lines: dict[FieldPath, int], path: FieldPath) -> int | None:
    """Line of the deepest known prefix of ``path`` (a missing field is reported at its parent)."""
    for end in range(len(path), -1, -1):
        line = lines.get(tuple(path[:end]))
        if line is not None:
            return line
    return None
