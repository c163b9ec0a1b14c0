"""``manage.py create_data_api_consumer DISTRICT``: a new Data API consumer for a district (name or id).

Prints exactly two lines, ``consumer_key: <key>`` and ``consumer_secret: <secret>``. The secret is stored
encrypted and never shown again (rotate it on the Consumers page or in admin to get a new one).
"""

from __future__ import annotations

import contextlib
import uuid

from django.core.management.base import BaseCommand, CommandError

from assessments.services import consumer_create
from rostering.models import District


class Command(BaseCommand):
    help = "Create a Learnosity-compatible Data API consumer for a district (its name or id)."

    def add_arguments(self, parser):
        parser.add_argument("district", help="The district's name or id.")
        parser.add_argument("--name", default="", help="A label for the consumer (e.g. 'Data warehouse').")
        parser.add_argument("--domain", action="append", default=[], help="An allowed domain (repeatable; none: any).")

    def handle(self, *args, district: str, name: str, domain: list[str], **options):
        found = None
        with contextlib.suppress(ValueError):
            found = District.objects.filter(pk=uuid.UUID(district)).first()
        if found is None:
            matches = list(District.objects.filter(name__iexact=district.strip())[:2])
            if len(matches) > 1:
                raise CommandError(f"More than one district is called {district!r}: give its id.")
            found = matches[0] if matches else None
        if found is None:
            raise CommandError(f"No district {district!r} (give its exact name or its id).")
        issued = consumer_create(district=found, name=name, allowed_domains=domain, actor=None)
        self.stdout.write(f"consumer_key: {issued.consumer.consumer_key}")
        self.stdout.write(f"consumer_secret: {issued.secret}")
