"""Reading an uploaded workbook safely: every check a hostile or broken file needs, then the cells.

Nothing here trusts the file. Before any spreadsheet library sees it: it must be a zip (not an
.xls, a password-protected workbook, a CSV or a renamed text file), with few parts, a bounded
uncompressed size and compression ratio (zip bombs), no DTD or entity declarations in any XML
part, and a first sheet whose cells we have located ourselves: no data beyond the row limit or
the template's columns, and no formulas. The sheet's declared <dimension> is never used. Only then
does python-calamine read the cells (about 15x faster than openpyxl), bounded to what was checked.
"""
from __future__ import annotations

import io
import posixpath
import re
import zipfile
from dataclasses import dataclass

import defusedxml.ElementTree as SafeET

MAX_ROWS = 5000  # data rows per file (the header row is not counted)
MAX_PARTS = 500
MAX_UNCOMPRESSED = 80 * 1024 * 1024
MAX_RATIO = 150
MAX_COLUMNS = 64  # data to the right of the template's columns up to here is ignored; beyond, refused
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"

_CELL = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]{1,3})(\d{1,7})"')
_ROW = re.compile(rb'<(?:\w+:)?row\b[^>]*?\br="(\d{1,7})"')
_FORMULA = re.compile(rb'<(?:\w+:)?f[\s>/]')
_FORMULA_CELL = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]{1,3}\d{1,7})"[^>]*>(?:(?!</(?:\w+:)?c>).){0,2000}?<(?:\w+:)?f[\s>/]', re.S)


class UploadRejected(Exception):
    """The file can't be read as the template: the message says why and what to do."""


@dataclass
class Sheet:
    name: str
    rows: list[list]  # header row first; each row padded/cut to `columns` cells


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _column_index(letters: bytes) -> int:
    value = 0
    for ch in letters:
        value = value * 26 + (ch - 64)
    return value - 1


def _refuse_non_zip(data: bytes) -> None:
    if not data:
        raise UploadRejected("The file is empty. Choose the Excel workbook (.xlsx) you filled in.")
    if data.startswith(OLE_MAGIC):
        if "EncryptionInfo".encode("utf-16-le") in data or b"EncryptedPackage" in data \
                or "EncryptedPackage".encode("utf-16-le") in data:
            raise UploadRejected("The workbook is password-protected, so it cannot be read. Save "
                                 "it without a password (File › Info › Protect Workbook) and upload "
                                 "it again.")
        raise UploadRejected("This is an Excel 97-2003 (.xls) file. Open it in Excel and save it as "
                             "“Excel Workbook (.xlsx)”, then upload that file.")
    if not data.startswith(ZIP_MAGIC):
        head = data[:2048]
        kind = "a CSV or text file" if b"," in head or b"\t" in head or head.isascii() else "not an Excel workbook"
        raise UploadRejected(f"This file is {kind}, not an Excel workbook (.xlsx). Download the "
                             "Excel template, fill it in and save it as .xlsx.")


def _open_zip(data: bytes) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as error:
        raise UploadRejected("The file is damaged (it is not a complete .xlsx workbook). Save it "
                             "again from Excel and upload the new copy.") from error
    if len(infos) > MAX_PARTS:
        raise UploadRejected("The workbook has too many parts to be an AIM template. Copy the "
                             "rows into a fresh template and upload that.")
    total = 0
    for info in infos:
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if total > MAX_UNCOMPRESSED or (info.file_size > 1_000_000 and ratio > MAX_RATIO):
            raise UploadRejected("The workbook expands to far more data than its size suggests "
                                 "(it may be a “zip bomb”), so it was not opened. Upload the "
                                 "filled-in template itself.")
    return archive


def _read_part(archive: zipfile.ZipFile, name: str) -> bytes:
    try:
        with archive.open(name) as part:
            data = part.read(MAX_UNCOMPRESSED + 1)
    except KeyError as error:
        raise UploadRejected("The file is not a complete Excel workbook (a part is missing). Save "
                             "it again as .xlsx and upload it.") from error
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as error:
        raise UploadRejected("The file is damaged (a part of the workbook cannot be unpacked). "
                             "Save it again from Excel and upload the new copy.") from error
    if len(data) > MAX_UNCOMPRESSED:
        raise UploadRejected("The workbook expands to far more data than allowed, so it was not opened.")
    return data


def _refuse_entities(archive: zipfile.ZipFile) -> None:
    for info in archive.infolist():
        if info.filename.endswith((".xml", ".rels", ".vml")):
            with archive.open(info) as part:
                head = part.read(4096)
            if b"<!DOCTYPE" in head.upper() or b"<!ENTITY" in head.upper():
                raise UploadRejected("The workbook contains XML entity declarations, which Excel "
                                     "never writes, so it was not opened. Upload a workbook saved "
                                     "by Excel or LibreOffice.")


def _first_sheet_part(archive: zipfile.ZipFile) -> tuple[str, str]:
    """(sheet name, part path) of the workbook's first sheet."""
    try:
        workbook = SafeET.fromstring(_read_part(archive, "xl/workbook.xml"))
        rels = SafeET.fromstring(_read_part(archive, "xl/_rels/workbook.xml.rels"))
    except UploadRejected:
        raise
    except Exception as error:  # defusedxml's refusals and malformed XML alike
        raise UploadRejected("The file is not a readable Excel workbook. Save it again as .xlsx "
                             "and upload it.") from error
    sheets = workbook.find(f"{NS_MAIN}sheets")
    first = sheets[0] if sheets is not None and len(sheets) else None
    if first is None:
        raise UploadRejected("The workbook has no sheet. Fill in the template's first sheet.")
    rel_id = first.get(f"{NS_REL}id")
    targets = {rel.get("Id"): rel.get("Target") for rel in rels.iter(f"{NS_PKG_REL}Relationship")}
    target = targets.get(rel_id) or ""
    path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
    return first.get("name") or "Sheet1", path


def _scan_sheet(xml: bytes, columns: int) -> None:
    """Where the cells really are: refuse rows past the limit, far columns and formulas."""
    max_row = 0
    for match in _ROW.finditer(xml):
        max_row = max(max_row, int(match.group(1)))
    far_column = None
    for match in _CELL.finditer(xml):
        row = int(match.group(2))
        max_row = max(max_row, row)
        if far_column is None and _column_index(match.group(1)) >= max(columns, MAX_COLUMNS):
            far_column = match.group(1).decode() + match.group(2).decode()
    if max_row > MAX_ROWS + 1:
        raise UploadRejected(f"The sheet has data down to row {max_row:,}; a file holds at most "
                             f"{MAX_ROWS:,} rows after the header. Split it into several files "
                             "(or delete the empty rows below your data).")
    if far_column is not None:
        raise UploadRejected(f"The sheet has data far to the right (cell {far_column}); the template "
                             f"has {columns} columns, A to {column_letter(columns - 1)}. Delete the "
                             "extra columns and upload again.")
    if _FORMULA.search(xml):  # rare: only then find which cell (the slower search)
        formula = _FORMULA_CELL.search(xml)
        cell = formula.group(1).decode() if formula else "in the sheet"
        raise UploadRejected(f"Cell {cell} holds a formula. Upload values only: copy the cells and "
                             "use Paste Special › Values, then save and upload again.")


def read_first_sheet(data: bytes, columns: int) -> Sheet:
    """The first sheet's cells as Python values (str, float, int, datetime, date, bool, '')."""
    _refuse_non_zip(data)
    archive = _open_zip(data)
    names = set(archive.namelist())
    if "xl/workbook.xml" not in names:
        raise UploadRejected("This zip file is not an Excel workbook (.xlsx). Download the Excel "
                             "template, fill it in and save it as .xlsx.")
    _refuse_entities(archive)
    name, part = _first_sheet_part(archive)
    _scan_sheet(_read_part(archive, part), columns)

    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = workbook.get_sheet_by_index(0)
        raw = sheet.to_python(skip_empty_area=False)
    except Exception as error:  # calamine raises its own error types for damaged parts
        raise UploadRejected("The workbook could not be read (it may be damaged). Save it again "
                             "from Excel or LibreOffice and upload the new copy.") from error
    rows = [(list(row[:columns]) + [""] * columns)[:columns] for row in raw[: MAX_ROWS + 1]]
    while rows and all(v in ("", None) for v in rows[-1]):
        rows.pop()
    return Sheet(name=name, rows=rows)
