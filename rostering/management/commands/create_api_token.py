"""``manage.py create_api_token <username> --name "…" [--expires-in-days N]``: print a new raw token once."""

import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from rostering.services import api_token_create


class Command(BaseCommand):
    help = (
        "Create a staff API token for a user and print it. Only its hash is stored: "
        "the token is shown this once. Use it as 'Authorization: Bearer <token>'."
    )

    def add_arguments(self, parser):
        parser.add_argument("username", help="The user the token acts as.")
        parser.add_argument("--name", default="Command-line token", help="What the token is for.")
        parser.add_argument(
            "--expires-in-days", type=int, default=None, metavar="N",
            help="Make the token expire after N days (default: never; revoke it under Account → API tokens).",
        )

    def handle(self, *args, username, name, expires_in_days, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named '{username}'.")
        if not user.is_active:
            raise CommandError(f"User '{username}' is inactive: an inactive user's tokens are refused.")
        expires_at = None
        if expires_in_days is not None:
            if expires_in_days < 1:
                raise CommandError("--expires-in-days must be at least 1.")
            expires_at = timezone.now() + datetime.timedelta(days=expires_in_days)
        try:
            token, raw = api_token_create(user=user, name=name, expires_at=expires_at)
        except (ValidationError, PermissionDenied) as exc:
            raise CommandError("; ".join(getattr(exc, "messages", [str(exc)]))) from exc
        self.stderr.write(
            f"Token '{token.name}' created for {user.get_username()}"
            + (f", expires {token.expires_at:%Y-%m-%d %H:%M %Z}" if token.expires_at else "")
            + ". Copy it now: it will not be shown again."
        )
        self.stdout.write(raw)
