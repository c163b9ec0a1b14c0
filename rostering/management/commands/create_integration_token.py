"""``manage.py create_integration_token DISTRICT [--name NAME]``: issue a district's Graph API token.

DISTRICT is the district's id or its name (case-insensitive, exact). The token is printed alone on the last
line (for scripts: ``TOKEN=$(manage.py create_integration_token Harare | tail -n 1)``); only its hash is kept.
"""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from rostering.models import District
from rostering.services import integration_token_create


class Command(BaseCommand):
    help = "Issue an integration token for a district's Edlink-compatible Graph API (/api/v2/graph/)."

    def add_arguments(self, parser):
        parser.add_argument("district", help="The district's id or name.")
        parser.add_argument("--name", default="Command line", help="Which integration will use the token.")

    def handle(self, *args, district: str, name: str, **options):
        target = self._district(district)
        try:
            token, raw = integration_token_create(district=target, name=name)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(f"Integration token “{token.name}” for {target.name} ({target.pk}). "
                          "Copy it now: it is not stored and will not be shown again.")
        self.stdout.write(raw)

    def _district(self, text: str) -> District:
        text = text.strip()
        try:
            by_id = District.objects.filter(pk=uuid.UUID(text)).first()
        except ValueError:
            by_id = None
        if by_id is not None:
            return by_id
        matches = list(District.objects.filter(name__iexact=text)[:2])
        if not matches:
            raise CommandError(f"No district with the id or name {text!r}.")
        if len(matches) > 1:
            raise CommandError(f"Several districts are called {text!r}: give the id instead.")
        return matches[0]
