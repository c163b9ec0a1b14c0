"""Request helpers every app's pages use: htmx partials and safe redirects."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def wants_partial(request: HttpRequest) -> bool:
    """An htmx request that swaps a fragment: not a boosted navigation, not a history restore (both need the
    whole page)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def safe_next(request: HttpRequest, default: str, *, referer: bool = False) -> str:
    """The ``next`` of a form or link (or, with ``referer``, the page the request came from) when it points
    back into this site, else ``default``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not target and referer:
        target = request.headers.get("Referer") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default
