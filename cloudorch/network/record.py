"""The allocation record: ``.cloudorch/<stack>.network.json`` at the project root.

``plan --out`` and ``apply`` write it; every later plan of the stack reads it first, so a block, an ASN or
a tunnel's inside addresses never move. It is meant to be committed with the stack file (a CI runner then
plans with the same addresses as a laptop): sorted keys, one entry per line, no timestamps, so a change
reads as a one-line diff. It holds no secret. Deleting it is safe only before anything is applied.
"""

from __future__ import annotations

import json
from pathlib import Path

from cloudorch.errors import UsageError
from cloudorch.network.allocation import Allocation, group_count

FORMAT = 1


class RecordError(UsageError):
    """The record file exists but cannot be read: the user (or a merge) broke it (exit 2)."""


def record_path(root: Path, stack: str) -> Path:
    return root / ".cloudorch" / f"{stack}.network.json"


def read_record(path: Path) -> Allocation:
    """The allocation recorded at ``path``; an empty one when there is no file yet."""
    if not path.is_file():
        return Allocation()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise ValueError(f"format {data.get('format')!r}, expected {FORMAT}")
        blocks = {(e["network"], e["cloud"], e["region"]): (e["network_cidr"], e["cidr"]) for e in data["blocks"]}
        asns = {(e["network"], e["cloud"], e["region"]): int(e["asn"]) for e in data["asns"]}
        tunnels = {e["link"]: int(e["group"]) for e in data["tunnels"]}
        wrong = sorted(link for link, group in tunnels.items() if not 0 <= group < group_count())
        if wrong:
            raise ValueError(f"tunnel group of {wrong[0]} outside 0-{group_count() - 1}")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise RecordError(f"{path}: not a cloudorch allocation record ({exc})",
                          hint="restore it from version control; it keeps addresses of applied networks from "
                               "moving, so delete it only if nothing of the stack was ever applied") from None
    return Allocation(blocks, asns, tunnels)


def render_record(stack: str, allocation: Allocation) -> str:
    def line(entry: dict) -> str:
        return "    " + json.dumps(entry, sort_keys=True)

    def section(name: str, entries: list[dict]) -> str:
        if not entries:
            return f'  "{name}": []'
        return f'  "{name}": [\n' + ",\n".join(line(e) for e in entries) + "\n  ]"

    blocks = [{"network": n, "cloud": c, "region": r, "network_cidr": was, "cidr": cidr}
              for (n, c, r), (was, cidr) in sorted(allocation.blocks.items())]
    asns = [{"network": n, "cloud": c, "region": r, "asn": asn} for (n, c, r), asn in sorted(allocation.asns.items())]
    tunnels = [{"link": link, "group": g} for link, g in sorted(allocation.tunnel_groups.items())]
    return ("{\n" + f'  "format": {FORMAT},\n  "stack": {json.dumps(stack)},\n'
            + ",\n".join((section("blocks", blocks), section("asns", asns), section("tunnels", tunnels))) + "\n}\n")


def write_record(path: Path, stack: str, allocation: Allocation) -> bool:
    """Write the record (atomically); False when the file already says exactly this."""
    text = render_record(stack, allocation)
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return True
