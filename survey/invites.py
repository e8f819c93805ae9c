"""Invite codes on paper: the link a card's QR code opens, and the printable A4 sheet of cards.

The codes exist in plain text only while the sheet is being built: the database keeps their hashes
(``services.invite_codes_create``), so a lost sheet cannot be printed again. Pure functions, no database.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlencode

import arabic_reshaper
import qrcode
from bidi import get_display
from qrcode.constants import ERROR_CORRECT_M
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph

#: The query parameter the start page reads to pre-fill the invite code field.
INVITE_PARAMETER = "invite"

#: A font with Latin, Turkish and Cyrillic letters (Debian's fonts-dejavu-core); Helvetica if it is missing.
FONT_PATHS = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
)
MONO_FONT_PATH = Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf")

#: What a card tells its reader, per language ({url} is the campaign's start page). tr, ar, uk: native review.
INSTRUCTIONS = {
    "de": "Scanne den QR-Code oder öffne {url} und gib deinen Code ein. Der Code gilt einmal. "
    "Deine Antworten bleiben anonym.",
    "en": "Scan the QR code or open {url} and enter your code. The code works once. Your answers stay anonymous.",
    "tr": "QR kodunu tara ya da {url} adresini aç ve kodunu gir. Kod bir kez geçerlidir. Cevapların anonim kalır.",
    "uk": "Відскануй QR-код або відкрий {url} і введи свій код. Код діє один раз. Твої відповіді залишаються "
    "анонімними.",
    "ar": "امسح رمز QR أو افتح {url} وأدخل رمزك. الرمز صالح لمرة واحدة. تبقى إجاباتك مجهولة الهوية.",
}
#: Languages written right to left: PDF text has no bidi layout of its own, so their lines are shaped here.
RIGHT_TO_LEFT = frozenset({"ar"})
SHEET_LANGUAGES = tuple(INSTRUCTIONS)

COLUMNS = 2
ROWS = 4
MARGIN = 10 * mm
QR_SIZE = 34 * mm
PADDING = 4 * mm


def invite_url(*, base_url: str, campaign_slug: str, code: str) -> str:
    """The start page of the campaign with the code as a query parameter (what the QR code holds)."""
    return f"{base_url.rstrip('/')}/s/{campaign_slug}/?{urlencode({INVITE_PARAMETER: code})}"


def _fonts() -> tuple[str, str, str]:
    """Register the TTF fonts once; returns (regular, bold, mono) font names."""
    regular_path, bold_path = FONT_PATHS
    if not (regular_path.exists() and bold_path.exists() and MONO_FONT_PATH.exists()):
        return "Helvetica", "Helvetica-Bold", "Courier-Bold"
    registered = pdfmetrics.getRegisteredFontNames()
    for name, path in (
        ("StimmenSans", regular_path),
        ("StimmenSans-Bold", bold_path),
        ("StimmenMono", MONO_FONT_PATH),
    ):
        if name not in registered:
            pdfmetrics.registerFont(TTFont(name, str(path)))
    return "StimmenSans", "StimmenSans-Bold", "StimmenMono"


def _qr_image(text: str) -> ImageReader:
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=8, border=2)
    qr.add_data(text)
    qr.make(fit=True)
    buffer = io.BytesIO()
    qr.make_image(fill_color="black", back_color="white").save(buffer, format="PNG")
    buffer.seek(0)
    return ImageReader(buffer)


def invite_sheet_pdf(
    *,
    codes: Sequence[str],
    campaign_slug: str,
    title: str,
    base_url: str,
    languages: Sequence[str],
) -> bytes:
    """An A4 PDF with one card per code: the title, the code, its QR code and short instructions.

    Eight cards per page (2 × 4) with thin cut lines; the instructions appear in each of ``languages`` that
    the sheet supports (``SHEET_LANGUAGES``), German when none is.
    """
    regular, bold, mono = _fonts()
    chosen = [language for language in languages if language in INSTRUCTIONS] or ["de"]
    start_url = f"{base_url.rstrip('/')}/s/{campaign_slug}/"
    page_width, page_height = A4
    card_width = (page_width - 2 * MARGIN) / COLUMNS
    card_height = (page_height - 2 * MARGIN) / ROWS
    title_style = ParagraphStyle("title", fontName=bold, fontSize=10, leading=12)
    text_style = ParagraphStyle("text", fontName=regular, fontSize=7.2, leading=8.8)
    rtl_style = ParagraphStyle("text-rtl", parent=text_style, alignment=TA_RIGHT)

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.setTitle(f"Einladungscodes – {title}")
    pdf.setAuthor("Stimmen")
    per_page = COLUMNS * ROWS
    for index, code in enumerate(codes):
        slot = index % per_page
        if index and slot == 0:
            pdf.showPage()
        column, row = slot % COLUMNS, slot // COLUMNS
        left = MARGIN + column * card_width
        top = page_height - MARGIN - row * card_height
        # Cut lines around the card.
        pdf.setDash(2, 3)
        pdf.setStrokeGray(0.6)
        pdf.rect(left, top - card_height, card_width, card_height, stroke=1, fill=0)
        pdf.setDash()
        # The QR code on the left, the code under it.
        qr_left = left + PADDING
        qr_bottom = top - PADDING - QR_SIZE
        pdf.drawImage(
            _qr_image(invite_url(base_url=base_url, campaign_slug=campaign_slug, code=code)),
            qr_left,
            qr_bottom,
            width=QR_SIZE,
            height=QR_SIZE,
        )
        pdf.setFont(mono, 11)
        pdf.setFillGray(0)
        pdf.drawCentredString(qr_left + QR_SIZE / 2, qr_bottom - 5 * mm, code)
        # Title and instructions on the right.
        text_left = qr_left + QR_SIZE + PADDING
        text_width = left + card_width - PADDING - text_left
        y = top - PADDING
        heading = Paragraph(_escape(title), title_style)
        _w, used = heading.wrap(text_width, card_height)
        heading.drawOn(pdf, text_left, y - used)
        y -= used + 2 * mm
        for language in chosen:
            text = INSTRUCTIONS[language].format(url=start_url)
            if language in RIGHT_TO_LEFT:
                paragraph = _right_to_left_paragraph(text, rtl_style, text_width)
            else:
                paragraph = Paragraph(_escape(text), text_style)
            _w, used = paragraph.wrap(text_width, card_height)
            if y - used < top - card_height + PADDING:
                break
            paragraph.drawOn(pdf, text_left, y - used)
            y -= used + 1.5 * mm
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _right_to_left_paragraph(text: str, style: ParagraphStyle, width: float) -> Paragraph:
    """Arabic for a PDF: letters joined into their contextual forms, each line in visual order, right-aligned.

    Lines are broken in logical order first (reportlab would otherwise wrap the reversed text backwards).
    """
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        shaped = arabic_reshaper.reshape(candidate)
        if current and pdfmetrics.stringWidth(shaped, style.fontName, style.fontSize) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    lines.append(current)
    visual = [get_display(arabic_reshaper.reshape(line)) for line in lines]
    return Paragraph("<br/>".join(_escape(line) for line in visual), style)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
