"""The version printed on a license: 1 when first issued (however often its draft was edited), one
more for each correction; through HTTP, as a filer prints it."""
from __future__ import annotations

import io

from helpers import HEADER, HTMX, LINE, issue, post
from pypdf import PdfReader


def pdf_text(client, number: str) -> str:
    reader = PdfReader(io.BytesIO(client.get(f"/licenses/{number}/pdf").data))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def test_a_first_issue_prints_version_1_and_a_correction_version_2(signed_in):
    number = issue(signed_in)  # its draft was saved several times before it was issued
    assert "version 1" in pdf_text(signed_in, number)

    draft = post(signed_in, f"/licenses/{number}/modify", {}).headers["Location"]
    post(signed_in, f"{draft}/lines/0", {**HEADER, **LINE, "line-quantity_kg": "10,000"}, headers=HTMX)
    post(signed_in, f"{draft}/preview", {**HEADER, "certified": "y"})
    assert post(signed_in, f"{draft}/submit", {}).status_code == 303
    text = pdf_text(signed_in, number)
    assert "version 2" in text and "Corrected" in text
