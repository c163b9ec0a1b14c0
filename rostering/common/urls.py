"""Both URL forms for the native API: every endpoint answers with and without its trailing slash.

Each API keeps the form it documents (the seed's registration paths have none, the rostering API has one);
``both_slash_forms(urlpatterns)`` adds a twin of every route in the other form, answered by the same view
(no redirect, so a ``POST`` works either way). The twins are marked, and ``drop_slash_twins`` (a
drf-spectacular preprocessing hook) leaves them out of the schema, which documents one form.
"""

from __future__ import annotations

import functools

from django.urls import URLPattern, URLResolver, path, re_path
from django.urls.resolvers import RegexPattern, RoutePattern

TWIN = "_slash_twin"


def _twin_view(view):
    @functools.wraps(view)  # keeps csrf_exempt and the DRF attributes (cls, initkwargs, actions)
    def twin(*args, **kwargs):
        return view(*args, **kwargs)

    setattr(twin, TWIN, True)
    return twin


def _twin(pattern: URLPattern) -> URLPattern | None:
    p = pattern.pattern
    if isinstance(p, RoutePattern):
        route = str(p._route)
        if not route:
            return None  # the mount point itself: its other form is the parent's business
        other = route[:-1] if route.endswith("/") else f"{route}/"
        return path(other, _twin_view(pattern.callback), kwargs=pattern.default_args)
    if isinstance(p, RegexPattern):
        regex = p._regex
        if not regex.endswith("$") or regex.endswith("/?$") or regex in ("^$", "^/$"):
            return None
        body = regex[:-1]
        other = body[:-1] + "$" if body.endswith("/") else body + "/$"
        return re_path(other, _twin_view(pattern.callback), kwargs=pattern.default_args)
    return None


def both_slash_forms(urlpatterns: list) -> list:
    """``urlpatterns`` followed by the twin of each route (includes are walked into)."""
    twins = []
    for pattern in urlpatterns:
        if isinstance(pattern, URLResolver):
            pattern.url_patterns[:] = both_slash_forms(list(pattern.url_patterns))
            continue
        twin = _twin(pattern)
        if twin is not None:
            twins.append(twin)
    return [*urlpatterns, *twins]


def drop_slash_twins(endpoints, **kwargs):
    """drf-spectacular ``PREPROCESSING_HOOKS`` entry: the schema documents each endpoint in one form."""
    return [e for e in endpoints if not getattr(e[3], TWIN, False)]
