"""OpenAPI details of the seed's API that drf-spectacular's defaults would get wrong.

``session_type`` is documented as its own enum component, ``SessionSetupTypeEnum``: left to the enum hook it
would be named ``SessionTypeEnum``, the name the roster's Edlink session types already hold.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import serializers

from session_setup.choices import SetupSessionType


class SessionTypeField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=SetupSessionType.choices, **kwargs)


class SessionTypeFieldExtension(OpenApiSerializerFieldExtension):
    target_class = SessionTypeField

    def map_serializer_field(self, auto_schema, direction):
        component = ResolvedComponent(
            name="SessionSetupTypeEnum",
            type=ResolvedComponent.SCHEMA,
            object="SessionSetupTypeEnum",
            schema={
                "enum": list(SetupSessionType.values),
                "type": "string",
                "description": "\n".join(f"* `{value}` - {label}" for value, label in SetupSessionType.choices),
            },
        )
        auto_schema.registry.register_on_missing(component)
        return component.ref
