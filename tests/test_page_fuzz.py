"""Staff list pages with junk in their query strings: a page or a 4xx, never a 500."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

LISTS = [
    "rostering:school_list", "rostering:academicsession_list", "rostering:gradelevel_list",
    "rostering:classdivision_list", "rostering:subject_list", "rostering:person_list", "rostering:enrollment_list",
    "registrations:session_list", "registrations:progress_overview", "review:submission_list", "review:attempt_list",
]
JUNK = {
    "school_id": "not-a-uuid", "school": "x' OR 1=1", "grade_level_id": "-1", "class_division_id": "%00",
    "academic_session_id": "zz", "session": "nope", "status": "exploded", "mode": "?", "type": "[]",
    "role": "god", "q": "\x00", "page": "-3", "per_page": "10000", "sort": "password", "person_type": "cat",
    "outcome": "x", "ordering": "-nonexistent",
}


@pytest.mark.parametrize("name", LISTS)
def test_junk_query_strings_never_500(world, client_for, name):
    client = client_for(world.district_admin)
    response = client.get(reverse(name), JUNK)
    assert response.status_code < 500
    for key, value in JUNK.items():
        assert client.get(reverse(name), {key: value}).status_code < 500, key
