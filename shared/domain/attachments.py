"""Safe files: what a reporter's photo or document must be before anyone stores it.

The type is decided from the content (magic bytes, then a real decode), never from the
file's name or the declared Content-Type, and a name that says otherwise is refused:
a PDF called ``foto.jpg`` is someone's mistake or someone's trick. Images are decoded
and drawn again into a new file, so nothing of the original travels on: no EXIF (the
GPS position, the phone's serial number), no XMP, no comments, no maker notes and no
ICC profile (the colours are moved into sRGB first). Only the pixels, upright, remain;
that is the only way an anonymous reporter's photo cannot betray them. A PDF cannot be
redrawn like that, so it is accepted only if it parses and carries nothing that runs
(JavaScript, launch actions), and it is written again without its document Info and
XMP metadata (the author's name, the software, the title), which can name the reporter,
without the EXIF, XMP and comments of the JPEG photos inside it, and without the
authors' names on its comments.

No I/O: bytes in, bytes out. Pillow (with pillow-heif for the HEIC photos iPhones
send) and pypdf are libraries that decode in memory.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any

from PIL import Image, ImageCms, ImageOps


class Kind(StrEnum):
    """What a file is, by its content."""

    JPEG = "jpeg"
    PNG = "png"
    WEBP = "webp"
    HEIC = "heic"
    PDF = "pdf"

    @property
    def media_type(self) -> str:
        return _MEDIA_TYPES[self]


_MEDIA_TYPES = {
    Kind.JPEG: "image/jpeg",
    Kind.PNG: "image/png",
    Kind.WEBP: "image/webp",
    Kind.HEIC: "image/heic",
    Kind.PDF: "application/pdf",
}

# The extensions each kind goes by; a name with one of these must hold that kind.
EXTENSIONS: dict[str, Kind] = {
    "jpg": Kind.JPEG,
    "jpeg": Kind.JPEG,
    "jpe": Kind.JPEG,
    "jfif": Kind.JPEG,
    "png": Kind.PNG,
    "webp": Kind.WEBP,
    "heic": Kind.HEIC,
    "heif": Kind.HEIC,
    "pdf": Kind.PDF,
}

# ISO base media "ftyp" brands of HEIF still images coded in HEVC (what phones send).
_HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"})

# Pillow's decoder for each image kind: a file is opened only by the decoder its magic
# bytes chose, so a polyglot cannot be read as something else.
_DECODERS = {Kind.JPEG: "JPEG", Kind.PNG: "PNG", Kind.WEBP: "WEBP", Kind.HEIC: "HEIF"}

# What a cleaned image is stored as: the kind it came in, except HEIC, which browsers
# do not show (the agency's staff and the reporter must be able to open it).
_OUTPUT = {Kind.JPEG: Kind.JPEG, Kind.PNG: Kind.PNG, Kind.WEBP: Kind.WEBP, Kind.HEIC: Kind.JPEG}


def sniff(data: bytes) -> Kind | None:
    """The kind ``data`` claims to be by its first bytes, or None for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return Kind.JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return Kind.PNG
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return Kind.WEBP
    if data[4:8] == b"ftyp" and _brands(data) & _HEIC_BRANDS:
        return Kind.HEIC
    # A PDF's header may follow some junk (readers look in the first 1024 bytes); we
    # want it at the start, as every PDF a phone or an office makes has it.
    if data.startswith(b"%PDF-"):
        return Kind.PDF
    return None


def _brands(data: bytes) -> set[bytes]:
    """The major and compatible brands of an ISO base media file's ftyp box."""
    size = int.from_bytes(data[:4], "big")
    box = data[8 : min(max(size, 16), 256)]
    return {box[0:4]} | {box[i : i + 4] for i in range(8, len(box) - 3, 4)}


def kind_of_name(name: str) -> Kind | None:
    """The kind a file's name says it is, or None when it says nothing we know."""
    stem, dot, extension = name.rpartition(".")
    return EXTENSIONS.get(extension.lower()) if dot and stem else None


def has_extension(name: str) -> bool:
    stem, dot, extension = name.rpartition(".")
    return bool(dot and stem and extension)


# --- refusals --------------------------------------------------------------------------


class RefusalCode(StrEnum):
    TOO_MANY = "too_many"
    TOO_BIG = "too_big"
    TOTAL_TOO_BIG = "total_too_big"
    EMPTY = "empty"
    UNSUPPORTED_TYPE = "unsupported_type"
    NAME_MISMATCH = "name_mismatch"
    HEIC_UNAVAILABLE = "heic_unavailable"
    DAMAGED = "damaged"
    TOO_MANY_PIXELS = "too_many_pixels"
    PDF_LOCKED = "pdf_locked"
    PDF_ACTIVE_CONTENT = "pdf_active_content"
    INFECTED = "infected"


# (Bahasa Indonesia, English); {name} is the file's name, {limit} the limit it broke.
MESSAGES: dict[RefusalCode, tuple[str, str]] = {
    RefusalCode.TOO_MANY: (
        "Terlalu banyak berkas: paling banyak {limit} berkas per laporan.",
        "Too many files: at most {limit} files per report.",
    ),
    RefusalCode.TOO_BIG: (
        "{name}: berkas terlalu besar (paling besar {limit}).",
        "{name}: the file is too big (at most {limit}).",
    ),
    RefusalCode.TOTAL_TOO_BIG: (
        "Berkas-berkas ini bersama terlalu besar (paling besar {limit} seluruhnya).",
        "These files are too big together (at most {limit} in all).",
    ),
    RefusalCode.EMPTY: (
        "{name}: berkas kosong.",
        "{name}: the file is empty.",
    ),
    RefusalCode.UNSUPPORTED_TYPE: (
        "{name}: jenis berkas tidak diterima. Kirim foto (JPEG, PNG, WebP, HEIC) atau PDF.",
        "{name}: this type of file is not accepted. Send a photo (JPEG, PNG, WebP, HEIC) or a PDF.",
    ),
    RefusalCode.NAME_MISMATCH: (
        "{name}: isi berkas tidak sesuai dengan namanya.",
        "{name}: the file is not what its name says.",
    ),
    RefusalCode.HEIC_UNAVAILABLE: (
        "{name}: foto HEIC belum dapat diterima. Kirim sebagai JPEG.",
        "{name}: HEIC photos cannot be accepted yet. Send it as a JPEG.",
    ),
    RefusalCode.DAMAGED: (
        "{name}: berkas rusak atau tidak lengkap dan tidak dapat dibuka.",
        "{name}: the file is damaged or incomplete and cannot be opened.",
    ),
    RefusalCode.TOO_MANY_PIXELS: (
        "{name}: gambar terlalu besar (paling besar {limit} piksel).",
        "{name}: the image is too large (at most {limit} pixels).",
    ),
    RefusalCode.PDF_LOCKED: (
        "{name}: PDF terkunci kata sandi. Kirim PDF tanpa kata sandi.",
        "{name}: the PDF is password-protected. Send it without a password.",
    ),
    RefusalCode.PDF_ACTIVE_CONTENT: (
        "{name}: PDF berisi skrip atau tindakan otomatis dan tidak dapat diterima.",
        "{name}: the PDF contains scripts or automatic actions and cannot be accepted.",
    ),
    RefusalCode.INFECTED: (
        "{name}: berkas ini ditolak oleh pemindai keamanan.",
        "{name}: the security scanner refused this file.",
    ),
}


@dataclass(frozen=True)
class Refusal:
    """Why one file (or, for count and total, the whole batch: name "") was refused."""

    code: RefusalCode
    name: str = ""
    limit: str = ""

    def message(self, lang: str = "id") -> str:
        indonesian, english = MESSAGES[self.code]
        return (english if lang == "en" else indonesian).format(name=self.name, limit=self.limit)


class AttachmentRefused(Exception):
    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.message("en"))
        self.refusal = refusal


def human_bytes(size: int) -> str:
    """A size as the limit messages state it: "8 MB" (MiB, the way phones count)."""
    mib = size / (1024 * 1024)
    if mib >= 1:
        return f"{mib:g} MB" if mib == int(mib) else f"{mib:.1f} MB"
    return f"{size // 1024} KB"


# --- limits and what comes out ------------------------------------------------------------


@dataclass(frozen=True)
class AttachmentLimits:
    max_count: int
    max_file_bytes: int
    max_total_bytes: int
    # Decoded pixels (width x height) of one image, checked from its header before any
    # decoding: a 100 KB PNG can claim 60,000 x 60,000 pixels, 10 GB in memory.
    max_pixels: int
    # A stored photo's long side; a larger one is scaled down (agencies need to see the
    # pothole, not store 48 megapixels).
    max_long_side_px: int
    thumbnail_px: int


@dataclass(frozen=True)
class SafeFile:
    """A file fit to store: for an image, freshly encoded pixels and nothing else."""

    kind: Kind  # what is stored (a HEIC photo is stored as JPEG)
    data: bytes
    width: int = 0
    height: int = 0
    thumbnail: bytes = b""  # WebP; empty for a PDF
    pages: int = 0  # a PDF's

    @property
    def media_type(self) -> str:
        return self.kind.media_type

    @property
    def thumbnail_media_type(self) -> str:
        return "image/webp"


def check_batch(sizes: list[int], limits: AttachmentLimits) -> Refusal | None:
    """The count and total-size limits of one report's files, before any is decoded."""
    if len(sizes) > limits.max_count:
        return Refusal(RefusalCode.TOO_MANY, limit=str(limits.max_count))
    if sum(sizes) > limits.max_total_bytes:
        return Refusal(RefusalCode.TOTAL_TOO_BIG, limit=human_bytes(limits.max_total_bytes))
    return None


def make_safe(name: str, data: bytes, limits: AttachmentLimits) -> SafeFile:
    """The stored form of one uploaded file; raises AttachmentRefused with the reason."""
    kind = identify(name, data, limits)
    if kind is Kind.PDF:
        return _checked_pdf(name, data, limits)
    return _clean_image(name, data, kind, limits)


def identify(name: str, data: bytes, limits: AttachmentLimits) -> Kind:
    """The file's kind by its content, if we accept it and its name agrees."""
    if not data:
        raise AttachmentRefused(Refusal(RefusalCode.EMPTY, name))
    if len(data) > limits.max_file_bytes:
        raise AttachmentRefused(
            Refusal(RefusalCode.TOO_BIG, name, human_bytes(limits.max_file_bytes))
        )
    kind = sniff(data)
    if kind is None:
        raise AttachmentRefused(Refusal(RefusalCode.UNSUPPORTED_TYPE, name))
    # A name without an extension says nothing (API clients may send none); any
    # extension, known or not, must be the content's.
    if has_extension(name) and kind_of_name(name) is not kind:
        raise AttachmentRefused(Refusal(RefusalCode.NAME_MISMATCH, name))
    if kind is Kind.HEIC and not heic_readable():
        raise AttachmentRefused(Refusal(RefusalCode.HEIC_UNAVAILABLE, name))
    return kind


@cache
def heic_readable() -> bool:
    """Whether Pillow can decode HEIC here: pillow-heif installed, its opener registered
    (once per instance, and only when the first HEIC photo arrives)."""
    try:
        import pillow_heif
    except ImportError:
        return False
    pillow_heif.register_heif_opener()
    return True


# --- images ----------------------------------------------------------------------------

_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError)


def _clean_image(name: str, data: bytes, kind: Kind, limits: AttachmentLimits) -> SafeFile:
    damaged = AttachmentRefused(Refusal(RefusalCode.DAMAGED, name))
    too_large = AttachmentRefused(
        Refusal(RefusalCode.TOO_MANY_PIXELS, name, f"{limits.max_pixels:,}".replace(",", "."))
    )
    with warnings.catch_warnings():
        # Pillow only warns between MAX_IMAGE_PIXELS and twice that; here it refuses.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=[_DECODERS[kind]]) as opened:
                width, height = opened.size
                if width * height > limits.max_pixels:
                    raise too_large
                opened.load()  # the whole decode: a truncated file fails here
                upright = ImageOps.exif_transpose(opened)
                pixels = _in_srgb(upright, opened.info.get("icc_profile"))
        except (Image.DecompressionBombWarning, Image.DecompressionBombError):
            # Pillow's own limit, from the header too, when it is below ours.
            raise too_large from None
        except _DECODE_ERRORS:
            raise damaged from None
    pixels.thumbnail((limits.max_long_side_px, limits.max_long_side_px))
    clean = _fresh(pixels)
    output = _OUTPUT[kind]
    thumbnail = clean.copy()
    thumbnail.thumbnail((limits.thumbnail_px, limits.thumbnail_px))
    return SafeFile(
        kind=output,
        data=_encode(clean, output),
        width=clean.width,
        height=clean.height,
        thumbnail=_encode(thumbnail, Kind.WEBP, quality=75),
    )


def _in_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """The pixels in the colours they were meant to have, in a mode every encoder takes.

    The ICC profile is dropped with the rest of the metadata (it can name the device),
    so its colours are moved into sRGB first; a profile that cannot be read is ignored."""
    has_alpha = "A" in image.getbands() or "transparency" in image.info
    if image.mode not in ("L", "RGB", "RGBA"):
        image = image.convert("RGBA" if has_alpha else "RGB")
    if icc_profile and image.mode in ("RGB", "RGBA"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            converted = ImageCms.profileToProfile(
                image, source, ImageCms.createProfile("sRGB"), outputMode=image.mode
            )
            if converted is not None:
                image = converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass
    return image


def _fresh(image: Image.Image) -> Image.Image:
    """The same pixels in a new image whose ``info`` is empty, so no encoder finds a
    comment, EXIF block, XMP packet or profile of the original to write back."""
    return Image.frombytes(image.mode, image.size, image.tobytes())


def _encode(image: Image.Image, kind: Kind, *, quality: int = 85) -> bytes:
    out = io.BytesIO()
    if kind is Kind.JPEG:
        rgb = image if image.mode in ("L", "RGB") else _flatten(image)
        rgb.save(out, format="JPEG", quality=quality, optimize=True)
    elif kind is Kind.PNG:
        image.save(out, format="PNG", optimize=True)
    else:
        image.save(out, format="WEBP", quality=quality)
    return out.getvalue()


def _flatten(image: Image.Image) -> Image.Image:
    """An image with transparency on white, for JPEG (which has no alpha)."""
    background = Image.new("RGB", image.size, (255, 255, 255))
    background.paste(image, mask=image.getchannel("A") if "A" in image.getbands() else None)
    return background


# --- PDF -------------------------------------------------------------------------------

# Dictionary keys and action types that make a PDF do something when opened or clicked.
_ACTIVE_KEYS = frozenset({"/JS", "/JavaScript"})
_ACTIVE_ACTIONS = frozenset({"/JavaScript", "/Launch", "/ImportData", "/SubmitForm", "/Rendition"})
# Keys that say who made a document and with what, wherever they sit: the XMP packet
# (/Metadata of the catalog, a page or an image: dc:creator is often a person's name)
# and an application's private data (/PieceInfo). The document Info (Author, Creator,
# Producer, Title...) is left behind whole.
_IDENTIFYING_KEYS = ("/Metadata", "/PieceInfo")
# Comments, highlights and stamps (markup annotations) keep their author's name in /T;
# a form field's /T is its name and stays.
_MARKUP_ANNOTATIONS = frozenset(
    {
        "/Text", "/FreeText", "/Line", "/Square", "/Circle", "/Polygon", "/PolyLine",
        "/Highlight", "/Underline", "/Squiggly", "/StrikeOut", "/Stamp", "/Caret",
        "/Ink", "/FileAttachment", "/Sound", "/Redact",
    }
)  # fmt: skip
# JPEG segments an image inside a PDF keeps: APP0 (JFIF) and APP14 (Adobe's, which says
# how its colours are to be read). Every other APPn (EXIF with the GPS position and the
# phone's serial, XMP, maker notes, Photoshop's) and every comment goes: a photo put in
# a PDF as it was taken carries them all. A PDF reader takes the image's colours from
# the PDF, never from the JPEG's own profile, so the pixels look the same.
_JPEG_KEPT_APPS = frozenset({0xE0, 0xEE})
_JPEG_FILTERS = ("/DCTDecode", ["/DCTDecode"])  # a stream that is a JPEG file as it is
_JPEG_COMMENT = 0xFE
_JPEG_START_OF_SCAN = 0xDA
# A walk over more objects than this is refused as damaged: no honest scan of a
# complaint letter has that many, and the walk must stay cheap.
_MAX_PDF_OBJECTS = 200_000


class _TooManyObjects(Exception):
    pass


def _checked_pdf(name: str, data: bytes, limits: AttachmentLimits) -> SafeFile:
    """A PDF that parses and runs nothing, written again without the metadata that
    could name an anonymous reporter (the pages themselves are kept as they are)."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise AttachmentRefused(Refusal(RefusalCode.PDF_LOCKED, name))
        pages = len(reader.pages)
        if pages == 0:
            raise AttachmentRefused(Refusal(RefusalCode.DAMAGED, name))
        if _has_active_content(reader.trailer):
            raise AttachmentRefused(Refusal(RefusalCode.PDF_ACTIVE_CONTENT, name))
        cleaned = _without_metadata(reader)
    except AttachmentRefused:
        raise
    except (
        PyPdfError,
        *_DECODE_ERRORS,
        KeyError,
        TypeError,
        AttributeError,
        RecursionError,
        _TooManyObjects,
    ):
        raise AttachmentRefused(Refusal(RefusalCode.DAMAGED, name)) from None
    # Written again, a PDF may grow (pypdf writes no object streams): what is stored
    # keeps to the limit too.
    if len(cleaned) > limits.max_file_bytes:
        raise AttachmentRefused(
            Refusal(RefusalCode.TOO_BIG, name, human_bytes(limits.max_file_bytes))
        )
    return SafeFile(kind=Kind.PDF, data=cleaned, pages=pages)


def _has_active_content(trailer: Any) -> bool:
    """Whether any object reachable from the trailer is a script or an action that runs
    something."""
    from pypdf.generic import DictionaryObject

    return any(
        isinstance(item, DictionaryObject)
        and (bool(_ACTIVE_KEYS & set(item.keys())) or item.get("/S") in _ACTIVE_ACTIONS)
        for item in _reachable(trailer)
    )


def _without_metadata(reader: Any) -> bytes:
    """The document as a new file of what its catalog reaches, minus the identifying
    keys: no document Info, no XMP, and none of the objects an earlier revision or an
    editor left unreferenced in the file."""
    from pypdf import PdfWriter
    from pypdf.generic import DictionaryObject, StreamObject

    # Removed from the reader's parsed objects, so the clone below never reaches them.
    for item in list(_reachable(reader.trailer["/Root"])):
        if isinstance(item, DictionaryObject):
            for key in _IDENTIFYING_KEYS:
                item.pop(key, None)
            if item.get("/Subtype") in _MARKUP_ANNOTATIONS:
                item.pop("/T", None)
        if isinstance(item, StreamObject) and item.get("/Filter") in _JPEG_FILTERS:
            # The JPEG itself is the stream's data (its only filter decodes nothing);
            # StreamObject.set_data replaces it as stored, which pypdf's encoded
            # streams allow only for Flate.
            StreamObject.set_data(item, _jpeg_without_metadata(item.get_data()))
    writer = PdfWriter()
    writer.clone_reader_document_root(reader)  # the catalog only: no Info, no /ID
    writer.pdf_header = reader.pdf_header
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _jpeg_without_metadata(jpeg: bytes) -> bytes:
    """The JPEG's segments up to its image data without the metadata ones; the image
    data itself as it is. A JPEG whose header cannot be walked is left to the reader
    that shows it, unchanged."""
    if not jpeg.startswith(b"\xff\xd8"):
        return jpeg
    kept = bytearray(b"\xff\xd8")
    at = 2
    while at + 4 <= len(jpeg):
        if jpeg[at] != 0xFF:
            return jpeg
        marker = jpeg[at + 1]
        if marker == 0xFF:  # a fill byte before a marker
            at += 1
            continue
        if marker == _JPEG_START_OF_SCAN:
            return bytes(kept + jpeg[at:])
        end = at + 2 + int.from_bytes(jpeg[at + 2 : at + 4], "big")
        if end <= at + 3 or end > len(jpeg):
            return jpeg
        metadata = marker == _JPEG_COMMENT or (
            0xE0 <= marker <= 0xEF and marker not in _JPEG_KEPT_APPS
        )
        if not metadata:
            kept += jpeg[at:end]
        at = end
    return jpeg


def _reachable(start: Any) -> Iterator[Any]:
    """Every dictionary and array reachable from ``start``, each indirect object once;
    raises _TooManyObjects past _MAX_PDF_OBJECTS."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    seen: set[tuple[int, int]] = set()
    pending: list[Any] = [start]
    visited = 0
    while pending:
        item = pending.pop()
        if isinstance(item, IndirectObject):
            key = (item.idnum, item.generation)
            if key in seen:
                continue
            seen.add(key)
            item = item.get_object()
        visited += 1
        if visited > _MAX_PDF_OBJECTS:
            raise _TooManyObjects
        if isinstance(item, DictionaryObject):
            yield item
            pending.extend(_values(item))
        elif isinstance(item, ArrayObject):
            yield item
            pending.extend(item)


def _values(dictionary: Any) -> Iterator[Any]:
    """A dictionary's values as stored (indirect references unresolved, so the walk
    can tell which objects it has seen)."""
    for key in dictionary:
        yield dictionary.raw_get(key)
