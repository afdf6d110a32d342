"""Reading an uploaded workbook safely: every check a hostile or broken file needs, then the cells.

Nothing here trusts the file. Before any spreadsheet library sees it: it must be a zip (not an
.xls, a password-protected workbook, a CSV or a renamed text file, nor a macro-enabled workbook
whatever its name), with few parts, a bounded uncompressed size and compression ratio (zip
bombs), no DTD or entity declarations in any XML part, and a first sheet whose cells we have
located ourselves: no data beyond the row limit or the template's columns, and no formulas. The
sheet's declared <dimension> is never used. Only then does python-calamine read the cells (about
15x faster than openpyxl), bounded to what was checked.

python-calamine never sees the uploaded archive itself: it reads a workbook rebuilt here, in a
temporary file, from the very bytes that were checked (the first sheet, the shared strings, the
styles), so it cannot be pointed at another part than the one scanned (a relationship target like
"../", duplicate or case-folded part names), and the shared strings' declared counts, which
calamine reserves memory for (uniqueCount="2000000000" made it abort the whole process), are
dropped.
"""
from __future__ import annotations

import contextlib
import ctypes
import io
import posixpath
import re
import tempfile
import threading
import zipfile
import zlib
from dataclasses import dataclass

import defusedxml.ElementTree as SafeET

MAX_ROWS = 5000  # data rows per file (the header row is not counted)
MAX_PARTS = 500
MAX_UNCOMPRESSED = 80 * 1024 * 1024
MAX_RATIO = 150
MAX_SHARED_STRINGS = 1_000_000  # in all sheets: a full template's first sheet holds at most 80,000
MAX_COLUMNS = 64  # data to the right of the template's columns up to here is ignored; beyond, refused
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"

_PREFIX = rb'(?:[A-Za-z_][\w.-]*:)?'
# Start tags of rows, cells and formulas (attribute values may hold ">": quoted parts are skipped).
_TAG = re.compile(rb'<' + _PREFIX + rb'(row|c|f)(?=[\s/>])((?:[^>"\']+|"[^"]*"|\'[^\']*\')*)>')
_ATTRS = re.compile(rb'(?:\s+[\w.:-]+\s*=\s*(?:"[^"]*"|\'[^\']*\'))*\s*/?')
_ATTR = re.compile(rb'([\w.:-]+)\s*=\s*(?:"([^"]*)"|\'([^\']*)\')')
# A cell as Excel, LibreOffice and openpyxl write it: r="" first, no other r, plain attributes.
_CANON_CELL = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"(?: (?!r=)[A-Za-z]+="[^"]*")* ?(/?)>')
_PREFIXED = re.compile(rb':(?:c|f|row)[\s/>]')
_REF = re.compile(rb'([A-Za-z]{1,3})(\d{1,7})')
_SHEET_DATA = re.compile(rb'<' + _PREFIX + rb'sheetData[\s/>]')
_SST_START = re.compile(rb'<' + _PREFIX + rb'sst(?=[\s/>])(?:[^>"\']+|"[^"]*"|\'[^\']*\')*>')
_COUNT_ATTR = re.compile(rb'\s(?:count|uniqueCount)\s*=\s*(?:"[^"]*"|\'[^\']*\')')
_DECLARATION = re.compile(rb'<!(?:DOCTYPE|ENTITY)', re.IGNORECASE)
_MACROS = re.compile(rb'macroEnabled|vbaProject', re.IGNORECASE)
_LEADING_SPACE = re.compile(rb'[ \t\n\r\x0b\x0c]*')
_NOT_READABLE = ("The file is not a readable Excel workbook. Save it again as .xlsx from Excel or "
                 "LibreOffice and upload it.")


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
        try:
            text = head.decode("utf-8") if b"\0" not in head else None
        except UnicodeDecodeError as error:  # a multi-byte character cut at 2,048 bytes is still text
            text = head[:error.start].decode("utf-8") if error.start > len(head) - 4 else None
        if text is None:
            kind = "not an Excel workbook (.xlsx)"
        elif "," in text or "\t" in text or ";" in text:
            kind = "a CSV or text file, not an Excel workbook (.xlsx)"
        else:
            kind = "a text file, not an Excel workbook (.xlsx)"
        raise UploadRejected(f"This file is {kind}. Download the Excel template, fill it in and "
                             "save it as .xlsx.")


def _clean_name(name: str) -> bool:
    """A part name as Excel writes it: no "..", ".", empty segment, backslash or leading slash."""
    return bool(name) and "\\" not in name and not name.startswith("/") and all(
        segment not in ("", ".", "..") for segment in name.rstrip("/").split("/"))


def _open_zip(data: bytes) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError) as error:
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
    names = [info.filename for info in infos]
    if len({name.lower() for name in names}) != len(names) or not all(map(_clean_name, names)):
        raise UploadRejected("The workbook's parts are named in a way Excel never writes (a part "
                             "twice, or a path with “..”), so it was not opened. Save it again "
                             "from Excel or LibreOffice and upload it.")
    return archive


_UNPACK_ERRORS = (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError,
                  ValueError, zlib.error)


@contextlib.contextmanager
def _unpacking():
    """A part that is missing or cannot be unpacked, said as the filer can act on it."""
    try:
        yield
    except KeyError as error:
        raise UploadRejected("The file is not a complete Excel workbook (a part is missing). Save "
                             "it again as .xlsx and upload it.") from error
    except _UNPACK_ERRORS as error:
        raise UploadRejected("The file is damaged (a part of the workbook cannot be unpacked). "
                             "Save it again from Excel and upload the new copy.") from error


def _read_part(archive: zipfile.ZipFile, name: str) -> bytes:
    """The part, unpacked to at most its declared size (checked above): zipfile hands its
    decompressor the size asked for, so asking for more would unpack a part that lies about its
    size in full before cutting it."""
    with _unpacking():
        info = archive.getinfo(name)
        with archive.open(info) as part:
            data = part.read(min(info.file_size, MAX_UNCOMPRESSED) + 1)
    if len(data) > MAX_UNCOMPRESSED:
        raise UploadRejected("The workbook expands to far more data than allowed, so it was not opened.")
    return data


_ENTITIES = ("The workbook contains XML entity declarations, which Excel never writes, so it was not "
             "opened. Upload a workbook saved by Excel or LibreOffice.")


def _refuse_macros(archive: zipfile.ZipFile, names: set[str]) -> None:
    """A macro-enabled workbook (.xlsm, .xltm), whatever the file is called: its VBA project, or
    the content type that declares one."""
    types = b""
    if "[Content_Types].xml" in names:  # a few KB: the first megabyte is plenty
        try:
            with archive.open("[Content_Types].xml") as part:
                types = part.read(_CHUNK)
        except _UNPACK_ERRORS as error:
            raise UploadRejected("The file is damaged (a part of the workbook cannot be unpacked). "
                                 "Save it again from Excel and upload the new copy.") from error
    if _MACROS.search(types) or any(
            name.lower().rsplit("/", 1)[-1] == "vbaproject.bin" for name in names):
        raise UploadRejected("Macro-enabled workbooks (.xlsm) are not accepted: save it as .xlsx "
                             "(File › Save As › Excel Workbook) and upload that file.")


def _refuse_entities(archive: zipfile.ZipFile) -> None:
    """A quick look at the start of every XML part (the parts read below are searched in full)."""
    for info in archive.infolist():
        if info.filename.endswith((".xml", ".rels", ".vml")):
            try:
                with archive.open(info) as part:
                    head = part.read(4096)
            except _UNPACK_ERRORS as error:
                raise UploadRejected("The file is damaged (a part of the workbook cannot be "
                                     "unpacked). Save it again from Excel and upload the new "
                                     "copy.") from error
            if b"<!DOCTYPE" in head.upper() or b"<!ENTITY" in head.upper():
                raise UploadRejected(_ENTITIES)


def _utf8_xml(data: bytes) -> int:
    """Where the part's XML starts after the declaration; refused if it is not UTF-8 or declares
    entities. An offset, not a copy: a sheet may be tens of megabytes."""
    if b"\0" in data[:256]:  # UTF-16 or binary: our byte-level scans would not see its tags
        raise UploadRejected(_NOT_READABLE)
    if _DECLARATION.search(data):
        raise UploadRejected(_ENTITIES)
    at = _LEADING_SPACE.match(data, 3 if data.startswith(b"\xef\xbb\xbf") else 0).end()
    if data.startswith(b"<?xml", at):
        end = data.find(b"?>", at)
        at = end + 2 if end >= 0 else at + 1
    return at


def _resolve(target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join("xl", target))


@dataclass
class _Parts:
    name: str
    sheet: str
    strings: str | None
    styles: str | None
    date1904: bool


def _workbook_parts(archive: zipfile.ZipFile) -> _Parts:
    """The first sheet's name and part, and the shared strings and styles parts."""
    try:
        workbook = SafeET.fromstring(_read_part(archive, "xl/workbook.xml"))
        rels = SafeET.fromstring(_read_part(archive, "xl/_rels/workbook.xml.rels"))
    except UploadRejected:
        raise
    except Exception as error:  # defusedxml's refusals and malformed XML alike
        raise UploadRejected(_NOT_READABLE) from error
    sheets = workbook.find(f"{NS_MAIN}sheets")
    first = sheets[0] if sheets is not None and len(sheets) else None
    if first is None:
        raise UploadRejected("The workbook has no sheet. Fill in the template's first sheet.")
    rel_id = first.get(f"{NS_REL}id")
    targets, kinds = {}, {}
    for rel in rels.iter(f"{NS_PKG_REL}Relationship"):
        targets[rel.get("Id")] = rel.get("Target") or ""
        kinds.setdefault((rel.get("Type") or "").rsplit("/", 1)[-1], rel.get("Target") or "")
    target = targets.get(rel_id) or ""
    if not target or not _clean_name(_resolve(target)):
        raise UploadRejected(_NOT_READABLE)
    names = set(archive.namelist())

    def optional(kind: str, default: str) -> str | None:
        path = _resolve(kinds[kind]) if kind in kinds else default
        return path if path in names else None

    properties = workbook.find(f"{NS_MAIN}workbookPr")
    date1904 = properties is not None and properties.get("date1904", "").lower() in ("1", "true")
    return _Parts(first.get("name") or "Sheet1", _resolve(target),
                  optional("sharedStrings", "xl/sharedStrings.xml"), optional("styles", "xl/styles.xml"),
                  date1904)


def _cell_name(row: int | None, col: int) -> str:
    return f"{column_letter(col)}{row}" if row else f"in column {column_letter(col)}"


def _scan_sheet(xml: bytes, columns: int) -> None:
    """Where the cells really are: refuse rows past the limit, far columns and formulas.

    Every cell counts where python-calamine would put it, not where the <dimension> says: cells
    with their own position (r="B7"), and also cells and rows without one, which follow the one
    before (at most one row per <row>, one column per <c>). Only the cells of <sheetData> count:
    a formula elsewhere (an Excel 2010 list validation in <extLst>) is not a cell's.
    """
    at = _utf8_xml(xml)  # the sheet is searched in place, between offsets: never copied
    if xml.find(b"<!", at) >= 0 or xml.find(b"<?", at) >= 0:  # comments, CDATA, instructions:
        raise UploadRejected(_NOT_READABLE)                  # never in a sheet Excel writes
    start = _SHEET_DATA.search(xml, at)
    end = xml.rfind(b"sheetData", at)  # the last </sheetData> (or <sheetData/>): cells end there
    span = (start.start() if start else at, end if end > at else len(xml))
    limit = max(columns, MAX_COLUMNS)
    found = _canonical_cells(xml, *span)
    if found is None:
        max_row, far, formula = _placed_cells(xml, limit, *span)
    else:
        max_row, far, formula = 0, None, None
        rows = [int(row) for _, row, empty in found if not empty]
        max_row = max(rows, default=0)
        for col, row, empty in found:
            if len(col) > 1 and not empty and _column_index(col) >= limit:
                far = (col + row).decode()
                break
    if max_row > MAX_ROWS + 1:
        raise UploadRejected(f"The sheet has data down to row {max_row:,}; a file holds at most "
                             f"{MAX_ROWS:,} rows after the header. Split it into several files "
                             "(or delete the empty rows below your data).")
    if far is not None:
        raise UploadRejected(f"The sheet has data far to the right (cell {far}); the template "
                             f"has {columns} columns, A to {column_letter(columns - 1)}. Delete the "
                             "extra columns and upload again.")
    if formula is not None:
        raise UploadRejected(f"Cell {formula} holds a formula. Upload values only: copy the cells "
                             "and use Paste Special › Values, then save and upload again.")


def _canonical_cells(body: bytes, start: int, end: int) -> list[tuple[bytes, bytes, bytes]] | None:
    """(column, row, "/" if empty) of every cell of body[start:end], when all are written the
    usual way and no cell holds a formula (a few fast searches); None sends the sheet to the
    slower, general scan."""
    if _PREFIXED.search(body, start, end):
        return None  # a namespace prefix on the tags (or such text in a cell)
    if body.find(b"<f", start, end) >= 0:
        return None  # a formula (or rich text's <family>): the general scan says which cell
    found = _CANON_CELL.findall(body, start, end)
    if len(found) != body.count(b"<c", start, end):  # in <sheetData>, only cells (and <color>)
        return None
    return found


def _placed_cells(body: bytes, limit: int, start: int, end: int) -> tuple[int, str | None, str | None]:
    """The general scan, tag by tag: (last row with a value, first far cell, first formula cell)."""
    max_row = 0            # the last row that holds a value, where it is known
    explicit_row = 0       # the largest r="" of any <row>
    unnumbered_rows = 0    # <row> without r: each is at most one below the previous
    unplaced_value = False  # a value in a row without r: its row is bounded below
    row = None             # the current <row>'s number, if it has one
    col_bound = -1         # the highest column a cell of this row can be in so far
    far = formula = None
    cell: tuple[int | None, int] = (None, 0)
    for match in _TAG.finditer(body, start, end):
        kind, attrs = match.group(1), match.group(2)
        if kind == b"c":
            r_value, empty = _attribute(attrs), attrs.rstrip().endswith(b"/")
            if r_value is not None:
                ref = _REF.fullmatch(r_value)
                if ref is None or int(ref.group(2)) < 1:
                    raise UploadRejected(_NOT_READABLE)
                col, cell_row = _column_index(ref.group(1).upper()), int(ref.group(2))
                col_bound = max(col_bound, col)
            else:  # calamine puts it right of the previous cell, in the row's row
                col_bound += 1
                col, cell_row = col_bound, row
            cell = (cell_row, col)
            if empty:
                continue
            if cell_row is None:
                unplaced_value = True
            else:
                max_row = max(max_row, cell_row)
            if far is None and col >= limit:
                far = _cell_name(cell_row, col)
        elif kind == b"row":
            r_value = _attribute(attrs)
            if r_value is None:
                unnumbered_rows += 1
                row = None
            elif r_value.isdigit() and len(r_value) <= 7 and int(r_value) >= 1:
                row = int(r_value)
                explicit_row = max(explicit_row, row)
            else:
                raise UploadRejected(_NOT_READABLE)
            col_bound = -1
        elif formula is None:  # <f>: the formula of the cell it is in
            formula = _cell_name(*cell)
    if unplaced_value:
        max_row = max(max_row, explicit_row + unnumbered_rows)
    return max_row, far, formula


def _attribute(attrs: bytes, name: bytes = b"r") -> bytes | None:
    """The attribute's value; the tag is refused if its attributes are malformed or repeated."""
    if _ATTRS.fullmatch(attrs) is None:
        raise UploadRejected(_NOT_READABLE)
    values = [dq or sq for key, dq, sq in _ATTR.findall(attrs) if key == name]
    if len(values) > 1:
        raise UploadRejected(_NOT_READABLE)
    if values and b"&" in values[0]:
        raise UploadRejected(_NOT_READABLE)
    return values[0].strip() if values else None


_CHUNK = 1024 * 1024


_SHARED_STRING_TAGS = (b"<si>", b"<si ", b"<si/", b":si>", b":si ", b":si/")


def _copy_part(archive: zipfile.ZipFile, name: str, target: zipfile.ZipFile, as_name: str,
               strings: bool = False) -> None:
    """The part copied into the rebuilt workbook a megabyte at a time (never whole in memory),
    checked on the way like a part read whole: UTF-8, no DTD or entity declaration.

    The shared strings lose their declared counts, which calamine would reserve memory for, and
    are counted: calamine keeps each in memory, about 50 bytes for even the shortest, so 4 million
    of them (an 80 MB part, a 9 MB upload) took 200 MB.
    """
    count = 0
    with _unpacking(), archive.open(name) as part, target.open(as_name, "w", force_zip64=True) as out:
        data = part.read(_CHUNK)
        at = _utf8_xml(data)
        if strings:
            start = _SST_START.search(data, at)
            if start is None:  # the <sst> tag is the first thing after the declaration
                raise UploadRejected(_NOT_READABLE)
            data = data[:start.start()] + _COUNT_ATTR.sub(b"", start.group(0)) + data[start.end():]
        carry = b""
        while True:
            out.write(data)
            buffer = carry + data  # a tag cut between two chunks is seen whole here
            cut = max(len(buffer) - 16, 0) if data else len(buffer)
            if _DECLARATION.search(buffer):
                raise UploadRejected(_ENTITIES)
            if strings:
                # the tags that start before the cut (those after it start the next buffer)
                count += sum(buffer.count(tag, 0, cut + 3) for tag in _SHARED_STRING_TAGS)
                if count > MAX_SHARED_STRINGS:
                    raise UploadRejected(
                        f"The workbook holds more than {MAX_SHARED_STRINGS:,} different texts "
                        "(in all its sheets), far more than a filled-in template. Copy your rows "
                        "into a fresh template and upload that.")
            if not data:
                return
            carry, data = buffer[cut:], part.read(_CHUNK)


_CONTENT_TYPES = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                  b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                  b'<Default Extension="rels"'
                  b' ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                  b'<Default Extension="xml" ContentType="application/xml"/>'
                  b'<Override PartName="/xl/workbook.xml"'
                  b' ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                  b'<Override PartName="/xl/worksheets/sheet1.xml"'
                  b' ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                  b'<Override PartName="/xl/sharedStrings.xml"'
                  b' ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
                  b'<Override PartName="/xl/styles.xml"'
                  b' ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
                  b'</Types>')
_REL = (b'<Relationship Id="%s"'
        b' Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/%s" Target="%s"/>')
_RELS = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
         b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         b'%s</Relationships>')


def _rebuild(target, archive: zipfile.ZipFile, parts: _Parts, sheet: bytes) -> None:
    """A minimal workbook of exactly the checked parts, written to `target`: what calamine reads.
    Stored, not compressed: it only lives on disk while calamine reads it."""
    rels = [_REL % (b"rId1", b"worksheet", b"worksheets/sheet1.xml")]
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED, allowZip64=True) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _RELS % (_REL % (b"rId1", b"officeDocument", b"xl/workbook.xml")))
        z.writestr("xl/worksheets/sheet1.xml", sheet)
        if parts.strings is not None:
            _copy_part(archive, parts.strings, z, "xl/sharedStrings.xml", strings=True)
            rels.append(_REL % (b"rId2", b"sharedStrings", b"sharedStrings.xml"))
        if parts.styles is not None:
            _copy_part(archive, parts.styles, z, "xl/styles.xml")
            rels.append(_REL % (b"rId3", b"styles", b"styles.xml"))
        z.writestr("xl/_rels/workbook.xml.rels", _RELS % b"".join(rels))
        z.writestr("xl/workbook.xml", (
            b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            + (b'<workbookPr date1904="1"/>' if parts.date1904 else b'')
            + b'<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'))


def read_first_sheet(data: bytes, columns: int, keep: int | None = None) -> Sheet:
    """The first sheet's cells as Python values (str, float, int, datetime, date, bool, '').

    `columns` is the template's width (for messages), `keep` how many columns each row keeps
    (at least `columns`: wider to see another product's header).

    Memory: a file just under the limits expands to about 80 MB of cells. The sheet part is held
    once (it must be scanned whole), the other parts are copied through in chunks, and calamine
    reads a temporary file; its workbook (the shared strings) is dropped before its cells become
    Python values, and those are kept to the template's columns row by row.
    """
    _refuse_non_zip(data)
    archive = _open_zip(data)
    names = set(archive.namelist())
    _refuse_macros(archive, names)
    if "xl/workbook.xml" not in names:
        raise UploadRejected("This zip file is not an Excel workbook (.xlsx). Download the Excel "
                             "template, fill it in and save it as .xlsx.")
    _refuse_entities(archive)
    parts = _workbook_parts(archive)
    sheet = _read_part(archive, parts.sheet)
    _scan_sheet(sheet, columns)

    from python_calamine import CalamineWorkbook

    with tempfile.NamedTemporaryFile(suffix=".xlsx") as rebuilt:
        _rebuild(rebuilt, archive, parts, sheet)
        rebuilt.flush()
        del sheet
        try:
            workbook = CalamineWorkbook.from_path(rebuilt.name)
            found = workbook.get_sheet_by_index(0)
            del workbook  # the shared strings: each cell holds its own copy now
            if found.height > MAX_ROWS + 1 or found.width > max(columns, MAX_COLUMNS):  # never, after the scan
                raise UploadRejected(f"The sheet has more than {MAX_ROWS:,} rows after the header or "
                                     "data far to the right. Split it into several files.")
            rows = _cells(found, max(keep or columns, columns))
            del found
        except UploadRejected:
            raise
        except Exception as error:  # calamine raises its own error types for damaged parts
            raise UploadRejected("The workbook could not be read (it may be damaged). Save it again "
                                 "from Excel or LibreOffice and upload the new copy.") from error
    while rows and all(v in ("", None) for v in rows[-1]):
        rows.pop()
    return Sheet(name=parts.name, rows=rows)


# A large workbook's cells, from reading to the end of their use, take up to ~170 MB: a worker
# holds one such file at a time (background checks, marked workbooks), so two never add up.
one_large_file_at_a_time = threading.Lock()


def release_memory() -> None:
    """Hand the memory of a read workbook back to the system once it is freed. A full file's cells
    are some 80,000 blocks that glibc keeps in its heap: without this a worker stayed at 600 MB."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: its allocator returns memory its own way
        ctypes.CDLL(None).malloc_trim(0)


def _cells(found, columns: int) -> list[list]:
    """The sheet's rows from row 1 and column A, each cut or padded to `columns` cells.

    calamine's rows start at the first column that holds a value (and, depending on its version,
    at row 1 or at the first row that does): the missing ones are put back. Rows are cut one by one,
    so cells right of the template never all exist as Python values at once.
    """
    if found.start is None:
        return []
    first_row, first_col = found.start
    rows = []
    pad, keep = [""] * min(first_col, columns), max(columns - first_col, 0)
    for raw in found.iter_rows():
        row = pad + raw[:keep] if first_col else raw[:columns]
        rows.append(row + [""] * (columns - len(row)) if len(row) < columns else row)
    if first_row and len(rows) == found.height:
        rows[:0] = [[""] * columns for _ in range(first_row)]
    return rows
