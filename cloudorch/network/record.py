"""The allocation record: ``.cloudorch/<stack>.network.json`` at the project root.

``plan --out`` and ``apply`` write it; every later plan of the stack reads it first, so a block, an ASN or
a tunnel's inside addresses never move. It is meant to be committed with the stack file (a CI runner then
plans with the same addresses as a laptop): sorted keys, one entry per line, no timestamps, so a change
reads as a one-line diff. It holds no secret. Deleting it is safe only before anything is applied.
"""

from __future__ import annotations

import ipaddress
import json
import os
import threading
from pathlib import Path

from cloudorch.errors import UsageError
from cloudorch.network.allocation import ASN_FIRST, ASN_LAST, Allocation, SiteKey, block_size, group_count

FORMAT = 1


class RecordError(UsageError):
    """The record file exists but cannot be read: the user (or a merge) broke it (exit 2)."""


def record_path(root: Path, stack: str) -> Path:
    return root / ".cloudorch" / f"{stack}.network.json"


def read_record(path: Path) -> Allocation:
    """The allocation recorded at ``path``; an empty one when there is no file yet. A record that is not one,
    or that contradicts itself (``_contradictions``), is refused whole: planning on it would route between
    overlapping sites or give two gateways one ASN."""
    if not path.is_file():
        return Allocation()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise ValueError(f"format {data.get('format')!r}, expected {FORMAT}")
        blocks = [((e["network"], e["cloud"], e["region"]), (_text(e["network_cidr"]), _text(e["cidr"])))
                  for e in data["blocks"]]
        asns = [((e["network"], e["cloud"], e["region"]), _whole(e["asn"])) for e in data["asns"]]
        tunnels = [(e["link"], _whole(e["group"])) for e in data["tunnels"]]
        wrong = sorted(link for link, group in tunnels if not 0 <= group < group_count())
        if wrong:
            raise ValueError(f"tunnel group of {wrong[0]} outside 0-{group_count() - 1}")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise RecordError(f"{path}: not a cloudorch allocation record ({exc})",
                          hint="restore it from version control; it keeps addresses of applied networks from "
                               "moving, so delete it only if nothing of the stack was ever applied") from None
    found = _contradictions(blocks, asns, tunnels)
    if found:
        shown = [what for what, _ in found[:MAX_SHOWN]]
        more = f" (and {len(found) - MAX_SHOWN} more)" if len(found) > MAX_SHOWN else ""
        fixes = list(dict.fromkeys(fix for _, fix in found))
        raise RecordError(f"{path}: the allocation record contradicts itself: " + "; ".join(shown) + more,
                          hint="; ".join(fixes) + ". " + KEEP_APPLIED)
    return Allocation(dict(blocks), dict(asns), dict(tunnels))


#: the most contradictions one error lists
MAX_SHOWN = 5
#: what every fix of a contradicting record must respect
KEEP_APPLIED = ("Keep the entries of sites that were applied as they are (after a merge: the ones of the branch "
                "that was applied): a changed block or ASN replaces that site's network or VPN gateway")
_FREE_BLOCK = "cloudorch allocates it a free block on the next plan"
_FREE_ASN = "cloudorch allocates it a free ASN on the next plan"


def _whole(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{value!r} is not a whole number")
    return value


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a CIDR")
    return value


def _site(key: tuple[str, str, str]) -> str:
    network, cloud, region = key
    return f"{network}@{cloud}/{region}"


def _contradictions(blocks: list[tuple[SiteKey, tuple[str, str]]], asns: list[tuple[SiteKey, int]],
                    tunnels: list[tuple[str, int]]) -> list[tuple[str, str]]:
    """What in a parsed record no plan could have written, each with how to fix it: an entry listed twice
    with two values (the JSON keeps only the last), a block that is not one of its network's blocks, two
    blocks of one network that overlap, an ASN outside the range allocated from, one ASN on two sites.

    Blocks of *different* networks are not compared: linked networks' CIDRs never overlap (the loader
    refuses it) and a block is kept only while its ``network_cidr`` is its network's CIDR, so blocks that
    are kept and inside their network_cidr cannot overlap across linked networks; unlinked ones may."""
    found: list[tuple[str, str]] = []
    for section, entries, name in (("blocks", blocks, _site), ("asns", asns, _site), ("tunnels", tunnels, str)):
        seen: dict = {}
        for key, value in entries:
            if key in seen and seen[key] != value:
                found.append((f"{section} lists {name(key)} twice, as {_value(seen[key])} and {_value(value)}",
                              f"remove one of the two {name(key)} entries from {section}"))
            seen.setdefault(key, value)
    by_space: dict[tuple[str, str], list[tuple[ipaddress.IPv4Network, SiteKey]]] = {}
    for site, (network_cidr, cidr) in dict(blocks).items():
        try:
            net, block = ipaddress.IPv4Network(network_cidr), ipaddress.IPv4Network(cidr)
        except (ValueError, TypeError) as exc:
            found.append((f"the block of {_site(site)} is not an IPv4 block in an IPv4 network ({exc})",
                          f"remove the entry of the block that is wrong; {_FREE_BLOCK}"))
            continue
        size = block_size(str(net))
        if not block.subnet_of(net):
            found.append((f"the block of {_site(site)}, {block}, is outside its network's CIDR {net}",
                          f"remove the entry of the block that is wrong; {_FREE_BLOCK}"))
        elif block.prefixlen != size:
            found.append((f"the block of {_site(site)}, {block}, is not one of the /{size} blocks {net} is split into",
                          f"remove the entry of the block that is wrong; {_FREE_BLOCK}"))
        else:
            by_space.setdefault((site[0], str(net)), []).append((block, site))
    for spaced in by_space.values():
        # the blocks of one network_cidr are all of one size, aligned: two overlap only where they are one
        spaced.sort()
        for (block, site), (other, other_site) in zip(spaced, spaced[1:]):
            if block == other:
                found.append((f"the blocks of {_site(site)} and {_site(other_site)} are both {block}",
                              f"remove one of the two entries (the site not applied yet); {_FREE_BLOCK}"))
    holders: dict[int, list[SiteKey]] = {}
    for site, asn in dict(asns).items():
        if not ASN_FIRST <= asn <= ASN_LAST:
            found.append((f"the ASN of {_site(site)}, {asn}, is outside {ASN_FIRST}-{ASN_LAST}, the private ASNs "
                          "cloudorch allocates (none of which a cloud reserves, as Azure does 65515 and 65517-65520)",
                          f"remove the entry of the ASN that is wrong; {_FREE_ASN}"))
        holders.setdefault(asn, []).append(site)
    for asn, sites in sorted(holders.items()):
        if len(sites) > 1:
            named = [_site(s) for s in sorted(sites)]
            found.append((f"{', '.join(named[:-1])} and {named[-1]} have the same ASN {asn}",
                          f"remove all but one of the entries with one ASN (keep the site applied); {_FREE_ASN}"))
    return found


def _value(value: object) -> str:
    return " in ".join(reversed(value)) if isinstance(value, tuple) else str(value)


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
    # A temporary name of this process and thread: with one shared name, two writers of a stack's record (a
    # `plan --out` beside a workflow's apply, two CI jobs on one checkout) renamed each other's half-written
    # file into place. A leftover of a killed writer is removed first, so the record gets a new file's mode
    # (the umask's), never the leftover's.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            # on disk before the rename: a crash must leave the old record or this one, never an empty file
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return True
