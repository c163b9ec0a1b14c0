from django import template

register = template.Library()


@register.filter
def score(value) -> str:
    """2.0 → "2", 2.5 → "2.5", None → "—"."""
    if value is None:
        return "—"
    number = float(value)
    return str(int(number)) if number.is_integer() else f"{number:.2f}".rstrip("0").rstrip(".")


@register.filter
def status_slug(value) -> str:
    return str(value or "").lower().replace(" ", "-")


@register.filter
def seconds(value) -> str:
    """85 → "1 min 25 s"."""
    try:
        total = int(value or 0)
    except (TypeError, ValueError):
        return "—"
    minutes, secs = divmod(total, 60)
    if not minutes:
        return f"{secs} s"
    return f"{minutes} min {secs} s" if secs else f"{minutes} min"


@register.simple_tag(takes_context=True)
def manages_consumers(context) -> bool:
    from assessments.permissions import can_manage_consumers

    request = context.get("request")
    return bool(request) and can_manage_consumers(request.user)


@register.filter
def hist_h(height) -> str:
    """A histogram bar's height (``height``: 0–100, the tallest bar 100) in the chart's 100-unit-tall plot,
    leaving room above for the count; at least a sliver when the band has sessions."""
    try:
        h = float(height)
    except (TypeError, ValueError):
        return "0"
    return f"{(max(h, 1.5) if h > 0 else 0) * 0.88:.2f}"


@register.filter
def hist_y(height) -> str:
    return f"{100 - float(hist_h(height)):.2f}"
