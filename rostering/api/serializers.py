"""Serializers of the native rostering API: they parse and present, they never save.

- snake_case fields, ids are UUIDs; a relation is written as ``<name>_id``.
- Every ``<name>_id`` looks its object up in ``Model.objects.for_user(request.user)``, so an unknown id,
  another district's id or an out-of-reach school's id are all the same 400 "Invalid pk".
- ``district_id`` comes from the object's school (or class division, parent …); district-level objects
  of a user with several districts name it explicitly, among the user's own districts.
- Writes go through ``rostering.services`` (see ``rostering.api.views``); ``create``/``update`` here refuse.
"""

from __future__ import annotations

from rest_framework import serializers

from rostering.choices import GradeLevelCode, SessionState, SessionType
from rostering.common.fields import ScopedRelatedIdField
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

MAX_IDENTIFIERS = 50
MAX_TERMS = 24
# Integer bounds of the production database (PostgreSQL), stated here so that SQLite and the schema agree.
MAX_SMALL_INT = 32767
MAX_INT = 2147483647


class RosterIdentifierSerializer(serializers.Serializer):
    """One extra id of an object, e.g. ``{"type": "sis_id", "value": "S-1042"}``."""

    type = serializers.CharField(min_length=1, max_length=64)
    value = serializers.CharField(min_length=1, max_length=255)


class RosterObjectSerializer(serializers.ModelSerializer):
    """Common fields and the district rules of every tenant-owned roster object."""

    district_id = ScopedRelatedIdField(
        source="district",
        queryset=District.objects.all(),
        required=False,
        help_text=(
            "Set from the object's school when it has one. For district-level objects, needed only when "
            "you belong to several districts. Cannot be changed."
        ),
    )
    identifiers = RosterIdentifierSerializer(many=True, required=False, max_length=MAX_IDENTIFIERS)
    properties = serializers.DictField(
        child=serializers.JSONField(), required=False, help_text="Free-form, non-standard properties."
    )

    # The related fields that decide the district, in order of preference.
    district_anchors: tuple[str, ...] = ()

    base_fields = ("id", "district_id", "identifiers", "properties", "created_date", "updated_date")

    class Meta:
        validators: list = []  # uniqueness is checked by the model (full_clean) inside the service

    def build_standard_field(self, field_name, model_field):
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        # A required text field must not be blank: say so in the schema, not only at run time.
        if issubclass(field_class, serializers.CharField) and not kwargs.get("allow_blank", False):
            kwargs.setdefault("min_length", 1)
        return field_class, kwargs

    def validate(self, attrs):
        attrs = super().validate(attrs)
        given = attrs.get("district")
        if self.instance is not None:
            if given is not None and given.pk != self.instance.district_id:
                raise serializers.ValidationError({"district_id": ["The district of an object cannot be changed."]})
            attrs.pop("district", None)
            return attrs
        attrs["district"] = self._resolve_district(attrs, given)
        return attrs

    def _resolve_district(self, attrs, given: District | None) -> District:
        for name in self.district_anchors:
            anchor = attrs.get(name)
            if anchor is None:
                continue
            if given is not None and given.pk != anchor.district_id:
                raise serializers.ValidationError(
                    {"district_id": [f"This is not the district of the given {name.replace('_', ' ')}."]}
                )
            return anchor.district
        if given is not None:
            return given
        request = self.context.get("request")
        districts = list(District.objects.for_user(getattr(request, "user", None))[:2])
        if len(districts) == 1:
            return districts[0]
        if not districts:
            raise serializers.ValidationError({"district_id": ["You are not a member of any district."]})
        raise serializers.ValidationError(
            {"district_id": ["This field is required: you have access to several districts."]}
        )

    def create(self, validated_data):  # pragma: no cover - guarded: views call the services
        raise NotImplementedError("Roster objects are created by rostering.services, not by serializers.")

    def update(self, instance, validated_data):  # pragma: no cover - guarded: views call the services
        raise NotImplementedError("Roster objects are changed by rostering.services, not by serializers.")


class ReadOnlyDistrictMixin(serializers.Serializer):
    """For objects whose district always comes from a required relation."""

    district_id = serializers.UUIDField(read_only=True)


class DistrictSerializer(serializers.ModelSerializer):
    """A district (tenant) you are a member of. Read-only through the API."""

    identifiers = RosterIdentifierSerializer(many=True, read_only=True)
    properties = serializers.DictField(child=serializers.JSONField(), read_only=True)

    class Meta:
        model = District
        fields = ("id", "name", "time_zone", "locale", "identifiers", "properties", "created_date", "updated_date")
        read_only_fields = fields


class SchoolSerializer(RosterObjectSerializer):
    """A school of a district. Its `code` is unique in the district (stored upper-case)."""

    grade_codes = serializers.ListField(
        child=serializers.ChoiceField(choices=GradeLevelCode.choices),
        required=False,
        max_length=len(GradeLevelCode.choices),
        help_text="Grade codes the school teaches (CEDS / OneRoster).",
    )

    class Meta(RosterObjectSerializer.Meta):
        model = School
        fields = (*RosterObjectSerializer.base_fields, "name", "code", "address", "phone", "grade_codes")


class AcademicSessionBriefSerializer(serializers.ModelSerializer):
    """A session inside another one (a term of a school year)."""

    class Meta:
        model = AcademicSession
        fields = ("id", "name", "type", "state", "start_date", "end_date")
        read_only_fields = fields


class AcademicSessionTermSerializer(serializers.Serializer):
    """A term (or semester, grading period) created together with its school year."""

    name = serializers.CharField(min_length=1, max_length=200)
    type = serializers.ChoiceField(choices=SessionType.choices, default=SessionType.TERM)
    state = serializers.ChoiceField(choices=SessionState.choices, required=False)
    start_date = serializers.DateField()
    end_date = serializers.DateField()


class AcademicSessionSerializer(RosterObjectSerializer):
    """A school year, semester, term or grading period; district-wide or for one school."""

    school_id = ScopedRelatedIdField(
        source="school", queryset=School.objects.all(), required=False, allow_null=True,
        help_text="Empty for a district-wide session.",
    )
    parent_id = ScopedRelatedIdField(
        source="parent", queryset=AcademicSession.objects.all(), required=False, allow_null=True,
        help_text="The school year (or semester) a term belongs to.",
    )
    children = AcademicSessionBriefSerializer(many=True, read_only=True, help_text="Terms inside this session.")
    terms = AcademicSessionTermSerializer(
        many=True, write_only=True, required=False, max_length=MAX_TERMS,
        help_text="Only when creating a school year: its terms, created in the same transaction.",
    )

    district_anchors = ("school", "parent")

    class Meta(RosterObjectSerializer.Meta):
        model = AcademicSession
        fields = (
            *RosterObjectSerializer.base_fields,
            "school_id", "name", "type", "state", "start_date", "end_date", "parent_id", "children", "terms",
        )

    def validate(self, attrs):
        terms = attrs.get("terms")
        if terms is not None:
            if self.instance is not None:
                raise serializers.ValidationError({"terms": ["Terms can only be given when creating a school year."]})
            if attrs.get("type", SessionType.SCHOOL_YEAR) != SessionType.SCHOOL_YEAR:
                raise serializers.ValidationError({"terms": ["Only a school year can be created with terms."]})
        return super().validate(attrs)


class GradeLevelSerializer(RosterObjectSerializer):
    """A grade (CEDS / OneRoster code plus a display name), district-wide or for one school."""

    school_id = ScopedRelatedIdField(
        source="school", queryset=School.objects.all(), required=False, allow_null=True,
        help_text="Empty for a grade level used district-wide.",
    )

    district_anchors = ("school",)

    class Meta(RosterObjectSerializer.Meta):
        model = GradeLevel
        fields = (*RosterObjectSerializer.base_fields, "school_id", "code", "name", "rank")
        extra_kwargs = {"rank": {"min_value": 0, "max_value": MAX_SMALL_INT}}


class SubjectSerializer(RosterObjectSerializer):
    """A subject taught in the district. Its `code` is unique in the district."""

    class Meta(RosterObjectSerializer.Meta):
        model = Subject
        fields = (*RosterObjectSerializer.base_fields, "code", "name")


class ClassDivisionSerializer(ReadOnlyDistrictMixin, RosterObjectSerializer):
    """A class group students are enrolled in ("6A"), in one school and grade."""

    school_id = ScopedRelatedIdField(source="school", queryset=School.objects.all())
    grade_level_id = ScopedRelatedIdField(source="grade_level", queryset=GradeLevel.objects.all())
    academic_session_id = ScopedRelatedIdField(
        source="academic_session", queryset=AcademicSession.objects.all(), required=False, allow_null=True
    )
    school_name = serializers.CharField(source="school.name", read_only=True)
    grade_level_name = serializers.CharField(source="grade_level.name", read_only=True)

    district_anchors = ("school",)

    class Meta(RosterObjectSerializer.Meta):
        model = ClassDivision
        fields = (
            *RosterObjectSerializer.base_fields,
            "school_id", "school_name", "grade_level_id", "grade_level_name", "academic_session_id", "name",
            "capacity",
        )
        extra_kwargs = {"capacity": {"min_value": 0, "max_value": MAX_INT}}


class PersonSerializer(RosterObjectSerializer):
    """A student, teacher, guardian or staff member. `sis_id` is unique in the district."""

    school_id = ScopedRelatedIdField(
        source="school", queryset=School.objects.all(), required=False, allow_null=True,
        help_text="The person's primary school (empty for district-level people).",
    )
    grade_level_id = ScopedRelatedIdField(
        source="grade_level", queryset=GradeLevel.objects.all(), required=False, allow_null=True,
        help_text="Current grade (students).",
    )
    full_name = serializers.CharField(read_only=True)

    district_anchors = ("school", "grade_level")

    class Meta(RosterObjectSerializer.Meta):
        model = Person
        fields = (
            *RosterObjectSerializer.base_fields,
            "role", "school_id", "given_name", "middle_name", "family_name", "full_name", "sis_id", "email",
            "phone", "date_of_birth", "gender", "grade_level_id",
        )


class EnrollmentSerializer(ReadOnlyDistrictMixin, RosterObjectSerializer):
    """A person in a class division, as a student, teacher, teaching assistant or aide."""

    person_id = ScopedRelatedIdField(source="person", queryset=Person.objects.all())
    class_division_id = ScopedRelatedIdField(source="class_division", queryset=ClassDivision.objects.all())
    subject_id = ScopedRelatedIdField(
        source="subject", queryset=Subject.objects.all(), required=False, allow_null=True
    )
    academic_session_id = ScopedRelatedIdField(
        source="academic_session", queryset=AcademicSession.objects.all(), required=False, allow_null=True
    )
    person_name = serializers.CharField(source="person.full_name", read_only=True)
    class_division_name = serializers.CharField(source="class_division.name", read_only=True)

    district_anchors = ("class_division",)

    class Meta(RosterObjectSerializer.Meta):
        model = Enrollment
        fields = (
            *RosterObjectSerializer.base_fields,
            "person_id", "person_name", "class_division_id", "class_division_name", "role", "subject_id",
            "academic_session_id", "start_date", "end_date", "primary",
        )
