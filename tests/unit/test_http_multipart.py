"""Reading a multipart/form-data body: fields, the files of `berkas`, and every limit."""

from __future__ import annotations

import io

import pytest
from flask import Request
from werkzeug.test import EnvironBuilder

from shared.usecases.attachments import Upload
from shared.web.http import BodyTooLarge, UnsupportedMediaType, read_multipart

pytestmark = pytest.mark.unit

BOUNDARY = "----lapor7MA4YWxkTrZu0gW"
JPEG_BYTES = b"\xff\xd8\xff\xe0" + b"\x00" * 100


def _part(name: str, value: bytes, *, filename: str | None = None, ctype: str = "") -> bytes:
    disposition = f'form-data; name="{name}"'
    if filename is not None:
        disposition += f'; filename="{filename}"'
    head = f"Content-Disposition: {disposition}\r\n"
    if ctype:
        head += f"Content-Type: {ctype}\r\n"
    return f"--{BOUNDARY}\r\n{head}\r\n".encode() + value + b"\r\n"


def _body(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def _request(
    body: bytes,
    content_type: str = f"multipart/form-data; boundary={BOUNDARY}",
    *,
    chunked: bool = False,
) -> Request:
    headers = [("Transfer-Encoding", "chunked")] if chunked else []
    builder = EnvironBuilder(
        method="POST", input_stream=io.BytesIO(body), content_type=content_type, headers=headers
    )
    if not chunked:
        builder.content_length = len(body)
    environ = builder.get_environ()
    if chunked:
        environ.pop("CONTENT_LENGTH", None)
        environ["wsgi.input_terminated"] = True
    return Request(environ)


def _read(request: Request, **limits: int) -> tuple[dict[str, str], list[Upload]]:
    options = {"max_bytes": 10_000, "max_files": 3, "max_fields": 5} | limits
    return read_multipart(request, **options)


def test_fields_and_files_of_a_browser_form() -> None:
    # werkzeug's own client encodes it as a browser does.
    builder = EnvironBuilder(
        method="POST",
        data={
            "title": "Jalan berlubang",
            "berkas": [
                (io.BytesIO(JPEG_BYTES), "foto.jpg", "image/jpeg"),
                (io.BytesIO(b"%PDF-1.4 x"), "surat.pdf", "application/pdf"),
            ],
        },
    )
    fields, files = _read(Request(builder.get_environ()))
    assert fields == {"title": "Jalan berlubang"}
    assert files == [Upload("foto.jpg", JPEG_BYTES), Upload("surat.pdf", b"%PDF-1.4 x")]


def test_an_empty_file_input_is_skipped_and_the_declared_type_is_not_kept() -> None:
    body = _body(
        _part("title", b"x"),
        _part("berkas", b"", filename="", ctype="application/octet-stream"),
        _part("berkas", JPEG_BYTES, filename="lies.pdf", ctype="application/pdf"),
    )
    fields, files = _read(_request(body))
    assert fields == {"title": "x"}
    assert files == [Upload("lies.pdf", JPEG_BYTES)]  # Upload has no place for a type


def test_utf8_fields_repeated_fields_and_device_folders() -> None:
    body = _body(
        _part("title", "Sekolah rusak — atap".encode()),
        _part("title", b"second"),
        # a quoted-string escapes its backslashes
        _part("berkas", JPEG_BYTES, filename=r"C:\\Users\\Siti\\atap.jpg"),
        _part("berkas", JPEG_BYTES, filename="/storage/DCIM/a.jpg"),
    )
    fields, files = _read(_request(body))
    assert fields == {"title": "Sekolah rusak — atap"}  # the first wins
    assert [f.name for f in files] == ["atap.jpg", "a.jpg"]


def test_a_chunked_body_without_content_length_is_read_and_bounded() -> None:
    body = _body(_part("title", b"x"), _part("berkas", JPEG_BYTES, filename="a.jpg"))
    fields, files = _read(_request(body, chunked=True))
    assert (fields, files) == ({"title": "x"}, [Upload("a.jpg", JPEG_BYTES)])
    with pytest.raises(BodyTooLarge):
        _read(_request(body, chunked=True), max_bytes=len(body) - 1)


def test_the_declared_length_is_refused_before_reading() -> None:
    body = _body(_part("title", b"x"))
    request = _request(body)
    request.environ["CONTENT_LENGTH"] = "999999"
    with pytest.raises(BodyTooLarge):
        _read(request)
    assert request.environ["wsgi.input"].tell() == 0  # nothing was read


def test_one_field_over_its_size_is_too_large() -> None:
    body = _body(_part("description", b"a" * 2001))
    with pytest.raises(BodyTooLarge):
        _read(_request(body), max_field_bytes=2000)
    assert _read(_request(_body(_part("d", b"a" * 2000))), max_field_bytes=2000)[0]["d"]


@pytest.mark.parametrize(
    "body",
    [
        # more fields than allowed
        _body(*(_part(f"f{i}", b"x") for i in range(6))),
        # more files than allowed
        _body(*(_part("berkas", JPEG_BYTES, filename=f"{i}.jpg") for i in range(4))),
        # far more parts than any form has (werkzeug stops counting early)
        _body(*(_part("berkas", b"", filename="") for i in range(50))),
        # a file in another field
        _body(_part("photo", JPEG_BYTES, filename="a.jpg")),
        # a part without a name
        _body(_part("", b"x")),
        # cut short: no closing boundary
        _part("title", b"x")[:-2],
        # no Content-Disposition
        f"--{BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nx\r\n--{BOUNDARY}--\r\n".encode(),
        # not multipart at all
        b"title=x",
    ],
    ids=[
        "fields",
        "files",
        "parts",
        "other-file-field",
        "nameless",
        "truncated",
        "no-disposition",
        "garbage",
    ],
)
def test_unreadable_bodies_are_value_errors(body: bytes) -> None:
    with pytest.raises(ValueError):
        _read(_request(body))


def test_no_boundary_is_a_value_error_and_another_type_is_unsupported() -> None:
    with pytest.raises(ValueError):
        _read(_request(b"x", content_type="multipart/form-data"))
    with pytest.raises(UnsupportedMediaType):
        _read(_request(b"{}", content_type="application/json"))
    with pytest.raises(UnsupportedMediaType):
        _read(_request(b"title=x", content_type="application/x-www-form-urlencoded"))


def test_an_empty_form_is_empty() -> None:
    assert _read(_request(_body())) == ({}, [])
