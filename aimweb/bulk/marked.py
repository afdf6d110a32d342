"""The problems of a rejected upload as a workbook: the rows as uploaded, bad cells marked."""
from __future__ import annotations

import io

from ..models import UploadBatch
from ..web.downloads import safe_text
from .template import COLUMNS, TITLES
from .workbook import read_first_sheet


def marked_workbook(batch: UploadBatch) -> bytes:
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill

    bad = PatternFill("solid", fgColor="F4E3DB")
    bold = Font(bold=True)
    wb = Workbook()
    sheet = wb.active
    sheet.title = "Your rows"
    try:
        rows = read_first_sheet(batch.content, len(COLUMNS)).rows
    except Exception:  # noqa: BLE001 - the file itself was refused: only the list can be given
        rows = [TITLES]
    for row in rows:
        sheet.append([safe_text(v) if isinstance(v, str) else v for v in row])
    for cell in sheet[1]:
        cell.font = bold
    sheet.freeze_panes = "B2"
    by_cell: dict[str, list[str]] = {}
    for problem in batch.problems or []:
        by_cell.setdefault(f"{problem['column']}{problem['row']}", []).append(problem["message"])
    for ref, messages in by_cell.items():
        cell = sheet[ref]
        cell.fill = bad
        cell.comment = Comment("\n".join(messages), "AIM")
    listing = wb.create_sheet("Problems")
    listing.append(["Row", "Column", "Field", "Problem"])
    for cell in listing[1]:
        cell.font = bold
    for problem in batch.problems or []:
        listing.append([problem["row"], problem["column"], problem["title"], safe_text(problem["message"])])
    listing.column_dimensions["C"].width = 30
    listing.column_dimensions["D"].width = 110
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
