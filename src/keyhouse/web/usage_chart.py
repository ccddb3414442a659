"""A 30-day bar chart drawn on the server as SVG geometry: no script, no front-end build.

Each day is a bar stacked from ok (bottom), errors and rate-limited requests; the template
draws the rectangles and gives the same figures as text (a title, a description and a table).
"""

from dataclasses import dataclass

from keyhouse.usage.schemas import UsageDayOut

WIDTH = 600.0
HEIGHT = 160.0
GAP = 0.2  # of each day's slot, between bars


@dataclass(frozen=True, slots=True)
class Segment:
    """One part of a bar: `kind` is ok, errors or rate_limited."""

    kind: str
    y: float
    height: float


@dataclass(frozen=True, slots=True)
class Bar:
    """One day's bar and its figures."""

    day: UsageDayOut
    x: float
    width: float
    segments: list[Segment]


@dataclass(frozen=True, slots=True)
class Chart:
    """Every bar and the totals the chart's text alternative states."""

    bars: list[Bar]
    width: float
    height: float
    total: int
    errors: int
    rate_limited: int
    peak: UsageDayOut | None

    @property
    def summary(self) -> str:
        """The chart in one sentence, for screen readers and as a tooltip."""
        if self.peak is None:
            return f"No requests in the last {len(self.bars)} days."
        return (
            f"{_count(self.total, 'request')} in the last {len(self.bars)} days: "
            f"{_count(self.errors, 'error')} and {self.rate_limited:,} rate-limited. "
            f"Busiest day {self.peak.date:%Y-%m-%d} with {self.peak.requests:,}."
        )


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def bar_chart(days: list[UsageDayOut]) -> Chart:
    """Bars for `days` (oldest first), scaled to the busiest day."""
    most = max((day.requests for day in days), default=0)
    slot = WIDTH / max(len(days), 1)
    bars = [
        Bar(day, index * slot + slot * GAP / 2, slot * (1 - GAP), _segments(day, most))
        for index, day in enumerate(days)
    ]
    busy = [day for day in days if day.requests]
    return Chart(
        bars=bars,
        width=WIDTH,
        height=HEIGHT,
        total=sum(day.requests for day in days),
        errors=sum(day.errors for day in days),
        rate_limited=sum(day.rate_limited for day in days),
        peak=max(busy, key=lambda day: day.requests) if busy else None,
    )


def _segments(day: UsageDayOut, most: int) -> list[Segment]:
    segments, bottom = [], HEIGHT
    for kind, count in (("ok", day.ok), ("errors", day.errors), ("rate_limited", day.rate_limited)):
        if count and most:
            height = max(HEIGHT * count / most, 1.0)  # a single request still shows
            bottom -= height
            segments.append(Segment(kind, round(bottom, 2), round(height, 2)))
    return segments
