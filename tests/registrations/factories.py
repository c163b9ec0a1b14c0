"""Factories for registration data. They write rows directly (tests of services call the services).

``RegistrationSessionFactory(school=…)`` gives a draft school-wide teacher session with the mode's defaults;
``AccessCodeFactory(session=…)`` an open unused code; ``SubmissionFactory(access_code=…)`` a draft submission
(pass ``status=`` and the code's status follows, as the review services would do it).
"""

from __future__ import annotations

import uuid

import factory

from registrations.choices import (
    CODE_STATUS_FOR_SUBMISSION,
    RegistrationMode,
    SessionStatus,
    SubmissionStatus,
)
from registrations.codes import random_codes
from registrations.models import AccessCode, RegistrationSession, SessionStatusChange, Submission
from registrations.validators import default_approval_policy, default_required_fields, default_roster_policy
from tests.rostering.factories import SchoolFactory


class RegistrationSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RegistrationSession

    school = factory.SubFactory(SchoolFactory)
    district = factory.SelfAttribute("school.district")
    mode = RegistrationMode.TEACHER_SELF_REGISTRATION
    title = factory.Sequence(lambda n: f"Registration {n}")
    description = ""
    class_division = None
    grade_level = factory.LazyAttribute(lambda o: o.class_division.grade_level if o.class_division else None)
    roster_policy = factory.LazyAttribute(lambda o: default_roster_policy(o.mode))
    required_fields = factory.LazyAttribute(lambda o: default_required_fields(o.mode))
    approval_policy = factory.LazyAttribute(lambda o: default_approval_policy(o.mode))
    status = SessionStatus.DRAFT


class SessionStatusChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SessionStatusChange

    session = factory.SubFactory(RegistrationSessionFactory)
    from_status = SessionStatus.DRAFT
    to_status = SessionStatus.OPEN


class AccessCodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccessCode

    session = factory.SubFactory(RegistrationSessionFactory)
    district = factory.SelfAttribute("session.district")
    school = factory.SelfAttribute("session.school")
    code = factory.LazyFunction(lambda: random_codes(1, 10)[0])
    print_batch = factory.LazyFunction(uuid.uuid4)
    display_name_hint = factory.LazyAttribute(lambda o: o.assigned_person.full_name if o.assigned_person else "")
    number_hint = factory.LazyAttribute(lambda o: o.assigned_person.sis_id if o.assigned_person else "")
    assigned_person = None


class SubmissionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Submission
        skip_postgeneration_save = True

    access_code = factory.SubFactory(AccessCodeFactory)
    session = factory.SelfAttribute("access_code.session")
    district = factory.SelfAttribute("access_code.district")
    person_type = factory.LazyAttribute(lambda o: o.session.person_type)
    status = SubmissionStatus.DRAFT
    payload = factory.Dict({"given_name": factory.Faker("first_name"), "family_name": factory.Faker("last_name")})

    @factory.post_generation
    def sync_code_status(obj, create, extracted, **kwargs):
        code_status = CODE_STATUS_FOR_SUBMISSION[obj.status]
        if obj.access_code.status != code_status:
            obj.access_code.status = code_status
            if create:
                obj.access_code.save(update_fields=["status"])
