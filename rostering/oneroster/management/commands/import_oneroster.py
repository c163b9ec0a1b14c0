"""``manage.py import_oneroster PATH --district DISTRICT``: import a OneRoster package from a terminal.

PATH is a zip or a folder of CSV files. A progress bar goes to stderr, the report to stdout; the exit
status is 1 when rows were rejected (2 when the package could not be read at all).
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from rostering.oneroster.management.commands._common import find_district, find_school
from rostering.oneroster.services import import_run_execute, import_run_from_path


class Command(BaseCommand):
    help = "Import a OneRoster 1.1/1.2 CSV package (zip or folder) into a district."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--district", required=True, help="District id or exact name.")
        parser.add_argument("--school", help="Only this school (code or id): rows outside it are rejected.")
        parser.add_argument("--dry-run", action="store_true", help="Check and count, write nothing.")
        parser.add_argument("--all-or-nothing", action="store_true", help="Apply nothing when any row is rejected.")

    def handle(self, *args, **options):
        path = Path(options["path"])
        if not path.exists():
            raise CommandError(f"{path} does not exist.")
        district = find_district(options["district"])
        school = find_school(district, options.get("school"))
        run = import_run_from_path(district=district, path=path, school=school, dry_run=options["dry_run"],
                                   all_or_nothing=options["all_or_nothing"])
        tty = sys.stderr.isatty()
        state = {"last": -1}

        def progress(phase, done, total):
            pct = int(done * 100 / total) if total else 0
            if pct == state["last"] and phase != "Done":
                return
            state["last"] = pct
            bar = "#" * (pct // 4) + "-" * (25 - pct // 4)
            end = "\r" if tty and phase != "Done" else "\n"
            if tty or phase == "Done" or pct % 25 == 0:
                self.stderr.write(f"{phase:<9} [{bar}] {pct:3d}%", ending=end)

        report = import_run_execute(run=run, progress=progress)
        out = self.stdout
        mode = " (dry run: nothing written)" if report.dry_run else ("" if report.applied else " (nothing applied)")
        out.write(f"OneRoster {report.version or '?'} import into {district.name}{mode}")
        out.write(f"{'file':<18}{'created':>9}{'updated':>9}{'unchanged':>11}{'deleted':>9}{'rejected':>10}")
        for file, c in report.counts.items():
            out.write(f"{file + '.csv':<18}{c['created']:>9}{c['updated']:>9}{c['unchanged']:>11}{c['deleted']:>9}{c['rejected']:>10}")
        for r in report.rejections:
            where = f"{r.file}:{r.line}" + (f" {r.column}" if r.column else "")
            out.write(f"REJECTED {where}: {r.reason}" + (f" [{r.sourced_id}]" if r.sourced_id else ""))
        out.write(f"Report: import run {run.pk}")
        if report.fatal:
            sys.exit(2)
        if report.rejections:
            sys.exit(1)
