"""Stopping notifications: /berhenti/<token>, the link in every e-mail's footer and
its ``List-Unsubscribe`` header (RFC 8058).

- GET shows what will stop and one button; nothing changes (a mail scanner that
  follows links must not unsubscribe anyone).
- POST stops it and answers the confirmation page: the button's form, and a mail
  client's one-click POST (body ``List-Unsubscribe=One-Click``, as a form or
  multipart) alike. The signed token is the whole authority, so the body is not read
  and no cookie or login is asked for; doing it twice changes nothing.
- A token we did not sign is the 404 page, Bahasa Indonesia first.

The opt-out is recorded through ContactPreferences; notify checks it before sending,
so the next message is not sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from flask import Response
from werkzeug.routing import Rule

from shared.ports import OptOut
from shared.tokens import read_unsubscribe_token
from shared.web.catalog import catalog_of
from shared.web.i18n import t
from shared.web.pages import message, render, url
from shared.web.reporter_calls import SubmitCall

log = logging.getLogger("lapor.submit")

# The token in a URL is private: no search engine may keep the page.
_HEADERS = {"X-Robots-Tag": "noindex"}


def _what(call: SubmitCall, who: OptOut, done: bool) -> str | None:
    """What stops (or stopped), in the visitor's language; None for a report that is gone."""
    lang = call.lang
    if who.audience == "agency":
        agency = catalog_of(call.ports.reference).agency_name(who.owner)
        return t("unsubscribe_done_agency" if done else "unsubscribe_agency", lang, agency=agency)
    report = call.ports.store.get(who.owner)
    if report is None:
        return None
    return t(
        "unsubscribe_done_reporter" if done else "unsubscribe_reporter",
        lang,
        channel=t(f"unsubscribe_channel_{who.channel}", lang),
        code=report.tracking_code,
    )


def _unknown(call: SubmitCall) -> Response:
    lang = call.lang
    return message(
        call,
        404,
        t("unsubscribe_unknown", lang),
        t("unsubscribe_unknown_detail", lang),
        headers=_HEADERS,
    )


def unsubscribe(call: SubmitCall, token: str) -> Response:
    who = read_unsubscribe_token(call.ports.settings.token_secret, token)
    if who is None:
        return _unknown(call)
    done = call.request.method == "POST"
    what = _what(call, who, done)
    if what is None:
        return _unknown(call)
    if done:
        call.ports.preferences.opt_out(who, call.ports.clock.now())
        log.info("opted out", extra={"audience": who.audience, "channel": who.channel})
    return render(
        call,
        "berhenti.html",
        headers=_HEADERS,
        done=done,
        what=what,
        action=url(call, f"/berhenti/{token}"),
    )


RULES = [Rule("/berhenti/<token>", methods=["GET", "POST"], endpoint="unsubscribe")]
HANDLERS: Mapping[str, Callable[..., Response]] = {"unsubscribe": unsubscribe}
