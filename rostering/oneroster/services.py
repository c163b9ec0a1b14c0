"""Every OneRoster write: import runs, export runs and REST clients. Keyword-only, permission-checked.

Staff pages, the management commands and the tasks all call these.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.tasks import task
from django.utils import timezone
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import Application

from rostering.choices import MembershipRole
from rostering.common.errors import ApplicationError
from rostering.models import District, School
from rostering.oneroster.exporter import Exporter
from rostering.oneroster.importer import Importer, Report
from rostering.oneroster.models import ApiClient, ExportRun, ImportRejection, ImportRun, RunStatus
from rostering.permissions import Perm, grants_for, require_perm

log = logging.getLogger(__name__)


def storage_dir() -> Path:
    path = Path(settings.ONEROSTER["STORAGE_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def _check_import_scope(actor, district: District, school: School | None) -> None:
    if actor is None:  # management commands run as the operator
        return
    require_perm(actor, Perm.ROSTER_CHANGE, district_id=district.pk, school_id=school.pk if school else None)


# --- imports -------------------------------------------------------------------------------------


def import_run_create(*, actor, district: District, source_name: str, files: list, school: School | None = None,
                      all_or_nothing: bool = False, dry_run: bool = False) -> ImportRun:
    """Keep the uploaded package (one zip, or CSV files) and queue its import.

    ``files`` are Django uploaded files (or anything with ``name`` and ``chunks()``).
    """
    if school is not None and school.district_id != district.pk:
        raise ValidationError({"school": "The school belongs to another district."})
    _check_import_scope(actor, district, school)
    if not files:
        raise ValidationError({"package": "Choose a OneRoster zip or its CSV files."})
    limit = settings.ONEROSTER["MAX_UPLOAD_BYTES"]
    if sum(getattr(f, "size", 0) or 0 for f in files) > limit:
        raise ValidationError({"package": f"The upload is larger than {limit // (1024 * 1024)} MB."})
    zips = [f for f in files if f.name.lower().endswith(".zip")]
    if zips and len(files) > 1:
        raise ValidationError({"package": "Upload one zip, or the CSV files without a zip."})
    if not zips and not all(f.name.lower().endswith(".csv") for f in files):
        raise ValidationError({"package": "Upload a .zip package or .csv files."})
    run = ImportRun(district=district, school=school, created_by=actor if getattr(actor, "pk", None) else None,
                    source_name=source_name[:255], all_or_nothing=all_or_nothing, dry_run=dry_run)
    run.full_clean()
    run.save()
    folder = storage_dir() / "imports" / str(district.pk)
    folder.mkdir(parents=True, exist_ok=True)
    if zips:
        target = folder / f"{run.pk}.zip"
        with open(target, "wb") as out:
            for chunk in zips[0].chunks():
                out.write(chunk)
    else:
        target = folder / str(run.pk)
        target.mkdir()
        for f in files:
            name = Path(f.name).name
            with open(target / name, "wb") as out:
                for chunk in f.chunks():
                    out.write(chunk)
    run.package_path = str(target)
    run.save(update_fields=["package_path"])
    transaction.on_commit(lambda: import_oneroster_task.enqueue(run_id=str(run.pk)))
    return run


def import_run_from_path(*, district: District, path: str | Path, school: School | None = None, all_or_nothing: bool = False,
                         dry_run: bool = False) -> ImportRun:
    """An import run over a package already on disk (the management command)."""
    path = Path(path)
    run = ImportRun(district=district, school=school, source_name=path.name[:255], package_path=str(path),
                    all_or_nothing=all_or_nothing, dry_run=dry_run)
    run.full_clean()
    run.save()
    return run


def import_run_execute(*, run: ImportRun, progress=None) -> Report:
    """Run the import of ``run`` now (in the task worker or a terminal) and store its report."""
    claimed = ImportRun.objects.filter(pk=run.pk, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING, started_at=timezone.now(), phase="Checking")
    if not claimed:
        raise ApplicationError("This import has already run.", code="already_run")
    last = {"t": 0.0}

    def on_progress(phase: str, done: int, total: int) -> None:
        now = timezone.now().timestamp()
        if phase == "Done" or now - last["t"] > 0.5:
            last["t"] = now
            ImportRun.objects.filter(pk=run.pk).update(phase=phase, progress_done=min(done, total), progress_total=total)
        if progress:
            progress(phase, done, total)

    try:
        report = Importer(district=run.district, path=run.package_path, school=run.school, all_or_nothing=run.all_or_nothing,
                          dry_run=run.dry_run, progress=on_progress).run()
    except Exception as exc:  # the run is marked failed and the error kept; nothing was applied (one transaction)
        log.exception("OneRoster import %s failed", run.pk)
        ImportRun.objects.filter(pk=run.pk).update(status=RunStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000],
                                                   finished_at=timezone.now(), phase="Failed")
        run.refresh_from_db()
        raise
    with transaction.atomic():
        ImportRejection.objects.filter(run=run).delete()
        ImportRejection.objects.bulk_create(
            [ImportRejection(run=run, file=r.file[:64], line=r.line, column=r.column[:64], sourced_id=r.sourced_id[:255],
                             code=r.code[:64], reason=r.reason[:500]) for r in report.rejections], batch_size=2000)
        status = RunStatus.FAILED if report.fatal else (RunStatus.REJECTED if report.rejections else RunStatus.SUCCEEDED)
        ImportRun.objects.filter(pk=run.pk).update(
            status=status, counts=report.counts, rejected_count=report.rejected, applied=report.applied,
            version=report.version[:8], error=report.fatal[:2000], finished_at=timezone.now(), phase="Done")
    run.refresh_from_db()
    run_files_delete(run=run)  # an uploaded package is not kept once its report is (a path given to the command is)
    return report


# --- exports -------------------------------------------------------------------------------------


def export_run_create(*, actor, district: District, school: School | None = None) -> ExportRun:
    if actor is not None:
        require_perm(actor, Perm.ROSTER_VIEW, district_id=district.pk, school_id=school.pk if school else None)
    if school is not None and school.district_id != district.pk:
        raise ValidationError({"school": "The school belongs to another district."})
    run = ExportRun(district=district, school=school, created_by=actor if getattr(actor, "pk", None) else None)
    run.full_clean()
    run.save()
    transaction.on_commit(lambda: export_oneroster_task.enqueue(run_id=str(run.pk)))
    return run


def export_run_execute(*, run: ExportRun, path: str | Path | None = None) -> ExportRun:
    target = Path(path) if path else storage_dir() / "exports" / str(run.district_id) / f"{run.pk}.zip"
    ExportRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING)
    try:
        exporter = Exporter(district=run.district, school=run.school)
        counts = exporter.write(target)
    except Exception as exc:
        log.exception("OneRoster export %s failed", run.pk)
        ExportRun.objects.filter(pk=run.pk).update(status=RunStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000],
                                                   finished_at=timezone.now())
        run.refresh_from_db()
        raise
    ExportRun.objects.filter(pk=run.pk).update(status=RunStatus.SUCCEEDED, file_path=str(target),
                                               counts={**counts, "skipped": exporter.skipped[:50]}, finished_at=timezone.now())
    run.refresh_from_db()
    return run


def export_roster(*, district: District, path: str | Path, school: School | None = None) -> ExportRun:
    """Export now, to ``path`` (the management command)."""
    run = ExportRun(district=district, school=school)
    run.save()
    return export_run_execute(run=run, path=path)


def run_files_delete(*, run: ImportRun) -> None:
    """Remove the upload of ``run`` from our storage; anything outside it (a command's own file) is left alone."""
    path = Path(run.package_path) if run.package_path else None
    if path and path.is_relative_to(storage_dir()):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


# --- REST clients (OAuth 2 client credentials) ------------------------------------------------------


def client_district_ids(user) -> set:
    """Districts whose OneRoster clients the user manages: district-wide district admins."""
    return {g.district_id for g in grants_for(user) if g.tenant_wide and g.role == MembershipRole.DISTRICT_ADMIN}


def require_client_manager(user, district: District) -> None:
    if user is None:
        return
    if not (user.is_superuser or district.pk in client_district_ids(user)):
        raise PermissionDenied("Only a district admin manages OneRoster clients.")


@transaction.atomic
def api_client_create(*, actor, district: District, name: str, demographics: bool = False) -> tuple[ApiClient, str]:
    """A new client of ``district``. Returns it and its secret (stored hashed: shown this once)."""
    require_client_manager(actor, district)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the client a name."})
    secret = generate_client_secret()
    app = Application(name=f"OneRoster: {name}"[:255], client_type=Application.CLIENT_CONFIDENTIAL,
                      authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS, client_secret=secret,
                      hash_client_secret=True, skip_authorization=True)
    app.full_clean()
    app.save()
    client = ApiClient(district=district, application=app, name=name[:100], demographics=demographics,
                       created_by=actor if getattr(actor, "pk", None) else None)
    client.full_clean()
    client.save()
    return client, secret


@transaction.atomic
def api_client_revoke(*, actor, client: ApiClient) -> ApiClient:
    """Refuse the client from now on: its tokens are deleted and no new one is issued."""
    require_client_manager(actor, client.district)
    client = ApiClient.objects.select_for_update().get(pk=client.pk)
    if client.revoked_at is None:
        client.revoked_at = timezone.now()
        client.save(update_fields=["revoked_at"])
        app = client.application
        app.accesstoken_set.all().delete()
        app.authorization_grant_type = Application.GRANT_CLIENT_CREDENTIALS
        # a fresh random secret that nobody knows: the old one stops working at once
        app.client_secret = generate_client_secret()
        app.save()
    return client


# --- the worker's side (``django.tasks``): each task runs one stored run --------------------------------------


@task
def import_oneroster_task(*, run_id: str) -> str:
    run = ImportRun.objects.select_related("district", "school").get(pk=run_id)
    import_run_execute(run=run)
    return run_id


@task
def export_oneroster_task(*, run_id: str) -> str:
    run = ExportRun.objects.select_related("district", "school").get(pk=run_id)
    export_run_execute(run=run)
    return run_id
