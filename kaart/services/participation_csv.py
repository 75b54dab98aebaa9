"""The "Wie doet er mee?" section as one CSV for planners (kaart/services/participation.py
computes it): the rates per buurt and PC4, then the counts per question, with the same
suppression as on the page."""

from __future__ import annotations

import csv
import io

from kaart.services.participation import SECONDARY, SMALL, Cell, Monitor

CSV_COLUMNS = (
    "part",
    "area",
    "code",
    "group",
    "count",
    "inhabitants",
    "per_1000",
    "share_pct",
    "residents_pct",
    "under",
)


def csv_text(result: Monitor, labels: dict[str, str]) -> str:
    """The section as one CSV (UTF-8 with BOM for spreadsheets): the rates per buurt and PC4,
    then the counts per question, hidden counts as "< 10" or "onderdrukt"."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for part, rates in (("buurt", result.buurten), ("pc4", result.postcodes)):
        for r in rates:
            writer.writerow(
                [
                    part,
                    r.name,
                    r.code,
                    "",
                    r.count,
                    r.inhabitants or "",
                    _num(r.per_1000),
                    "",
                    "",
                    "yes" if r.under else "",
                ]
            )
    if result.overall:
        o = result.overall
        writer.writerow(
            ["area", o.name, "", "", o.count, o.inhabitants, _num(o.per_1000), "", "", ""]
        )
    for table in [t for t in (result.ages, *result.tables) if t is not None]:
        for row in table.rows:
            for group, cell in [("total", row.total), *row.cells.items()]:
                writer.writerow(
                    [
                        table.question,
                        row.name,
                        row.code or "",
                        group,
                        _shown(cell, labels),
                        "",
                        "",
                        _num(cell.share * 100 if cell.share is not None else None),
                        _num(cell.residents * 100 if cell.residents is not None else None),
                        "",
                    ]
                )
    return out.getvalue()


def _shown(cell: Cell, labels: dict[str, str]) -> str:
    if cell.hidden == SMALL:
        return labels["small"]
    if cell.hidden == SECONDARY:
        return labels["secondary"]
    return str(cell.count)


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"
