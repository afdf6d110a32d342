"""The Excel template for "Apply for Multiple Licenses": 16 columns, lists drawn from reference data."""
from __future__ import annotations

import io
import threading
from dataclasses import dataclass

from ..reference import countries
from ..reference.hts import Catalogue
from ..reference.ports import all_ports
from ..rules import UNKNOWN_SMELT_CUTOFF
from .workbook import MAX_ROWS, column_letter


@dataclass(frozen=True)
class Column:
    name: str
    title: str
    note: str
    width: int
    kind: str = "text"  # text, date, number, country, smelt, port, hts


COLUMNS = [
    Column("entry_id", "Entry ID", "Your own number for each license. Rows with the same Entry ID "
           "form ONE license with several products: their columns B to J must then be the same.", 10),
    Column("entry_number", "Customs Entry #", "Optional but encouraged: filer code, 7 digits and "
           "check digit, like ABC-1234567-6.", 17),
    Column("importer_name", "Importer Name", "Required.", 28),
    Column("exporter_name", "Exporter Name", "Required.", 28),
    Column("manufacturer_name", "Manufacturer", "Required: the manufacturer's name, or “unknown”.", 26),
    Column("origin_country", "Country of Origin", "A country: pick from the list, or type its name "
           "or ISO code (CA, CAN).", 20, "country"),
    Column("export_country", "Country of Export", "The country from which the products were "
           "exported: name or ISO code.", 20, "country"),
    Column("port_code", "Port of Entry", "The 4-digit CBP port code (pick from the list), e.g. 1303 "
           "for Baltimore, MD.", 26, "port"),
    Column("export_date", "Expected Date of Export", "A date, MM/DD/YYYY: on or before the date of "
           "import.", 14, "date"),
    Column("import_date", "Expected Date of Import", "A date, MM/DD/YYYY: at most 60 days after "
           "today.", 14, "date"),
    Column("hts_number", "HTS Number", "A covered 10-digit HTS number, with or without dots, e.g. "
           "7601.10.30.00.", 16, "hts"),
    Column("smelt_largest", "Country of Largest Smelt", "The country where most of the primary "
           "aluminum was smelted, or “Not applicable” if there is no primary aluminum.", 20, "smelt"),
    Column("smelt_second", "Country of Second Largest Smelt", "The second country, or “Not "
           "applicable” (also when the largest is “Not applicable”).", 20, "smelt"),
    Column("cast_country", "Country of Most Recent Cast", "Always a country: never “Not "
           "applicable” or “Unknown”.", 20, "country"),
    Column("quantity_kg", "Volume (KG)", "Kilograms, more than zero (up to 2 decimals).", 14, "number"),
    Column("customs_value_usd", "Customs Value (US$)", "US dollars, more than zero (up to 2 "
           "decimals).", 16, "number"),
]
TITLES = [c.title for c in COLUMNS]
SHEET_NAME = "Aluminum Licenses"
MARKER = "AIM aluminum license template"

_cache: dict[str, bytes] = {}
_lock = threading.Lock()


def template_bytes(catalogue: Catalogue) -> bytes:
    """The template for this catalogue revision (built once per process: it only changes with it)."""
    with _lock:
        if catalogue.revision not in _cache:
            _cache[catalogue.revision] = _build(catalogue)
        return _cache[catalogue.revision]


def _build(catalogue: Catalogue) -> bytes:
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    sheet = wb.active
    sheet.title = SHEET_NAME
    lists = wb.create_sheet("Lists")
    guide = wb.create_sheet("Instructions")

    country_names = [name for _, name in countries.all_countries()]
    ports = [f"{p.code} - {p.label.split('— ', 1)[-1]}" for p in all_ports().values()]
    hts = sorted(item.dotted for item in catalogue.items.values())
    smelt = ["Not applicable"] + country_names
    for col, (title, values) in enumerate([("Countries", country_names), ("Ports", ports),
                                           ("HTS numbers", hts), ("Smelt answers", smelt)], start=1):
        lists.cell(row=1, column=col, value=title).font = Font(bold=True)
        for row, value in enumerate(values, start=2):
            lists.cell(row=row, column=col, value=value)
    lists.sheet_state = "hidden"
    ranges = {"country": f"Lists!$A$2:$A${len(country_names) + 1}",
              "port": f"Lists!$B$2:$B${len(ports) + 1}",
              "hts": f"Lists!$C$2:$C${len(hts) + 1}",
              "smelt": f"Lists!$D$2:$D${len(smelt) + 1}"}

    header_fill = PatternFill("solid", fgColor="1A4480")
    header_font = Font(bold=True, color="FFFFFF")
    edge = Border(bottom=Side(style="medium", color="162E51"))
    last_row = MAX_ROWS + 1
    for index, column in enumerate(COLUMNS):
        letter = column_letter(index)
        cell = sheet.cell(row=1, column=index + 1, value=column.title)
        cell.fill, cell.font, cell.border = header_fill, header_font, edge
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        comment = Comment(f"{column.title}: {column.note}", "AIM")
        comment.width, comment.height = 260, 110
        cell.comment = comment
        sheet.column_dimensions[letter].width = column.width
        area = f"{letter}2:{letter}{last_row}"
        if column.kind in ranges:
            rule = DataValidation(type="list", formula1=f"={ranges[column.kind]}", allow_blank=True)
            rule.errorStyle = "warning"  # a typed ISO code or name is accepted too
            rule.error = f"Not in the list. {column.note}"
            rule.prompt, rule.promptTitle = column.note[:250], column.title[:32]
            sheet.add_data_validation(rule)
            rule.add(area)
        if column.kind == "date":
            for row in range(2, 102):  # the format carries to rows the filer adds below
                sheet.cell(row=row, column=index + 1).number_format = "mm/dd/yyyy"
        elif column.kind == "number":
            for row in range(2, 102):
                sheet.cell(row=row, column=index + 1).number_format = "#,##0.00"
    sheet.row_dimensions[1].height = 34
    sheet.freeze_panes = "B2"

    guide.column_dimensions["A"].width = 110
    lines = [
        (MARKER, True),
        (f"HTS catalogue: {catalogue.revision}. One row per product; rows with the same Entry ID "
         "form one license.", False),
        ("", False),
        ("How to fill in the template", True),
        ("1. Fill in all 16 columns of the first sheet for each row (Customs Entry # is optional).", False),
        ("2. Rows that share an Entry ID become one license with several products; their columns B "
         "to J (entry number, importer, exporter, manufacturer, countries, port, dates) must agree.", False),
        ("3. Countries: pick from the list, or type a country name or ISO code (CA or CAN).", False),
        ("4. Dates as dates or as MM/DD/YYYY text. Numbers as numbers (no formulas: values only).", False),
        (f"5. Up to {MAX_ROWS:,} rows per file. Larger batches: use several files.", False),
        ("6. “Not applicable” for a smelt country only when the product holds no primary aluminum "
         "(or, for the second, no second source). “Unknown” is accepted only on applications dated "
         f"up to {UNKNOWN_SMELT_CUTOFF:%B %d, %Y}. Most recent cast: always a country.", False),
        ("7. Save as Excel Workbook (.xlsx), then use “Choose File” and “Upload File” in the portal. "
         "If any row has a problem, no license is issued and the portal lists every problem by row "
         "and column.", False),
        ("", False),
        ("Columns", True),
    ] + [(f"{column_letter(i)} — {c.title}: {c.note}", False) for i, c in enumerate(COLUMNS)]
    for row, (text, bold) in enumerate(lines, start=1):
        cell = guide.cell(row=row, column=1, value=text)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if bold:
            cell.font = Font(bold=True, size=13 if row == 1 else 11)

    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
