"""``/api/v1/school/session-setup/``: the seed's API (list, create, retrieve, PUT, PATCH, DELETE) and a reopen.

Reads start from ``SessionSetup.objects.for_user`` (another district's setup is a 404); every write goes through
``session_setup.services`` (a role too low is a 403, a rule broken is a 400 or 409 that changes nothing).
"""

from __future__ import annotations

from django.db import transaction
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import filters, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from rostering.api.schema import error_responses
from rostering.common.schema import ApiErrorSerializer
from rostering.permissions import Perm
from session_setup.api.serializers import SessionSetupSerializer
from session_setup.filtersets import SessionSetupFilterSet
from session_setup.models import SessionSetup
from session_setup.services import (
    session_setup_create,
    session_setup_delete,
    session_setup_reopen,
    session_setup_update,
)

TAG = "School - Academic"
CONFLICT = {409: OpenApiResponse(
    response=ApiErrorSerializer,
    description="A rule of the setup's progress refused it: another unfinished setup of the same session, a "
                "completed setup (reopen it first), or a step not done yet. Nothing was written.",
    examples=[OpenApiExample("In progress", value={
        "detail": "A setup of academic session 2027 is already in progress (…): resume that one, or finish or "
                  "delete it first.", "code": "setup_in_progress", "existing": "3c90c3cc-0d44-4b50-8888-8dd25736052a"})],
)}


class SessionSetupReopenSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=300)


@extend_schema_view(
    list=extend_schema(summary="List session setups", tags=[TAG],
                       responses={200: SessionSetupSerializer(many=True), **error_responses(400, 401)}),
    create=extend_schema(summary="Create session setup", tags=[TAG],
                         responses={201: SessionSetupSerializer, **error_responses(400, 401, 403), **CONFLICT}),
    retrieve=extend_schema(summary="Get by id session setup", tags=[TAG],
                           responses={200: SessionSetupSerializer, **error_responses(401, 404)}),
    update=extend_schema(summary="Update session setup", tags=[TAG],
                         responses={200: SessionSetupSerializer, **error_responses(400, 401, 403, 404), **CONFLICT}),
    partial_update=extend_schema(summary="Partial update session setup", tags=[TAG], responses={
        200: SessionSetupSerializer, **error_responses(400, 401, 403, 404), **CONFLICT}),
    destroy=extend_schema(summary="Delete session setup", tags=[TAG],
                          responses={204: None, **error_responses(401, 403, 404), **CONFLICT}),
    reopen=extend_schema(summary="Reopen a completed session setup", tags=[TAG], request=SessionSetupReopenSerializer,
                         responses={200: SessionSetupSerializer, **error_responses(400, 401, 403, 404), **CONFLICT}),
)
class SessionSetupViewSet(viewsets.ModelViewSet):
    """Manage session setup (create, read, update, delete)"""

    serializer_class = SessionSetupSerializer
    filterset_class = SessionSetupFilterSet
    filter_backends = [DjangoFilterBackend, filters.OrderingFilter, filters.SearchFilter]
    search_fields = ["academic_session__name", "exam_session__name", "school__name"]
    ordering_fields = ["created_at", "updated_at", "status", "session_type", "current_step"]
    ordering = ["-updated_at", "id"]

    def get_queryset(self):
        return SessionSetup.objects.for_user(self.request.user, perm=Perm.SETUP_VIEW).select_related(
            "academic_session", "exam_session", "exam_session__academic_session", "school")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        setup = session_setup_create(actor=request.user, **serializer.validated_data)
        return Response(self.get_serializer(setup).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        setup = self.get_object()
        serializer = self.get_serializer(setup, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            setup = session_setup_update(actor=request.user, setup=setup, data=dict(serializer.validated_data))
        return Response(self.get_serializer(setup).data)

    def destroy(self, request, *args, **kwargs):
        session_setup_delete(actor=request.user, setup=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        body = SessionSetupReopenSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        setup = session_setup_reopen(setup=self.get_object(), actor=request.user, reason=body.validated_data.get("reason", ""))
        return Response(SessionSetupSerializer(setup, context=self.get_serializer_context()).data)
