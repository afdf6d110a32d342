"""The Excel template for "Apply for Multiple Licenses": a product's columns, lists drawn from reference data.

The columns are the product's (`Product.template_columns`: Entry ID, the header, the product
line; aluminum's are the guide's 16).
"""
from __future__ import annotations

import io
import threading
from datetime import date

from ..products import Product
from ..reference import countries
from ..reference.hts import Catalogue
from ..reference.ports import all_ports
from .workbook import MAX_ROWS, column_letter

_cache: dict[tuple[str, str], bytes] = {}
_lock = threading.Lock()


def template_bytes(product: Product, catalogue: Catalogue | None = None) -> bytes:
    """The product's template for its catalogue revision (built once per process: it only changes
    with it)."""
    catalogue = catalogue or product.catalogue()
    key = (product.key, catalogue.revision)
    with _lock:
        if key not in _cache:
            _cache[key] = _build(product, catalogue)
        return _cache[key]


def _build(product: Product, catalogue: Catalogue) -> bytes:
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    sheet = wb.active
    sheet.title = product.template_sheet
    columns = product.template_columns
    lists = wb.create_sheet("Lists")
    guide = wb.create_sheet("Instructions")

    country_names = [name for _, name in countries.all_countries()]
    ports = [f"{p.code} - {p.label.split('— ', 1)[-1]}" for p in all_ports().values()]
    hts = sorted(item.dotted for item in catalogue.items.values())
    listed = [("Countries", country_names), ("Ports", ports), ("HTS numbers", hts)]
    list_of = {"country": 0, "port": 1, "hts": 2}   # a column's kind -> its list
    for spec in columns:
        if spec.specials is not None:
            # The special answers still accepted on new applications ("Not applicable"), then countries.
            answers = [label for _, label in spec.specials(date.max)] + country_names
            if answers not in [values for _, values in listed]:
                listed.append((f"{spec.heading} answers", answers))
            list_of[spec.name] = [values for _, values in listed].index(answers)
    ranges = {}
    for col, (title, values) in enumerate(listed, start=1):
        lists.cell(row=1, column=col, value=title).font = Font(bold=True)
        for row, value in enumerate(values, start=2):
            lists.cell(row=row, column=col, value=value)
        letter = column_letter(col - 1)
        ranges[col - 1] = f"Lists!${letter}$2:${letter}${len(values) + 1}"
    lists.sheet_state = "hidden"

    header_fill = PatternFill("solid", fgColor="1A4480")
    header_font = Font(bold=True, color="FFFFFF")
    edge = Border(bottom=Side(style="medium", color="162E51"))
    last_row = MAX_ROWS + 1
    for index, column in enumerate(columns):
        letter = column_letter(index)
        cell = sheet.cell(row=1, column=index + 1, value=column.title)
        cell.fill, cell.font, cell.border = header_fill, header_font, edge
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        comment = Comment(f"{column.title}: {column.template_note}", product.short_name)
        comment.width, comment.height = 260, 110
        cell.comment = comment
        sheet.column_dimensions[letter].width = column.width
        area = f"{letter}2:{letter}{last_row}"
        listing = list_of.get(column.name, list_of.get(column.kind))
        if listing is not None:
            rule = DataValidation(type="list", formula1=f"={ranges[listing]}", allow_blank=True)
            rule.errorStyle = "warning"  # a typed ISO code or name is accepted too
            rule.error = f"Not in the list. {column.template_note}"
            rule.prompt, rule.promptTitle = column.template_note[:250], column.title[:32]
            sheet.add_data_validation(rule)
            rule.add(area)
        if column.kind == "date":
            for row in range(2, 102):  # the format carries to rows the filer adds below
                sheet.cell(row=row, column=index + 1).number_format = "mm/dd/yyyy"
        elif column.kind == "amount":
            for row in range(2, 102):
                sheet.cell(row=row, column=index + 1).number_format = "#,##0.00"
    sheet.row_dimensions[1].height = 34
    sheet.freeze_panes = "B2"

    guide.column_dimensions["A"].width = 110
    steps = [
        f"Fill in all {len(columns)} columns of the first sheet for each row (Customs Entry # is "
        "optional).",
        "Rows that share an Entry ID become one license with several products; their columns B "
        "to J (entry number, importer, exporter, manufacturer, countries, port, dates) must agree.",
        "Countries: pick from the list, or type a country name or ISO code (CA or CAN).",
        "Dates as dates or as MM/DD/YYYY text. Numbers as numbers (no formulas: values only).",
        f"Up to {MAX_ROWS:,} rows per file. Larger batches: use several files.",
        *product.template_instructions,
        "Entry type: the template has no column for it. Every license of a file has the entry type "
        "chosen on the upload page as the Entry Type of the file: Consumption, or Foreign trade zone "
        "admission (quoted on the zone admission, CBP Form 214; it does not expire). Put consumption "
        "entries and zone admissions in separate files.",
        f"Save as Excel Workbook (.xlsx). In the portal, choose “{product.name}” as the Product of "
        "the file, then use “Choose File” and “Upload File”. "
        "If any row has a problem, no license is issued and the portal lists every problem by row "
        "and column.",
    ]
    lines = [
        (product.template_marker, True),
        (f"HTS catalogue: {catalogue.revision}. One row per product; rows with the same Entry ID "
         "form one license.", False),
        ("", False),
        ("How to fill in the template", True),
        *((f"{n}. {step}", False) for n, step in enumerate(steps, start=1)),
        ("", False),
        ("Columns", True),
    ] + [(f"{column_letter(i)} — {c.title}: {c.template_note}", False) for i, c in enumerate(columns)]
    for row, (text, bold) in enumerate(lines, start=1):
        cell = guide.cell(row=row, column=1, value=text)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if bold:
            cell.font = Font(bold=True, size=13 if row == 1 else 11)

    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
