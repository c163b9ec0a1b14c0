"""Serializer bases every API shares."""

from __future__ import annotations

from collections.abc import Mapping

from rest_framework import serializers

MAX_UNKNOWN_REPORTED = 20


class StrictInputSerializer(serializers.Serializer):
    """An input serializer that refuses keys it does not know (a typo must never be silently ignored), and says
    which of them are read-only (``read_only_hints``). It parses; services write, so it never saves."""

    read_only_hints: dict[str, str] = {}

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            writable = {name for name, f in self.fields.items() if not f.read_only}
            unknown = [key for key in data if key not in writable][:MAX_UNKNOWN_REPORTED]
            if unknown:
                raise serializers.ValidationError(
                    {key: [self.read_only_hints.get(key, "Unknown field.")] for key in unknown}
                )
        return super().to_internal_value(data)

    def create(self, validated_data):  # pragma: no cover - services write, never serializers
        raise NotImplementedError("Writes go through the services.")

    def update(self, instance, validated_data):  # pragma: no cover
        raise NotImplementedError("Writes go through the services.")
