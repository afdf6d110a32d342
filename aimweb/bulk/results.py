"""An issued upload's results: the filer's own workbook with License Number and Entry Type filled in,
and the totals of the results page.

The workbook is the one uploaded (kept on the batch, and checked at upload: a zip of bounded
size, no DTD or entity, UTF-8 XML), every part copied byte for byte except the first sheet, in
which each row of a license gets two more cells, after the last column the filer used: its license
number and the entry type chosen for the file (the first row gets the titles). Nothing else of the
filer's file changes (other sheets, formats, widths, lists), which no spreadsheet library
guarantees when it loads and saves a workbook; and no library holds a cell object for each of the
file's cells. The sheet is scanned
again as at upload (no formula), so the file goes back with text as text.
"""
from __future__ import annotations

import io
import re
import zipfile
from decimal import Decimal, InvalidOperation

from ..enums import PartyKind
from ..parties import PartyIndex
from ..products import HEADER
from .rows import layout
from .workbook import _column_index, _read_part, _scan_sheet, _workbook_parts, column_letter

TITLE = "License Number"
ENTRY_TYPE_TITLE = "Entry Type"
MAX_EXCEL_COLUMNS = 16384
_ROW = re.compile(rb'<((?:[A-Za-z_][\w.-]*:)?)row(?=[\s/>])((?:[^>"\']+|"[^"]*"|\'[^\']*\')*?)(/?)>')
_CELL = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?c(?=[\s/>])((?:[^>"\']+|"[^"]*"|\'[^\']*\')*?)(/?)>')
_R = re.compile(rb'\sr\s*=\s*["\']([A-Za-z]{0,3})(\d*)["\']')
_SPANS = re.compile(rb'\sspans\s*=\s*(?:"[^"]*"|\'[^\']*\')')
_DIMENSION = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?dimension(?=[\s/>])[^>]*/>')


class NotWritable(Exception):
    """The sheet is not laid out as spreadsheet programs write it (rows without their number)."""


def _escape(text: str) -> bytes:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").encode()


def _rows(sheet: bytes):
    """(match of the <row> tag, its row number, end of its body) of every row, in order."""
    number = 0
    for match in _ROW.finditer(sheet):
        found = _R.search(match.group(2))
        number = int(found.group(2)) if found and found.group(2) else number + 1
        if match.group(3):  # <row/>: no body
            yield match, number, match.end()
            continue
        close = sheet.find(b"</" + match.group(1) + b"row>", match.end())
        if close < 0:
            raise NotWritable
        yield match, number, close


def _last_column(sheet: bytes) -> int:
    """The index of the rightmost cell of the sheet (with a value or only a format)."""
    last = -1
    for match, _, end in _rows(sheet):
        column = -1
        for cell in _CELL.finditer(sheet, match.end(), end):
            found = _R.search(cell.group(1))
            column = _column_index(found.group(1).upper()) if found and found.group(1) else column + 1
            last = max(last, column)
    return last


def with_license_numbers(content: bytes, numbers: dict[int, str], entry_type: str | None = None) -> bytes:
    """The uploaded workbook with the license number of each row (1-based row -> number) and, when
    given, the entry type (its label) beside it on each of those rows."""
    archive = zipfile.ZipFile(io.BytesIO(content))
    part = _workbook_parts(archive).sheet
    sheet = _read_part(archive, part)
    _scan_sheet(sheet, 0)  # as at upload: no formula (UploadRejected), nothing far right or below
    column = _last_column(sheet) + 1
    extra = () if entry_type is None else (entry_type,)
    if column + len(extra) >= MAX_EXCEL_COLUMNS:
        raise NotWritable
    letters = [column_letter(column + i).encode() for i in range(1 + len(extra))]
    titles = (TITLE, ENTRY_TYPE_TITLE)[:len(letters)]
    values = {1: titles, **{row: (number, *extra) for row, number in numbers.items()}}
    out, at = [], 0
    for match, number, end in _rows(sheet):
        value = values.get(number)
        if value is None:
            continue
        prefix = match.group(1)
        cell = b"".join(b'<%sc r="%s%d" t="inlineStr"><%sis><%st>%s</%st></%sis></%sc>'
                        % (prefix, letter, number, prefix, prefix, _escape(text), prefix, prefix, prefix)
                        for letter, text in zip(letters, value))
        attrs = _SPANS.sub(b"", match.group(2))
        out.append(sheet[at:match.start()])
        if match.group(3):  # <row .../> becomes <row ...>cell</row>
            out.append(b"<%srow%s>%s</%srow>" % (prefix, attrs, cell, prefix))
            at = match.end()
        else:
            out.append(b"<%srow%s>" % (prefix, attrs))
            out.append(sheet[match.end():end])
            out.append(cell)
            at = end
    out.append(sheet[at:])
    sheet = _DIMENSION.sub(b"", b"".join(out), count=1)  # optional; it named the old extent
    result = io.BytesIO()
    with zipfile.ZipFile(result, "w", zipfile.ZIP_DEFLATED) as target:
        for info in archive.infolist():
            data = sheet if info.filename == part else archive.read(info)
            target.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    return result.getvalue()


def _decimal(value) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal(0)


def totals(result: list[dict]) -> dict:
    """Licenses, products, kilograms and US dollars of a checked or issued upload's results."""
    return dict(licenses=len(result), products=sum(len(r.get("rows") or ()) for r in result),
                kg=sum((_decimal(r.get("kg", 0)) for r in result), Decimal(0)),
                usd=sum((_decimal(r.get("usd", 0)) for r in result), Decimal(0)))


def matching(result: list[dict], text: str) -> list[dict]:
    """The results whose Entry ID, license number or importer contains the text (any case)."""
    text = text.strip().lower()
    if not text:
        return result
    return [r for r in result if any(text in str(r.get(key) or "").lower()
                                     for key in ("entry_id", "number", "importer"))]


def with_party_warnings(result: list[dict], index: PartyIndex, product: str) -> list[dict]:
    """The results, each license with the `warnings` of its names close to, but not the same as, a
    saved party of the address book (a possible typo): its rows in the file (the license's header
    is the same on each), column, title and message. Warnings never stop a file: it is issued as filed."""
    columns = layout(product).column_of
    out = []
    for r in result:
        warnings = []
        for kind in PartyKind:
            name = r.get(kind.slug)
            near = index.close_to(kind, name) if name else None
            if near is not None:
                warnings.append({
                    "rows": list(r.get("rows") or ()), "column": column_letter(columns[kind.field]),
                    "title": HEADER[kind.field].label,
                    "message": f"{kind.label} name is close to saved party “{near.name}” (possible typo)."})
        out.append({**r, "warnings": warnings} if warnings else r)
    return out
