"""The problems of a rejected upload as a workbook: the rows as uploaded, bad cells marked.

Written as SpreadsheetML directly, row by row, to a temporary file that is then streamed: the
upload's cells are read once, and no spreadsheet library holds a cell object (or, in its shared
strings table, the text) of each of them. openpyxl did, and a file of 4,900 rows of long texts
took a worker to 950 MB. Only the problems the batch kept (the first ones) are marked and listed;
the Problems sheet ends with the count of the others.
"""
from __future__ import annotations

import math
import re
import tempfile
import zipfile
from collections.abc import Iterator
from datetime import date, datetime

from .. import products
from ..models import UploadBatch
from ..web.downloads import safe_text
from .workbook import column_letter, one_large_file_at_a_time, read_first_sheet, release_memory

_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_NS_R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_RELS = _HEAD + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
# Cell styles: 0 plain, 1 bold, 2 bad cell, 3 date, 4 bad date.
_STYLES = (
    f'{_HEAD}<styleSheet {_NS}><numFmts count="1"><numFmt numFmtId="164" formatCode="mm/dd/yyyy"/>'
    '</numFmts><fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill '
    'patternType="gray125"/></fill><fill><patternFill patternType="solid"><fgColor rgb="FFF4E3DB"/>'
    '<bgColor indexed="64"/></patternFill></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="5"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="0" fontId="0" fillId="2" borderId="0" xfId="0" applyFill="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="2" borderId="0" xfId="0" applyNumberFormat="1" '
    'applyFill="1"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" '
    'builtinId="0"/></cellStyles></styleSheet>')
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_EXCEL_EPOCH = datetime(1899, 12, 30)


def _escape(value: str) -> str:
    if _XML_ILLEGAL.search(value):
        value = _XML_ILLEGAL.sub("", value)
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _text(value: str) -> str:
    space = ' xml:space="preserve"' if value[:1].isspace() or value[-1:].isspace() else ""
    return f"<t{space}>{_escape(value)}</t>"


def _cell(ref: str, value, bad: bool = False, bold: bool = False) -> str:
    """The <c> of a value as calamine read it (text, number, date, boolean); "" for no value."""
    style = 2 if bad else 1 if bold else 0
    if isinstance(value, bool):
        return f'<c r="{ref}" s="{style}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return f'<c r="{ref}" s="{style}"><v>{value!r}</v></c>'
    if isinstance(value, (datetime, date)):
        moment = value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
        serial = (moment - _EXCEL_EPOCH).total_seconds() / 86400
        if serial > 0:
            return f'<c r="{ref}" s="{4 if bad else 3}"><v>{serial!r}</v></c>'
    if value is None or value == "":
        return f'<c r="{ref}" s="{style}"/>' if style else ""
    text = safe_text(value) if isinstance(value, str) else str(value)
    return f'<c r="{ref}" s="{style}" t="inlineStr"><is>{_text(text)}</is></c>'


def _rows_sheet(columns, rows, marked: dict[str, list[str]], comments: bool) -> Iterator[str]:
    letters = [column_letter(i) for i in range(len(columns))]
    widths = "".join(f'<col min="{i}" max="{i}" width="{c.width}" customWidth="1"/>'
                     for i, c in enumerate(columns, start=1))
    yield (f'{_HEAD}<worksheet {_NS} {_NS_R}><sheetViews><sheetView workbookViewId="0">'
           '<pane xSplit="1" ySplit="1" topLeftCell="B2" activePane="bottomRight" state="frozen"/>'
           '<selection pane="bottomRight" activeCell="B2" sqref="B2"/></sheetView></sheetViews>'
           f'<sheetFormatPr defaultRowHeight="15"/><cols>{widths}</cols><sheetData>')
    chunk = []
    for number, row in enumerate(rows, start=1):
        cells = "".join(_cell(f"{letter}{number}", value, f"{letter}{number}" in marked, number == 1)
                        for letter, value in zip(letters, row))
        chunk.append(f'<row r="{number}">{cells}</row>')
        if len(chunk) == 500:
            yield "".join(chunk)
            chunk = []
    yield "".join(chunk) + "</sheetData>" + ('<legacyDrawing r:id="rId1"/>' if comments else "") + "</worksheet>"


def _problems_sheet(problems: list[dict], more: int) -> Iterator[str]:
    yield (f'{_HEAD}<worksheet {_NS}><sheetViews><sheetView workbookViewId="0"><pane ySplit="1" '
           'topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
           '<cols><col min="1" max="2" width="9" customWidth="1"/><col min="3" max="3" width="30" '
           'customWidth="1"/><col min="4" max="4" width="110" customWidth="1"/></cols><sheetData>'
           '<row r="1">' + "".join(_cell(f"{c}1", t, bold=True) for c, t in
                                  zip("ABCD", ["Row", "Column", "Field", "Problem"])) + "</row>")
    number = 1
    for number, p in enumerate(problems, start=2):
        yield (f'<row r="{number}">{_cell(f"A{number}", p["row"])}{_cell(f"B{number}", p["column"])}'
               f'{_cell(f"C{number}", p["title"])}{_cell(f"D{number}", p["message"])}</row>')
    if more:
        number += 1
        yield f'<row r="{number}">{_cell(f"D{number}", more_text(more), bold=True)}</row>'
    yield "</sheetData></worksheet>"


def more_text(more: int) -> str:
    return (f"… and {more:,} more problem{'s' if more != 1 else ''}, not listed: correct these, "
            "upload the file again, and the next ones will be listed.")


def _comments(marked: dict[str, list[str]], author: str) -> str:
    items = "".join(f'<comment ref="{ref}" authorId="0"><text>{_text(chr(10).join(messages))}</text></comment>'
                    for ref, messages in marked.items())
    return (f'{_HEAD}<comments {_NS}><authors><author>{_escape(author)}</author></authors>'
            f'<commentList>{items}</commentList></comments>')


def _drawing(marked: dict[str, list[str]]) -> str:
    """The comments' boxes, which Excel needs to show them (as openpyxl writes them)."""
    shapes = []
    for index, ref in enumerate(marked, start=1026):
        letters = ref.rstrip("0123456789")
        column = sum((ord(ch) - 64) * 26 ** i for i, ch in enumerate(reversed(letters))) - 1
        shapes.append(
            f'<v:shape id="_x0000_s{index:04d}" type="#_x0000_t202" style="position:absolute; '
            'margin-left:59.25pt;margin-top:1.5pt;width:240px;height:90px;z-index:1;visibility:hidden" '
            'fillcolor="#ffffe1" o:insetmode="auto"><v:fill color2="#ffffe1"/><v:shadow color="black" '
            'obscured="t"/><v:path o:connecttype="none"/><v:textbox style="mso-direction-alt:auto">'
            '<div style="text-align:left"/></v:textbox><x:ClientData ObjectType="Note"><x:MoveWithCells/>'
            f'<x:SizeWithCells/><x:AutoFill>False</x:AutoFill><x:Row>{int(ref[len(letters):]) - 1}</x:Row>'
            f'<x:Column>{column}</x:Column></x:ClientData></v:shape>')
    return ('<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
            'xmlns:x="urn:schemas-microsoft-com:office:excel"><o:shapelayout v:ext="edit"><o:idmap '
            'v:ext="edit" data="1"/></o:shapelayout><v:shapetype id="_x0000_t202" coordsize="21600,21600" '
            'o:spt="202" path="m,l,21600r21600,l21600,xe"><v:stroke joinstyle="miter"/><v:path '
            'gradientshapeok="t" o:connecttype="rect"/></v:shapetype>' + "".join(shapes) + "</xml>")


def _stream_part(book: zipfile.ZipFile, name: str, parts: Iterator[str]) -> None:
    info = zipfile.ZipInfo(name, date_time=datetime.now().timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    with book.open(info, "w", force_zip64=True) as member:
        for part in parts:
            member.write(part.encode("utf-8"))


def write_marked_workbook(batch: UploadBatch, content: bytes, target) -> None:
    """The marked workbook of a rejected batch, written to the binary file `target`."""
    problems = batch.problems or []
    more = max(batch.problem_count - len(problems), 0)
    marked: dict[str, list[str]] = {}
    for problem in problems:
        marked.setdefault(f"{problem['column']}{problem['row']}", []).append(problem["message"])
    product = products.get(batch.product)  # the product the filer uploaded the file as
    columns = product.template_columns
    try:
        rows = read_first_sheet(content, len(columns)).rows
    except Exception:  # noqa: BLE001 - the file itself was refused: only the list can be given
        rows = [list(product.template_titles)]
    comments = bool(marked)
    overrides = [("/xl/workbook.xml", "spreadsheetml.sheet.main+xml"),
                 ("/xl/worksheets/sheet1.xml", "spreadsheetml.worksheet+xml"),
                 ("/xl/worksheets/sheet2.xml", "spreadsheetml.worksheet+xml"),
                 ("/xl/styles.xml", "spreadsheetml.styles+xml")]
    if comments:
        overrides.append(("/xl/comments1.xml", "spreadsheetml.comments+xml"))
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("[Content_Types].xml", (
            f'{_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Default Extension="vml" ContentType="{_CT}.vmlDrawing"/>'
            + "".join(f'<Override PartName="{n}" ContentType="{_CT}.{t}"/>' for n, t in overrides)
            + "</Types>"))
        book.writestr("_rels/.rels", f'{_RELS}<Relationship Id="rId1" Type="{_REL}/officeDocument" '
                                     'Target="xl/workbook.xml"/></Relationships>')
        book.writestr("xl/workbook.xml", (
            f'{_HEAD}<workbook {_NS} {_NS_R}><bookViews><workbookView/></bookViews><sheets>'
            '<sheet name="Your rows" sheetId="1" r:id="rId1"/><sheet name="Problems" sheetId="2" '
            'r:id="rId2"/></sheets></workbook>'))
        book.writestr("xl/_rels/workbook.xml.rels", (
            f'{_RELS}<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{_REL}/worksheet" Target="worksheets/sheet2.xml"/>'
            f'<Relationship Id="rId3" Type="{_REL}/styles" Target="styles.xml"/></Relationships>'))
        book.writestr("xl/styles.xml", _STYLES)
        _stream_part(book, "xl/worksheets/sheet1.xml", _rows_sheet(columns, rows, marked, comments))
        del rows
        release_memory()
        _stream_part(book, "xl/worksheets/sheet2.xml", _problems_sheet(problems, more))
        if comments:
            book.writestr("xl/worksheets/_rels/sheet1.xml.rels", (
                f'{_RELS}<Relationship Id="rId1" Type="{_REL}/vmlDrawing" Target="../drawings/vmlDrawing1.vml"/>'
                f'<Relationship Id="rId2" Type="{_REL}/comments" Target="../comments1.xml"/></Relationships>'))
            book.writestr("xl/comments1.xml", _comments(marked, product.short_name))
            book.writestr("xl/drawings/vmlDrawing1.vml", _drawing(marked))


def marked_workbook(batch: UploadBatch, content: bytes):
    """The marked workbook in a temporary file, at its start, and its size."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - returned open to the caller, who closes it; closed here on failure
    try:
        with one_large_file_at_a_time:
            write_marked_workbook(batch, content, spool)
    except BaseException:
        spool.close()
        raise
    size = spool.tell()
    spool.seek(0)
    return spool, size
