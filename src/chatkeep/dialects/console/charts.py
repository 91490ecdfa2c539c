"""Bar charts as plain numbers for an inline SVG: the template draws them, so no script is needed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 640
HEIGHT = 160
GAP = 2


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class BarChart:
    title: str
    unit: str
    bars: tuple[Bar, ...]
    maximum: int
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def total(self) -> int:
        return sum(bar.value for bar in self.bars)


def bar_chart(title: str, unit: str, points: Sequence[tuple[str, int]]) -> BarChart:
    """One bar per (label, value), scaled so the largest fills the chart's height."""
    maximum = max((value for _, value in points), default=0)
    slot = WIDTH / max(len(points), 1)
    bars = []
    for index, (label, value) in enumerate(points):
        height = 0.0 if maximum == 0 else (HEIGHT - 1) * value / maximum
        if value > 0:
            height = max(height, 1.0)  # a small non-zero day stays visible
        bars.append(
            Bar(
                label=label,
                value=value,
                x=index * slot + GAP / 2,
                y=HEIGHT - height,
                width=max(slot - GAP, 1.0),
                height=height,
            )
        )
    return BarChart(title=title, unit=unit, bars=tuple(bars), maximum=maximum)
