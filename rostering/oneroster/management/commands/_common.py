"""What the OneRoster commands share: finding the district (and school) named on the command line."""

from __future__ import annotations

import uuid

from django.core.management.base import CommandError

from rostering.models import District, School


def find_district(value: str) -> District:
    try:
        return District.objects.get(pk=uuid.UUID(value))
    except (ValueError, District.DoesNotExist):
        pass
    matches = list(District.objects.filter(name__iexact=value.strip())[:2])
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise CommandError(f"More than one district is named {value!r}: give its id.")
    raise CommandError(f"No district {value!r} (give its id or its exact name).")


def find_school(district: District, value: str | None) -> School | None:
    if not value:
        return None
    school = School.objects.filter(district=district, code__iexact=value.strip()).first()
    if school is None:
        try:
            school = School.objects.filter(district=district, pk=uuid.UUID(value)).first()
        except ValueError:
            school = None
    if school is None:
        raise CommandError(f"No school {value!r} in {district.name} (give its code or id).")
    return school
