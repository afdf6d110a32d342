"""Export of the dashboard's filtered licenses: one row per product line with its license header.

CSV is streamed row by row as the database cursor advances. XLSX is written by openpyxl in
write-only mode to a temporary file (a zip can't be sent before it is finished) and streamed from
there, so memory stays flat whatever the size. Text that a spreadsheet would run as a formula
(= + - @, tab, carriage return) is neutralised with a leading apostrophe; numbers and dates are
written as typed cells.
"""
from __future__ import annotations

import csv
import io
import tempfile
from datetime import date, datetime

from flask import Response, current_app, stream_with_context
from sqlalchemy import select

from ..extensions import db
from ..models import LICENSE_STATUSES, ProductLine
from ..reference.countries import country_name
from ..rules import ENTRY_TYPES
from .search import Filters, license_query

COLUMNS = [
    "License Number", "Status", "Created", "Valid From", "Valid Through", "Customs Entry #",
    "Entry Type", "Importer Name", "Exporter Name", "Manufacturer", "Country of Origin",
    "Country of Export", "Port of Entry", "Expected Date of Export", "Expected Date of Import",
    "Product #", "HTS Number", "Product Description", "Product Category",
    "Country of Largest Smelt", "Country of Second Largest Smelt", "Country of Most Recent Cast",
    "Volume (KG)", "Customs Value (US$)", "Unit Value (US$/KG)",
]
DATE_COLUMNS = {2, 3, 4, 13, 14}
MAX_EXPORT_LICENSES = 100_000
_RISKY = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: str) -> str:
    """A cell a spreadsheet shows as text, never runs (OWASP CSV injection)."""
    return "'" + value if value and value.startswith(_RISKY) else value


def _rows(company_id: int, filters: Filters):
    """(License number, …) tuples, one per product line, newest license first."""
    licenses = license_query(company_id, filters).limit(MAX_EXPORT_LICENSES).subquery()
    query = (
        select(licenses.c.number, licenses.c.status, licenses.c.created_at, licenses.c.valid_from,
               licenses.c.valid_through, licenses.c.entry_number, licenses.c.entry_type,
               licenses.c.importer_name, licenses.c.exporter_name, licenses.c.manufacturer_name,
               licenses.c.origin_country, licenses.c.export_country, licenses.c.port_code,
               licenses.c.export_date, licenses.c.import_date, ProductLine.position,
               ProductLine.hts_number, ProductLine.description, ProductLine.category,
               ProductLine.smelt_largest, ProductLine.smelt_second, ProductLine.cast_country,
               ProductLine.quantity_kg, ProductLine.customs_value_usd, ProductLine.unit_value)
        .join(ProductLine, ProductLine.license_id == licenses.c.id)
        .order_by(licenses.c.created_at.desc(), licenses.c.id.desc(), ProductLine.position)
    )
    names: dict[str, str] = {}

    def country(code):
        if code not in names:
            names[code] = country_name(code)
        return names[code]

    result = db.session.execute(query.execution_options(yield_per=2000, stream_results=True))
    for row in result:
        hts = row.hts_number
        yield [
            row.number, LICENSE_STATUSES.get(row.status, row.status), row.created_at.date(),
            row.valid_from, row.valid_through, safe_text(row.entry_number or ""),
            ENTRY_TYPES.get(row.entry_type, row.entry_type), safe_text(row.importer_name),
            safe_text(row.exporter_name), safe_text(row.manufacturer_name),
            country(row.origin_country), country(row.export_country), row.port_code,
            row.export_date, row.import_date, row.position + 1,
            f"{hts[:4]}.{hts[4:6]}.{hts[6:8]}.{hts[8:]}", row.description, row.category,
            country(row.smelt_largest), country(row.smelt_second), country(row.cast_country),
            row.quantity_kg, row.customs_value_usd, row.unit_value,
        ]


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (date, datetime)):
        return value.strftime("%m/%d/%Y")
    return str(value)


def _csv_stream(company_id: int, filters: Filters):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")  # Excel opens UTF-8 CSV correctly only with a byte-order mark
    writer.writerow(COLUMNS)
    for count, row in enumerate(_rows(company_id, filters), start=1):
        writer.writerow([_csv_value(v) for v in row])
        if count % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def write_xlsx(company_id: int, filters: Filters, target) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Licenses")
    sheet.freeze_panes = "B2"
    widths = [13, 15, 11, 11, 13, 16, 16, 28, 28, 24, 18, 18, 13, 14, 14, 10, 15, 40, 26, 18, 18, 18, 14, 16, 12]
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[_column_letter(index)].width = width
    bold, fill = Font(bold=True, color="FFFFFF"), PatternFill("solid", fgColor="1A4480")
    header = []
    for title in COLUMNS:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font, cell.fill = bold, fill
        header.append(cell)
    sheet.append(header)
    for row in _rows(company_id, filters):
        # Decimal, int and date values become typed number and date cells (dates get openpyxl's
        # date format); every text cell was neutralised in _rows.
        sheet.append(row)
    workbook.save(target)


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


def response(company_id: int, filters: Filters, kind: str) -> Response:
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    if kind == "csv":
        out = Response(stream_with_context(_csv_stream(company_id, filters)),
                       mimetype="text/csv; charset=utf-8")
        out.headers["Content-Disposition"] = f'attachment; filename="aim-licenses-{stamp}.csv"'
        return out
    spool = tempfile.TemporaryFile(dir=current_app.config.get("EXPORT_TMP_DIR"))
    write_xlsx(company_id, filters, spool)
    size = spool.tell()
    spool.seek(0)

    def chunks():
        with spool:
            while data := spool.read(256 * 1024):
                yield data

    out = Response(chunks(), mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    out.headers["Content-Disposition"] = f'attachment; filename="aim-licenses-{stamp}.xlsx"'
    out.headers["Content-Length"] = str(size)
    return out

