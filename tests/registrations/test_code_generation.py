"""Code generation at scale: above the threshold the staff page queues a task (``django.tasks``) and returns at
once; the task makes every code in one transaction, reports its progress, and a failure leaves no code."""

from __future__ import annotations

import functools

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from registrations.choices import GenerationStatus, RegistrationMode
from registrations.models import AccessCode, CodeGeneration, CodeGenerationStatusChange
from registrations.services import codes as code_services
from registrations.services.sessions import registration_session_create
from registrations.views import codes as code_views


def _session(world):
    return registration_session_create(actor=world.registrar, school=world.school_a,
                                       mode=RegistrationMode.STUDENT_INTAKE, title="Big intake")


def _generate(client, session, count):
    return client.post(reverse("registrations:code_generate", args=[session.pk]),
                       {"count": count, "format": "secure"})


def test_a_large_batch_runs_in_the_task_worker(world, client_for, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(code_views, "CODE_GENERATION_TASK_THRESHOLD", 3)
    session = _session(world)
    client = client_for(world.registrar)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = _generate(client, session, 7)
    assert response.status_code == 302  # the request returns at once: nothing made yet
    generation = CodeGeneration.objects.get(session=session)
    assert generation.status == GenerationStatus.QUEUED and generation.total == 7
    assert not AccessCode.objects.filter(session=session).exists()
    panel = client.get(reverse("registrations:session_progress", args=[session.pk]), HTTP_HX_REQUEST="true",
                       HTTP_HX_CURRENT_URL="http://testserver" + reverse("registrations:session_detail",
                                                                         args=[session.pk]))
    assert "Waiting for the task worker" in panel.text
    assert 'id="tab-count-codes" hx-swap-oob="true">0<' in panel.text  # the tab counters refresh with it
    for callback in queued:  # the worker's turn (the immediate backend runs the task here)
        callback()
    generation.refresh_from_db()
    assert generation.status == GenerationStatus.COMPLETED and generation.done == 7
    assert AccessCode.objects.filter(session=session, print_batch=generation.print_batch).count() == 7
    steps = list(CodeGenerationStatusChange.objects.filter(generation=generation).order_by("created_at", "id")
                 .values_list("from_status", "to_status"))
    assert steps == [("", "queued"), ("queued", "running"), ("running", "completed")]
    panel = client.get(reverse("registrations:session_progress", args=[session.pk]), HTTP_HX_REQUEST="true",
                       HTTP_HX_CURRENT_URL="http://testserver" + reverse("registrations:session_detail",
                                                                         args=[session.pk]))
    assert "Generated 7 codes" in panel.text and 'hx-swap-oob="true">7<' in panel.text


def test_a_small_batch_is_made_in_the_request(world, client_for):
    session = _session(world)
    response = _generate(client_for(world.registrar), session, 3)
    assert response.status_code == 302 and "new=1" in response.url
    assert AccessCode.objects.filter(session=session).count() == 3
    assert not CodeGeneration.objects.exists()


def test_a_failed_generation_leaves_no_partial_batch(world, monkeypatch):
    session = _session(world)
    monkeypatch.setattr(code_services, "_assign_unique_codes",
                        functools.partial(code_services._assign_unique_codes, batch_size=2))
    inserted = []
    original = code_services._insert_codes

    def insert(rows):
        if inserted:
            raise RuntimeError("the disk is full")
        inserted.append(len(rows))
        original(rows)

    monkeypatch.setattr(code_services, "_insert_codes", insert)
    generation = code_services.access_codes_generate_later(session=session, actor=world.registrar, count=5)
    result = code_services.code_generation_run(generation_id=generation.pk)
    assert inserted == [2]  # the first chunk went in …
    assert result.status == GenerationStatus.FAILED and "the disk is full" in result.error
    assert not AccessCode.objects.filter(session=session).exists()  # … and was rolled back with the rest


def test_options_are_refused_before_anything_is_queued(world):
    session = _session(world)
    with pytest.raises(ValidationError) as refused:
        code_services.access_codes_generate_later(session=session, actor=world.registrar, count=9, prefix="A-B")
    assert "prefix" in refused.value.message_dict
    assert not CodeGeneration.objects.exists()
