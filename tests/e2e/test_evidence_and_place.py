"""Evidence and place, end to end in Chromium on a phone-sized page (the local stack as
``make run`` starts it: emulators, fake-gcs-server, every function on 127.0.0.1).

A citizen attaches a photo their phone took (a JPEG with GPS, make and model in its
EXIF, made here), picks Cugenang and one of its villages (the selects fill themselves
from the regency), gives the phone's location and lets the public page show the
photo, and sends the form. The district rule routes the road report to the UPTD that
keeps Cugenang's roads; its officer signs in to the console and finds the photo,
which carries none of the phone's metadata, and the exact place. The public tracking
page shows the photo (the reporter allowed it) and the point rounded to about 100 m,
never the address.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

import pytest

from shared.domain.report import Role
from tests.e2e.citizen import CODE, fill_report
from tests.e2e.console import sign_in, staff_member
from tests.e2e.test_console_casework import open_by_code
from tests.functional.evidence_support import metadata_left, phone_photo
from tools.stack import LocalStack

CUGENANG, SUKAMANAH = "32.03.11", "32.03.11.2001"
ADDRESS = "Jl. Raya Cugenang, depan warung Bu Iis"
# Where the phone says it is (Cugenang); the public sees it to 3 decimals.
LATITUDE, LONGITUDE = -6.816284, 107.081471
ROUNDED = ("-6.816", "107.081")
UNIT = "uptd-jalan-cianjur-utara"


@pytest.fixture
def located_phone(browser: Any) -> Iterator[Any]:
    """A phone-sized page whose owner reads Bahasa Indonesia and lets the form know
    where the phone is."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        locale="id-ID",
        is_mobile=True,
        has_touch=True,
        geolocation={"latitude": LATITUDE, "longitude": LONGITUDE},
        permissions=["geolocation"],
    )
    try:
        yield context.new_page()
    finally:
        context.close()


def image_bytes(page: Any, href: str) -> bytes:
    """What a link of the page leads to, fetched with the page's cookies (the console's
    session), following the route's redirect to the signed URL."""
    response = page.request.get(urljoin(page.url, href))
    assert response.ok, (href, response.status, response.text()[:300])
    body: bytes = response.body()
    return body


def shown(page: Any, image: Any) -> bool:
    """The image was loaded and drawn (CSP allowed its origin, the bytes decoded)."""
    image.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete", arg=image.element_handle())
    return bool(image.evaluate("img => img.naturalWidth > 0"))


def test_a_photo_and_a_village_reach_the_unit_without_metadata_and_the_public_sees_less(
    local_stack: LocalStack, located_phone: Any, browser: Any
) -> None:
    phone = located_phone
    photo = phone_photo((1600, 1200))
    assert metadata_left(photo)["gps"], "the test photo must carry GPS to prove anything"

    phone.goto(local_stack.urls["submit"] + "/")
    fill_report(phone)  # a Cianjur road report
    # With JavaScript the district and village lists follow the regency by themselves.
    phone.locator(f'#f-district_code option[value="{CUGENANG}"]').wait_for(state="attached")
    phone.select_option("#f-district_code", CUGENANG)
    phone.locator(f'#f-village_code option[value="{SUKAMANAH}"]').wait_for(state="attached")
    phone.select_option("#f-village_code", SUKAMANAH)
    phone.fill("#f-address", ADDRESS)
    phone.locator("details:has(#geo-button) > summary").click()  # the point is optional
    phone.locator("#geo-button").click()
    phone.wait_for_function("() => document.getElementById('f-latitude').value !== ''")
    assert float(phone.input_value("#f-latitude")) == pytest.approx(LATITUDE)
    assert float(phone.input_value("#f-longitude")) == pytest.approx(LONGITUDE)
    phone.set_input_files(
        'input[type="file"][name="berkas"]',
        files=[{"name": "IMG_20261130_Budi.jpg", "mimeType": "image/jpeg", "buffer": photo}],
    )
    phone.check('[name="show_attachments"]')
    with phone.expect_navigation():
        phone.get_by_role("button", name="Kirim laporan").click()
    text = phone.locator("body").inner_text()
    found = CODE.search(text)
    assert found, text
    code = found.group(0)

    # The roads unit of the northern districts gets it (the Cugenang district rule).
    officer = staff_member(local_stack, Role.UNIT_OFFICER, UNIT)
    console = browser.new_context(viewport={"width": 390, "height": 844}, locale="id-ID")
    try:
        staff = console.new_page()
        sign_in(staff, local_stack, officer)
        open_by_code(staff, local_stack.urls["console"], code)
        main = staff.locator("main").inner_text()
        for exact in ("Cugenang", "Sukamanah", ADDRESS, f"{LATITUDE}", f"{LONGITUDE}"):
            assert exact in main, (exact, main)
        assert "IMG_20261130_Budi" not in main  # the device's name for the file is not kept
        thumbnail = staff.locator("ul.files img").first
        assert shown(staff, thumbnail)
        full = staff.locator("ul.files a.file-link").first
        for href in (full.get_attribute("href"), thumbnail.get_attribute("src")):
            assert href
            stored = image_bytes(staff, href)
            assert metadata_left(stored) == {}, href
        stored = image_bytes(staff, str(full.get_attribute("href")))
        assert stored[:3] == b"\xff\xd8\xff" and stored != photo  # drawn again, a JPEG
    finally:
        console.close()

    # Anyone with the code: the photo (the reporter allowed it), the village, and the
    # point to 3 decimals; never the address or the exact point.
    public = browser.new_context(viewport={"width": 390, "height": 844}, locale="id-ID")
    try:
        page = public.new_page()
        page.goto(f"{local_stack.urls['submit']}/lacak/{code}")
        body = page.locator("body").inner_text()
        assert "Sukamanah" in body and "Cugenang" in body, body
        assert all(part in body for part in ROUNDED), body
        assert ADDRESS not in body and f"{LATITUDE}" not in body and f"{LONGITUDE}" not in body
        image = page.locator('img[src*="/berkas/"]').first
        assert shown(page, image)
        links = page.locator('a[href*="/berkas/"]')
        assert links.count() >= 1, body
        assert metadata_left(image_bytes(page, str(links.first.get_attribute("href")))) == {}
    finally:
        public.close()
