"""Demo data: a Harare district with three schools, a small Bulawayo district, and one login per persona.

Idempotent: every row is looked up by a stable key (school code, session name, grade code, subject
code, class name, student/staff number, username) and only created when missing, so running the
command again changes nothing. Generated people come from random generators seeded with fixed
strings, so every run (and every machine) produces the same roster.

The work is split into one function per section (``SECTIONS``), each taking the shared ``Demo``
context. Other apps add their own demo data without ``rostering`` importing them: an installed app
with a ``demo`` module exposing ``seed(demo: Demo) -> None`` is called after the roster sections, in
``INSTALLED_APPS`` order, inside the same transaction. It can read ``demo.schools``, ``demo.years``,
``demo.classes``, ``demo.users`` … and add lines for the final summary with ``demo.note(...)``.
"""

from __future__ import annotations

import datetime
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import module_has_submodule

from rostering.choices import EnrollmentRole, Gender, MembershipRole, PersonRole, SessionState, SessionType
from rostering.models import (
    AcademicSession,
    ClassDivision,
    District,
    Enrollment,
    GradeLevel,
    Membership,
    Person,
    School,
    Subject,
)
from rostering.services import roster_object_create

SEED = "school-sessions-demo-v1"
DEMO_URL = "http://127.0.0.1:8000/"

# --- What the demo contains ----------------------------------------------------------------------

PRIMARY_GRADES = [(f"{n:02d}", f"Grade {n}", n) for n in range(1, 8)]
SECONDARY_GRADES = [
    ("08", "Form 1", 8),
    ("09", "Form 2", 9),
    ("10", "Form 3", 10),
    ("11", "Form 4", 11),
    ("12", "Lower Sixth", 12),
    ("13", "Upper Sixth", 13),
]

SUBJECTS = {
    "MATH": "Mathematics",
    "ENG": "English Language",
    "SHO": "Shona",
    "NDE": "Ndebele",
    "STE": "Science and Technology",
    "HSS": "Heritage–Social Studies",
    "SCI": "Combined Science",
    "HIS": "History",
    "GEO": "Geography",
    "ACC": "Principles of Accounting",
    "AGR": "Agriculture",
    "CSC": "Computer Science",
    "PHY": "Physics",
    "CHE": "Chemistry",
    "BIO": "Biology",
}
PRIMARY_CURRICULUM = ("MATH", "ENG", "SHO", "STE", "HSS")
PRIMARY_CURRICULUM_NDEBELE = ("MATH", "ENG", "NDE", "STE", "HSS")
O_LEVEL_CURRICULUM = ("MATH", "ENG", "SHO", "SCI", "HIS", "GEO", "ACC", "AGR")
A_LEVEL_SCIENCES = ("MATH", "PHY", "CHE", "BIO")


@dataclass(frozen=True)
class ClassSpec:
    grade_code: str
    name: str
    curriculum: tuple[str, ...]
    students: tuple[int, int]  # inclusive range of class sizes
    capacity: int = 45


@dataclass(frozen=True)
class SchoolSpec:
    code: str
    name: str
    address: str
    phone: str
    classes: tuple[ClassSpec, ...]
    # One entry per teacher: the subjects they teach. Teacher n is class teacher of class n.
    teachers: tuple[tuple[str, ...], ...]
    # Fixed names for some teachers (index → given, family, gender): the class-teacher persona's Person.
    named_teachers: dict[int, tuple[str, str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class DistrictSpec:
    key: str
    name: str
    region: str
    grades: tuple[tuple[str, str, int], ...]
    subjects: tuple[str, ...]
    schools: tuple[SchoolSpec, ...]
    given_names: tuple[tuple[str, ...], tuple[str, ...]]  # (female, male)
    family_names: tuple[str, ...]


def _classes(grades, streams, curriculum, students) -> tuple[ClassSpec, ...]:
    return tuple(
        ClassSpec(grade_code=code, name=f"{name}{stream}", curriculum=curriculum, students=students)
        for code, name, _rank in grades
        for stream in streams
    )


# fmt: off
SHONA_FEMALE = (
    "Chipo", "Rudo", "Rutendo", "Nyasha", "Tariro", "Ruvimbo", "Chiedza", "Vimbai", "Tsitsi", "Fadzai",
    "Rumbidzai", "Chenai", "Nyarai", "Mazvita", "Ropafadzo", "Tanaka", "Kudzai", "Anesu", "Tadiwa",
    "Memory", "Precious", "Nokutenda", "Shamiso", "Yeukai", "Tendai", "Makanaka", "Tinashe",
)
SHONA_MALE = (
    "Tendai", "Tatenda", "Tafadzwa", "Farai", "Tinashe", "Tapiwa", "Munashe", "Takudzwa", "Panashe",
    "Simbarashe", "Tawanda", "Kudakwashe", "Ngonidzashe", "Kundai", "Mufaro", "Tinotenda", "Blessing",
    "Tonderai", "Nyasha", "Tanaka", "Anesu", "Kuda", "Gift", "Tichaona", "Rufaro", "Takunda",
)
SHONA_FAMILY = (
    "Moyo", "Ncube", "Sibanda", "Dube", "Ndlovu", "Mutasa", "Chikore", "Mhlanga", "Chigumba", "Mapfumo",
    "Marufu", "Gumbo", "Hove", "Shumba", "Mandaza", "Makoni", "Chitepo", "Banda", "Phiri", "Mushonga",
    "Mawere", "Maposa", "Chari", "Murwira", "Mlambo", "Madziva", "Chinembiri", "Zvobgo", "Manyika",
    "Matonga", "Chimombe", "Musonza", "Nyamadzawo", "Chakanetsa", "Muchena", "Marimo", "Chivasa",
)
NDEBELE_FEMALE = (
    "Thandeka", "Nomsa", "Lindiwe", "Zanele", "Nokuthula", "Sithabile", "Nomvula", "Siphiwe", "Busisiwe",
    "Thembelihle", "Nobuhle", "Sibongile", "Ntombizodwa", "Precious", "Ayanda", "Mbali",
)
NDEBELE_MALE = (
    "Sipho", "Themba", "Sibusiso", "Bongani", "Nkosana", "Mthokozisi", "Sithembiso", "Lwazi", "Mandla",
    "Sifiso", "Nkululeko", "Thulani", "Bhekani", "Langelihle", "Musa", "Gift",
)
NDEBELE_FAMILY = (
    "Ncube", "Ndlovu", "Moyo", "Sibanda", "Dube", "Mpofu", "Nyathi", "Tshuma", "Khumalo", "Mlilo",
    "Nkomo", "Mahlangu", "Gumede", "Mathe", "Masuku", "Sithole", "Hlabangana", "Ndebele",
)
# fmt: on

HARARE = DistrictSpec(
    key="harare",
    name="Harare Metropolitan Schools",
    region="Harare Metropolitan Province",
    grades=tuple(PRIMARY_GRADES + SECONDARY_GRADES),
    subjects=tuple(SUBJECTS),
    schools=(
        SchoolSpec(
            code="HGS",
            name="Highfield Government Secondary School",
            address="Machipisa, Highfield, Harare",
            phone="+263 242 660 214",
            classes=_classes(SECONDARY_GRADES[:4], "AB", O_LEVEL_CURRICULUM, (17, 23)),
            teachers=(
                ("MATH",),
                ("ENG",),
                ("SHO",),
                ("SCI",),
                ("HIS",),
                ("GEO",),
                ("ACC", "CSC"),
                ("AGR",),
                ("MATH",),
                ("ENG",),
                ("SCI",),
                ("SHO", "HIS"),
            ),
            named_teachers={0: ("Tendai", "Moyo", Gender.MALE)},
        ),
        SchoolSpec(
            code="MPS",
            name="Msasa Park Primary School",
            address="Msasa Park, Harare",
            phone="+263 242 486 530",
            classes=_classes(PRIMARY_GRADES, "A", PRIMARY_CURRICULUM, (16, 20)),
            teachers=(*(("MATH", "ENG", "STE", "HSS"),) * 7, ("SHO",)),
        ),
        SchoolSpec(
            code="GVH",
            name="Glen View High School",
            address="Glen View 3, Harare",
            phone="+263 242 693 118",
            classes=(
                _classes(SECONDARY_GRADES[:4], "A", O_LEVEL_CURRICULUM, (17, 22))
                + _classes(SECONDARY_GRADES[4:], (" Sciences",), A_LEVEL_SCIENCES, (10, 14))
            ),
            teachers=(
                ("MATH",),
                ("ENG",),
                ("SHO",),
                ("SCI", "BIO"),
                ("HIS",),
                ("GEO",),
                ("PHY", "CHE"),
                ("ACC",),
                ("AGR",),
                ("MATH", "PHY"),
            ),
        ),
    ),
    given_names=(SHONA_FEMALE, SHONA_MALE),
    family_names=SHONA_FAMILY,
)

BULAWAYO = DistrictSpec(
    key="bulawayo",
    name="Bulawayo City Schools",
    region="Bulawayo Metropolitan Province",
    grades=tuple(PRIMARY_GRADES),
    subjects=PRIMARY_CURRICULUM_NDEBELE,
    schools=(
        SchoolSpec(
            code="NPS",
            name="Nketa Primary School",
            address="Nketa 6, Bulawayo",
            phone="+263 292 481 207",
            classes=_classes(PRIMARY_GRADES[4:], "A", PRIMARY_CURRICULUM_NDEBELE, (12, 14)),
            teachers=(*(PRIMARY_CURRICULUM_NDEBELE,) * 3,),
        ),
    ),
    given_names=(NDEBELE_FEMALE, NDEBELE_MALE),
    family_names=NDEBELE_FAMILY,
)

DISTRICTS = (HARARE, BULAWAYO)

# Zimbabwe's school calendar: three terms inside a January–December year.
CALENDAR = {
    2025: (
        ("Term 1", datetime.date(2025, 1, 14), datetime.date(2025, 4, 10)),
        ("Term 2", datetime.date(2025, 5, 13), datetime.date(2025, 8, 7)),
        ("Term 3", datetime.date(2025, 9, 9), datetime.date(2025, 12, 4)),
    ),
    2026: (
        ("Term 1", datetime.date(2026, 1, 13), datetime.date(2026, 4, 9)),
        ("Term 2", datetime.date(2026, 5, 12), datetime.date(2026, 8, 6)),
        ("Term 3", datetime.date(2026, 9, 8), datetime.date(2026, 12, 3)),
    ),
}
CURRENT_YEAR = 2026


@dataclass(frozen=True)
class Persona:
    username: str
    given_name: str
    family_name: str
    can: str
    district: str | None = None  # DistrictSpec.key
    school: str | None = None  # SchoolSpec.code; None = district-wide
    role: str | None = None  # MembershipRole
    superuser: bool = False


PERSONAS = (
    Persona(
        "admin", "Ruvimbo", "Chari", "superuser: everything in every district, and /admin/", superuser=True
    ),
    Persona(
        "district.admin",
        "Rudo",
        "Chikore",
        "district admin: everything in Harare Metropolitan Schools",
        district="harare",
        role=MembershipRole.DISTRICT_ADMIN,
    ),
    Persona(
        "registrar",
        "Chipo",
        "Mutasa",
        "registrar of Highfield (HGS): registration sessions, codes, review, roster",
        district="harare",
        school="HGS",
        role=MembershipRole.REGISTRAR,
    ),
    Persona(
        "class.teacher",
        "Tendai",
        "Moyo",
        "class teacher of Form 1A (HGS): reviews its submissions, reads the rest",
        district="harare",
        school="HGS",
        role=MembershipRole.CLASS_TEACHER,
    ),
    Persona(
        "viewer",
        "Farai",
        "Ncube",
        "viewer: read-only across Harare Metropolitan Schools",
        district="harare",
        role=MembershipRole.VIEWER,
    ),
    Persona(
        "other.registrar",
        "Sipho",
        "Dube",
        "registrar of Nketa Primary (Bulawayo): sees nothing in Harare",
        district="bulawayo",
        school="NPS",
        role=MembershipRole.REGISTRAR,
    ),
)
# The class-teacher persona's login is linked to the roster Person who is class teacher of this class.
CLASS_TEACHER_CLASS = ("HGS", "Form 1A")


# --- The shared context ----------------------------------------------------------------------------


@dataclass
class Demo:
    """What the sections build, keyed by stable codes, for the sections (and apps) that follow."""

    actor: object
    today: datetime.date
    password: str
    districts: dict[str, District] = field(default_factory=dict)  # DistrictSpec.key →
    schools: dict[str, School] = field(default_factory=dict)  # school code →
    years: dict[tuple[str, int], AcademicSession] = field(default_factory=dict)  # (district key, year) →
    terms: dict[tuple[str, int], list[AcademicSession]] = field(default_factory=dict)
    grades: dict[tuple[str, str], GradeLevel] = field(default_factory=dict)  # (district key, code) →
    subjects: dict[tuple[str, str], Subject] = field(default_factory=dict)  # (district key, code) →
    classes: dict[tuple[str, str], ClassDivision] = field(default_factory=dict)  # (school code, name) →
    users: dict[str, object] = field(default_factory=dict)  # username →
    created: Counter = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    def rng(self, *key: object) -> random.Random:
        """A generator that depends only on ``key``: sections never shift each other's data."""
        return random.Random(":".join([SEED, *map(str, key)]))

    def note(self, line: str) -> None:
        self.notes.append(line)

    def ensure(self, model, district: District, lookup: dict, defaults: dict | None = None):
        """The row matching ``lookup`` in ``district``, created through the roster service if missing."""
        obj = model.objects.filter(district=district, **lookup).first()
        if obj is None:
            obj = roster_object_create(
                actor=self.actor, model=model, district=district, data={**lookup, **(defaults or {})}
            )
            self.created[model._meta.verbose_name_plural] += 1
        return obj


def session_state(start: datetime.date, end: datetime.date, today: datetime.date) -> str:
    if today < start:
        return SessionState.UPCOMING
    if today > end:
        return SessionState.COMPLETED
    return SessionState.ACTIVE


# --- Sections ------------------------------------------------------------------------------------


def seed_superuser(demo: Demo) -> None:
    """The ``admin`` superuser first: it is the actor of every service call that follows."""
    persona = PERSONAS[0]
    demo.actor = demo.users[persona.username] = _ensure_user(demo, persona)


def seed_districts_and_schools(demo: Demo) -> None:
    for spec in DISTRICTS:
        district, created = District.objects.get_or_create(
            name=spec.name,
            defaults={
                "time_zone": "Africa/Harare",
                "locale": "en-ZW",
                "properties": {"country": "ZW", "region": spec.region},
            },
        )
        demo.created["districts"] += created
        demo.districts[spec.key] = district
        for school in spec.schools:
            grade_codes = sorted({c.grade_code for c in school.classes})
            demo.schools[school.code] = demo.ensure(
                School,
                district,
                {"code": school.code},
                {
                    "name": school.name,
                    "address": school.address,
                    "phone": school.phone,
                    "grade_codes": grade_codes,
                    "identifiers": [
                        {"type": "ministry_code", "value": f"ZW-{spec.key[:3].upper()}-{school.code}-001"}
                    ],
                },
            )


def seed_calendar(demo: Demo) -> None:
    """A January–December school year with three terms: last year (completed) and this year."""
    for spec in DISTRICTS:
        district = demo.districts[spec.key]
        for year, terms in CALENDAR.items():
            start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
            school_year = demo.ensure(
                AcademicSession,
                district,
                {"type": SessionType.SCHOOL_YEAR, "name": str(year), "school": None},
                {"start_date": start, "end_date": end, "state": session_state(start, end, demo.today)},
            )
            demo.years[spec.key, year] = school_year
            demo.terms[spec.key, year] = [
                demo.ensure(
                    AcademicSession,
                    district,
                    {"type": SessionType.TERM, "parent": school_year, "name": f"{name} {year}"},
                    {
                        "school": None,
                        "start_date": t_start,
                        "end_date": t_end,
                        "state": session_state(t_start, t_end, demo.today),
                    },
                )
                for name, t_start, t_end in terms
            ]


def seed_grade_levels(demo: Demo) -> None:
    for spec in DISTRICTS:
        for code, name, rank in spec.grades:
            demo.grades[spec.key, code] = demo.ensure(
                GradeLevel,
                demo.districts[spec.key],
                {"code": code, "school": None},
                {"name": name, "rank": rank},
            )


def seed_subjects(demo: Demo) -> None:
    for spec in DISTRICTS:
        for code in spec.subjects:
            demo.subjects[spec.key, code] = demo.ensure(
                Subject, demo.districts[spec.key], {"code": code}, {"name": SUBJECTS[code]}
            )


def seed_class_divisions(demo: Demo) -> None:
    for spec in DISTRICTS:
        year = demo.years[spec.key, CURRENT_YEAR]
        for school in spec.schools:
            for cls in school.classes:
                demo.classes[school.code, cls.name] = demo.ensure(
                    ClassDivision,
                    demo.districts[spec.key],
                    {"school": demo.schools[school.code], "academic_session": year, "name": cls.name},
                    {"grade_level": demo.grades[spec.key, cls.grade_code], "capacity": cls.capacity},
                )


def seed_people_and_enrollments(demo: Demo) -> None:
    """Students (one class each) and teachers (a class of their own + subjects), in bulk."""
    for spec in DISTRICTS:
        district = demo.districts[spec.key]
        year = demo.years[spec.key, CURRENT_YEAR]
        start_date = demo.terms[spec.key, CURRENT_YEAR][0].start_date
        people: list[Person] = []
        # (sis_id, class key, role, subject code | None, primary)
        enrollments: list[tuple[str, tuple[str, str], str, str | None, bool]] = []
        for school in spec.schools:
            rng = demo.rng(spec.key, school.code)
            teacher_ids = []
            for n, subjects in enumerate(school.teachers):
                sis_id = f"{school.code}-T{n + 1:02d}"
                given, family, gender = school.named_teachers.get(n) or _random_name(rng, spec)
                people.append(
                    Person(
                        district=district,
                        school=demo.schools[school.code],
                        role=PersonRole.TEACHER,
                        given_name=given,
                        family_name=family,
                        gender=gender,
                        sis_id=sis_id,
                        email=f"{given}.{family}@{school.code.lower()}.schools.example.org".lower(),
                        phone=f"+263 77 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                        date_of_birth=datetime.date(
                            rng.randint(1968, 1998), rng.randint(1, 12), rng.randint(1, 28)
                        ),
                        properties={"subjects": list(subjects)},
                    )
                )
                teacher_ids.append(sis_id)
            load: Counter = Counter()
            number = 0
            for index, cls in enumerate(school.classes):
                class_key = (school.code, cls.name)
                class_teacher = index % len(school.teachers)
                enrollments.append(
                    (teacher_ids[class_teacher], class_key, EnrollmentRole.TEACHER, None, True)
                )
                for subject in cls.curriculum:
                    teacher = _pick_teacher(school.teachers, subject, class_teacher, load)
                    load[teacher] += 1
                    enrollments.append(
                        (teacher_ids[teacher], class_key, EnrollmentRole.TEACHER, subject, False)
                    )
                grade = demo.grades[spec.key, cls.grade_code]
                for _ in range(rng.randint(*cls.students)):
                    number += 1
                    sis_id = f"{school.code}-{number:04d}"
                    given, family, gender = _random_name(rng, spec)
                    birth_year = CURRENT_YEAR - 5 - grade.rank
                    people.append(
                        Person(
                            district=district,
                            school=demo.schools[school.code],
                            role=PersonRole.STUDENT,
                            given_name=given,
                            family_name=family,
                            gender=gender,
                            sis_id=sis_id,
                            grade_level=grade,
                            middle_name=_random_name(rng, spec)[0] if rng.random() < 0.2 else "",
                            date_of_birth=datetime.date(birth_year, rng.randint(1, 12), rng.randint(1, 28)),
                        )
                    )
                    enrollments.append((sis_id, class_key, EnrollmentRole.STUDENT, None, False))

        existing = set(
            Person.objects.filter(district=district, sis_id__in=[p.sis_id for p in people]).values_list(
                "sis_id", flat=True
            )
        )
        new_people = [p for p in people if p.sis_id not in existing]
        Person.objects.bulk_create(new_people, batch_size=500)
        demo.created["people"] += len(new_people)

        person_ids = dict(
            Person.objects.filter(district=district, sis_id__in=[p.sis_id for p in people]).values_list(
                "sis_id", "pk"
            )
        )
        class_ids = {key: demo.classes[key].pk for _s, key, *_ in enrollments}
        subject_ids = {code: demo.subjects[spec.key, code].pk for *_a, code, _p in enrollments if code}
        have = set(
            Enrollment.objects.filter(
                district=district, class_division_id__in=set(class_ids.values())
            ).values_list("person_id", "class_division_id", "role", "subject_id")
        )
        new_enrollments = []
        for sis_id, class_key, role, subject, primary in enrollments:
            key = (person_ids[sis_id], class_ids[class_key], role, subject_ids.get(subject))
            if key in have:
                continue
            have.add(key)
            new_enrollments.append(
                Enrollment(
                    district=district,
                    person_id=key[0],
                    class_division_id=key[1],
                    role=role,
                    subject_id=key[3],
                    primary=primary,
                    academic_session=year,
                    start_date=start_date,
                )
            )
        Enrollment.objects.bulk_create(new_enrollments, batch_size=1000)
        demo.created["enrollments"] += len(new_enrollments)


def seed_staff_users(demo: Demo) -> None:
    """One login per persona of DESIGN.md, with its membership; the class teacher is linked to its Person."""
    for persona in PERSONAS[1:]:
        user = demo.users[persona.username] = _ensure_user(demo, persona)
        district = demo.districts[persona.district]
        school = demo.schools[persona.school] if persona.school else None
        _membership, created = Membership.objects.get_or_create(
            user=user, district=district, school=school, defaults={"role": persona.role}
        )
        demo.created["memberships"] += created
    user = demo.users["class.teacher"]
    if not Person.objects.filter(user=user).exists():
        teacher = Enrollment.objects.filter(
            class_division=demo.classes[CLASS_TEACHER_CLASS], role=EnrollmentRole.TEACHER, primary=True
        ).values_list("person_id", flat=True)
        demo.created["people linked to users"] += Person.objects.filter(
            pk__in=teacher, user__isnull=True
        ).update(user=user)


SECTIONS: tuple[Callable[[Demo], None], ...] = (
    seed_superuser,
    seed_districts_and_schools,
    seed_calendar,
    seed_grade_levels,
    seed_subjects,
    seed_class_divisions,
    seed_people_and_enrollments,
    seed_staff_users,
)


def app_seeders() -> list[tuple[str, Callable[[Demo], None]]]:
    """``seed`` functions from other installed apps' ``demo`` modules, in ``INSTALLED_APPS`` order."""
    found = []
    for config in apps.get_app_configs():
        if config.name == "rostering" or not module_has_submodule(config.module, "demo"):
            continue
        module = import_module(f"{config.name}.demo")
        if callable(getattr(module, "seed", None)):
            found.append((config.label, module.seed))
    return found


# --- Helpers -------------------------------------------------------------------------------------


def _random_name(rng: random.Random, spec: DistrictSpec) -> tuple[str, str, str]:
    gender = rng.choice((Gender.FEMALE, Gender.MALE))
    female, male = spec.given_names
    given = rng.choice(female if gender == Gender.FEMALE else male)
    return given, rng.choice(spec.family_names), gender


def _pick_teacher(teachers, subject: str, class_teacher: int, load: Counter) -> int:
    """The class teacher if they teach ``subject``, else the least-loaded teacher of it."""
    if subject in teachers[class_teacher]:
        return class_teacher
    candidates = [n for n, subjects in enumerate(teachers) if subject in subjects]
    if not candidates:
        raise ValueError(f"No demo teacher teaches {subject}.")
    return min(candidates, key=lambda n: (load[n], n))


def _ensure_user(demo: Demo, persona: Persona):
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(
        username=persona.username,
        defaults={
            "first_name": persona.given_name,
            "last_name": persona.family_name,
            "email": f"{persona.username}@demo.example.org",
            "is_staff": persona.superuser,
            "is_superuser": persona.superuser,
            # All demo logins share one published password, so it is hashed once per run.
            "password": demo.password,
        },
    )
    demo.created["users"] += created
    return user


class Command(BaseCommand):
    help = "Load the demo district, schools, roster and one login per persona. Safe to run again."

    def handle(self, *args, **options):
        started = timezone.now()
        password = settings.SCHOOL_SESSIONS["DEMO_PASSWORD"]
        demo = Demo(actor=None, today=timezone.localdate(), password=make_password(password))
        with transaction.atomic():
            for section in SECTIONS:
                section(demo)
            for _label, seed in app_seeders():
                seed(demo)
        elapsed = (timezone.now() - started).total_seconds()
        self._report(demo, password, elapsed)

    def _report(self, demo: Demo, password: str, elapsed: float) -> None:
        out = self.stdout
        students = Person.objects.filter(
            role=PersonRole.STUDENT, district__in=demo.districts.values()
        ).count()
        teachers = Person.objects.filter(
            role=PersonRole.TEACHER, district__in=demo.districts.values()
        ).count()
        enrollments = Enrollment.objects.filter(district__in=demo.districts.values()).count()
        out.write(
            f"Demo data ready in {elapsed:.1f} s: {len(demo.districts)} districts, {len(demo.schools)} schools, "
            f"{len(demo.classes)} classes, {students} students, {teachers} teachers, {enrollments} enrollments."
        )
        created = [f"{n} {what}" for what, n in sorted(demo.created.items()) if n]
        if created:
            out.write("Created this run: " + ", ".join(created) + ".")
        else:
            out.write("Nothing to create: the demo data was already there.")
        for line in demo.notes:
            out.write(line)
        out.write("")
        out.write(self.style.SUCCESS(f"Open {DEMO_URL} and sign in as:"))
        out.write("")
        width = max(len(p.username) for p in PERSONAS)
        out.write(f"  {'username':<{width}}  {'password':<{len(password)}}  what they can do")
        out.write(f"  {'-' * width}  {'-' * len(password)}  {'-' * 16}")
        for persona in PERSONAS:
            out.write(f"  {persona.username:<{width}}  {password}  {persona.can}")
        out.write("")
