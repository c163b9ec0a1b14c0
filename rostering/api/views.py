"""Viewsets of the native rostering API (``/api/v1/rostering/``).

Thin on purpose: reads start from ``Model.objects.for_user(user)`` (so anything outside the user's
districts and schools is a 404), writes call ``rostering.services`` (which check the role: 403, and
validate: 400). Lists load their relations up front, so a page costs the same number of queries
whatever its size.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import permissions, viewsets

from rostering.api.schema import error_responses
from rostering.api.serializers import (
    AcademicSessionSerializer,
    ClassDivisionSerializer,
    DistrictSerializer,
    EnrollmentSerializer,
    GradeLevelSerializer,
    PersonSerializer,
    SchoolSerializer,
    SubjectSerializer,
)
from rostering.common.parsers import BoundedJSONParser
from rostering.filtersets import (
    AcademicSessionFilterSet,
    ClassDivisionFilterSet,
    EnrollmentFilterSet,
    GradeLevelFilterSet,
    PersonFilterSet,
    SchoolFilterSet,
    SubjectFilterSet,
)
from rostering.models import (
    AcademicSession,
    ClassDivision,
    District,
    Enrollment,
    GradeLevel,
    Person,
    School,
    Subject,
)
from rostering.permissions import Perm, has_any_perm
from rostering.services import (
    academic_session_create_with_terms,
    roster_object_create,
    roster_object_delete,
    roster_object_update,
)


class RosterWritePermission(permissions.BasePermission):
    """Refuse writes up front to members who may change roster data nowhere (viewers, class teachers).

    Where exactly a write may land is decided by the services, per object.
    """

    message = "Your role does not allow changing roster data."

    def has_permission(self, request, view) -> bool:
        return request.method in permissions.SAFE_METHODS or has_any_perm(request.user, Perm.ROSTER_CHANGE)


@contextmanager
def api_field_names(serializer):
    """Report model validation errors under the API's field names (``school`` → ``school_id``)."""
    try:
        yield
    except DjangoValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        renamed = {
            field.source: name
            for name, field in serializer.fields.items()
            if field.source != name and "." not in field.source and field.source != "*"
        }
        raise DjangoValidationError({renamed.get(key, key): errors for key, errors in exc.error_dict.items()}) from exc


def _plain(data: dict) -> dict:
    """Validated data as the model wants it (identifiers as plain dicts)."""
    data = dict(data)
    if "identifiers" in data:
        data["identifiers"] = [dict(item) for item in data["identifiers"]]
    return data


def roster_docs(*, tag: str, serializer, noun: str, plural: str, example: dict, notes: str = ""):
    """OpenAPI documentation of one roster resource: every operation, with its honest error responses."""
    scope = (
        "Only objects inside your districts and schools are visible; anything else answers 404. "
        "Writes need a role that may change roster data where the object lives (district admin, school admin, "
        "registrar): a lower role answers 403."
    )
    description = f"{scope} {notes}".strip()
    request_example = OpenApiExample(f"New {noun}", value=example, request_only=True)
    return extend_schema_view(
        list=extend_schema(
            tags=[tag], summary=f"List {plural}", description=description,
            responses={200: serializer(many=True), **error_responses(400, 401, 404)},
        ),
        retrieve=extend_schema(
            tags=[tag], summary=f"Get one {noun}", description=description,
            responses={200: serializer, **error_responses(401, 404)},
        ),
        create=extend_schema(
            tags=[tag], summary=f"Create a {noun}", description=description, examples=[request_example],
            responses={201: serializer, **error_responses(400, 401, 403)},
        ),
        update=extend_schema(
            tags=[tag], summary=f"Replace a {noun}", description=description,
            responses={200: serializer, **error_responses(400, 401, 403, 404)},
        ),
        partial_update=extend_schema(
            tags=[tag], summary=f"Change fields of a {noun}", description=description,
            responses={200: serializer, **error_responses(400, 401, 403, 404)},
        ),
        destroy=extend_schema(
            tags=[tag], summary=f"Delete a {noun}", description=description,
            responses={204: None, **error_responses(401, 403, 404, 409)},
        ),
    )


class RosterObjectViewSet(viewsets.ModelViewSet):
    """CRUD over one roster model, scoped by ``for_user`` and written through the services."""

    model: type = None  # set by subclasses
    select_related_fields: tuple[str, ...] = ()
    permission_classes = [permissions.IsAuthenticated, RosterWritePermission]
    parser_classes = [BoundedJSONParser]

    def get_queryset(self):
        queryset = self.model.objects.for_user(self.request.user)
        if self.select_related_fields:
            queryset = queryset.select_related(*self.select_related_fields)
        return queryset

    def perform_create(self, serializer):
        data = _plain(serializer.validated_data)
        district = data.pop("district")
        with api_field_names(serializer):
            obj = self.create_object(district=district, data=data)
        serializer.instance = self._as_listed(obj)

    def create_object(self, *, district, data):
        return roster_object_create(actor=self.request.user, model=self.model, district=district, data=data)

    def perform_update(self, serializer):
        data = _plain(serializer.validated_data)
        with api_field_names(serializer):
            obj = roster_object_update(actor=self.request.user, obj=serializer.instance, data=data)
        serializer.instance = self._as_listed(obj)

    def _as_listed(self, obj):
        """The written object as the list and detail show it (scoped relations, same shape)."""
        return self.get_queryset().filter(pk=obj.pk).first() or obj

    def perform_destroy(self, instance):
        roster_object_delete(actor=self.request.user, obj=instance)


@extend_schema_view(
    list=extend_schema(
        tags=["Districts"], summary="List your districts",
        description="The districts you are a member of (all of them for a superuser). Read-only.",
        responses={200: DistrictSerializer(many=True), **error_responses(400, 401, 404)},
    ),
    retrieve=extend_schema(
        tags=["Districts"], summary="Get one of your districts",
        responses={200: DistrictSerializer, **error_responses(401, 404)},
    ),
)
class DistrictViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = District.objects.all()
    serializer_class = DistrictSerializer
    ordering_fields = ("name", "created_date")
    ordering = ("name", "id")

    def get_queryset(self):
        return District.objects.for_user(self.request.user)


@roster_docs(
    tag="Schools", serializer=SchoolSerializer, noun="school", plural="schools",
    example={"name": "Avondale Primary", "code": "AVP", "address": "1 King George Rd", "grade_codes": ["06", "07"]},
    notes="Creating or deleting a school needs a district-wide role.",
)
class SchoolViewSet(RosterObjectViewSet):
    model = School
    queryset = School.objects.all()
    serializer_class = SchoolSerializer
    filterset_class = SchoolFilterSet
    ordering_fields = ("name", "code", "created_date", "updated_date")
    ordering = ("name", "id")


@roster_docs(
    tag="Academic sessions", serializer=AcademicSessionSerializer, noun="academic session",
    plural="academic sessions",
    example={
        "name": "2027", "type": "school_year", "state": "upcoming", "start_date": "2027-01-11",
        "end_date": "2027-12-03",
        "terms": [
            {"name": "Term 1", "start_date": "2027-01-11", "end_date": "2027-04-09"},
            {"name": "Term 2", "start_date": "2027-05-10", "end_date": "2027-08-06"},
            {"name": "Term 3", "start_date": "2027-09-06", "end_date": "2027-12-03"},
        ],
    },
    notes=(
        "A school year may be created together with its `terms` (all or nothing); every session lists the "
        "sessions inside it as `children`."
    ),
)
class AcademicSessionViewSet(RosterObjectViewSet):
    model = AcademicSession
    queryset = AcademicSession.objects.all()
    serializer_class = AcademicSessionSerializer
    filterset_class = AcademicSessionFilterSet
    ordering_fields = ("name", "start_date", "end_date", "type", "state", "created_date", "updated_date")
    ordering = ("-start_date", "name", "id")

    def get_queryset(self):
        children = AcademicSession.objects.for_user(self.request.user).order_by("start_date", "name")
        return super().get_queryset().prefetch_related(Prefetch("children", queryset=children))

    def create_object(self, *, district, data):
        terms = data.pop("terms", None)
        if terms:
            return academic_session_create_with_terms(
                actor=self.request.user, district=district, data=data, terms=[dict(term) for term in terms]
            )
        return super().create_object(district=district, data=data)


@roster_docs(
    tag="Grade levels", serializer=GradeLevelSerializer, noun="grade level", plural="grade levels",
    example={"code": "06", "name": "Grade 6", "rank": 6},
    notes="A grade level without a school is shared by the whole district. One still used by a class cannot be deleted (409).",
)
class GradeLevelViewSet(RosterObjectViewSet):
    model = GradeLevel
    queryset = GradeLevel.objects.all()
    serializer_class = GradeLevelSerializer
    filterset_class = GradeLevelFilterSet
    ordering_fields = ("rank", "name", "code", "created_date", "updated_date")
    ordering = ("rank", "name", "id")


@roster_docs(
    tag="Subjects", serializer=SubjectSerializer, noun="subject", plural="subjects",
    example={"code": "MATH", "name": "Mathematics"},
    notes="Subjects belong to the whole district.",
)
class SubjectViewSet(RosterObjectViewSet):
    model = Subject
    queryset = Subject.objects.all()
    serializer_class = SubjectSerializer
    filterset_class = SubjectFilterSet
    ordering_fields = ("name", "code", "created_date", "updated_date")
    ordering = ("name", "id")


@roster_docs(
    tag="Class divisions", serializer=ClassDivisionSerializer, noun="class division", plural="class divisions",
    example={
        "school_id": "0b7c2a4e-4a59-4d61-9a0e-3f3f1c1d2e10", "grade_level_id": "5d0f1e7a-8b7c-4c3d-9e2f-1a2b3c4d5e6f",
        "name": "6C", "capacity": 40,
    },
)
class ClassDivisionViewSet(RosterObjectViewSet):
    model = ClassDivision
    queryset = ClassDivision.objects.all()
    serializer_class = ClassDivisionSerializer
    filterset_class = ClassDivisionFilterSet
    select_related_fields = ("school", "grade_level")
    ordering_fields = ("name", "capacity", "grade_level__rank", "created_date", "updated_date")
    ordering = ("grade_level__rank", "name", "id")


@roster_docs(
    tag="People", serializer=PersonSerializer, noun="person", plural="people",
    example={
        "role": "student", "school_id": "0b7c2a4e-4a59-4d61-9a0e-3f3f1c1d2e10", "given_name": "Rudo",
        "family_name": "Chikwanha", "sis_id": "AVP-2026-0142", "date_of_birth": "2014-05-02", "gender": "female",
        "identifiers": [{"type": "national_id", "value": "63-2014052-F-42"}],
    },
    notes="`sis_id` is unique in the district. `q` searches names, numbers, emails and identifier values.",
)
class PersonViewSet(RosterObjectViewSet):
    model = Person
    queryset = Person.objects.all()
    serializer_class = PersonSerializer
    filterset_class = PersonFilterSet
    ordering_fields = ("family_name", "given_name", "sis_id", "date_of_birth", "created_date", "updated_date")
    ordering = ("family_name", "given_name", "id")


@roster_docs(
    tag="Enrollments", serializer=EnrollmentSerializer, noun="enrollment", plural="enrollments",
    example={
        "person_id": "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d", "class_division_id": "1f2e3d4c-5b6a-4978-8a1b-2c3d4e5f6a7b",
        "role": "student",
    },
    notes="The person and the class must belong to the same district.",
)
class EnrollmentViewSet(RosterObjectViewSet):
    model = Enrollment
    queryset = Enrollment.objects.all()
    serializer_class = EnrollmentSerializer
    filterset_class = EnrollmentFilterSet
    select_related_fields = ("person", "class_division")
    ordering_fields = ("role", "start_date", "end_date", "created_date", "updated_date")
    ordering = ("class_division__name", "person__family_name", "id")
