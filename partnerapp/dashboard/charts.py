"""Bar charts as server-side SVG: no JavaScript, no CDN, nothing the CSP forbids.

Pure functions from series to markup. Colours are SVG presentation attributes
(`fill=`), which the Content-Security-Policy allows, unlike `style=`. Every text
that reaches the markup goes through `format_html`, so labels cannot inject markup.
A chart carries its numbers too (`Chart.rows`): templates show them as a table, the
text alternative for people who cannot see the bars.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

# Colours with at least 4.5:1 contrast on white (they double as legend text colour).
COLOURS = {
    "sent": "#1d7a3a",
    "failed": "#b3261e",
    "uncertain": "#8a5a00",
    "skipped": "#5b6675",
    "calls": "#0b5cad",
    "throttled": "#b3261e",
}
INK, GRID, MUTED = "#1c2430", "#d9dee5", "#5b6675"


@dataclass(frozen=True)
class Series:
    """One stacked layer: a name for people, a key for colour, one value per label."""

    name: str
    key: str
    values: Sequence[int]

    @property
    def colour(self) -> str:
        return COLOURS.get(self.key, INK)

    @property
    def total(self) -> int:
        return sum(self.values)


@dataclass(frozen=True)
class Reference:
    """A horizontal line across the chart, e.g. a rate budget per bar."""

    value: float
    label: str


@dataclass(frozen=True)
class Chart:
    slug: str  # unique on the page: the ids of <title> and <desc> derive from it
    title: str
    description: str
    labels: Sequence[str]
    series: Sequence[Series]
    reference: Reference | None = None
    label_every: int = 1  # show every n-th label under the bars (they get crowded)
    width: int = 640
    height: int = 220
    empty_text: str = ""
    extra: dict = field(default_factory=dict)  # what a template wants beside the chart

    @property
    def totals(self) -> list[int]:
        return [sum(s.values[i] for s in self.series) for i in range(len(self.labels))]

    @property
    def grand_total(self) -> int:
        return sum(self.totals)

    @property
    def rows(self) -> list[tuple[str, list[int], int]]:
        """(label, one value per series, total) per bar: the chart as a table."""
        return [
            (label, [s.values[i] for s in self.series], total)
            for i, (label, total) in enumerate(zip(self.labels, self.totals, strict=True))
        ]

    @property
    def svg(self) -> SafeString:
        return bar_chart_svg(self)


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times 10^k at or above `value` (1 for nothing)."""
    if value <= 0:
        return 1
    exponent = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * exponent:
            return step * exponent
    return 10 * exponent  # pragma: no cover - the loop always returns


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def bar_chart_svg(chart: Chart) -> SafeString:
    """Stacked bars, one per label, with a y axis, optional reference line and legend."""
    left, right, top, bottom, legend = 44, 8, 10, 24, 22
    plot_w = chart.width - left - right
    plot_h = chart.height - top - bottom - legend
    totals = chart.totals
    peak = max([*totals, chart.reference.value if chart.reference else 0, 0])
    y_max = nice_ceiling(peak)

    def y(value: float) -> float:
        return top + plot_h - value / y_max * plot_h

    parts = [_axes(left, plot_w, top, plot_h, y_max, y)]
    if chart.grand_total == 0 and chart.empty_text:
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="middle" fill="{}" font-size="13">{}</text>',
                _number(left + plot_w / 2),
                _number(top + plot_h / 2),
                MUTED,
                chart.empty_text,
            )
        )
    parts.append(_bars(chart, left, plot_w, y))
    parts.append(_x_labels(chart, left, plot_w, top + plot_h + 15))
    if chart.reference:
        parts.append(_reference(chart.reference, left, plot_w, y))
    parts.append(_legend(chart, left, chart.height - 6))
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {w} {h}" '
        'role="img" aria-labelledby="{slug}-title {slug}-desc" font-family="system-ui, sans-serif">'
        '<title id="{slug}-title">{title}</title><desc id="{slug}-desc">{desc}</desc>{body}</svg>',
        w=chart.width,
        h=chart.height,
        slug=chart.slug,
        title=chart.title,
        desc=chart.description,
        body=mark_safe("".join(parts)),  # noqa: S308 - each part is built by format_html
    )


def _axes(left: int, plot_w: int, top: int, plot_h: int, y_max: float, y) -> SafeString:
    ticks = [0, y_max / 2, y_max]
    return format_html_join(
        "",
        '<line x1="{0}" y1="{1}" x2="{2}" y2="{1}" stroke="{3}" stroke-width="1"/>'
        '<text x="{4}" y="{5}" text-anchor="end" font-size="11" fill="{6}">{7}</text>',
        (
            (
                left,
                _number(y(tick)),
                left + plot_w,
                GRID if tick else MUTED,
                left - 4,
                _number(y(tick) + 4),
                MUTED,
                _number(tick),
            )
            for tick in ticks
        ),
    )


def _bars(chart: Chart, left: int, plot_w: int, y) -> SafeString:
    count = len(chart.labels)
    if not count:
        return SafeString("")
    slot = plot_w / count
    bar_w = max(1.0, slot * 0.72)
    rects = []
    for index, label in enumerate(chart.labels):
        x = left + index * slot + (slot - bar_w) / 2
        base = 0
        for series in chart.series:
            value = series.values[index]
            if value <= 0:
                continue
            rects.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" data-series="{}">'
                    "<title>{}: {} {}</title></rect>",
                    _number(x),
                    _number(y(base + value)),
                    _number(bar_w),
                    _number(y(base) - y(base + value)),
                    series.colour,
                    series.key,
                    label,
                    series.name,
                    value,
                )
            )
            base += value
    return mark_safe("".join(rects))  # noqa: S308 - each rect is built by format_html


def _x_labels(chart: Chart, left: int, plot_w: int, baseline: float) -> SafeString:
    count = len(chart.labels)
    if not count:
        return SafeString("")
    slot = plot_w / count
    every = max(1, chart.label_every)
    return format_html_join(
        "",
        '<text x="{}" y="{}" text-anchor="middle" font-size="11" fill="{}">{}</text>',
        (
            (_number(left + index * slot + slot / 2), _number(baseline), MUTED, label)
            for index, label in enumerate(chart.labels)
            if (count - 1 - index) % every == 0  # counted from the newest, always labelled
        ),
    )


def _reference(reference: Reference, left: int, plot_w: int, y) -> SafeString:
    line_y = y(reference.value)
    label_y = line_y - 4 if line_y > 24 else line_y + 13  # below the line at the very top
    return format_html(
        '<g class="reference"><line x1="{0}" y1="{1}" x2="{2}" y2="{1}" stroke="{3}" '
        'stroke-width="1.5" stroke-dasharray="6 4"/>'
        '<text x="{2}" y="{4}" text-anchor="end" font-size="11" fill="{3}">{5}</text></g>',
        left,
        _number(line_y),
        left + plot_w,
        INK,
        _number(label_y),
        reference.label,
    )


def _legend(chart: Chart, left: int, baseline: float) -> SafeString:
    entries, x = [], float(left)
    for series in chart.series:
        entries.append(
            format_html(
                '<rect x="{}" y="{}" width="10" height="10" fill="{}"/>'
                '<text x="{}" y="{}" font-size="12" fill="{}">{}</text>',
                _number(x),
                _number(baseline - 9),
                series.colour,
                _number(x + 14),
                _number(baseline),
                INK,
                series.name,
            )
        )
        x += 24 + 7 * len(series.name)
    return mark_safe("".join(entries))  # noqa: S308 - each entry is built by format_html
