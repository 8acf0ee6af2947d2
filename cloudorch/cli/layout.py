"""Tables that never cut a word: boxed when every cell fits whole, aligned columns when only those fit, one
line per row below that.

rich fits a table to the terminal by wrapping cells and, when that is not enough, cutting them
("eu-no…", "db-c…"): a machine type or a region cut short is worse than no table. So a table is printed
only at its natural width; a terminal too narrow for it gets each row as a line that wraps at spaces.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.markup import escape
from rich.table import Table

Row = Sequence[str]


def table_or_lines(out, title: str, headers: Row, rows: Sequence[Row], line: Callable[[Row], str],
                   right: Sequence[str] = (), boxed: bool = True) -> None:
    """``rows`` under ``title``: a boxed table (unless ``boxed`` is False: above a few hundred rows rich's
    tables take seconds), aligned columns, or ``line(row)`` each (rich markup; it escapes the values)."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    if boxed and sum(widths) + 3 * len(widths) + 1 <= out.width:
        table = Table(title=title, title_justify="left")
        for column in headers:
            table.add_column(column, justify="right" if column in right else "left", no_wrap=True)
        for row in rows:
            table.add_row(*map(escape, row))
        out.print(table)
    elif sum(widths) + 2 * (len(widths) - 1) <= out.width:
        _aligned(out, title, headers, rows, widths, right)
    else:
        out.print(f"[bold]{escape(title)}[/] ({len(rows):,} rows)")
        for row in rows:
            out.print(line(row))


def _aligned(out, title: str, headers: Row, rows: Sequence[Row], widths: list[int], right: Sequence[str]) -> None:
    flush_right = {i for i, h in enumerate(headers) if h in right}

    def line(cells: Row) -> str:
        return "  ".join(c.rjust(w) if i in flush_right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    out.print(f"[bold]{escape(title)}[/] ({len(rows):,} rows)")
    out.print(f"[bold]{escape(line(headers))}[/]")
    out.print(escape("\n".join(line(r) for r in rows)), highlight=False)
