"""A report's evidence and place in the console.

- The report page's files (:func:`report_files`): each with its size, pages or
  dimensions, who added it (the reporter or an agency) and beside which timeline
  event; images as thumbnails. Every link goes through ``/laporan/<report_id>/berkas/
  <file_id>`` (``?ukuran=kecil``: the thumbnail): the staff member's scope is checked
  (the same ``may_see`` the report page uses) and the answer is a 302 to a short-lived
  signed URL of the bucket, never stored or sent on (``no-store``, ``no-referrer``).
  Another agency's report, an unknown file or a malformed id: the console's one 404;
  signed out: the sign-in, as for every console page (decided before any read).
- The exact place (:func:`report_place`): district and village by name, the reporter's
  address or landmark, the point with a link to open it on a map.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from flask import Response
from werkzeug.routing import Rule

from shared.usecases import agency, evidence
from shared.usecases.agency import scope_of
from shared.web.catalog import Catalog, catalog_of
from shared.web.console.common import ConsoleCall, page_error, redirect, signed_in, tr, url
from shared.web.i18n import Lang, format_number

# An attachment's id as the domain makes it ("f" and 10 hex digits).
_FILE_ID = re.compile(r"f[0-9a-f]{10}")
THUMBNAIL_PARAM = ("ukuran", "kecil")


def file_path(report_id: str, file_id: str) -> str:
    return f"/laporan/{quote(report_id)}/berkas/{quote(file_id)}"


# What the file inputs offer to pick, as the citizen's form: photos (a phone's camera
# and gallery) and PDF documents. The type is decided from the bytes anyway
# (shared.domain.attachments), and the hint names the ones taken.
ACCEPTED_FILES = "image/*,application/pdf"


def human_size(size: int, lang: Lang) -> str:
    """A size as people read it: "840 KB", "2,4 MB", "8 MB" (1,024-based, as phones
    count, like the limits' own messages)."""
    if size < 1024 * 1024:
        return f"{format_number(max(1, round(size / 1024)), lang)} KB"
    mib = size / (1024 * 1024)
    return f"{format_number(mib, lang, 0 if mib == int(mib) else 1)} MB"


def limits_hint(call: ConsoleCall) -> str:
    """The file input's hint: what may be attached, and how much."""
    settings, lang = call.ports.settings, call.lang
    count = format_number(settings.attachment_max_count, lang)
    each = human_size(settings.attachment_max_file_bytes, lang)
    total = human_size(settings.attachment_max_total_bytes, lang)
    return tr(
        lang,
        f"Opsional. Foto (JPEG, PNG, WebP, HEIC) atau PDF: paling banyak {count} berkas, "
        f"masing-masing {each}, semuanya {total}. Pelapor dapat membukanya; data lokasi "
        "dan kamera pada foto dihapus.",
        f"Optional. Photos (JPEG, PNG, WebP, HEIC) or PDF: at most {count} files, "
        f"{each} each, {total} in all. The reporter can open them; location and camera "
        "data in photos are removed.",
    )


@dataclass(frozen=True)
class ShownFile:
    """One file on the report page."""

    id: str
    file_name: str
    href: str  # the full file, through the console's own route
    thumbnail_href: str  # "" when there is none (a PDF)
    thumbnail_width: int
    thumbnail_height: int
    alt: str
    kind: str  # "Foto" / "PDF"
    facts: str  # size, and the pages or the dimensions
    added_by: str  # "Pelapor" / the agency
    event: str  # the timeline event that added it: its label and number
    added_seq: int


def _thumbnail_size(width: int, height: int, box: int) -> tuple[int, int]:
    """The thumbnail's size: the image scaled to fit ``box`` (never enlarged)."""
    if width <= 0 or height <= 0:
        return box, box
    scale = min(1.0, box / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def report_files(
    call: ConsoleCall, shown: Mapping[str, Any], event_labels: Mapping[int, str]
) -> list[ShownFile]:
    """The report's files as the page lists them, in the order they were added.
    ``event_labels``: the timeline's labels by event number."""
    lang = call.lang
    box = call.ports.settings.attachment_thumbnail_px
    files = []
    photos = 0
    for item in shown.get("attachments", []):
        href = url(call, file_path(shown["id"], item["id"]))
        by = (
            tr(lang, "Pelapor", "The reporter")
            if item["added_by"] == "reporter"
            else tr(lang, "Instansi", "The agency")
        )
        size = human_size(int(item["size"]), lang)
        is_image = str(item["media_type"]).startswith("image/")
        if is_image:
            photos += 1
            across, down = (format_number(item[side], lang) for side in ("width", "height"))
            dims = f"{across} \u00d7 {down} px"
            facts = f"{size} · {dims}"
            kind = tr(lang, "Foto", "Photo")
            alt = tr(
                lang,
                f"Foto {photos} dari {by.lower()}: {item['file_name']}",
                f"Photo {photos} from {by[0].lower() + by[1:]}: {item['file_name']}",
            )
        else:
            pages = int(item["pages"])
            facts = f"{size} · " + tr(
                lang,
                f"{format_number(pages, lang)} halaman",
                f"{format_number(pages, lang)} page{'s' if pages != 1 else ''}",
            )
            kind, alt = "PDF", ""
        width, height = _thumbnail_size(int(item["width"]), int(item["height"]), box)
        seq = int(item["added_seq"])
        files.append(
            ShownFile(
                id=item["id"],
                file_name=item["file_name"],
                href=href,
                thumbnail_href=(
                    url(call, file_path(shown["id"], item["id"]), ukuran=THUMBNAIL_PARAM[1])
                    if is_image and item["has_thumbnail"]
                    else ""
                ),
                thumbnail_width=width,
                thumbnail_height=height,
                alt=alt,
                kind=kind,
                facts=facts,
                added_by=by,
                event=f"{event_labels.get(seq, '')} (#{seq})".strip(),
                added_seq=seq,
            )
        )
    return files


@dataclass(frozen=True)
class ShownPlace:
    """Where it happened, exactly (staff see the exact place; the public a rounded one)."""

    district: str
    village: str
    address: str
    point: str  # "-6.812345, 107.143210", or ""
    map_href: str  # the point on OpenStreetMap, or ""


def _place_name(catalog: Catalog, code: str | None) -> str:
    """The place's name and code ("Cugenang (32.03.11)"); the code alone if unknown."""
    if not code:
        return ""
    name = catalog.place_label(code)
    return code if name == code else f"{name} ({code})"


def report_place(call: ConsoleCall, shown: Mapping[str, Any]) -> ShownPlace:
    place = shown.get("place") or {}
    catalog = catalog_of(call.ports.agency.reference)
    latitude, longitude = place.get("latitude"), place.get("longitude")
    point = map_href = ""
    if latitude is not None and longitude is not None:
        # Coordinates keep their decimal point in every language: they are copied into
        # maps and GPS devices as they are.
        lat, lon = f"{float(latitude):.6f}", f"{float(longitude):.6f}"
        point = f"{lat}, {lon}"
        map_href = f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=18/{lat}/{lon}"
    return ShownPlace(
        district=_place_name(catalog, place.get("district_code")),
        village=_place_name(catalog, place.get("village_code")),
        address=place.get("address") or "",
        point=point,
        map_href=map_href,
    )


def files_by_event(files: Sequence[ShownFile]) -> dict[int, list[ShownFile]]:
    """The files each timeline event added, by its number."""
    added: dict[int, list[ShownFile]] = {}
    for item in files:
        added.setdefault(item.added_seq, []).append(item)
    return added


# --- the file link ----------------------------------------------------------------------


def file_link(call: ConsoleCall, report_id: str, file_id: str) -> Response:
    """302 to a signed URL of the file (or its thumbnail) for staff who may see the
    report; the console's 404 for anyone else, an unknown file or a malformed id."""
    staff = signed_in(call)
    thumbnail = call.request.args.get(THUMBNAIL_PARAM[0]) == THUMBNAIL_PARAM[1]
    if len(report_id) > 64 or not _FILE_ID.fullmatch(file_id):
        return page_error(call, 404)
    ports = call.ports.agency
    report = ports.store.get(report_id)
    if report is None or not agency.may_see(scope_of(staff.caller, ports.reference), report):
        return page_error(call, 404)
    attachment = next((a for a in report.attachments if a.id == file_id), None)
    if attachment is None or (thumbnail and not attachment.has_thumbnail):
        return page_error(call, 404)
    signed = evidence.file_url(
        report.id, attachment.id, ports.blobs, call.ports.settings, thumbnail=thumbnail
    )
    response = redirect(signed.url, 302)
    # The signed URL works for anyone holding it until it expires: kept by no cache,
    # and the bucket is not told which console page linked to it.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


RULES: Sequence[Rule] = [
    Rule("/laporan/<doc_id:report_id>/berkas/<file_id>", methods=["GET"], endpoint="evidence.file"),
]
HANDLERS: Mapping[str, Callable[..., Response]] = {"evidence.file": file_link}
