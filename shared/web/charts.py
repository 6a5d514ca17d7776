"""Charts of the public figures: SVG drawn by pygal on the server, served as an image
that a caption and a table of the same numbers stand beside (the text alternative).

pygal adds a script of its own configuration (for its optional JavaScript tooltips,
which we never serve), a hidden tooltip element styled inline and comments dated the
day of drawing. An XML filter (pygal's hook for changing the drawn tree) takes them out,
so the image is shapes, text and one stylesheet: its Content-Security-Policy allows
that stylesheet by hash and nothing else, and the same figures draw the same bytes
(so the ETag holds from one day to the next).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

import pygal
from pygal.style import Style

# The site's colours (style.css): blue for what came in, green for what was closed.
_STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1b1b1b",
    foreground_strong="#1b1b1b",
    foreground_subtle="#50565e",
    colors=("#0b4ea2", "#0b6b2e"),
    font_family='system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif',
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=14,
    title_font_size=15,
    value_font_size=13,
    stroke_width="2.5",
    stroke_width_hover="2.5",
    stroke_opacity="1",
    stroke_opacity_hover="1",
    guide_stroke_color="#c9ccd1",
    major_guide_stroke_color="#c9ccd1",
    transition="0s",
)
# Drawn at about a phone's width, so its text stays readable there.
WIDTH, HEIGHT = 420, 300


@dataclass(frozen=True)
class Chart:
    svg: str
    csp: str  # the Content-Security-Policy to serve it with


def _local(tag: Any) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _drop(element: ElementTree.Element) -> bool:
    if not isinstance(element.tag, str):  # a comment
        return True
    return _local(element.tag) == "script" or "tooltip" in element.get("class", "").split()


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


class _Filter:
    """The XML filter: removes what runs or changes by itself, keeps the styles' hashes."""

    def __init__(self) -> None:
        self.styles: list[str] = []

    def __call__(self, root: Any) -> Any:
        for parent in root.iter():
            for child in list(parent):
                if _drop(child):
                    parent.remove(child)
        if not root.get("id"):  # pygal leaves an empty id without its prefix
            root.attrib.pop("id", None)
        for element in root.iter():
            if element.get("style") is not None:
                raise ValueError("an inline style attribute would need 'unsafe-inline'")
            if _local(element.tag) == "style":
                self.styles.append(element.text or "")
        return root


def _count_axis(series: Sequence[tuple[str, Sequence[int]]]) -> list[int]:
    """Whole numbers from 0 past the highest count, on a round step (1, 2, 5, 10, 20...)
    giving at most five intervals: counts of reports have no fractions."""
    top = max([1, *(value for _, values in series for value in values)])
    step = next(
        m * 10**k for k in itertools.count() for m in (1, 2, 5) if -(-top // (m * 10**k)) <= 5
    )
    return list(range(0, -(-top // step) * step + 1, step))


def line_chart(
    title: str,
    x_labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    *,
    label_every: int,
    number: Callable[[float], str] = str,
) -> Chart:
    """A line per series over ``x_labels``, labelled every ``label_every`` points, the
    counts written by ``number`` (the reader's language)."""
    chart = pygal.Line(
        js=[],
        no_prefix=True,
        disable_xml_declaration=True,
        style=_STYLE,
        width=WIDTH,
        height=HEIGHT,
        show_dots=False,
        include_x_axis=True,
        show_minor_x_labels=False,
        x_labels_major_every=max(1, label_every),
        truncate_label=-1,
        legend_at_bottom=True,
        legend_at_bottom_columns=len(series),
        margin=8,
        y_labels=_count_axis(series),
        value_formatter=number,
    )
    chart.title = title
    chart.x_labels = list(x_labels)
    for name, values in series:
        chart.add(name, list(values))
    drawn = _Filter()
    chart.add_xml_filter(drawn)
    svg = chart.render(is_unicode=True)
    styles = " ".join(_sha256(text) for text in drawn.styles)
    return Chart(svg, f"default-src 'none'; style-src {styles}; frame-ancestors 'none'")
