"""Serializer fields on the bounded decoder (``jsonio``)."""

from __future__ import annotations

from rest_framework import serializers

from rostering.common.jsonio import DEFAULT_MAX_BYTES, JSONInputError, check_value, decode


class BoundedJSONField(serializers.JSONField):
    """DRF's ``JSONField`` whose string input (HTML forms, ``binary=True``) goes through the bounded decoder,
    and whose already-decoded input is checked for depth and NUL the same way."""

    max_bytes = DEFAULT_MAX_BYTES

    def to_internal_value(self, data):
        try:
            if self.binary or getattr(data, "is_json_string", False):
                return decode(data, max_bytes=self.max_bytes, field=self.field_name)
            check_value(data, field=self.field_name)
        except JSONInputError as exc:
            raise serializers.ValidationError(exc.message) from None
        return super().to_internal_value(data)


class ScopedRelatedIdField(serializers.PrimaryKeyRelatedField):
    """A related id (``school_id``, ``classDivisionId`` …) whose choices are the objects the requesting user
    can see (``Model.objects.for_user``).

    An unknown id, another district's id and an id outside the user's schools get the same 400; a value that
    is not a UUID string is a 400 of its own ("Must be a valid UUID.").
    """

    default_error_messages = {
        "does_not_exist": 'Invalid pk "{pk_value}": no {model} with this id that you can see.',
        "incorrect_type": "Must be a valid UUID string.",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("pk_field", serializers.UUIDField())
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return super().get_queryset().for_user(getattr(request, "user", None))

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, str):
            self.fail("incorrect_type")
        pk = self.pk_field.to_internal_value(data)
        queryset = self.get_queryset()
        try:
            return queryset.get(pk=pk)
        except queryset.model.DoesNotExist:
            self.fail("does_not_exist", model=queryset.model._meta.verbose_name, pk_value=data)
