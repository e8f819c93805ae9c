"""Bar charts as server-rendered SVG: readable without JavaScript, printable, and the same on every browser.

Pure functions: labels and published values in, an SVG string out. No database, no request, no suppression:
the values come from a published (already suppressed) table, and a hidden value arrives as
its marker (``"< k"`` for a small count, ``"•"`` for a complement, :func:`analysis.disclosure.is_hidden`). A
hidden value is drawn as its marker and nothing else — no bar, no number, no percentage.

The chart is an image for assistive technology (``role="img"`` with ``<title>`` and ``<desc>``); the page
shows the same numbers as a ``<table>`` beside it, which is what screen readers and copy-paste should use.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr  # escapes what we write, parses nothing  # nosec B406

from analysis.disclosure import SECONDARY_MARKER, is_hidden

__all__ = ["Bar", "BarChart", "bar_chart_svg"]

# Geometry in SVG user units. The viewBox is narrow so that text stays legible when a 360 px phone scales
# the chart down to its width; long labels sit on their own line above the bar instead of beside it.
WIDTH = 400
PADDING = 8
LABEL_HEIGHT = 18
BAR_HEIGHT = 18
ROW_GAP = 10
VALUE_SPACE = 92  # room right of the longest bar for "1234 (100 %)"
FONT_SIZE = 13
MAX_LABEL_CHARS = 56

INK = "#1b1b1f"  # the page's --ink
BAR = "#0b5cad"  # the page's --accent: 6.6:1 on white, so the bars also meet 3:1 for graphics


@dataclass(frozen=True)
class Bar:
    """One bar: its label, the published value (an ``int`` or the marker) and an optional percentage text."""

    label: str
    value: int | str
    percentage: float | None = None

    @property
    def hidden(self) -> bool:
        return not isinstance(self.value, int) or isinstance(self.value, bool)

    @property
    def marker(self) -> str:
        """What a hidden bar shows: its published marker; anything else that is not a count shows "•"."""
        return self.value if isinstance(self.value, str) and is_hidden(self.value) else SECONDARY_MARKER


@dataclass(frozen=True)
class BarChart:
    """What :func:`bar_chart_svg` draws; ``chart_id`` makes the ids of ``<title>``/``<desc>`` unique on a page."""

    title: str
    description: str
    bars: Sequence[Bar]
    chart_id: str = "chart"


def _format_value(bar: Bar) -> str:
    if bar.hidden:
        return bar.marker
    if bar.percentage is None:
        return str(bar.value)
    return f"{bar.value} ({bar.percentage:.0f} %)"


def _shorten(label: str) -> str:
    return label if len(label) <= MAX_LABEL_CHARS else label[: MAX_LABEL_CHARS - 1].rstrip() + "…"


def bar_chart_svg(chart: BarChart) -> str:
    """A horizontal bar chart as a standalone, well-formed SVG element (a string; escape nothing further).

    Bar lengths are proportional to the largest *published* value; hidden values draw no bar and show only
    their marker (``"< k"`` or ``"•"``), so neither the length nor the text tells more than the table.
    Percentages are printed only where the caller passes one (the caller passes ``None`` wherever the
    published table hides the percentage).
    """
    shown = [bar.value for bar in chart.bars if not bar.hidden]
    largest = max([*shown, 1]) if shown else 1
    bar_space = WIDTH - 2 * PADDING - VALUE_SPACE
    row_height = LABEL_HEIGHT + BAR_HEIGHT + ROW_GAP
    height = 2 * PADDING + max(len(chart.bars), 1) * row_height
    safe_id = re.sub(r"[^A-Za-z0-9_-]", "-", chart.chart_id) or "chart"
    title_id, desc_id = f"{safe_id}-title", f"{safe_id}-desc"

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="bar-chart" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" role="img" aria-labelledby="{title_id} {desc_id}" '
        f'font-family="system-ui, sans-serif" font-size="{FONT_SIZE}">',
        f'<title id="{title_id}">{escape(chart.title)}</title>',
        f'<desc id="{desc_id}">{escape(chart.description)}</desc>',
    ]
    for position, bar in enumerate(chart.bars):
        top = PADDING + position * row_height
        text_y = top + LABEL_HEIGHT - 5
        bar_y = top + LABEL_HEIGHT
        parts.append(f'<g class="bar{" bar-hidden" if bar.hidden else ""}">')
        parts.append(f'<text x="{PADDING}" y="{text_y}" fill="{INK}">{escape(_shorten(bar.label))}</text>')
        length = 0.0
        if not bar.hidden and bar.value > 0:
            length = max(bar_space * bar.value / largest, 2.0)
            parts.append(
                f'<rect x="{PADDING}" y="{bar_y}" width="{length:.1f}" height="{BAR_HEIGHT}" fill="{BAR}"></rect>'
            )
        parts.append(
            f'<text x="{PADDING + length + 6:.1f}" y="{bar_y + BAR_HEIGHT - 4}" fill="{INK}" '
            f"font-weight={quoteattr('700' if bar.hidden else '400')}>{escape(_format_value(bar))}</text>"
        )
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)
