"""``manage.py create_oneroster_client DISTRICT``: OAuth 2 credentials for the OneRoster REST service.

Prints ``client_id: …``, ``client_secret: …`` (shown once: it is stored hashed) and ``token_url: …``.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.urls import reverse

from rostering.oneroster.management.commands._common import find_district
from rostering.oneroster.services import api_client_create


class Command(BaseCommand):
    help = "Create a OneRoster REST client (OAuth 2 client credentials) for a district."

    def add_arguments(self, parser):
        parser.add_argument("district", help="District id or exact name.")
        parser.add_argument("--name", default="OneRoster client", help="What the client is for.")
        parser.add_argument("--demographics", action="store_true", help="Also allow the demographics endpoints.")

    def handle(self, *args, **options):
        district = find_district(options["district"])
        client, secret = api_client_create(actor=None, district=district, name=options["name"],
                                           demographics=options["demographics"])
        self.stdout.write(f"client_id: {client.application.client_id}")
        self.stdout.write(f"client_secret: {secret}")
        self.stdout.write(f"token_url: {reverse('oneroster_token')}")
