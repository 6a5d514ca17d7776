"""Photos as a phone takes them, for the evidence tests and the attachments benchmark:
grainy pixels (what makes a real photo's JPEG large) and the EXIF a phone writes,
where it stood included, so a test can prove none of it reaches anyone."""

from __future__ import annotations

import io
from typing import Any

from PIL import ExifTags, Image, ImageChops

MAKE, MODEL, SOFTWARE = "Samsung", "Galaxy A15", "A155FXXU1AXB1"
# Where the phone stood: Cugenang, Cianjur (6°48'57.6"S 107°4'51.6"E).
GPS_LATITUDE = (6.0, 48.0, 57.6)
GPS_LONGITUDE = (107.0, 4.0, 51.6)


def phone_exif(index: int = 0) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = MAKE
    exif[ExifTags.Base.Model] = MODEL
    exif[ExifTags.Base.Software] = SOFTWARE
    exif[ExifTags.Base.DateTime] = f"2026:11:30 08:{index % 60:02d}:00"
    exif[ExifTags.Base.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "S",
        ExifTags.GPS.GPSLatitude: GPS_LATITUDE,
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: GPS_LONGITUDE,
    }
    return exif


def phone_photo(size: tuple[int, int] = (1600, 1200), *, grain: int = 20, index: int = 0) -> bytes:
    """A JPEG (quality 85) of a colour gradient under Gaussian grain, with a phone's
    EXIF. At 4000 x 3000 and grain 20 it weighs about 3 MB, as a 12 MP phone photo."""
    gradient = Image.linear_gradient("L").resize(size)
    across = gradient.rotate(90).resize(size)
    channels = [
        ImageChops.add(base, Image.effect_noise(size, grain + 3 * i), scale=2.0)
        for i, base in enumerate((gradient, across, ImageChops.invert(gradient)))
    ]
    out = io.BytesIO()
    Image.merge("RGB", channels).save(out, format="JPEG", quality=85, exif=phone_exif(index))
    return out.getvalue()


def metadata_left(data: bytes) -> dict[str, Any]:
    """What of a phone's metadata an image still carries: nothing, for a safe one.

    Looks at what Pillow decodes (EXIF tags, GPS, the info block's exif/xmp/icc/comment)
    and at the raw bytes (the maker's and model's names anywhere in the file)."""
    left: dict[str, Any] = {}
    with Image.open(io.BytesIO(data)) as image:
        exif = image.getexif()
        if len(exif):
            left["exif"] = dict(exif)
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        if gps:
            left["gps"] = dict(gps)
        for key in ("exif", "xmp", "icc_profile", "comment", "XML:com.adobe.xmp"):
            if image.info.get(key):
                left[f"info.{key}"] = True
    for text in (MAKE, MODEL, SOFTWARE):
        if text.encode() in data:
            left[f"bytes:{text}"] = True
    return left
