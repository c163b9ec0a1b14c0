"""Staff pages of a session's access codes: generate (in the request, or in the task worker above
``CODE_GENERATION_TASK_THRESHOLD``), revoke, printable slips with QR codes, and the CSV export."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from registrations.exports import access_codes_csv_response
from registrations.forms import CodeFilterForm, CodeGenerateForm, apply_service_errors
from registrations.models import AccessCode
from registrations.selectors import access_code_list, printable_codes
from registrations.services.codes import (
    CODE_GENERATION_TASK_THRESHOLD,
    access_code_revoke,
    access_codes_generate,
    access_codes_generate_later,
    access_codes_generation_size,
)
from registrations.views.sessions import detail_context, detail_url, get_session, register_url, require_manage
from rostering.common.errors import ApplicationError
from rostering.common.http import safe_next

SLIPS_PER_SHEET = 8
SLIPS_PER_PAGE = 400  # 50 A4 sheets per print page


@login_required
@require_POST
def code_generate(request: HttpRequest, pk) -> HttpResponse:
    session = get_session(request, pk)
    require_manage(request.user, session)
    form = CodeGenerateForm(request.POST, session=session)
    if form.is_valid():
        options = form.service_kwargs()
        size = access_codes_generation_size(
            session=session, count=options["count"], assign_from_class_roster=options["assign_from_class_roster"]
        )
        try:
            if size > CODE_GENERATION_TASK_THRESHOLD:
                generation = access_codes_generate_later(session=session, actor=request.user, **options)
            else:
                result = access_codes_generate(session=session, actor=request.user, **options)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect(detail_url(session, "codes"))
        else:
            kind = "roster-assigned" if form.cleaned_data["assign_from_class_roster"] else "open"
            if size > CODE_GENERATION_TASK_THRESHOLD:
                messages.info(request, f"Generating {generation.total:,} {kind} codes in the background: the "
                                       "progress is shown above, and the codes appear together when it is done.")
                return redirect(detail_url(session, "codes"))
            count = len(result.codes)
            messages.success(request, f"Generated {count:,} {kind} code{'s' if count != 1 else ''}.")
            for warning in result.warnings:
                messages.warning(request, warning)
            return redirect(detail_url(session, "codes", batch=result.print_batch_id, new=1))
    context = detail_context(request, session, "codes", generate_form=form)
    return render(request, "registrations/session_detail.html", context, status=400)


@login_required
@require_POST
def code_revoke(request: HttpRequest, pk, code_pk) -> HttpResponse:
    session = get_session(request, pk)
    code = get_object_or_404(AccessCode.objects.filter(session=session), pk=code_pk)
    try:
        code = access_code_revoke(code=code, actor=request.user, reason=request.POST.get("reason", "")[:1000])
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Code {code.display_code} revoked: it can no longer be used.")
    return redirect(safe_next(request, detail_url(session, "codes")))


@dataclass
class Slip:
    code: AccessCode
    qr_svg: str
    url: str


def _qr_svg(url: str, label: str) -> str:
    qr = segno.make(url, error="m", micro=False)
    return mark_safe(qr.svg_inline(scale=1, border=2, omitsize=True, svgclass="qr", title=label))



@login_required
@require_GET
def codes_print(request: HttpRequest, pk) -> HttpResponse:
    """Printable slips, 8 per A4 sheet: school, session, code, hint, the /register address and a QR code."""
    session = get_session(request, pk)
    require_manage(request.user, session)
    batch = None
    if request.GET.get("batch"):
        try:
            batch = uuid.UUID(request.GET["batch"])
        except ValueError:
            raise Http404("No such print batch.") from None
    codes = printable_codes(session=session, batch=batch).order_by(F("display_name_hint").asc(), "code")
    page = Paginator(codes, SLIPS_PER_PAGE).get_page(request.GET.get("page"))
    address = register_url(request)
    slips = []
    for code in page.object_list:
        url = f"{address}?code={code.code}"
        slips.append(Slip(code=code, qr_svg=_qr_svg(url, f"QR code for {code.display_code}"), url=url))
    sheets = [slips[i : i + SLIPS_PER_SHEET] for i in range(0, len(slips), SLIPS_PER_SHEET)]
    return render(request, "registrations/codes_print.html", {
        "session": session,
        "sheets": sheets,
        "page": page,
        "batch": batch,
        "register_url": address,
        "register_display": address.split("://", 1)[-1],
    })


@login_required
@require_GET
def codes_export(request: HttpRequest, pk) -> HttpResponse:
    session = get_session(request, pk)
    require_manage(request.user, session)
    filters = CodeFilterForm(request.GET).filters()
    return access_codes_csv_response(
        session=session, codes=access_code_list(session=session, filters=filters), register_url=register_url(request)
    )

