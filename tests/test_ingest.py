"""Ingesting HTML, PDF and DOCX into the document model, headings kept."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from consular.errors import IngestionError
from knowledge.ingest import convert_to_markdown, import_file, write_document
from knowledge.loader import load_documents
from knowledge.sections import split_sections

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
DEJAVU_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
META = {
    "id": "passport-renewal",
    "lang": "vi",
    "title": "Cấp lại hộ chiếu",
    "topics": ["passport"],
    "source": "https://example.gov.vn/ho-chieu",
    "reviewed": "2026-09-30",
}

HTML = """<!doctype html><html><head><title>x</title><style>p{}</style><script>alert(1)</script></head>
<body><nav><a href="/">Trang chủ</a> | <a href="/en">English</a></nav>
<main><h1>Cấp lại hộ chiếu phổ thông</h1><p>Dành cho công dân ở nước ngoài.</p>
<h2>Giấy tờ cần chuẩn bị</h2><ul><li>Tờ khai</li><li>Hai ảnh 4x6</li></ul>
<h2>Lệ phí</h2><p>70 USD, <strong>nộp</strong> tại cơ quan đại diện.</p><hr/>
<h3>Ghi chú</h3><p>Xem trang của cơ quan đại diện.</p></main>
<footer>© Bộ Ngoại giao</footer></body></html>"""


def _headings(markdown: str) -> list[str]:
    return [s.title for s in split_sections(markdown) if s.heading]


def test_html_keeps_headings_and_drops_navigation(tmp_path):
    page = tmp_path / "ho-chieu.html"
    page.write_text(HTML, encoding="utf-8")
    markdown = convert_to_markdown(page)
    assert _headings(markdown) == [
        "Cấp lại hộ chiếu phổ thông",
        "Giấy tờ cần chuẩn bị",
        "Lệ phí",
        "Ghi chú",
    ]
    assert "- Hai ảnh 4x6" in markdown
    assert "alert" not in markdown and "Trang chủ" not in markdown and "©" not in markdown


def _make_pdf(path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.add_font("DejaVu", "", str(DEJAVU))
    pdf.add_font("DejaVu", "B", str(DEJAVU_BOLD))
    pdf.set_font("DejaVu", "B", 18)
    pdf.cell(0, 12, "Đăng ký khai sinh cho trẻ sinh ở nước ngoài", new_x="LMARGIN", new_y="NEXT")
    for heading, lines in [
        (
            "Giấy tờ cần chuẩn bị",
            ["Tờ khai đăng ký khai sinh theo mẫu.", "Giấy chứng sinh do bệnh viện cấp."],
        ),
        ("Lệ phí", ["Lệ phí là 5 USD, có thể thu bằng đồng tiền nước sở tại."]),
    ]:
        pdf.set_font("DejaVu", "B", 14)
        pdf.cell(0, 10, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 11)
        for line in lines:
            pdf.multi_cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))


@pytest.mark.skipif(
    not DEJAVU.is_file(), reason="DejaVu fonts (Debian fonts-dejavu-core) not installed"
)
def test_pdf_font_sizes_become_headings(tmp_path):
    path = tmp_path / "khai-sinh.pdf"
    _make_pdf(path)
    markdown = convert_to_markdown(path)
    sections = split_sections(markdown)
    assert [s.heading for s in sections] == [
        "Đăng ký khai sinh cho trẻ sinh ở nước ngoài > Giấy tờ cần chuẩn bị",
        "Đăng ký khai sinh cho trẻ sinh ở nước ngoài > Lệ phí",
    ]
    assert "5 USD" in sections[-1].text
    assert unicodedata.is_normalized("NFC", markdown)


def _make_docx(path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading("Legalization of foreign documents", level=1)
    document.add_paragraph("For documents issued abroad and used in Viet Nam.")
    document.add_heading("Documents to bring", level=2)
    document.add_paragraph("The original document", style="List Bullet")
    document.add_paragraph("A copy of your passport", style="List Bullet")
    document.add_heading("Fee", level=2)
    document.add_paragraph("10 USD per document.")
    document.save(str(path))


def test_docx_heading_styles_become_sections(tmp_path):
    path = tmp_path / "legalization.docx"
    _make_docx(path)
    sections = split_sections(convert_to_markdown(path))
    assert [s.title for s in sections] == [
        "Legalization of foreign documents",
        "Documents to bring",
        "Fee",
    ]
    assert "- A copy of your passport" in sections[1].text


def test_import_takes_metadata_from_a_sidecar_and_defaults_to_draft(tmp_path):
    page = tmp_path / "ho-chieu.html"
    page.write_text(HTML, encoding="utf-8")
    sidecar = tmp_path / "ho-chieu.html.yaml"
    sidecar.write_text(
        "\n".join(f"{k}: {v}" for k, v in META.items() if k != "topics") + "\ntopics: [passport]\n"
    )
    doc = import_file(page)
    assert doc.meta.status.value == "draft"
    assert doc.meta.title == "Cấp lại hộ chiếu"
    target = write_document(doc, tmp_path / "kb")
    [loaded] = load_documents(tmp_path / "kb").documents
    assert target.name == "passport-renewal.md"
    # The <hr> in the page must not swallow the last section as a footer.
    assert [s.title for s in loaded.sections()][-1] == "Ghi chú"


def test_import_flags_override_and_missing_metadata_is_named(tmp_path):
    page = tmp_path / "guide.html"
    page.write_text(HTML, encoding="utf-8")
    with pytest.raises(IngestionError) as excinfo:
        import_file(page, {"id": "passport-renewal"})
    assert "lang" in excinfo.value.user_message and "source" in excinfo.value.user_message
    doc = import_file(page, {**META, "status": "published"})
    assert doc.meta.status.value == "published"


def test_unsupported_and_corrupt_files_give_clear_errors(tmp_path):
    odt = tmp_path / "notes.odt"
    odt.write_bytes(b"x")
    with pytest.raises(IngestionError, match="unsupported file type"):
        convert_to_markdown(odt)
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 not really")
    with pytest.raises(IngestionError, match="could not be read"):
        convert_to_markdown(broken)
