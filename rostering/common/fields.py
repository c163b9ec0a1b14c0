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
