"""Safe files: the type from the content, images redrawn without metadata, PDFs parsed.

Every sample is made here, in memory, with Pillow and pypdf: a phone photo carrying
GPS EXIF, a PNG with text chunks, a PDF renamed .jpg, a truncated JPEG, a PNG whose
header claims 3.6 billion pixels, and small PDFs, sound, broken, scripted and naming
their author.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import re
import struct
import zlib
from typing import cast

import pytest
from PIL import Image, ImageCms, PngImagePlugin
from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    StreamObject,
    TextStringObject,
)

from shared.config import Settings
from shared.domain.attachments import (
    AttachmentLimits,
    AttachmentRefused,
    Kind,
    Refusal,
    RefusalCode,
    heic_readable,
    make_safe,
    sniff,
)
from shared.ports import ScanResult, ScanVerdict
from shared.usecases.attachments import Upload, check_uploads, limits_from

LIMITS = limits_from(Settings(token_secret="x" * 32))

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def photo_with_gps(
    size: tuple[int, int] = (400, 300), orientation: int = 1, fmt: str = "JPEG"
) -> bytes:
    """A phone-like photo: camera make and serial, GPS position, orientation, a comment."""
    image = Image.new("RGB", size, (30, 120, 200))
    image.paste((250, 20, 20), (0, 0, size[0] // 2, size[1] // 4))  # a mark top-left
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Model X"  # Model
    exif[ORIENTATION] = orientation
    exif[GPS_IFD] = {
        1: "S",  # GPSLatitudeRef
        2: (6.0, 49.0, 12.5),  # GPSLatitude (Cianjur)
        3: "E",
        4: (107.0, 8.0, 30.0),
    }
    out = io.BytesIO()
    extra = {"comment": b"reporter: Siti"} if fmt == "JPEG" else {}
    image.save(out, format=fmt, exif=exif.tobytes(), **extra)
    return out.getvalue()


def read_back(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def a_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def xmp_naming(creator: str) -> StreamObject:
    """An XMP metadata stream whose dc:creator is ``creator``, as office suites write it."""
    packet = (
        '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<dc:creator><rdf:Seq><rdf:li>{creator}</rdf:li></rdf:Seq></dc:creator>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
        '<?xpacket end="w"?>'
    )
    stream = StreamObject()
    stream.set_data(packet.encode())
    stream[NameObject("/Type")] = NameObject("/Metadata")
    stream[NameObject("/Subtype")] = NameObject("/XML")
    return stream


def pdf_naming_its_author(pages: int) -> bytes:
    """A letter whose Info, XMP (the catalog's and a page's) and an editor's private
    page data all name "Budi Santoso"; each page says "Halaman <n>"."""
    writer = PdfWriter()
    for number in range(1, pages + 1):
        page = writer.add_blank_page(595, 842)
        page.merge_page(text_page(f"Halaman {number}"))
    writer.add_metadata(
        {
            "/Author": "Budi Santoso",
            "/Creator": "Microsoft Word - Budi Santoso",
            "/Producer": "Budi Santoso's PDF printer",
            "/Title": "Laporan Budi Santoso",
        }
    )
    writer.root_object[NameObject("/Metadata")] = writer._add_object(xmp_naming("Budi Santoso"))
    writer.pages[0][NameObject("/Metadata")] = writer._add_object(xmp_naming("Budi Santoso"))
    private = DictionaryObject({NameObject("/Private"): TextStringObject("Budi Santoso")})
    writer.pages[-1][NameObject("/PieceInfo")] = DictionaryObject({NameObject("/Word"): private})
    return written(writer)


def text_page(text: str) -> PageObject:
    """A page that draws ``text`` in Helvetica."""
    writer = PdfWriter()
    page = writer.add_blank_page(595, 842)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})}
    )
    content = StreamObject()
    content.set_data(f"BT /F1 24 Tf 72 720 Td ({text}) Tj ET".encode())
    page[NameObject("/Contents")] = writer._add_object(content)
    return page


def compact_pdf() -> bytes:
    """A one-page PDF written without a byte to spare, as some scanners write them."""
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Count 1/Kids[3 0 R]>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj" % number + body + b"endobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def zlib_inflated(pdf: bytes) -> bytes:
    """Every Flate stream of ``pdf`` inflated, to search what compression hides."""
    found = []
    for match in re.finditer(rb"stream\r?\n", pdf):
        with contextlib.suppress(zlib.error):
            found.append(zlib.decompressobj().decompress(pdf[match.end() :]))
    return b"".join(found)


def action(kind: str, **entries: str) -> DictionaryObject:
    found = DictionaryObject({NameObject("/S"): NameObject(kind)})
    for key, value in entries.items():
        found[NameObject(f"/{key}")] = TextStringObject(value)
    return found


def written(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- the type comes from the content -----------------------------------------------------


def test_the_kind_is_read_from_the_first_bytes() -> None:
    assert sniff(photo_with_gps()) is Kind.JPEG
    assert sniff(a_pdf()) is Kind.PDF
    assert sniff(b"MZ\x90\x00 an exe") is None
    assert sniff(b"") is None


def test_a_pdf_renamed_jpg_is_refused_as_not_what_its_name_says() -> None:
    with pytest.raises(AttachmentRefused) as refused:
        make_safe("foto.jpg", a_pdf(), LIMITS)
    assert refused.value.refusal.code is RefusalCode.NAME_MISMATCH
    assert (
        refused.value.refusal.message("id") == "foto.jpg: isi berkas tidak sesuai dengan namanya."
    )
    assert refused.value.refusal.message("en") == "foto.jpg: the file is not what its name says."


def test_a_jpeg_named_as_something_we_do_not_take_is_refused_too() -> None:
    with pytest.raises(AttachmentRefused) as refused:
        make_safe("surat.exe", photo_with_gps(), LIMITS)
    assert refused.value.refusal.code is RefusalCode.NAME_MISMATCH


def test_a_name_without_an_extension_leaves_the_content_to_decide() -> None:
    assert make_safe("IMG_0001", photo_with_gps(), LIMITS).kind is Kind.JPEG


def test_the_extension_is_compared_without_regard_to_case() -> None:
    assert make_safe("IMG_0001.JPEG", photo_with_gps(), LIMITS).kind is Kind.JPEG


def test_content_of_another_type_is_refused_whatever_its_name() -> None:
    with pytest.raises(AttachmentRefused) as refused:
        make_safe("foto.jpg", b"<html><script>alert(1)</script></html>", LIMITS)
    assert refused.value.refusal.code is RefusalCode.UNSUPPORTED_TYPE


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(AttachmentRefused) as refused:
        make_safe("foto.jpg", b"", LIMITS)
    assert refused.value.refusal.code is RefusalCode.EMPTY


def test_a_file_over_the_size_limit_is_refused_with_the_limit_in_the_message() -> None:
    small = AttachmentLimits(5, 64 * 1024, 1024 * 1024, 10**6, 1024, 320)
    big = photo_with_gps() + b"\0" * (64 * 1024)
    with pytest.raises(AttachmentRefused) as refused:
        make_safe("foto.jpg", big, small)
    assert refused.value.refusal == Refusal(RefusalCode.TOO_BIG, "foto.jpg", "64 KB")
    assert "paling besar 64 KB" in refused.value.refusal.message("id")


# --- images are redrawn: no EXIF, no GPS, no comment, no text chunks ------------------------


def test_a_jpeg_with_gps_exif_comes_out_with_no_exif_at_all() -> None:
    original = photo_with_gps()
    assert read_back(original).getexif().get_ifd(GPS_IFD)  # the sample does carry GPS

    safe = make_safe("foto.jpg", original, LIMITS)

    cleaned = read_back(safe.data)
    assert cleaned.format == "JPEG"
    assert not cleaned.getexif()
    assert not cleaned.getexif().get_ifd(GPS_IFD)
    assert "exif" not in cleaned.info
    assert "comment" not in cleaned.info
    assert b"Exif" not in safe.data and b"PhoneMaker" not in safe.data
    assert b"reporter: Siti" not in safe.data
    assert (safe.width, safe.height) == (400, 300)
    assert safe.media_type == "image/jpeg"


def test_the_photo_stays_upright_when_its_exif_said_to_turn_it() -> None:
    # Orientation 6: the camera stored it sideways, a viewer turns it 90° clockwise.
    safe = make_safe("foto.jpg", photo_with_gps(orientation=6), LIMITS)
    cleaned = read_back(safe.data)
    assert cleaned.size == (300, 400)
    # The red mark of the stored top-left now shows at the top-right.
    red, _, blue = cleaned.convert("RGB").getpixel((290, 10))  # type: ignore[misc]
    assert red > 200 and blue < 80


def test_a_png_keeps_no_text_chunks_exif_or_icc_profile() -> None:
    image = Image.new("RGBA", (64, 64), (10, 200, 10, 128))
    text = PngImagePlugin.PngInfo()
    text.add_text("Author", "Siti Rahma")
    text.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>GPS 6.82S 107.14E</x:xmpmeta>")
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=text, icc_profile=icc, exif=Image.Exif().tobytes())
    assert read_back(out.getvalue()).info.get("Author") == "Siti Rahma"

    safe = make_safe("layar.png", out.getvalue(), LIMITS)

    cleaned = read_back(safe.data)
    assert cleaned.format == "PNG"
    assert cleaned.mode == "RGBA"  # transparency survives
    assert not set(cleaned.info) & {"Author", "XML:com.adobe.xmp", "icc_profile", "exif"}
    assert b"Siti" not in safe.data and b"xmpmeta" not in safe.data
    assert b"iCCP" not in safe.data and b"tEXt" not in safe.data and b"iTXt" not in safe.data


def test_a_jpeg_loses_its_icc_profile_after_its_colours_move_into_srgb() -> None:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 100, 50)).save(out, format="JPEG", icc_profile=icc)
    assert read_back(out.getvalue()).info.get("icc_profile")

    safe = make_safe("foto.jpg", out.getvalue(), LIMITS)

    cleaned = read_back(safe.data)
    assert "icc_profile" not in cleaned.info and b"ICC_PROFILE" not in safe.data
    red, green, blue = cleaned.getpixel((16, 16))  # type: ignore[misc]
    assert abs(red - 200) < 8 and abs(green - 100) < 8 and abs(blue - 50) < 8


def test_a_webp_with_exif_comes_out_as_webp_without_it() -> None:
    safe = make_safe("foto.webp", photo_with_gps(fmt="WEBP"), LIMITS)
    cleaned = read_back(safe.data)
    assert cleaned.format == "WEBP"
    assert not cleaned.getexif()
    assert b"EXIF" not in safe.data and b"PhoneMaker" not in safe.data


@pytest.mark.skipif(not heic_readable(), reason="pillow-heif is not installed here")
def test_a_heic_photo_is_stored_as_jpeg_without_its_exif() -> None:
    image = Image.new("RGB", (120, 80), (200, 10, 10))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[GPS_IFD] = {1: "S", 2: (6.0, 49.0, 12.5)}
    out = io.BytesIO()
    image.save(out, format="HEIF", exif=exif.tobytes())
    assert sniff(out.getvalue()) is Kind.HEIC

    safe = make_safe("IMG_0001.HEIC", out.getvalue(), LIMITS)

    cleaned = read_back(safe.data)
    assert (cleaned.format, cleaned.size) == ("JPEG", (120, 80))
    assert not cleaned.getexif() and b"PhoneMaker" not in safe.data


def test_a_truncated_jpeg_is_refused_as_damaged() -> None:
    whole = photo_with_gps()
    with pytest.raises(AttachmentRefused) as refused:
        make_safe("foto.jpg", whole[: len(whole) * 2 // 3], LIMITS)
    assert refused.value.refusal.code is RefusalCode.DAMAGED


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` pixels: a decompression bomb
    as it arrives (its data would inflate to gigabytes)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    rows = zlib.compress(b"\0" * (width + 1) * 16)  # a few rows of zeros
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


def test_a_pixel_bomb_is_refused_before_it_is_decoded() -> None:
    with pytest.raises(AttachmentRefused) as refused:
        make_safe("bom.png", png_claiming(60_000, 60_000), LIMITS)
    assert refused.value.refusal.code is RefusalCode.TOO_MANY_PIXELS
    assert "50.000.000 piksel" in refused.value.refusal.message("id")


def test_our_pixel_limit_holds_below_pillows_own() -> None:
    small = AttachmentLimits(5, 8 << 20, 20 << 20, 10_000, 1024, 320)
    with pytest.raises(AttachmentRefused) as refused:
        make_safe("foto.png", png_claiming(200, 200), small)
    assert refused.value.refusal.code is RefusalCode.TOO_MANY_PIXELS


def test_a_large_photo_is_scaled_down_to_the_long_side_limit() -> None:
    limits = AttachmentLimits(5, 8 << 20, 20 << 20, 10**8, 1000, 320)
    safe = make_safe("foto.jpg", photo_with_gps(size=(2000, 1500)), limits)
    assert (safe.width, safe.height) == (1000, 750)
    assert read_back(safe.data).size == (1000, 750)


@pytest.mark.parametrize(
    ("size", "expected"),
    [((400, 300), (320, 240)), ((300, 400), (240, 320)), ((100, 50), (100, 50))],
)
def test_each_image_gets_a_webp_thumbnail_of_at_most_320_px_on_its_long_side(
    size: tuple[int, int], expected: tuple[int, int]
) -> None:
    safe = make_safe("foto.jpg", photo_with_gps(size=size), LIMITS)
    thumbnail = read_back(safe.thumbnail)
    assert (thumbnail.format, thumbnail.size) == ("WEBP", expected)
    assert not thumbnail.getexif()
    assert safe.thumbnail_media_type == "image/webp"


# --- PDFs: parsed, and nothing in them runs ------------------------------------------------


def test_a_small_valid_pdf_is_accepted_with_its_pages() -> None:
    safe = make_safe("surat.pdf", a_pdf(), LIMITS)
    assert (safe.kind, safe.pages, safe.thumbnail) == (Kind.PDF, 1, b"")
    assert safe.media_type == "application/pdf"
    assert len(PdfReader(io.BytesIO(safe.data)).pages) == 1


def test_a_pdf_loses_its_document_info_and_xmp_and_keeps_its_pages() -> None:
    pdf = pdf_naming_its_author(pages=3)
    assert pdf.count(b"Budi Santoso") >= 4  # Info, catalog XMP, page XMP, PieceInfo

    safe = make_safe("surat.pdf", pdf, LIMITS)

    assert b"Budi" not in safe.data and b"Budi" not in zlib_inflated(safe.data)
    reader = PdfReader(io.BytesIO(safe.data))
    assert (len(reader.pages), safe.pages) == (3, 3)
    assert reader.metadata is None
    assert reader.xmp_metadata is None
    assert all("/Metadata" not in page and "/PieceInfo" not in page for page in reader.pages)
    assert [page.mediabox.width for page in reader.pages] == [595, 595, 595]
    assert "Halaman 2" in reader.pages[1].extract_text()
    # The same upload gives the same bytes (a repeated submission is recognised by them).
    assert make_safe("surat.pdf", pdf, LIMITS).data == safe.data


def test_an_earlier_revision_of_the_info_does_not_survive_either() -> None:
    # An edited PDF keeps its earlier revisions in the file, unreferenced: the older
    # Info (here the author's name) is still in the bytes after an incremental save.
    first = pdf_naming_its_author(pages=1)
    writer = PdfWriter(io.BytesIO(first), incremental=True)
    writer.add_metadata({"/Author": "Anonim"})
    revised = written(writer)
    assert revised.startswith(first) and b"Anonim" in revised

    safe = make_safe("surat.pdf", revised, LIMITS)

    assert b"Budi" not in safe.data and b"Anonim" not in safe.data


def test_an_image_inside_a_pdf_loses_its_xmp() -> None:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(a_pdf())))
    image = StreamObject()
    image.set_data(b"\x00\x00\x00")
    image.update(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Image"),
            NameObject("/Width"): NumberObject(1),
            NameObject("/Height"): NumberObject(1),
            NameObject("/ColorSpace"): NameObject("/DeviceRGB"),
            NameObject("/BitsPerComponent"): NumberObject(8),
            NameObject("/Metadata"): writer._add_object(xmp_naming("Budi Santoso")),
        }
    )
    resources = DictionaryObject({NameObject("/Im0"): writer._add_object(image)})
    writer.pages[0][NameObject("/Resources")] = DictionaryObject(
        {NameObject("/XObject"): resources}
    )

    safe = make_safe("surat.pdf", written(writer), LIMITS)

    assert b"Budi" not in safe.data
    page = PdfReader(io.BytesIO(safe.data)).pages[0]
    xobjects = cast(DictionaryObject, cast(DictionaryObject, page["/Resources"])["/XObject"])
    kept = cast(StreamObject, xobjects["/Im0"].get_object())
    assert kept.get_data() == b"\x00\x00\x00"
    assert "/Metadata" not in kept


def test_a_comment_in_a_pdf_loses_its_author_and_a_form_field_keeps_its_name() -> None:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(a_pdf())))
    comment = annotation("/Text", T="Budi Santoso", Contents="Jalan berlubang di sini")
    field = annotation("/Widget", T="nama_pelapor", FT="/Tx")
    writer.pages[0][NameObject("/Annots")] = ArrayObject(
        [writer._add_object(comment), writer._add_object(field)]
    )

    safe = make_safe("surat.pdf", written(writer), LIMITS)

    assert b"Budi" not in safe.data
    annots = cast(ArrayObject, PdfReader(io.BytesIO(safe.data)).pages[0]["/Annots"])
    kept = [a.get_object() for a in annots]
    assert [(a["/Subtype"], a.get("/T"), a.get("/Contents")) for a in kept] == [
        ("/Text", None, "Jalan berlubang di sini"),
        ("/Widget", "nama_pelapor", None),
    ]


def annotation(subtype: str, **entries: str) -> DictionaryObject:
    found = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject(subtype),
            NameObject("/Rect"): ArrayObject([NumberObject(n) for n in (72, 700, 96, 724)]),
        }
    )
    for key, value in entries.items():
        found[NameObject(f"/{key}")] = (
            NameObject(value) if value.startswith("/") else TextStringObject(value)
        )
    return found


def pdf_showing(jpeg: bytes, size: tuple[int, int], colour_space: str = "/DeviceRGB") -> bytes:
    """A one-page PDF showing ``jpeg`` as it is (DCTDecode), the way a phone's scan or
    an image-to-PDF tool puts a photo in."""
    writer = PdfWriter()
    page = writer.add_blank_page(*size)
    image = StreamObject()
    StreamObject.set_data(image, jpeg)  # stored as it is: DCTDecode is the JPEG itself
    image.update(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Image"),
            NameObject("/Width"): NumberObject(size[0]),
            NameObject("/Height"): NumberObject(size[1]),
            NameObject("/ColorSpace"): NameObject(colour_space),
            NameObject("/BitsPerComponent"): NumberObject(8),
            NameObject("/Filter"): NameObject("/DCTDecode"),
        }
    )
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/XObject"): DictionaryObject({NameObject("/Im0"): writer._add_object(image)})}
    )
    return written(writer)


def the_jpeg_in(pdf: bytes) -> bytes:
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    xobjects = cast(DictionaryObject, cast(DictionaryObject, page["/Resources"])["/XObject"])
    return cast(StreamObject, xobjects["/Im0"].get_object()).get_data()


def test_a_photo_inside_a_pdf_loses_its_exif_gps_and_comment_and_keeps_its_pixels() -> None:
    photo = photo_with_gps()
    assert read_back(photo).getexif().get_ifd(GPS_IFD)

    safe = make_safe("scan.pdf", pdf_showing(photo, (400, 300)), LIMITS)

    jpeg = the_jpeg_in(safe.data)
    for leak in (b"PhoneMaker", b"Model X", b"reporter: Siti", b"Exif"):
        assert leak not in safe.data
    kept = read_back(jpeg)
    assert not kept.getexif() and "comment" not in kept.info
    assert kept.tobytes() == read_back(photo).tobytes()


def test_a_cmyk_photo_inside_a_pdf_keeps_the_adobe_segment_its_colours_need() -> None:
    out = io.BytesIO()
    Image.new("CMYK", (40, 30), (0, 200, 200, 0)).save(out, format="JPEG", comment=b"Budi")
    cmyk = out.getvalue()
    assert b"Adobe" in cmyk
    safe = make_safe("scan.pdf", pdf_showing(cmyk, (40, 30), "/DeviceCMYK"), LIMITS)

    jpeg = the_jpeg_in(safe.data)

    assert b"Adobe" in jpeg and b"Budi" not in jpeg
    assert read_back(jpeg).tobytes() == read_back(cmyk).tobytes()


def test_a_pdf_that_grows_past_the_limit_when_written_again_is_refused() -> None:
    compact = compact_pdf()
    limits = dataclasses.replace(LIMITS, max_file_bytes=len(compact))
    assert len(make_safe("surat.pdf", compact, LIMITS).data) > len(compact)

    with pytest.raises(AttachmentRefused) as refused:
        make_safe("surat.pdf", compact, limits)

    assert refused.value.refusal.code is RefusalCode.TOO_BIG


@pytest.mark.parametrize(
    "broken",
    [
        pytest.param(lambda pdf: pdf[: len(pdf) // 2], id="cut-in-half"),
        pytest.param(lambda pdf: b"%PDF-1.4\n1 0 obj << /Type /Catalog", id="only-a-header"),
        pytest.param(lambda pdf: pdf.replace(b"/Type /Pages", b"/Type /Junk"), id="no-pages"),
    ],
)
def test_a_pdf_that_does_not_parse_is_refused_as_damaged(broken: object) -> None:
    assert callable(broken)
    with pytest.raises(AttachmentRefused) as refused:
        make_safe("surat.pdf", broken(a_pdf()), LIMITS)
    assert refused.value.refusal.code is RefusalCode.DAMAGED


def test_a_pdf_with_javascript_on_opening_its_page_is_refused() -> None:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(a_pdf())))
    opened = DictionaryObject({NameObject("/O"): action("/JavaScript", JS="app.alert(1)")})
    writer.pages[0][NameObject("/AA")] = opened
    with pytest.raises(AttachmentRefused) as refused:
        make_safe("surat.pdf", written(writer), LIMITS)
    assert refused.value.refusal.code is RefusalCode.PDF_ACTIVE_CONTENT


def test_a_pdf_that_launches_a_program_when_opened_is_refused() -> None:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(a_pdf())))
    writer.root_object[NameObject("/OpenAction")] = action("/Launch", F="cmd.exe")
    with pytest.raises(AttachmentRefused) as refused:
        make_safe("surat.pdf", written(writer), LIMITS)
    assert refused.value.refusal.code is RefusalCode.PDF_ACTIVE_CONTENT


def test_a_pdf_opening_on_a_page_is_accepted() -> None:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(a_pdf())))
    writer.root_object[NameObject("/PageMode")] = NameObject("/UseOutlines")
    assert make_safe("surat.pdf", written(writer), LIMITS).pages == 1


def test_a_password_protected_pdf_is_refused() -> None:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(a_pdf())))
    writer.encrypt("rahasia")
    with pytest.raises(AttachmentRefused) as refused:
        make_safe("surat.pdf", written(writer), LIMITS)
    assert refused.value.refusal.code is RefusalCode.PDF_LOCKED


# --- a report's batch, and the scanner port ------------------------------------------------


class RecordingScanner:
    def __init__(self, verdict: ScanVerdict = ScanVerdict.CLEAN) -> None:
        self.verdict = verdict
        self.scanned: list[tuple[bytes, str]] = []

    def scan(self, data: bytes, *, media_type: str) -> ScanResult:
        self.scanned.append((data, media_type))
        return ScanResult(self.verdict, "Eicar-Test-Signature")


def test_every_file_is_checked_and_every_refusal_is_reported() -> None:
    scanner = RecordingScanner()
    checked = check_uploads(
        [
            Upload("jalan.jpg", photo_with_gps()),
            Upload("surat.jpg", a_pdf()),
            Upload("kuitansi.pdf", a_pdf()),
            Upload("rusak.jpg", photo_with_gps()[:200]),
        ],
        LIMITS,
        scanner,
    )
    assert [safe.kind for safe in checked.accepted] == [Kind.JPEG, Kind.PDF]
    assert [(r.code, r.name) for r in checked.refused] == [
        (RefusalCode.NAME_MISMATCH, "surat.jpg"),
        (RefusalCode.DAMAGED, "rusak.jpg"),
    ]
    assert not checked.all_accepted
    # The scanner sees the bytes as uploaded, before re-encoding.
    assert scanner.scanned[0] == (photo_with_gps(), "image/jpeg")


def test_a_file_the_scanner_calls_infected_is_refused() -> None:
    checked = check_uploads(
        [Upload("surat.pdf", a_pdf())], LIMITS, RecordingScanner(ScanVerdict.INFECTED)
    )
    assert checked.accepted == ()
    assert [r.code for r in checked.refused] == [RefusalCode.INFECTED]


def test_no_scanner_passes_files_as_unknown_and_they_are_still_checked() -> None:
    from shared.adapters.scanning import NoScanner

    assert NoScanner().scan(b"x", media_type="application/pdf").verdict is ScanVerdict.UNKNOWN
    checked = check_uploads([Upload("foto.jpg", photo_with_gps())], LIMITS, NoScanner())
    assert checked.all_accepted and len(checked.accepted) == 1


def test_too_many_files_refuse_the_batch_before_any_is_decoded() -> None:
    scanner = RecordingScanner()
    uploads = [Upload(f"foto{i}.jpg", b"not even an image") for i in range(6)]
    checked = check_uploads(uploads, LIMITS, scanner)
    assert checked.refused == (Refusal(RefusalCode.TOO_MANY, limit="5"),)
    assert checked.refused[0].message("id") == (
        "Terlalu banyak berkas: paling banyak 5 berkas per laporan."
    )
    assert scanner.scanned == []


def test_too_many_bytes_together_refuse_the_batch() -> None:
    limits = AttachmentLimits(5, 64 * 1024, 100 * 1024, 10**6, 1024, 320)
    uploads = [Upload(f"foto{i}.jpg", b"\xff\xd8\xff" + b"\0" * 40_000) for i in range(3)]
    checked = check_uploads(uploads, limits, RecordingScanner())
    assert [r.code for r in checked.refused] == [RefusalCode.TOTAL_TOO_BIG]
    assert "100 KB" in checked.refused[0].message("en")


def test_every_refusal_code_has_a_message_in_both_languages() -> None:
    for code in RefusalCode:
        refusal = Refusal(code, "a.jpg", "5")
        assert refusal.message("id") and refusal.message("en")
        assert refusal.message("id") != refusal.message("en")


def test_the_default_limits_fit_cloud_functions_request_limit() -> None:
    assert LIMITS.max_total_bytes <= 30 * 1024 * 1024 < 32 * 1024 * 1024
    assert LIMITS.max_file_bytes <= LIMITS.max_total_bytes
    with pytest.raises(ValueError, match="cannot exceed"):
        Settings(
            token_secret="x" * 32,
            attachment_max_file_bytes=10 << 20,
            attachment_max_total_bytes=5 << 20,
        )
