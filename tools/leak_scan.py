"""A leak scanner: look for secrets and personal data in what a run produced.

Everything a run produces is an :class:`Artefact`: a text (a response with its headers,
a webhook, an e-mail, an SMS, an export, a log file), where it came from, and its
*audience*: who receives it (``"reporter:<code>"``, ``"agency:<id>"``, ``"public"``,
``"log"`` ...). Every value that must not spread is a :class:`Sensitive` with the
audiences allowed to see it (a reporter's own token goes to that reporter and nobody
else; the token secret goes to nobody). :func:`scan` looks for each value in every
artefact whose audience is not allowed, in each form a leak takes on the way: as is,
JSON-escaped, URL-encoded, HTML-escaped, and base64 (standard and URL-safe, at any
alignment inside a longer encoded text). Text matches ignore case (an e-mail address
keeps its meaning in any case); base64 is matched as it is.

Used by tests/functional/test_no_leaks.py over a full run of the local stack.
"""

from __future__ import annotations

import base64
import email
import email.header
import email.policy
import html
import io
import json
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass

# A base64 fragment shorter than this matches too much by chance to be evidence.
MIN_BASE64_FRAGMENT = 12
EXCERPT_CHARS = 40


@dataclass(frozen=True)
class Artefact:
    where: str  # e.g. "GET /lacak/K7M-2XQ-9RJ 200", "log notify.log"
    audience: str
    text: str


@dataclass(frozen=True)
class Sensitive:
    name: str  # what it is, e.g. "the anonymous reporter's e-mail"; never the value
    value: str
    allowed: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Leak:
    sensitive: str
    form: str
    where: str
    audience: str
    excerpt: str  # the text around the match, the value itself masked

    def __str__(self) -> str:
        return (
            f"{self.sensitive} ({self.form}) reached {self.audience} in {self.where}: "
            f"...{self.excerpt}..."
        )


def _base64_fragments(raw: bytes) -> list[str]:
    """The part of the base64 text of ``raw`` that does not depend on its neighbours,
    for each of the three positions it can start at inside a longer encoded text."""
    fragments = []
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw).decode()
        # Each character carries 6 bits: keep those whose bits all come from ``raw``.
        start = -(-8 * shift // 6)
        end = 8 * (shift + len(raw)) // 6
        fragment = encoded[start:end]
        if len(fragment) >= MIN_BASE64_FRAGMENT:
            fragments.append(fragment)
    return fragments


def forms_of(value: str) -> dict[str, str]:
    """Each form ``value`` can take in a text, by name (lower case, but base64)."""
    forms: dict[str, str] = {"plain": value}
    forms["json"] = json.dumps(value)[1:-1]
    forms["json-ascii"] = json.dumps(value, ensure_ascii=True)[1:-1]
    forms["url"] = urllib.parse.quote(value, safe="")
    forms["url-form"] = urllib.parse.quote_plus(value, safe="")
    forms["html"] = html.escape(value, quote=True)
    forms["hex"] = value.encode().hex()
    if value.isascii():
        # Windows' EXIF tags and PDF text strings hold UTF-16.
        forms["utf-16le"] = "".join(f"{c}\0" for c in value)
        forms["utf-16be"] = "".join(f"\0{c}" for c in value)
    texts = {name: text.lower() for name, text in forms.items()}
    raw = value.encode()
    for index, fragment in enumerate(_base64_fragments(raw)):
        texts[f"base64/{index}"] = fragment
        urlsafe = fragment.replace("+", "-").replace("/", "_")
        if urlsafe != fragment:
            texts[f"base64url/{index}"] = urlsafe
    unique: dict[str, str] = {}
    for name, text in texts.items():
        if text and text not in unique.values():
            unique[name] = text
    return unique


def _excerpt(text: str, start: int, length: int) -> str:
    before = text[max(0, start - EXCERPT_CHARS) : start]
    after = text[start + length : start + length + EXCERPT_CHARS]
    return (before + "[…]" + after).replace("\n", " ")


def scan(artefacts: Iterable[Artefact], sensitive: Iterable[Sensitive]) -> list[Leak]:
    """Every place a sensitive value reached an audience it is not allowed to reach."""
    watched = [(item, forms_of(item.value)) for item in sensitive if item.value]
    leaks: list[Leak] = []
    for artefact in artefacts:
        lowered = artefact.text.lower()
        for item, forms in watched:
            if artefact.audience in item.allowed:
                continue
            for form, needle in forms.items():
                haystack = artefact.text if form.startswith("base64") else lowered
                at = haystack.find(needle)
                if at >= 0:
                    excerpt = _excerpt(artefact.text, at, len(needle))
                    leaks.append(Leak(item.name, form, artefact.where, artefact.audience, excerpt))
                    break
    return leaks


def http_text(status: int, headers: Iterable[tuple[str, str]], body: str) -> str:
    """A response as one text: its status, every header, the body (not the request's
    URL: what a client asked for is not what it was told)."""
    lines = [f"HTTP {status}", *(f"{name}: {value}" for name, value in headers)]
    return "\n".join([*lines, "", body])


def mail_text(raw: bytes) -> str:
    """An e-mail as one text: the raw message, its decoded headers and every decoded
    part (quoted-printable and base64 bodies hide a value from a raw search)."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    pieces = [raw.decode("utf-8", "replace")]
    for name, value in message.items():
        decoded = str(email.header.make_header(email.header.decode_header(str(value))))
        pieces.append(f"{name}: {decoded}")
    for part in message.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            pieces.append(payload.decode(part.get_content_charset() or "utf-8", "replace"))
    return "\n".join(pieces)


def file_text(data: bytes) -> str:
    """A file as text: its bytes, and for a PDF or an image what a reader decodes from
    it (a PDF's document information, XMP and page text; an image's EXIF, comment and
    XMP), where a value hides from a search of the raw bytes (octal escapes, compressed
    streams). A file that does not parse is left to its bytes."""
    pieces = [data.decode("utf-8", "replace")]
    if data.startswith(b"%PDF"):
        pieces.append(_pdf_text(data))
    else:
        pieces.append(_image_text(data))
    return "\n".join(pieces)


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        found = [f"{k}: {v}" for k, v in (reader.metadata or {}).items()]
        xmp = reader.xmp_metadata
        if xmp is not None:
            found.append(xmp.stream.get_data().decode("utf-8", "replace"))
        found += [page.extract_text() for page in reader.pages]
    except (PyPdfError, ValueError, KeyError, TypeError):
        return ""
    return "\n".join(found)


def _image_text(data: bytes) -> str:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            exif = image.getexif()
            found = [f"{tag}: {value!r}" for tag, value in exif.items()]
            found += [f"{key}: {value!r}" for key, value in image.info.items()]
    except (UnidentifiedImageError, OSError, ValueError):
        return ""
    return "\n".join(found)


def keyset_material(keyset_json: str) -> list[str]:
    """The key values inside a Tink JSON keyset (what must never be shown)."""
    keyset = json.loads(keyset_json)
    found = []
    for key in keyset.get("key", []):
        value = key.get("keyData", {}).get("value")
        if isinstance(value, str) and value:
            found.append(value)
    encrypted = keyset.get("encryptedKeyset")
    if isinstance(encrypted, str) and encrypted:
        found.append(encrypted)
    return found
