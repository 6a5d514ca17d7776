"""The Ombudsman dossier as one self-contained HTML document.

It is saved, mailed and printed, so it carries everything itself: one inline
stylesheet (allowed by its hash, nothing else may load or run), no link it needs to be
read, no script. The text is Bahasa Indonesia unless English was asked for; the data
is the JSON dossier's (shared/usecases/dossier.py), nothing more.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from flask import Response
from markupsafe import Markup

from shared.web.catalog import catalog_of
from shared.web.i18n import (
    Lang,
    action_label,
    event_label,
    format_date,
    format_datetime,
    state_label,
    t,
)
from shared.web.pages import TEMPLATES, _sha256_source, assets

if TYPE_CHECKING:
    from shared.reference import Reference

# (key in a published figures document, label key): the figures the dossier shows
# for each agency that held the report, for the month to date and cumulatively.
FIGURES_SHOWN: tuple[tuple[str, str], ...] = (
    ("received", "dossier_fig_received"),
    ("followed_up_within_deadline_share", "dossier_fig_within_deadline"),
    ("resolved_share", "dossier_fig_resolved_share"),
    ("median_first_response_wd", "dossier_fig_first_response"),
    ("median_resolution_wd", "dossier_fig_resolution"),
    ("misrouting_rate", "dossier_fig_misrouting"),
    ("satisfaction_mean", "dossier_fig_satisfaction"),
)
PERIODS = ("month", "cumulative")
NO_VALUE = "\u2013"  # an en dash


@cache
def _style() -> tuple[str, str]:
    css = (TEMPLATES / "dossier.css").read_text().strip()
    csp = "; ".join(
        [
            "default-src 'none'",
            f"style-src {_sha256_source(css)}",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )
    return css, csp


def figure(document: Mapping[str, Any] | None, period: str | None, key: str) -> Any:
    """One of the agency's own figures in its published scope document (``own`` holds
    a Figures per period, as shared/usecases/daily_report.py stores it): ``period`` is
    ``month`` or ``cumulative``, or None for a value of ``own`` itself (``overdue_now``).
    None when the document has none."""
    own = (document or {}).get("own")
    section = own.get(period) if isinstance(own, Mapping) and period else own
    return section.get(key) if isinstance(section, Mapping) else None


def _number(value: Any, key: str, lang: Lang) -> str:
    if value is None:
        return NO_VALUE
    if key.endswith(("_share", "_rate")):
        text = f"{float(value) * 100:.1f}%"
    elif isinstance(value, float):
        text = f"{value:.1f}"
    else:
        return f"{value:,}".replace(",", "." if lang == "id" else ",")
    return text.replace(".", ",") if lang == "id" else text


def dossier_page(
    document: Mapping[str, Any],
    lang: Lang,
    timezone: str,
    reference: Reference,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The dossier page; ``reference`` (the running one) names the agencies."""
    css, csp = _style()
    known = catalog_of(reference)
    report = document["report"]
    name = known.agency_name
    html = (
        assets()
        .env.get_template("dossier.html")
        .render(
            lang=lang,
            css=Markup(css),
            doc=document,
            report=report,
            _=lambda key, **kw: t(key, lang, **kw),
            fdate=lambda value: format_date(value, lang) if value else NO_VALUE,
            fdatetime=lambda value: format_datetime(value, lang, timezone) if value else NO_VALUE,
            slabel=lambda state: state_label(state, lang),
            elabel=lambda event: event_label(event, lang, name),
            alabel=lambda action: action_label(action, lang),
            aname=name,
            type_label=t(f"type_{report['type']}", lang),
            category_label=known.category_label(report["category"], lang),
            region_label=known.region_label(report["province_code"], report["regency_code"]),
            figures_shown=FIGURES_SHOWN,
            periods=PERIODS,
            figure=figure,
            number=lambda value, key: _number(value, key, lang),
        )
    )
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = csp
    response.headers["Content-Language"] = lang
    for header, value in (headers or {}).items():
        response.headers[header] = value
    return response
