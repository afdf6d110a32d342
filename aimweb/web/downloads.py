"""File downloads: formula-safe spreadsheet text, CSV/XLSX tables and attachment headers."""
from __future__ import annotations

import csv
import io

from flask import Response

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"
_RISKY = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: str) -> str:
    """A cell a spreadsheet shows as text, never runs (OWASP CSV injection)."""
    return "'" + value if value and value.startswith(_RISKY) else value


def attachment(response: Response, filename: str) -> Response:
    """Have the browser save the response as `filename`."""
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def table_download(rows: list[list], kind: str, name: str, *, note: str | None = None,
                   widths: dict[str, int] | None = None, sheet_title: str | None = None) -> Response:
    """`rows` (the first one the header) as `name`.csv or `name`.xlsx, with an optional note
    after the table. The CSV starts with a BOM so Excel reads it as UTF-8. Every text cell goes
    through safe_text here, so no caller can forget it."""
    rows = [[safe_text(v) if isinstance(v, str) else v for v in row] for row in rows]
    if kind == "csv":
        out = io.StringIO()
        out.write("\ufeff")
        writer = csv.writer(out)
        writer.writerows(rows)
        if note is not None:
            writer.writerow([note])
        response = Response(out.getvalue(), mimetype=CSV)
    else:
        from openpyxl import Workbook
        from openpyxl.styles import Font

        wb = Workbook()
        sheet = wb.active
        if sheet_title:
            sheet.title = sheet_title
        for row in rows:
            sheet.append(row)
        if note is not None:
            sheet.append([])
            sheet.append([note])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for column, width in (widths or {}).items():
            sheet.column_dimensions[column].width = width
        buffer = io.BytesIO()
        wb.save(buffer)
        response = Response(buffer.getvalue(), mimetype=XLSX)
    return attachment(response, f"{name}.{kind}")
