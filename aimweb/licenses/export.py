"""Export of the dashboard's filtered licenses: one row per product line with its license header.

CSV is streamed row by row as the database cursor advances. XLSX is written as SpreadsheetML to a
temporary file (a zip can't be sent before it is finished) and streamed from there, so memory stays
flat whatever the size. Text that a spreadsheet would run as a formula
(= + - @, tab, carriage return) is neutralised with a leading apostrophe; numbers and dates are
written as typed cells.
"""
from __future__ import annotations

import csv
import io
import re
import shutil
import tempfile
import zipfile
from datetime import date, datetime
from decimal import Decimal

from flask import Response, current_app, stream_with_context
from sqlalchemy import String, func, select, type_coerce

from .. import formatting, products
from ..clock import program_now
from ..enums import ENTRY_TYPES, LicenseStatus
from ..extensions import db
from ..models import Branch, License, ProductLine, User
from ..products import HEADER_FIELDS
from ..products.base import HTS, QUANTITY, VALUE
from ..reference.countries import country_name
from ..web.downloads import CSV, XLSX, attachment, safe_text
from .search import PRODUCT_NAMES, SORTS, Filters, license_query

# The products' own line fields (of every product, each once: an export may mix products).
OWN_FIELDS = products.own_line_fields()
COLUMNS = [
    "License Number", "Product", "Status", "Created", "Valid From", "Valid Through",
    *(f.title for f in HEADER_FIELDS), "Branch", "Filed by",
    "Product #", HTS.title, "Product Description", "Product Category",
    *(f.title for f in OWN_FIELDS),
    QUANTITY.title, VALUE.title, "Unit Value (US$/KG)",
]
DATE_COLUMNS = {3, 4, 5} | {6 + i for i, f in enumerate(HEADER_FIELDS) if f.kind == "date"}
_BRANCH = 6 + len(HEADER_FIELDS)  # then "Filed by": the branch and the filer, read as ids and named once
_HEADER_END = _BRANCH + 2
_OWN_START = _HEADER_END + 4
MAX_EXPORT_LICENSES = 100_000


def count_selected(company_id: int, ids: list[int]) -> int:
    """How many of the licenses `ids` are the company's licenses with a number."""
    return db.session.scalar(select(func.count()).select_from(License).where(
        License.company_id == company_id, License.status.in_(LicenseStatus.NUMBERED), License.id.in_(ids)))


def _rows(company_id: int, filters: Filters, show_date=None, ids: list[int] | None = None):
    """(License number, …) lists, one per product line, licenses in the dashboard's order (newest
    first unless sorted otherwise); only the licenses `ids` when given. `show_date`, when given,
    converts the date columns (once per license: they are all header columns)."""
    licenses = license_query(company_id, filters, ids).limit(MAX_EXPORT_LICENSES).subquery()
    column, key = licenses.c[SORTS[filters.sort].key], licenses.c.id
    order = (column.desc(), key.desc()) if filters.order == "desc" else (column.asc(), key.asc())
    query = (
        # The status as stored (a str): looked up in status_labels, no enum built per row.
        select(licenses.c.number, licenses.c.product, type_coerce(licenses.c.status, String), licenses.c.created_at,
               licenses.c.valid_from,
               licenses.c.valid_through, *(licenses.c[f.name] for f in HEADER_FIELDS),
               licenses.c.branch_id, licenses.c.created_by_id,
               ProductLine.position, ProductLine.hts_number, ProductLine.description,
               ProductLine.category, *(getattr(ProductLine, f.name) for f in OWN_FIELDS),
               ProductLine.quantity_kg, ProductLine.customs_value_usd, ProductLine.unit_value)
        .join(ProductLine, ProductLine.license_id == licenses.c.id)
        .order_by(*order, ProductLine.position)
    )
    names: dict[str, str] = {}
    branch_names = {b.id: b.label for b in db.session.scalars(select(Branch).where(Branch.company_id == company_id))}
    filers: dict[int, str] = {}

    def filer(user_id):
        if user_id not in filers:
            user = db.session.get(User, user_id)
            filers[user_id] = user.full_name if user is not None else None
        return filers[user_id]

    def country(code):
        if code not in names:
            names[code] = country_name(code) if code else ""
        return names[code]

    def entry_type(code):
        return ENTRY_TYPES.get(code, code)

    def same(value):
        return value

    # safe_text leaves None as None: an empty cell in both formats.
    shown = {"country": country, "entry_type": entry_type, "text": safe_text, "entry_number": safe_text}
    # Only the header fields that are shown differently from their stored value are converted.
    header_shown = [(i, shown[f.kind]) for i, f in enumerate(HEADER_FIELDS, start=6) if f.kind in shown]
    own_shown = [shown.get(f.kind, same) for f in OWN_FIELDS]
    own_end = _OWN_START + len(OWN_FIELDS)
    status_labels = {status: status.label for status in LicenseStatus}
    date_columns = sorted(DATE_COLUMNS)
    # Lines repeat a few HTS numbers and a few combinations of their own fields (countries):
    # each is shown once and then looked up, so a row costs a slice and two dict lookups.
    own_cells: dict[tuple, list] = {}
    hts_cells: dict[str, str] = {}
    result = db.session.execute(query.execution_options(yield_per=2000, stream_results=True))
    # A license's header columns are built once for all of its lines: the export of 10,000
    # licenses spends its time here.
    last_number, header = None, None
    for row in result:
        number = row[0]
        if number != last_number:
            last_number = number
            header = list(row[:_HEADER_END])
            header[1] = PRODUCT_NAMES.get(header[1], header[1])
            header[2] = status_labels[header[2]]
            header[3] = header[3].date()
            for i, show in header_shown:
                header[i] = show(header[i])
            header[_BRANCH] = safe_text(branch_names.get(header[_BRANCH]))
            header[_BRANCH + 1] = safe_text(filer(header[_BRANCH + 1]))
            if show_date is not None:
                for i in date_columns:
                    header[i] = show_date(header[i])
        position, hts, description, category = row[_HEADER_END:_OWN_START]
        own = row[_OWN_START:own_end]
        cells = own_cells.get(own)
        if cells is None:
            cells = own_cells[own] = [show(v) for show, v in zip(own_shown, own)]
        shown_hts = hts_cells.get(hts)
        if shown_hts is None:
            shown_hts = hts_cells[hts] = f"{hts[:4]}.{hts[4:6]}.{hts[6:8]}.{hts[8:]}"
        yield [*header, position + 1, shown_hts, description, category, *cells, *row[own_end:]]


def _csv_date():
    """date -> MM/DD/YYYY, formatted once per distinct date; None -> None (an empty cell)."""
    dates: dict[date, str] = {}

    def us(value):
        if value is None:
            return None
        shown = dates.get(value)
        if shown is None:
            shown = dates[value] = formatting.us_date(value)
        return shown

    return us


def _csv_stream(company_id: int, filters: Filters, ids: list[int] | None = None):
    buffer = io.StringIO()
    # The csv module writes None as an empty field and numbers (Decimal, int) as str() does: only
    # the dates need formatting, done by _rows once per license.
    writer = csv.writer(buffer)
    buffer.write("\ufeff")  # Excel opens UTF-8 CSV correctly only with a byte-order mark
    writer.writerow(COLUMNS)
    for count, row in enumerate(_rows(company_id, filters, show_date=_csv_date(), ids=ids), start=1):
        writer.writerow(row)
        if count % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


# The .xlsx is SpreadsheetML written directly: openpyxl builds a cell object and an XML element per
# cell (about 0.5 ms a row here: 10 s for 10,000 licenses of 2 lines), far over the 5 s target; this
# writer does the same rows in well under a second. Dates are serial numbers with a date format,
# numbers are numeric cells, text is an inline string; openpyxl reads the result back (the tests).
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_NS_R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_XLSX_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_CT}.worksheet+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/></Types>'),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
    "xl/workbook.xml": (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook {_NS} {_NS_R}>'
        '<bookViews><workbookView/></bookViews>'
        '<sheets><sheet name="Licenses" sheetId="1" r:id="rId1"/></sheets></workbook>'),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_REL}/styles" Target="styles.xml"/></Relationships>'),
    # Cell styles: 0 plain, 1 header (bold white on blue), 2 date mm/dd/yyyy, 3 amount #,##0.00.
    "xl/styles.xml": (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<styleSheet {_NS}>'
        '<numFmts count="1"><numFmt numFmtId="164" formatCode="mm/dd/yyyy"/></numFmts>'
        '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
        '<font><b/><sz val="11"/><color rgb="FFFFFFFF"/><name val="Calibri"/><family val="2"/></font></fonts>'
        '<fills count="3"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill>'
        '<fill><patternFill patternType="solid"><fgColor rgb="FF1A4480"/><bgColor indexed="64"/>'
        '</patternFill></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1"/>'
        '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="4" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'),
}
_WIDTHS = [13, 10, 15, 11, 11, 13, *(f.width for f in HEADER_FIELDS), 24, 20, 10, 15, 40, 26,
           *(18 for _ in OWN_FIELDS), 14, 16, 12]
_AMOUNT_COLUMNS = {len(COLUMNS) - 3, len(COLUMNS) - 2, len(COLUMNS) - 1}
_LETTERS = [chr(ord("A") + i) if i < 26 else chr(ord("A") + i // 26 - 1) + chr(ord("A") + i % 26)
            for i in range(len(COLUMNS))]
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_EXCEL_EPOCH = date(1899, 12, 30)


def _xml_text(value: str) -> str:
    if _XML_ILLEGAL.search(value):
        value = _XML_ILLEGAL.sub("", value)
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    space = ' xml:space="preserve"' if value[:1].isspace() or value[-1:].isspace() else ""
    return f"<t{space}>{value}</t>"


def _cell_writer(index: int):
    """A function (value, row number) -> the <c> element of this column (empty for no value)."""
    letter = _LETTERS[index]
    if index in DATE_COLUMNS:
        def cell(value, r):
            if value is None:
                return ""
            if isinstance(value, datetime):
                serial = (value - datetime(1899, 12, 30)).total_seconds() / 86400
            else:
                serial = (value - _EXCEL_EPOCH).days
            return f'<c r="{letter}{r}" s="2"><v>{serial}</v></c>'
    else:
        amount = ' s="3"' if index in _AMOUNT_COLUMNS else ""

        def cell(value, r):
            if value is None or value == "":
                return ""
            if isinstance(value, str):
                return f'<c r="{letter}{r}" t="inlineStr"><is>{_xml_text(value)}</is></c>'
            if isinstance(value, Decimal):
                return f'<c r="{letter}{r}"{amount}><v>{value:f}</v></c>'
            return f'<c r="{letter}{r}"{amount}><v>{value}</v></c>'
    return cell


def _sheet_xml(company_id: int, filters: Filters, ids: list[int] | None = None):
    """The worksheet, in chunks: frozen header row and first column, column widths, the rows."""
    cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'
                   for i, w in enumerate(_WIDTHS, start=1))
    header = "".join(f'<c r="{_LETTERS[i]}1" s="1" t="inlineStr"><is>{_xml_text(title)}</is></c>'
                     for i, title in enumerate(COLUMNS))
    yield (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet {_NS} {_NS_R}>'
           '<sheetViews><sheetView workbookViewId="0"><pane xSplit="1" ySplit="1" topLeftCell="B2" '
           'activePane="bottomRight" state="frozen"/><selection pane="bottomRight" activeCell="B2" '
           f'sqref="B2"/></sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>'
           f'<cols>{cols}</cols><sheetData><row r="1">{header}</row>')
    writers = list(enumerate(_cell_writer(i) for i in range(len(COLUMNS))))
    chunk = []
    for r, row in enumerate(_rows(company_id, filters, ids=ids), start=2):
        chunk.append(f'<row r="{r}">' + "".join([write(row[i], r) for i, write in writers]) + "</row>")
        if len(chunk) == 1000:
            yield "".join(chunk)
            chunk = []
    yield "".join(chunk) + "</sheetData></worksheet>"


def write_xlsx(company_id: int, filters: Filters, target, ids: list[int] | None = None) -> None:
    """The filtered licenses as an .xlsx workbook written to the binary file `target`.

    The sheet goes to a temporary file first, so its size is known when it enters the zip (Zip64
    only when a huge export needs it) and memory stays flat whatever the size.
    """
    with tempfile.TemporaryFile(dir=current_app.config.get("EXPORT_TMP_DIR")) as sheet:
        for part in _sheet_xml(company_id, filters, ids):
            sheet.write(part.encode("utf-8"))
        size = sheet.tell()
        sheet.seek(0)
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as book:
            for name, content in _XLSX_PARTS.items():
                book.writestr(name, content)
            info = zipfile.ZipInfo("xl/worksheets/sheet1.xml", date_time=program_now().timetuple()[:6])
            info.compress_type, info.file_size = zipfile.ZIP_DEFLATED, size
            with book.open(info, "w") as member:
                shutil.copyfileobj(sheet, member, 1024 * 1024)


def response(company_id: int, filters: Filters, kind: str, ids: list[int] | None = None) -> Response:
    stamp = program_now().strftime("%Y%m%d-%H%M")
    if kind == "csv":
        return attachment(Response(stream_with_context(_csv_stream(company_id, filters, ids)), mimetype=CSV),
                          f"aim-licenses-{stamp}.csv")
    spool = tempfile.TemporaryFile(dir=current_app.config.get("EXPORT_TMP_DIR"))  # noqa: SIM115 - the response closes it
    write_xlsx(company_id, filters, spool, ids)
    size = spool.tell()
    spool.seek(0)

    def chunks():
        with spool:
            while data := spool.read(256 * 1024):
                yield data

    out = attachment(Response(chunks(), mimetype=XLSX), f"aim-licenses-{stamp}.xlsx")
    # A client that drops before the first chunk never enters chunks()' with-block.
    out.call_on_close(spool.close)
    out.headers["Content-Length"] = str(size)
    return out

