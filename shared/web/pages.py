"""Rendering citizen pages: the templates, their security policy, links that keep the
language, and how a page answers a 404, 405 or 500."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from shared import wiring
from shared.web.dispatch import Call
from shared.web.i18n import Lang, t

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _sha256_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


@dataclass(frozen=True)
class Assets:
    env: Environment
    css: str
    script: str
    places_script: str  # the form's district/village choices and "use my location"
    csp: str  # all but img-src, which names the storage origin (see render)


@cache
def assets() -> Assets:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    css = (TEMPLATES / "style.css").read_text().strip()
    script = (TEMPLATES / "regency.js").read_text().strip()
    places_script = (TEMPLATES / "places.js").read_text().strip()
    # The one inline stylesheet and the two inline scripts are allowed by hash;
    # nothing else may load or run, the places script may fetch only from us, and
    # forms may post only back to us.
    csp = "; ".join(
        [
            "default-src 'none'",
            f"style-src {_sha256_source(css)}",
            f"script-src {_sha256_source(script)} {_sha256_source(places_script)}",
            "connect-src 'self'",
            "form-action 'self'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ]
    )
    return Assets(env, css, script, places_script, csp)


def content_security_policy(built: Assets) -> str:
    """The page's policy: images from us and from the bucket our file links redirect
    to (a signed URL on the storage origin)."""
    return f"{built.csp}; img-src 'self' {wiring.storage_origin()}"


def url(call: Call[Any], path: str, **params: str) -> str:
    """A link to ``path`` that keeps English when the visitor chose it."""
    query = dict(params)
    if call.lang == "en":
        query["lang"] = "en"
    return path + ("?" + urlencode(query) if query else "")


def redirect(location: str, code: int) -> Response:
    return Response(status=code, headers={"Location": location})


def render(
    call: Call[Any],
    template: str,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    switch_path: str | None = None,
    **values: Any,
) -> Response:
    """``template`` in the visitor's language; its language switch leads to the same
    address (``switch_path`` instead, when that one cannot be shown again)."""
    built = assets()
    lang = call.lang
    other: Lang = "en" if lang == "id" else "id"
    query = {k: v for k, v in call.request.args.items() if k != "lang"}
    query["lang"] = other
    page = built.env.get_template(template).render(
        lang=lang,
        other_lang=other,
        switch_url=(switch_path or call.path) + "?" + urlencode(query),
        css=Markup(built.css),
        script=Markup(built.script),
        places_script=Markup(built.places_script),
        _=lambda key, **kw: t(key, lang, **kw),
        url=lambda path, **params: url(call, path, **params),
        **values,
    )
    response = Response(page, status=status, mimetype="text/html")
    response.headers["Content-Security-Policy"] = content_security_policy(built)
    response.headers["Content-Language"] = lang
    response.headers["Vary"] = "Accept-Language"
    # Pages hold a per-visit nonce or a reporter's private details: never cache them.
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def message(
    call: Call[Any],
    status: int,
    heading: str,
    detail: str,
    headers: Mapping[str, str] | None = None,
    back_path: str = "/",
    back_label: str | None = None,
    switch_path: str | None = None,
) -> Response:
    """A page that says one thing (a refusal, an error) and links back."""
    return render(
        call,
        "message.html",
        status=status,
        headers=headers,
        heading=heading,
        detail=detail,
        warn=status >= 400,
        back_path=back_path,
        back_label=back_label,
        switch_path=switch_path,
    )


# status -> (heading, detail) of the page
_PAGE_ERRORS: Mapping[int, tuple[str, str]] = {
    404: ("page_not_found", "page_not_found"),
    405: ("method_not_allowed", "page_not_found"),
    500: ("server_error", "server_error_detail"),
    503: ("busy", "busy_detail"),
}


def page_answer(call: Call[Any], status: int) -> Response:
    """How citizen pages answer a 404, 405, 500 or 503: a page in the visitor's language."""
    heading, detail = _PAGE_ERRORS[status]
    return message(call, status, t(heading, call.lang), t(detail, call.lang))
