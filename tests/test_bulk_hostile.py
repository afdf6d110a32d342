"""Apply for Multiple Licenses, issue 5 point 5: hostile or broken files, built here for real.

Each file goes through the portal's upload (or, where noted, straight to the reader as well) and
must get a clear message, issue no license, leave nothing half-written and never answer 500.
"""
from __future__ import annotations

import io
import re
import resource
import struct
import subprocess
import sys
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import openpyxl
import pytest
from helpers import result_page, row, upload, workbook
from sqlalchemy import func, select

from aimweb.bulk.workbook import MAX_ROWS, UploadRejected, read_first_sheet
from aimweb.extensions import db
from aimweb.models import License, LicenseEvent, ProductLine, UploadBatch
from aimweb.products.aluminum import TEMPLATE_TITLES as TITLES

ROOT = Path(__file__).resolve().parent.parent
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


# ----- building files -------------------------------------------------------------------------------

def good_rows(count: int = 2) -> list[list]:
    return [row(i + 1, kg=100 + i) for i in range(count)]


def rezip(data: bytes, replace: dict[str, bytes] | None = None, add=()) -> bytes:
    """The same workbook with some parts replaced and others added (as written, in that order)."""
    replace = replace or {}
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, replace.get(info.filename, src.read(info.filename)))
        for name, content in add:
            dst.writestr(name, content)
    return out.getvalue()


def sheet_xml(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read("xl/worksheets/sheet1.xml")


def with_sheet(data: bytes, xml: bytes) -> bytes:
    return rezip(data, {"xl/worksheets/sheet1.xml": xml})


def raw_sheet(body: bytes, head: bytes = b"") -> bytes:
    """A worksheet part around these <sheetData> contents (rows written by hand)."""
    return (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + head
            + f'<worksheet xmlns="{MAIN_NS}"><sheetData>'.encode() + body + b"</sheetData></worksheet>")


def inline(ref: str, text) -> bytes:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'.encode()


def header_row() -> bytes:
    return b'<row r="1">' + b"".join(inline(f"{chr(65 + i)}1", t) for i, t in enumerate(TITLES)) + b"</row>"


def valid() -> bytes:
    return workbook(good_rows())


def compound_file(streams: dict[str, bytes]) -> bytes:
    """A real OLE2 compound file (CFB version 3, 512-byte sectors) holding these streams: what
    an .xls workbook or an encrypted Office file is. Streams are padded to 4 KB (no mini stream)."""
    free, end, fat_sector, none = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
    bodies = {name: body.ljust(-(-max(len(body), 4096) // 512) * 512, b"\0") for name, body in streams.items()}
    fat, starts, sector = [fat_sector, end], [], 2
    for body in bodies.values():
        count = len(body) // 512
        starts.append(sector)
        fat += [sector + i + 1 for i in range(count - 1)] + [end]
        sector += count
    assert len(fat) <= 128
    fat += [free] * (128 - len(fat))

    def entry(name: str, kind: int, child: int, right: int, start: int, size: int) -> bytes:
        raw = name.encode("utf-16-le") + b"\0\0"
        return (raw.ljust(64, b"\0") + struct.pack("<HBB", len(raw), kind, 1)
                + struct.pack("<III", none, right, child) + b"\0" * 36 + struct.pack("<IQ", start, size))

    names = list(bodies)
    entries = [entry("Root Entry", 5, 1, none, end, 0)] + [
        entry(name, 2, none, i + 2 if i + 1 < len(names) else none, starts[i], len(bodies[name]))
        for i, name in enumerate(names)]
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16
              + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\0" * 6
              + struct.pack("<9I", 0, 1, 1, 0, 4096, end, 0, end, 0)
              + struct.pack("<I", 0) + struct.pack("<I", free) * 108)
    return (header + struct.pack("<128I", *fat) + b"".join(entries).ljust(512, b"\0")
            + b"".join(bodies.values()))


def xls_workbook() -> bytes:
    """An Excel 97-2003 file: a compound file whose Workbook stream starts with a BIFF8 BOF record."""
    bof = struct.pack("<HHHHHHII", 0x0809, 16, 0x0600, 0x0005, 0x0DBB, 0x07CC, 0, 0)
    eof = struct.pack("<HH", 0x000A, 0)
    return compound_file({"Workbook": bof + eof})


def encrypted_workbook() -> bytes:
    """A real workbook encrypted with a password, as Excel's File › Protect Workbook does."""
    msoffcrypto = pytest.importorskip("msoffcrypto", reason="pip install -e '.[test]' (msoffcrypto-tool)")
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(valid())).encrypt("Secret-Password-1", out)
    data = out.getvalue()
    assert data.startswith(b"\xd0\xcf\x11\xe0") and msoffcrypto is not None
    return data


def bomb_zip(total: int = 200 * 2**20) -> bytes:
    """A workbook whose sheet part unpacks to `total` bytes, streamed into the zip chunk by chunk
    (never held in memory): a few hundred KB on the wire."""
    template = valid()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(template)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
        for info in src.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                dst.writestr(info.filename, src.read(info.filename))
        with dst.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            part.write(f'<worksheet xmlns="{MAIN_NS}"><sheetData><row r="2">'.encode())
            chunk = b"<c><v>1</v></c>" * 70_000  # about 1 MB
            for _ in range(total // len(chunk)):
                part.write(chunk)
            part.write(b"</row></sheetData></worksheet>")
    return out.getvalue()


def lying_sizes(data: bytes, name: str, declared: bytes) -> bytes:
    """The zip with `name`'s size and CRC replaced by those of `declared` (a short prefix): a
    bomb that claims to be small, in the local header and the central directory alike."""
    patched = bytearray(data)
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(name)
    crc, size = zlib.crc32(declared), len(declared)
    struct.pack_into("<III", patched, info.header_offset + 14, crc, info.compress_size, size)
    at = 0
    while (at := bytes(patched).find(b"PK\x01\x02", at)) >= 0:
        length = struct.unpack_from("<H", patched, at + 28)[0]
        if bytes(patched[at + 46:at + 46 + length]) == name.encode():
            struct.pack_into("<III", patched, at + 16, crc, info.compress_size, size)
        at += 4
    return bytes(patched)


# ----- checking the outcome -------------------------------------------------------------------------

@pytest.fixture
def count(app):
    def run(model=License):
        with app.app_context():
            return db.session.scalar(select(func.count()).select_from(model))
    return run


@pytest.fixture
def refused(signed_in, app, count):
    """Upload the file; assert a clear refusal and that nothing was issued or left half-done."""
    def check(data: bytes, *words: str, filename: str = "licenses.xlsx") -> str:
        response = upload(signed_in, data, filename=filename)
        assert response.status_code == 303, response.status_code  # never a 500
        html = result_page(signed_in, response)
        assert "The file was not accepted" in html and "No license was issued" in html, html[-3000:]
        message = re.search(r'<p class="usa-alert__text">(.*?)</p>', html, re.S)
        text = " ".join((message.group(1) if message else html).split())
        for word in words:
            assert word in text, (word, text)
        assert "Traceback" not in html and "unexpected error" not in text
        assert count(License) == 0 and count(ProductLine) == 0 and count(LicenseEvent) == 0
        with app.app_context():
            states = db.session.scalars(select(UploadBatch.status)).all()
        assert states and set(states) == {"rejected"}, states
        return text
    return check


def read(data: bytes):
    return read_first_sheet(data, len(TITLES))


def test_openpyxl_parses_xml_through_defusedxml():
    assert openpyxl.DEFUSEDXML is True


# ----- not an .xlsx ---------------------------------------------------------------------------------

def test_an_xls_workbook_is_refused(refused):
    data = xls_workbook()
    olefile = pytest.importorskip("olefile")
    assert olefile.OleFileIO(io.BytesIO(data)).listdir() == [["Workbook"]]  # a real compound file
    refused(data, "Excel 97-2003 (.xls)", "save it as", filename="licenses.xls")


def test_a_password_protected_workbook_is_refused(refused):
    text = refused(encrypted_workbook(), "password-protected", "without a password")
    assert ".xls)" not in text


def test_a_minimal_encrypted_container_is_refused_as_password_protected(refused):
    data = compound_file({"EncryptionInfo": struct.pack("<HHI", 4, 4, 0x40) + b"\0" * 32,
                          "EncryptedPackage": struct.pack("<Q", 9000) + bytes(range(256)) * 40})
    refused(data, "password-protected")


def test_a_csv_is_refused(refused):
    lines = [",".join(TITLES)] + [",".join(f'"{v}"' for v in row(1)[:8])]
    refused("\n".join(lines).encode(), "CSV", "not an Excel workbook (.xlsx)", filename="licenses.csv")


@pytest.mark.parametrize("content", [
    b"Licenses to apply for next week\nEntry 1 Canada 12500 kg\n",
    "Licences à demander — été 2026\nEntrée 1 Canada\n".encode(),  # UTF-8 text, no comma
])
def test_a_renamed_text_file_is_refused(refused, content):
    text = refused(content, "a text file, not an Excel workbook (.xlsx)")
    assert "not an Excel workbook, not" not in text


def test_a_renamed_binary_file_is_refused(refused):
    refused(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + bytes(range(256)) * 8, "not an Excel workbook (.xlsx)")


@pytest.mark.parametrize("cut", [0.5, 0.97])
def test_a_truncated_workbook_is_refused(refused, cut):
    data = valid()
    refused(data[:int(len(data) * cut)], "damaged", "Save it again")


def test_a_workbook_with_a_corrupt_part_is_refused(refused):
    data = bytearray(valid())
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for at in range(start + 20, start + info.compress_size - 20, 7):  # garble the deflate stream
        data[at] ^= 0x5A
    refused(bytes(data), "damaged")


def macro_workbook(vba: bool = True, content_type: bool = True) -> bytes:
    """The valid workbook as Excel saves it with macros (.xlsm): a VBA project (an OLE compound
    file) related from the workbook, and the macro-enabled content type."""
    data = valid()
    archive = zipfile.ZipFile(io.BytesIO(data))
    types = archive.read("[Content_Types].xml")
    rels = archive.read("xl/_rels/workbook.xml.rels")
    replace, add = {}, []
    if content_type:
        replace["[Content_Types].xml"] = re.sub(
            rb'ContentType="application/vnd\.openxmlformats-officedocument\.spreadsheetml\.sheet\.main\+xml"',
            b'ContentType="application/vnd.ms-excel.sheet.macroEnabled.main+xml"', types).replace(
            b"</Types>", b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>')
        assert b"macroEnabled" in replace["[Content_Types].xml"]
    if vba:
        replace["xl/_rels/workbook.xml.rels"] = rels.replace(b"</Relationships>", (
            b'<Relationship Id="rIdVBA" Type="http://schemas.microsoft.com/office/2006/relationships/'
            b'vbaProject" Target="vbaProject.bin"/></Relationships>'))
        project = (b'ID="{5B0E1B4A-3C2D-4E5F-8A9B-0C1D2E3F4A5B}"\r\n'
                   b'Document=ThisWorkbook/&H00000000\r\nName="VBAProject"\r\n')
        add.append(("xl/vbaProject.bin", compound_file({"PROJECT": project, "dir": b"\x01" * 64})))
    return rezip(data, replace, add)


@pytest.mark.parametrize(("vba", "content_type", "filename"), [
    (True, True, "licenses.xlsm"),
    (True, True, "licenses.xlsx"),   # renamed: the content decides, not the name
    (True, False, "licenses.xlsx"),  # the VBA project alone
    (False, True, "licenses.xlsx"),  # the content type alone
])
def test_a_macro_enabled_workbook_is_refused(refused, vba, content_type, filename):
    data = macro_workbook(vba, content_type)
    book = openpyxl.load_workbook(io.BytesIO(data), keep_vba=True)
    assert book.worksheets[0]["A2"].value == 1
    # keep_vba leaves an in-memory zip open: closed here, or the collector closes it after its
    # buffer and the error surfaces in whichever later test is running.
    book.vba_archive.close()
    refused(data, "Macro-enabled workbooks (.xlsm) are not accepted", "save it as .xlsx", filename=filename)


# ----- XML entities and zip bombs -------------------------------------------------------------------

LAUGHS = (b'<!DOCTYPE lolz [<!ENTITY lol "lol">'
          + b"".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
                     for i in range(1, 10)) + b"]>")


def with_doctype(xml: bytes, doctype: bytes = LAUGHS, padding: bytes = b"") -> bytes:
    """The part with a DOCTYPE where XML allows one: after the XML declaration, if any."""
    if xml.startswith(b"<?xml"):
        end = xml.index(b"?>") + 2
        return xml[:end] + padding + doctype + xml[end:]
    return b'<?xml version="1.0"?>' + padding + doctype + xml


def test_a_billion_laughs_sheet_is_refused(refused):
    xml = sheet_xml(valid())
    hostile = with_doctype(xml).replace(b"Gulf Coast Metals LLC", b"&lol9;")
    refused(with_sheet(valid(), hostile), "XML entity declarations")


@pytest.mark.parametrize("part", ["xl/workbook.xml", "xl/sharedStrings.xml", "[Content_Types].xml"])
def test_entity_declarations_in_any_part_are_refused(refused, part):
    data = valid()
    if part == "xl/sharedStrings.xml":
        data = rezip(data, add=[(part, b'<?xml version="1.0"?>' + LAUGHS
                                 + f'<sst xmlns="{MAIN_NS}"><si><t>&lol9;</t></si></sst>'.encode())])
    else:
        xml = zipfile.ZipFile(io.BytesIO(data)).read(part)
        data = rezip(data, {part: with_doctype(xml)})
    refused(data, "XML entity declarations")


def test_an_external_entity_is_refused_and_nothing_is_read(refused):
    xxe = b'<!DOCTYPE w [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    xml = with_doctype(sheet_xml(valid()), xxe).replace(b"Alouette", b"&xxe;")
    text = refused(with_sheet(valid(), xml), "XML entity declarations")
    assert "root:" not in text


def test_a_doctype_hidden_after_the_first_4_kb_is_refused(refused):
    xml = sheet_xml(valid())
    hostile = with_doctype(xml, padding=b" " * 6000)
    refused(with_sheet(valid(), hostile), "XML entity declarations")


@pytest.fixture(scope="module")
def bomb():
    return bomb_zip()


def test_a_zip_bomb_is_refused_before_anything_is_unpacked(refused, bomb):
    assert len(bomb) < 2 * 2**20
    assert zipfile.ZipFile(io.BytesIO(bomb)).getinfo("xl/worksheets/sheet1.xml").file_size > 190 * 2**20
    tracemalloc.start()
    with pytest.raises(UploadRejected, match="zip bomb"):
        read(bomb)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 20 * 2**20, peak
    refused(bomb, "zip bomb", "was not opened")


def test_a_bomb_that_declares_a_small_size_is_refused(refused):
    data = bomb_zip(total=40 * 2**20)
    declared = b'<worksheet xmlns="' + MAIN_NS.encode() + b'"><sheetData><row r="2">'
    hostile = lying_sizes(data, "xl/worksheets/sheet1.xml", declared)
    tracemalloc.start()
    with pytest.raises(UploadRejected):
        read(hostile)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 20 * 2**20, peak
    refused(hostile, "Save it again")


# ----- what the sheet claims, and what it holds ------------------------------------------------------

@pytest.mark.parametrize("dimension", ["A1:P1048576", "A1:XFD1048576"])
def test_a_sheet_claiming_a_million_rows_is_read_as_the_rows_it_has(signed_in, count, dimension):
    data = workbook(good_rows(3))
    xml = re.sub(rb'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{dimension}"/>'.encode(), sheet_xml(data))
    assert dimension.encode() in xml
    data = with_sheet(data, xml)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    sheet = read(data)
    assert len(sheet.rows) == 4 and sheet.rows[3][0] == 3
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100 * 1024  # KB: not 16M cells
    html = result_page(signed_in, upload(signed_in, data))
    assert "All licenses are created successfully." in html
    assert count(License) == 3


def test_a_value_in_the_last_row_of_the_sheet_is_refused(refused):
    wb = openpyxl.load_workbook(io.BytesIO(valid()))
    wb.worksheets[0].cell(row=1_048_576, column=1, value="stray")
    out = io.BytesIO()
    wb.save(out)
    refused(out.getvalue(), "data down to row 1,048,576", f"at most {MAX_ROWS:,} rows")


def test_empty_formatted_cells_far_below_do_not_count(signed_in, count):
    xml = sheet_xml(valid()).replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576" s="0"/></row></sheetData>')
    html = result_page(signed_in, upload(signed_in, with_sheet(valid(), xml)))
    assert "All licenses are created successfully." in html and count(License) == 2


def test_more_rows_than_the_limit_are_refused(refused):
    wb = openpyxl.Workbook(write_only=True)
    sheet = wb.create_sheet()
    sheet.append(TITLES)
    for i in range(MAX_ROWS + 1):
        sheet.append(row(i // 2 + 1, kg=100 + i))
    out = io.BytesIO()
    wb.save(out)
    refused(out.getvalue(), f"data down to row {MAX_ROWS + 2:,}", f"at most {MAX_ROWS:,} rows", "Split it")


def test_rows_without_positions_count_too(refused):
    """<row> and <c> may leave out r="": the rows still count, none is silently dropped."""
    rows = b"".join(b"<row>" + b"".join(f"<c><v>{(i * 7919 + v * 104729) % 99991}</v></c>".encode()
                                        for v in range(16)) + b"</row>" for i in range(MAX_ROWS + 1))
    data = with_sheet(valid(), raw_sheet(header_row() + rows))
    refused(data, f"data down to row {MAX_ROWS + 2:,}")


def test_exactly_the_row_limit_is_read_whole():
    wb = openpyxl.Workbook(write_only=True)
    sheet = wb.create_sheet()
    sheet.append(TITLES)
    for i in range(MAX_ROWS):
        sheet.append(row(i // 2 + 1, kg=100 + i))
    out = io.BytesIO()
    wb.save(out)
    rows = read(out.getvalue()).rows
    assert len(rows) == MAX_ROWS + 1 and rows[-1][14] == 100 + MAX_ROWS - 1


def test_a_value_in_column_xfd_is_refused(refused):
    wb = openpyxl.load_workbook(io.BytesIO(valid()))
    wb.worksheets[0].cell(row=2, column=16_384, value="note")
    out = io.BytesIO()
    wb.save(out)
    refused(out.getvalue(), "far to the right (cell XFD2)", "16 columns, A to P")


def test_thousands_of_columns_are_refused(refused):
    cells = b"".join(f'<c r="{openpyxl.utils.get_column_letter(i)}2"><v>{i}</v></c>'.encode()
                     for i in range(1, 16_385))
    data = with_sheet(valid(), raw_sheet(header_row() + b'<row r="2">' + cells + b"</row>"))
    refused(data, "far to the right (cell BM2)")


def test_thousands_of_columns_without_positions_are_refused(refused):
    cells = b"<c><v>1</v></c>" * 20_000
    data = with_sheet(valid(), raw_sheet(header_row() + b'<row r="2">' + cells + b"</row>"))
    refused(data, "far to the right (cell BM2)")


def test_notes_just_right_of_the_template_are_ignored(signed_in, count):
    data = workbook([row(1) + ["my note", None, "more"], row(2)])
    assert "All licenses are created successfully." in result_page(signed_in, upload(signed_in, data))
    assert count(License) == 2


def test_a_formula_is_refused_with_its_cell(refused):
    wb = openpyxl.load_workbook(io.BytesIO(valid()))
    wb.worksheets[0]["P3"] = "=O3*3"
    out = io.BytesIO()
    wb.save(out)
    refused(out.getvalue(), "Cell P3 holds a formula", "Paste Special")


def test_a_formula_with_a_cached_value_is_refused(refused):
    xml = sheet_xml(valid())
    xml = re.sub(rb'<c r="O2"([^>]*)>.*?</c>', rb'<c r="O2"\1><f>100*125</f><v>12500</v></c>', xml, count=1)
    refused(with_sheet(valid(), xml), "Cell O2 holds a formula")


def test_a_shared_formula_is_refused(refused):
    xml = sheet_xml(valid())
    xml = re.sub(rb'<c r="O3"([^>]*)>.*?</c>', rb'<c r="O3"\1><f t="shared" si="0"/><v>101</v></c>', xml, count=1)
    refused(with_sheet(valid(), xml), "Cell O3 holds a formula")


def test_list_validation_formulas_outside_the_cells_are_not_formulas(signed_in, count):
    """Excel 2010 and later keep a list validation that points at another sheet in <extLst>
    with <xm:f>: the template saved by Excel must still be accepted."""
    ext = (b'<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" '
           b'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
           b'<x14:dataValidations count="1" xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
           b'<x14:dataValidation type="list" allowBlank="1"><x14:formula1><xm:f>Lists!$A$2:$A$250</xm:f>'
           b'</x14:formula1><xm:sqref>F2:F5001</xm:sqref></x14:dataValidation></x14:dataValidations></ext></extLst>')
    xml = sheet_xml(valid()).replace(b"</worksheet>", ext + b"</worksheet>")
    html = result_page(signed_in, upload(signed_in, with_sheet(valid(), xml)))
    assert "All licenses are created successfully." in html and count(License) == 2


def test_an_empty_sheet_is_refused(refused):
    out = io.BytesIO()
    openpyxl.Workbook().save(out)
    refused(out.getvalue(), "The sheet is empty")


def test_a_sheet_with_only_the_titles_is_refused(refused):
    refused(workbook([]), "no licenses", "one row per product")


def test_the_template_of_another_product_is_refused(refused):
    steel = [t.replace("Largest Smelt", "Melt and Pour") for t in TITLES]
    wb = openpyxl.Workbook()
    wb.active.append(steel)
    wb.active.append(row(1))
    out = io.BytesIO()
    wb.save(out)
    # Its own column (Country of Melt and Pour) says which product's it is: both are named.
    refused(out.getvalue(), "This is the Steel template (SIMA), but the file was uploaded as Aluminum",
            "choose “Steel” as the Product of the file", "the Excel template for Aluminum")


# ----- parts that are not where calamine would look -------------------------------------------------

def test_a_sheet_path_with_dot_dot_is_refused(refused):
    """Our scan and calamine must read the same part: a ../ target could point them apart."""
    rels = zipfile.ZipFile(io.BytesIO(valid())).read("xl/_rels/workbook.xml.rels")
    hostile = raw_sheet(b"".join(f'<row r="{i}"><c r="A{i}"><f>1+1</f><v>2</v></c></row>'.encode()
                                 for i in range(1, 7002)))
    data = rezip(valid(), {"xl/_rels/workbook.xml.rels": rels.replace(b'Target="/xl/worksheets/sheet1.xml"',
                                                                      b'Target="../xl/worksheets/sheet1.xml"')
                           .replace(b'Target="worksheets/sheet1.xml"', b'Target="../xl/worksheets/sheet1.xml"')},
                 add=[("xl/../xl/worksheets/sheet1.xml", hostile)])
    refused(data, "named in a way Excel never writes")


def test_a_part_stored_twice_is_refused(refused):
    import warnings

    hostile = raw_sheet(header_row() + b'<row r="9999"><c r="A9999"><v>1</v></c></row>')
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
        data = rezip(valid(), add=[("xl/worksheets/Sheet1.xml", hostile)])
    refused(data, "named in a way Excel never writes")


def test_a_huge_shared_strings_count_does_not_crash_the_server():
    """calamine reserves memory for <sst uniqueCount>: 2,000,000,000 made it abort the process.
    Run in a child process, so a regression fails this test instead of killing the test run."""
    sst = (f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN_NS}" count="2000000000" '
           f'uniqueCount="2000000000">'.encode()
           + b"".join(f"<si><t>{t}</t></si>".encode() for t in TITLES) + b"</sst>")
    cells = b"".join(f'<c r="{chr(65 + i)}1" t="s"><v>{i}</v></c>'.encode() for i in range(16))
    data = rezip(valid(), {"xl/worksheets/sheet1.xml": raw_sheet(b'<row r="1">' + cells + b"</row>")},
                 add=[("xl/sharedStrings.xml", sst)])
    rels = zipfile.ZipFile(io.BytesIO(data)).read("xl/_rels/workbook.xml.rels")
    data = rezip(data, {"xl/_rels/workbook.xml.rels": rels.replace(
        b"</Relationships>", b'<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/'
        b'officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')})
    code = ("import sys; from aimweb.bulk.workbook import read_first_sheet; "
            "print(read_first_sheet(sys.stdin.buffer.read(), 16).rows[0][15])")
    done = subprocess.run([sys.executable, "-c", code], input=data, capture_output=True, cwd=ROOT, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert done.stdout.decode().strip() == TITLES[15]


def test_millions_of_shared_strings_are_refused_before_calamine_reads_them():
    """calamine keeps every shared string in memory (some 50 bytes for even the shortest): 4
    million short ones, a 9 MB upload, took 200 MB. Only the header row uses any of them here."""
    from aimweb.bulk.workbook import MAX_SHARED_STRINGS

    def strings(count: int) -> bytes:
        extra = "".join(f"<si><t>{i:x}</t></si>" for i in range(count - len(TITLES)))
        return (f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN_NS}">'
                + "".join(f"<si><t>{t}</t></si>" for t in TITLES) + extra + "</sst>").encode()

    cells = b"".join(f'<c r="{chr(65 + i)}1" t="s"><v>{i}</v></c>'.encode() for i in range(16))
    data = rezip(valid(), {"xl/worksheets/sheet1.xml": raw_sheet(b'<row r="1">' + cells + b"</row>")},
                 add=[("xl/sharedStrings.xml", strings(MAX_SHARED_STRINGS + 1))])
    rels = zipfile.ZipFile(io.BytesIO(data)).read("xl/_rels/workbook.xml.rels")
    if b"sharedStrings" not in rels:
        data = rezip(data, {"xl/_rels/workbook.xml.rels": rels.replace(
            b"</Relationships>", b'<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/'
            b'officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')})
    assert len(data) < 10 * 2**20
    with pytest.raises(UploadRejected, match=f"more than {MAX_SHARED_STRINGS:,} different texts"):
        read(data)


@pytest.mark.parametrize("change", ["utf16", "comment", "cdata"])
def test_sheet_xml_that_excel_never_writes_is_refused(refused, change):
    xml = sheet_xml(valid())
    if change == "utf16":
        xml = xml.decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    elif change == "comment":  # a comment could hide a row from a scan that reads tags
        xml = xml.replace(b"</sheetData>", b'<!-- <row r="1"> --><row><c><v>1</v></c></row></sheetData>')
    else:
        xml = xml.replace(b"Alouette", b"<![CDATA[Alouette]]>")
    refused(with_sheet(valid(), xml), "not a readable Excel workbook")


# ----- too big for the portal -----------------------------------------------------------------------

@pytest.mark.parametrize("app", [{"MAX_CONTENT_LENGTH": 20_000}], indirect=True)
def test_a_file_over_the_size_limit_gets_a_readable_413(signed_in, count):
    data = workbook(good_rows(400))
    assert len(data) > 20_000
    response = upload(signed_in, data)
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "<h1>File too large</h1>" in html and "Split it into smaller files" in html
    assert 'class="usa-header' in html  # the portal's page, not a bare error
    assert count(UploadBatch) == 0 and count(License) == 0
