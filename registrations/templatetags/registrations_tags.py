"""Small template helpers for the registration pages (progress bars that work under a strict CSP)."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def bar_width(value) -> str:
    """A percentage clamped to 0–100 and written with a dot, for an SVG ``width`` attribute."""
    try:
        number = float(value or 0)
    except (TypeError, ValueError):
        number = 0.0
    number = min(max(number, 0.0), 100.0)
    return f"{number:.1f}".rstrip("0").rstrip(".") or "0"


@register.filter
def percent(value) -> str:
    """12.5 → "12.5%", 40.0 → "40%"."""
    try:
        number = float(value or 0)
    except (TypeError, ValueError):
        number = 0.0
    text = f"{number:.1f}".rstrip("0").rstrip(".")
    return f"{text}%"


@register.filter
def get_item(mapping, key):
    try:
        return mapping.get(key, "")
    except AttributeError:
        return ""
