"""The texts reporters get by SMS, and the short private link they carry.

Every text fits two SMS segments, whatever the agency wrote: a message of up to 160
GSM-7 characters goes in one segment, a longer one in segments of 153 (7 characters'
room go to the header that joins them); a single character outside GSM-7 makes the
whole message UCS-2, 70 in one segment, 67 per joined segment. :func:`sms_size`
counts exactly that. Indonesian networks do not officially carry UCS-2 from domestic
sender IDs and handle GSM-7's extension characters badly, so :func:`compose_sms`
writes the basic GSM-7 set only (the free text it quotes is folded into it: curly
quotes, dashes, accents) and shortens that quote, an agency's answer or a reason,
until the whole text fits. Two segments: the reporter pays nothing, we pay per
segment, and the full answer is on the tracking page the link opens.

The private link is the short form of the tracking page's: ``/l/<code>-<short
token>`` (shared.tokens.short_reporter_token), which the submit function redirects
to ``/lacak/<code>?token=<reporter token>``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from shared.tokens import short_reporter_token

MAX_SEGMENTS = 2
SHORT_LINK_PREFIX = "/l/"

SmsLanguage = Literal["id", "en"]
Encoding = Literal["GSM-7", "UCS-2"]

# GSM 03.38: the basic set (one septet each; 0x1B, the escape, left out) and the
# extension table (the escape plus one septet each).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
# (units in one segment alone, units per segment of a joined message)
_CAPACITY: Mapping[Encoding, tuple[int, int]] = {"GSM-7": (160, 153), "UCS-2": (70, 67)}

# What people paste from word processors, and GSM-7's extension characters, as basic
# GSM-7 characters that say the same.
_TO_GSM7 = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u2026": "...",
        "\u2022": "-",
        "[": "(",
        "]": ")",
        "{": "(",
        "}": ")",
        "~": "-",
        "|": "/",
        "\\": "/",
        "^": "",
        "€": "EUR",
    }
)
_SPACES = re.compile(r"\s+")
_CUT = "..."
_WORD_SLACK = 15  # characters a cut may give up to end on a whole word


@dataclass(frozen=True)
class SmsSize:
    encoding: Encoding
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int


def _units(char: str, encoding: Encoding) -> int:
    if encoding == "GSM-7":
        return 2 if char in GSM7_EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1  # a surrogate pair


def sms_size(text: str) -> SmsSize:
    """How ``text`` travels: its encoding, its length in that encoding's units, and the
    segments it takes. A character that takes two units (a GSM-7 escape, a UTF-16
    surrogate pair) is never split across segments, as phones require."""
    gsm = all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text)
    encoding: Encoding = "GSM-7" if gsm else "UCS-2"
    single, joined = _CAPACITY[encoding]
    sizes = [_units(char, encoding) for char in text]
    total = sum(sizes)
    if total <= single:
        return SmsSize(encoding, total, 1 if text else 0)
    segments, room = 1, joined
    for size in sizes:
        if size > room:
            segments, room = segments + 1, joined
        room -= size
    return SmsSize(encoding, total, segments)


def fits(text: str, segments: int = MAX_SEGMENTS) -> bool:
    return sms_size(text).segments <= segments


def plain(text: str) -> str:
    """Free text as one line of basic GSM-7: typographic characters and accents folded
    into it, anything else (an emoji, another script) left out."""
    folded = []
    for char in text.translate(_TO_GSM7):
        if char.isspace():
            folded.append(" ")
        elif char in GSM7_BASIC:
            folded.append(char)
        else:  # é is GSM-7, ā is not: keep its letter without the mark
            base = unicodedata.normalize("NFKD", char)
            folded.extend(c for c in base if c in GSM7_BASIC and not c.isspace())
    return _SPACES.sub(" ", "".join(folded)).strip()


# --- the private link ----------------------------------------------------------------


def short_link_path(tracking_code: str, short_token: str) -> str:
    return f"{SHORT_LINK_PREFIX}{tracking_code.replace('-', '')}-{short_token}"


def short_private_link(base_url: str, secret: str, report_id: str, tracking_code: str) -> str:
    """The reporter's private link in its short form, on the citizen site's base URL."""
    token = short_reporter_token(secret, report_id)
    return base_url.rstrip("/") + short_link_path(tracking_code, token)


def split_short_link(value: str) -> tuple[str, str] | None:
    """``(code text, short token)`` of what follows ``/l/``, or None when it has no token."""
    code, separator, token = value.rpartition("-")
    if not separator or not code or not token:
        return None
    return code, token


# --- the texts -----------------------------------------------------------------------

# kind -> the context key of the free text it may quote (None: it quotes nothing)
QUOTED: Mapping[str, str | None] = {
    "report.accepted": None,
    "report.on_hold": "reason",
    "report.followed_up": "message",
    "report.resolved": "message",
    "report.closed": None,
    "report.archived": "reason",
    "link.resend": None,
}
KINDS = tuple(QUOTED)

# (kind, language) -> the text, with {code}, {link} and {quote} (': "<free text>"', or
# nothing when there is none). Bahasa Indonesia first.
_TEXTS: Mapping[tuple[str, SmsLanguage], str] = {
    ("report.accepted", "id"): (
        "LAPOR!: Laporan Anda diterima, kode {code}. Pantau lewat tautan pribadi (jangan "
        "dibagikan): {link}"
    ),
    ("report.accepted", "en"): (
        "LAPOR!: Your report was received, code {code}. Follow it through your private "
        "link (do not share it): {link}"
    ),
    ("report.on_hold", "id"): (
        "LAPOR!: Laporan {code} ditunda, petugas perlu keterangan Anda{quote}. Jawab: {link}"
    ),
    ("report.on_hold", "en"): (
        "LAPOR!: Report {code} is on hold, the officer needs more from you{quote}. Answer: {link}"
    ),
    ("report.followed_up", "id"): (
        "LAPOR!: Laporan {code} ditindaklanjuti{quote}. Selengkapnya dan balas: {link}"
    ),
    ("report.followed_up", "en"): (
        "LAPOR!: Report {code} was followed up{quote}. Read more and reply: {link}"
    ),
    ("report.resolved", "id"): (
        "LAPOR!: Laporan {code} dinyatakan selesai{quote}. Konfirmasi atau buka lagi: {link}"
    ),
    ("report.resolved", "en"): (
        "LAPOR!: Report {code} was marked resolved{quote}. Confirm or reopen it: {link}"
    ),
    ("report.closed", "id"): (
        "LAPOR!: Laporan {code} ditutup karena tidak ada tanggapan Anda. Beri nilai: {link}"
    ),
    ("report.closed", "en"): (
        "LAPOR!: Report {code} was closed as we had no answer from you. Rate it: {link}"
    ),
    ("report.archived", "id"): "LAPOR!: Laporan {code} diarsipkan{quote}. Rincian: {link}",
    ("report.archived", "en"): "LAPOR!: Report {code} was archived{quote}. Details: {link}",
    ("link.resend", "id"): (
        "LAPOR!: Tautan pribadi laporan {code} (jangan dibagikan): {link} Tidak meminta? "
        "Abaikan pesan ini."
    ),
    ("link.resend", "en"): (
        "LAPOR!: Private link to report {code} (do not share it): {link} Did not ask for "
        "it? Ignore this message."
    ),
}
_STOP: Mapping[SmsLanguage, str] = {
    "id": " Berhenti SMS: {stop_link}",
    "en": " Stop SMS: {stop_link}",
}


class SmsTooLong(ValueError):
    """The text does not fit two segments even without its quote (links too long)."""


def compose_sms(kind: str, language: SmsLanguage, context: Mapping[str, str]) -> str:
    """The SMS text of a reporter notification ``kind`` in ``language``, at most two
    segments long.

    ``context``: ``code`` (the tracking code) and ``link`` (the short private link)
    always; ``stop_link`` (the unsubscribe page) when there is one; the free text the
    kind quotes (:data:`QUOTED`: ``reason`` for a hold or an archiving, ``message`` for
    a follow-up or a resolution) when there is one, shortened to fit.
    """
    template = _TEXTS.get((kind, language))
    if template is None:
        raise ValueError(f"no SMS text for {kind!r} in {language!r}")
    if language not in _STOP:
        raise ValueError(f"no SMS text in {language!r}")
    stop = context.get("stop_link")
    tail = _STOP[language].format(stop_link=stop) if stop else ""
    key = QUOTED[kind]
    quoted = plain(context.get(key) or "") if key else ""

    def render(free: str) -> str:
        quote = f': "{free}"' if free else ""
        return template.format(code=context["code"], link=context["link"], quote=quote) + tail

    return _fit(render, quoted)


def _fit(render: Callable[[str], str], free: str) -> str:
    """``render(free)``, or with ``free`` cut (and marked) as little as makes it fit."""
    text = render(free)
    if fits(text):
        return text
    if not fits(render("")):
        raise SmsTooLong(render(""))
    low, high = 0, len(free)  # the longest prefix that fits lies in [low, high)
    while low < high - 1:
        middle = (low + high) // 2
        if fits(render(_cut(free, middle))):
            low = middle
        else:
            high = middle
    if not low:
        return render("")
    # End on a whole word when one ends close enough to the cut.
    space = free.rfind(" ", 0, low + 1)
    if space > low - _WORD_SLACK:
        low = space
    return render(_cut(free, low))


def _cut(free: str, length: int) -> str:
    return free[:length].rstrip() + _CUT
