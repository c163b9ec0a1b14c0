"""``manage.py export_oneroster PATH --district DISTRICT``: write the roster as a OneRoster 1.2.1 bulk zip."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from rostering.oneroster.management.commands._common import find_district, find_school
from rostering.oneroster.services import export_roster


class Command(BaseCommand):
    help = "Export a district's (or one school's) roster as a OneRoster 1.2.1 bulk CSV zip."

    def add_arguments(self, parser):
        parser.add_argument("path", help="The zip to write.")
        parser.add_argument("--district", required=True, help="District id or exact name.")
        parser.add_argument("--school", help="Only this school (code or id).")

    def handle(self, *args, **options):
        district = find_district(options["district"])
        school = find_school(district, options.get("school"))
        run = export_roster(district=district, school=school, path=options["path"])
        counts = {k: v for k, v in run.counts.items() if k != "skipped"}
        self.stdout.write(f"Wrote {options['path']}: " + ", ".join(f"{n} {name}" for name, n in counts.items()))
        for line in run.counts.get("skipped", []):
            self.stderr.write(f"skipped {line}")
