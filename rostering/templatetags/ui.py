"""Template filters every app's pages share (progress and score bars that work under a strict CSP)."""

from __future__ import annotations

from django import template

register = template.Library()


def _number(value) -> float:
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0


@register.filter
def bar_width(value) -> str:
    """A percentage clamped to 0–100 and written with a dot, for an SVG ``width`` attribute (no inline style)."""
    number = min(max(_number(value), 0.0), 100.0)
    return f"{number:.1f}".rstrip("0").rstrip(".") or "0"


@register.filter
def percent(value) -> str:
    """12.5 → "12.5%", 40.0 → "40%"."""
    return f"{_number(value):.1f}".rstrip("0").rstrip(".") + "%"
