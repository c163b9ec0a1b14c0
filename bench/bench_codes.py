"""Access codes at scale (DESIGN.md, performance budgets).

1. ``access_codes_generate(count=100_000)`` against a plain ``bulk_create`` of 100,000 equivalent rows
   with pre-made codes, measured in the same run (median of 3 rounds each, interleaved): at most 3×.
2. The progress summary of a session with 100,000 codes (and their submissions) in a table that also
   holds other sessions' codes: one aggregate query, median of 15 runs, under 50 ms on PostgreSQL, and
   the ``EXPLAIN`` showing that an index of the codes is used.
3. A 50-row page of ``GET /api/v1/registrations/sessions`` (with every session's progress) in a district
   with 300 sessions and those 400,000 codes: the same number of queries as a 5-row page.

Run on PostgreSQL (the budgets are for it) in a throwaway database ``bench_<name>``::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<name> .venv/bin/python bench/bench_codes.py

``BENCH_CODES_N=5000`` shrinks the run for a quick smoke test (the budgets are for 100,000).
"""

from __future__ import annotations

import os
import random
import re
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import median, throwaway_database, timed, verdict
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

N = int(os.environ.get("BENCH_CODES_N", "100000"))  # smaller only for a quick smoke run
LABEL = f"{N // 1000}k" if N >= 1000 else str(N)
ROUNDS = 3
PROGRESS_RUNS = 15
OTHER_SESSIONS = 3
GENERATE_BUDGET = 3.0
PROGRESS_BUDGET_MS = 50.0
# A realistic spread half-way through a campaign (fractions of the session's codes).
SPREAD = {
    "unused": 0.27,
    "revoked_unused": 0.03,
    "started": 0.08,
    "submitted": 0.12,
    "needs_correction": 0.04,
    "approved": 0.10,
    "rejected": 0.03,
    "imported": 0.33,
}


def main() -> None:
    with throwaway_database() as name:
        print(f"# bench_codes on {connection.vendor} (throwaway database {name})")
        world = make_world()
        bench_generation(world)
        bench_progress(world)
        bench_session_list(world)


def make_world() -> dict:
    from django.contrib.auth import get_user_model

    from registrations.choices import RegistrationMode, RosterPolicy
    from registrations.models import RegistrationSession
    from rostering.models import District, School

    district = District.objects.create(name="Bench district")
    school = School.objects.create(district=district, name="Bench school", code="BENCH")
    actor = get_user_model().objects.create_user(username="bench", password=None, is_superuser=True)

    def session(title: str) -> RegistrationSession:
        return RegistrationSession.objects.create(
            district=district, school=school, mode=RegistrationMode.STUDENT_INTAKE, title=title,
            roster_policy=RosterPolicy.OPEN_WITH_CODE, expected_count=N,
        )

    return {"district": district, "school": school, "actor": actor, "session": session}


def empty_codes() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("TRUNCATE registrations_accesscode CASCADE")
        else:
            cursor.execute("DELETE FROM registrations_submissionstatuschange")
            cursor.execute("DELETE FROM registrations_submission")
            cursor.execute("DELETE FROM registrations_accesscode")


def plain_rows(world, session, codes: list[str], statuses=None):
    from registrations.models import AccessCode

    now = timezone.now()
    batch = uuid.uuid4()
    rows = []
    for i, code in enumerate(codes):
        status, revoked = statuses[i] if statuses else ("unused", False)
        rows.append(AccessCode(
            district_id=world["district"].pk, session=session, school_id=world["school"].pk, code=code,
            prefix_length=0, status=status, print_batch=batch, created_by=world["actor"], created_at=now,
            revoked_at=now if revoked else None,
        ))
    return rows


def unique_codes(n: int) -> list[str]:
    from registrations.codes import random_codes

    codes = list(dict.fromkeys(random_codes(n + 100, 10)))
    return codes[:n]


def bench_generation(world) -> None:
    from registrations.models import AccessCode
    from registrations.services.codes import access_codes_generate

    generate_times, plain_times = [], []
    for round_ in range(ROUNDS):
        empty_codes()
        session = world["session"](f"Plain {round_}")
        codes = unique_codes(N)  # pre-made: the baseline does not pay for randomness

        def plain(session=session, codes=codes):
            with transaction.atomic():
                return AccessCode.objects.bulk_create(plain_rows(world, session, codes))

        seconds, _ = timed(plain)
        plain_times.append(seconds)
        empty_codes()
        session = world["session"](f"Generated {round_}")
        seconds, result = timed(lambda session=session: access_codes_generate(
            session=session, actor=world["actor"], count=N,
        ))
        assert len(result.codes) == N and AccessCode.objects.filter(session=session).count() == N
        generate_times.append(seconds)
    world["generated_session"] = session  # its 100,000 codes stay: other sessions' rows for part 2
    gen, plain = median(generate_times), median(plain_times)
    ratio = gen / plain
    print(
        f"codes.generate_{LABEL}: {gen:.2f} s; plain bulk insert: {plain:.2f} s; ratio {ratio:.2f}x "
        f"(budget {GENERATE_BUDGET:g}x) {verdict(ratio <= GENERATE_BUDGET)}"
    )


def spread_statuses(n: int) -> list[tuple[str, bool]]:
    statuses: list[tuple[str, bool]] = []
    for key, share in SPREAD.items():
        count = round(n * share)
        status, revoked = ("unused", True) if key == "revoked_unused" else (key, False)
        statuses.extend([(status, revoked)] * count)
    statuses = (statuses + [("unused", False)] * n)[:n]
    random.Random(42).shuffle(statuses)
    return statuses


SUBMISSION_FOR_CODE = {
    "started": "draft", "submitted": "submitted", "needs_correction": "needs_correction", "approved": "approved",
    "rejected": "rejected", "imported": "imported",
}


def bench_progress(world) -> None:
    from registrations.models import AccessCode, Submission
    from registrations.selectors import registration_progress

    target = world["session"]("Progress target")
    with transaction.atomic():
        for i in range(OTHER_SESSIONS):
            other = world["session"](f"Other {i}")
            AccessCode.objects.bulk_create(plain_rows(world, other, unique_codes(N), spread_statuses(N)),
                                           batch_size=10_000)
        statuses = spread_statuses(N)
        codes = AccessCode.objects.bulk_create(plain_rows(world, target, unique_codes(N), statuses),
                                               batch_size=10_000)
        now = timezone.now()
        Submission.objects.bulk_create(
            [
                Submission(
                    district_id=world["district"].pk, session=target, access_code=code, person_type="student",
                    status=SUBMISSION_FOR_CODE[code.status], payload={"given_name": "A", "family_name": "B"},
                    submitted_at=now if code.status != "started" else None,
                )
                for code in codes if code.status in SUBMISSION_FOR_CODE
            ],
            batch_size=10_000,
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    total_rows = AccessCode.objects.count()

    for _ in range(3):  # warm the cache
        registration_progress(session=target)
    times = []
    for _ in range(PROGRESS_RUNS):
        with CaptureQueriesContext(connection) as ctx:
            seconds, summary = timed(lambda: registration_progress(session=target))
        times.append(seconds * 1000)
    assert len(ctx.captured_queries) == 1, "the progress summary must be one query"
    assert summary.codes_generated == N, summary
    ms = median(times)
    budget_note = f"budget {PROGRESS_BUDGET_MS:g} ms on PostgreSQL"
    ok = ms < PROGRESS_BUDGET_MS if connection.vendor == "postgresql" else True
    print(
        f"progress.summary_{LABEL}: {ms:.1f} ms median of {PROGRESS_RUNS} (1 query; {total_rows:,} codes in the table; "
        f"completion {summary.completion_percent}%, approval {summary.approval_percent}%) ({budget_note}) "
        f"{verdict(ok)}"
    )

    sql = ctx.captured_queries[0]["sql"]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " + sql)
            plan = [row[0] for row in cursor.fetchall()]
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql)
            plan = [row[-1] for row in cursor.fetchall()]
    text = "\n".join(plan)
    indexes = sorted(set(re.findall(r"(?:Index(?: Only)? Scan|USING (?:COVERING )?INDEX) (?:using |on )?(\w+)", text)))
    indexes = [name for name in indexes if name != "registrations_accesscode"]
    seq_scan = bool(re.search(r"Seq Scan on registrations_accesscode|SCAN registrations_accesscode(?! USING)", text))
    print(
        f"progress.explain: index used: {', '.join(indexes) or 'none'}; sequential scan of the codes: "
        f"{'yes' if seq_scan else 'no'} {verdict(bool(indexes) and not seq_scan)}"
    )
    for line in plan:
        print(f"#   {line}")



def bench_session_list(world) -> None:
    from rest_framework.test import APIClient

    from registrations.models import RegistrationSession
    from rostering.services import api_token_create

    for i in range(300 - RegistrationSession.objects.count()):
        world["session"](f"Empty {i}")
    _token, raw = api_token_create(user=world["actor"], name="bench")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    path = "/api/v1/registrations/sessions"

    def page(size: int) -> tuple[float, int]:
        with CaptureQueriesContext(connection) as ctx:
            seconds, response = timed(lambda: client.get(path, {"page_size": size, "tenantWide": "true"}))
        assert response.status_code == 200, response.content[:300]
        return seconds * 1000, len(ctx.captured_queries)

    page(50)  # warm up (the token's last-used stamp)
    small = page(5)[1]
    runs = [page(50) for _ in range(9)]
    ms = median([r[0] for r in runs])
    queries = runs[0][1]
    sessions, codes = RegistrationSession.objects.count(), _count_codes()
    print(
        f"sessions.list_page_50: {ms:.1f} ms median of 9 over {sessions} sessions / {codes:,} codes; "
        f"{queries} queries (page of 5: {small}) {verdict(queries == small)}"
    )


def _count_codes() -> int:
    from registrations.models import AccessCode

    return AccessCode.objects.count()


if __name__ == "__main__":
    main()
