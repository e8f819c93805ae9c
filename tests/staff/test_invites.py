"""Invite codes: created as hashes only, printed on an A4 PDF with QR codes, each usable once."""

from __future__ import annotations

import io
import re

import pymupdf
import pytest
import zxingcpp
from django.conf import settings
from PIL import Image
from pypdf import PdfReader

from survey import services
from survey.codes import hash_code
from survey.invites import invite_sheet_pdf, invite_url
from survey.models import Draft, InviteCode
from tests.staff.conftest import staff_url
from tests.staff.support import audit_actions, text_in
from tests.support import journey
from tests.support.definitions import mini_definition

CODE = re.compile(r"[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}")


def decoded_texts(pdf: bytes) -> list[str]:
    """Every QR code on every page, rendered at 150 dpi and read back with zxing-cpp."""
    texts = []
    with pymupdf.open(stream=pdf, filetype="pdf") as document:
        for page in document:
            pixmap = page.get_pixmap(dpi=150)
            image = Image.frombytes("RGB", (pixmap.width, pixmap.height), pixmap.samples)
            texts.extend(barcode.text for barcode in zxingcpp.read_barcodes(image))
    return texts


def create_codes(client, campaign, count: int = 10, languages=("de", "en")):
    url = staff_url(campaign, f"campaigns/{campaign.pk}/invites/")
    return client.post(url, {"count": count, "languages": list(languages)})


def test_the_pdf_has_a_decodable_qr_code_for_every_code_and_only_hashes_are_stored(
    staff_client, campaign, organisation
):
    response = create_codes(staff_client, campaign, count=10)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    pdf = response.content
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 2  # eight cards per A4 page
    width, height = (float(value) for value in reader.pages[0].mediabox.upper_right)
    assert (round(width), round(height)) == (595, 842)
    text = "".join(page.extract_text() for page in reader.pages)
    codes = sorted(set(CODE.findall(text)))
    assert len(codes) == 10

    decoded = decoded_texts(pdf)
    assert len(decoded) == 10
    for code in codes:
        url = invite_url(base_url=settings.STIMMEN_PUBLIC_URL, campaign_slug=campaign.slug, code=code)
        assert url in decoded
        assert url.endswith(f"/s/{campaign.slug}/?invite={code}")

    stored = set(InviteCode.objects.filter(campaign=campaign).values_list("code_hash", flat=True))
    assert stored == {hash_code(code) for code in codes}
    assert not InviteCode.objects.filter(code_hash__in=codes).exists()
    assert audit_actions(organisation)[-1] == "invite_codes_created"


def test_the_page_says_the_codes_exist_only_in_the_pdf(staff_client, campaign):
    page = staff_client.get(staff_url(campaign, f"campaigns/{campaign.pk}/invites/")).content.decode()
    assert "only in the PDF" in page


@pytest.mark.parametrize("count", [0, 501])
def test_an_invalid_number_of_codes_creates_none(staff_client, campaign, count):
    assert create_codes(staff_client, campaign, count=count).status_code == 400
    assert not InviteCode.objects.exists()


def test_a_sheet_in_turkish_and_ukrainian_renders(campaign):
    pdf = invite_sheet_pdf(
        codes=["K7QX-M2PD-9RTA"],
        campaign_slug="x",
        title="Şehir – Місто",
        base_url="https://x.test",
        languages=["tr", "uk"],
    )
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "kodunu" in text
    assert "Відскануй" in text


@pytest.fixture
def invite_campaign(campaign, staff_client):
    campaign.invite_code_required = True
    campaign.save()
    return campaign


def codes_from_sheet(client, campaign, count: int) -> list[str]:
    pdf = create_codes(client, campaign, count=count).content
    return sorted({match for value in decoded_texts(pdf) for match in CODE.findall(value)})


def test_invite_codes_are_single_use_through_the_start_page(staff_client, invite_campaign, client):
    code, _other = codes_from_sheet(staff_client, invite_campaign, 2)
    respondent = client.__class__()
    assert journey.start(respondent, invite_campaign, invite_code=code).status_code == 302
    assert Draft.objects.count() == 1

    second = client.__class__()
    response = journey.start(second, invite_campaign, invite_code=code)
    assert response.status_code == 400
    assert text_in(response, services.INVITE_CODE_USED)
    assert Draft.objects.count() == 1


def test_a_wrong_code_and_a_code_of_another_campaign_are_refused(staff_client, invite_campaign, organisation):
    version, _created = services.survey_version_load(data=mini_definition(slug="mini-zwei"), organisation=organisation)
    other = services.campaign_open(survey_version=version, slug="zwei", invite_code_required=True)
    [other_code] = codes_from_sheet(staff_client, other, 1)
    for wrong in ["AAAA-BBBB-CCCC", other_code, "nonsense"]:
        respondent = staff_client.__class__()
        response = journey.start(respondent, invite_campaign, invite_code=wrong)
        assert response.status_code == 400, wrong
        assert text_in(response, services.INVITE_CODE_UNKNOWN)
    assert not Draft.objects.exists()
    assert not InviteCode.objects.filter(used=True).exists()


def test_an_arabic_sheet_has_joined_letters_right_to_left_and_a_readable_qr_code(campaign):
    """Arabic cards carry shaped (joined) letters in right-to-left order; the QR code still decodes."""
    import arabic_reshaper

    pdf = invite_sheet_pdf(
        codes=["K7QX-M2PD-9RTA"],
        campaign_slug="x",
        title="Stimmen",
        base_url="https://x.test",
        languages=["ar"],
    )
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    shaped_word = arabic_reshaper.reshape("رمزك")  # contextual (joined) glyph forms, not isolated letters
    assert shaped_word in text or shaped_word[::-1] in text
    assert "رمزك" not in text  # unshaped letters would print as separate, unjoined glyphs
    first_line = text.splitlines()[2]
    # Right to left: the sentence's first word ("امسح", scan) stands at the right end of the line.
    assert arabic_reshaper.reshape("امسح") in first_line.split()[-2:]
    assert any("K7QX-M2PD-9RTA" in value for value in decoded_texts(pdf))
