"""``/api/v2/graph/…``: the Edlink-compatible Graph API, read-only, for a district's integration token.

Every answer is Edlink's envelope: ``{"$data": …, "$request": uuid}`` (lists add ``$next`` while there is a next
page; ``$warnings`` when something was ignored), errors a non-2xx status with ``$errors``. In order: the token
(401 ``INVALID_TOKEN``), the id (400 ``INVALID_UUID``), the parent of a sub-list and a fetched object in the
token's district (404 ``NOT_FOUND``), the query (400), then one query for the page. Nothing is written but the
token's usage counter.
"""

from __future__ import annotations

import uuid

import orjson
from django.http import HttpRequest, HttpResponse
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.views import APIView

from rostering.graph import paging
from rostering.graph.authentication import IntegrationTokenAuthentication
from rostering.graph.errors import GraphError, invalid_token, invalid_uuid, not_found
from rostering.graph.resources import Resource, SubList
from rostering.services import integration_token_record_request

JSON = "application/json"


def envelope(body: dict, *, status: int = 200, headers: dict | None = None) -> HttpResponse:
    body.setdefault("$request", str(uuid.uuid4()))
    response = HttpResponse(orjson.dumps(body), status=status, content_type=JSON)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def error_response(exc: GraphError) -> HttpResponse:
    return envelope({"$errors": [{"code": exc.code, "message": exc.message}]}, status=exc.status,
                    headers=exc.headers)


def _trim(obj: dict, fields: tuple[str, ...] | None) -> dict:
    return obj if not fields else {k: obj[k] for k in fields if k in obj}


def _uuid(raw: str, parameter: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except (ValueError, TypeError, AttributeError):
        raise invalid_uuid(parameter) from None


_ERRORS = {
    "400": OpenApiResponse(OpenApiTypes.OBJECT, description="$errors: INVALID_FILTER, INVALID_PAGE_SIZE, "
                                                            "INVALID_CURSOR or INVALID_UUID"),
    "401": OpenApiResponse(OpenApiTypes.OBJECT, description="$errors: INVALID_TOKEN"),
    "404": OpenApiResponse(OpenApiTypes.OBJECT, description="$errors: NOT_FOUND"),
}
_LIST_PARAMETERS = [
    OpenApiParameter("$filter", str, description=(
        'Edlink filter, JSON: {"field": [{"operator": "starts with", "value": "Fall"}]}. Operators: equals, in, '
        "not in, gt, lt, gte, lte, starts with, contains, is known, is unknown (per field, as Edlink documents).")),
    OpenApiParameter("$first", int, description=(
        f"Page size, 1–{paging.MAX_FIRST:,}; default {paging.DEFAULT_FIRST}.")),
    OpenApiParameter("$fields", str, description="Comma-separated fields to return (others are left out)."),
    OpenApiParameter("$cursor", str, description="Only inside $next: the signed position and query of the next page."),
]
_ID = [OpenApiParameter("id", str, OpenApiParameter.PATH, description="The object's UUID.")]


class GraphSchema(AutoSchema):
    """One operation id per route (the views are shared by every resource)."""

    def get_operation_id(self):
        return getattr(self.view, "operation_id", None) or super().get_operation_id()


class GraphView(APIView):
    """The shared frame: integration-token authentication, Edlink's errors, the usage counter."""

    schema = GraphSchema()
    operation_id = ""

    authentication_classes = [IntegrationTokenAuthentication]
    permission_classes: list = []
    http_method_names = ["get", "options"]
    resource: Resource | None = None
    counted_as = ""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.auth is None:
            raise invalid_token()
        self.token = request.auth
        integration_token_record_request(token=self.token, resource=self.counted_as or self.resource.name)

    def handle_exception(self, exc):
        if isinstance(exc, GraphError):
            return error_response(exc)
        if isinstance(exc, exceptions.AuthenticationFailed | exceptions.NotAuthenticated):
            return error_response(invalid_token())
        if isinstance(exc, exceptions.MethodNotAllowed):
            return error_response(GraphError(405, "UNSUPPORTED_OPERATION", "The Graph API is read-only: use GET.",
                                             headers={"Allow": "GET, OPTIONS"}))
        return super().handle_exception(exc)

    @property
    def district_id(self):
        return self.token.district_id

    def list_response(self, request, resource: Resource, base_qs) -> HttpResponse:
        scope = paging.scope_of(path=request.path, district_id=self.district_id)
        query = paging.parse_list_query(request.GET, fields_known=resource.fields, filter_fields=resource.filters,
                                        scope=scope, noun=resource.noun.lower() + " objects")
        qs = base_qs(set(query.filter.canonical)).filter(query.filter.q)
        rows, position = paging.page_rows(resource.rows(qs), query)
        body: dict = {"$data": [_trim(resource.to_json(row), query.fields) for row in rows]}
        if position is not None:
            token = paging.next_token(query, position, scope)
            body["$next"] = paging.next_url(request.build_absolute_uri(request.path), token)
        if query.warnings:
            body["$warnings"] = query.warnings
        return envelope(body)


class ListView(GraphView):
    @extend_schema(parameters=_LIST_PARAMETERS, responses={200: OpenApiTypes.OBJECT, **_ERRORS}, tags=["graph"],
                   summary="List (Edlink Graph API)")
    def get(self, request, *args, **kwargs):
        resource = self.resource
        return self.list_response(request, resource,
                                  lambda used: resource.queryset(self.district_id, filtered_by=used))


class DetailView(GraphView):
    id_parameter = "id"

    @extend_schema(parameters=[*_ID, OpenApiParameter("$fields", str)],
                   responses={200: OpenApiTypes.OBJECT, **_ERRORS}, tags=["graph"], summary="Fetch (Edlink Graph API)")
    def get(self, request, id: str, *args, **kwargs):
        resource = self.resource
        pk = _uuid(id, self.id_parameter)
        row = resource.rows(resource.queryset(self.district_id).filter(pk=pk)).first()
        if row is None:
            raise not_found(resource.noun, pk)
        warnings: list[dict] = []
        fields = paging.parse_fields(request.GET.get("$fields"), resource.fields, warnings)
        body: dict = {"$data": _trim(resource.to_json(row), fields)}
        if warnings:
            body["$warnings"] = warnings
        return envelope(body)


class SubListView(GraphView):
    sublist: SubList | None = None
    id_parameter = "id"

    @extend_schema(parameters=[*_ID, *_LIST_PARAMETERS], responses={200: OpenApiTypes.OBJECT, **_ERRORS},
                   tags=["graph"], summary="List a sub-list (Edlink Graph API)")
    def get(self, request, id: str, *args, **kwargs):
        sub = self.sublist
        pk = _uuid(id, self.id_parameter)
        if not sub.parent.queryset(self.district_id).filter(pk=pk).exists():
            raise not_found(sub.parent.noun, pk)
        scope = sub.scope(pk, self.district_id)
        return self.list_response(
            request, sub.child, lambda used: sub.child.queryset(self.district_id, filtered_by=used).filter(scope))


def unknown_endpoint(request: HttpRequest, rest: str = "") -> HttpResponse:
    return error_response(GraphError(404, "NOT_FOUND", "There is no such Graph API endpoint."))


def up(request: HttpRequest) -> HttpResponse:
    """Edlink's ``GET /api/up`` (``Edlink.up()``): no token needed."""
    return envelope({"$data": {"status": "up"}})
