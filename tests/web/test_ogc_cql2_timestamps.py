"""CQL2 timestamps in every form the grammar takes select the same days, over the items request.

timeline.store.cql2 reads RFC 3339 timestamps itself (pygeofilter's reader took milliseconds per
timestamp); these check that each form a client may send still answers as it did: with ``Z``, an
offset, fractions of a second, the basic form, and a form only pygeofilter's reader knew what to do
with (refused as before: a 400 with the OGC exception, never a 500).
"""

import pytest
from helpers import feature


@pytest.fixture
def story(load):
    load(
        feature("sudzha-day", start="2024-08-06"),
        feature("kursk-month", lon=36.185, lat=51.727, start="2024-10", date_precision="month"),
        feature("moscow-2023", lon=37.6, lat=55.75, start="2023", date_precision="year"),
    )


def items(client, text):
    return client.get(
        "/ogc/collections/events/items", query_string={"filter": text, "filter-lang": "cql2-text"}
    )


@pytest.mark.parametrize(
    ("interval", "expected"),
    [
        ("'2024-08-06T00:00:00Z', '2024-08-06T23:59:59Z'", ["sudzha-day"]),
        ("'2024-08-06T10:00:00+03:00', '2024-10-01T00:00:00-05:00'", ["sudzha-day", "kursk-month"]),
        ("'2024-08-07T00:00:00.123456Z', '2024-09-30T23:59:59.5Z'", []),  # between the two events
        # the basic form, which pygeofilter's reader took for the current time
        ("'20240806T000000Z', '20240806T235959Z'", ["sudzha-day"]),
        ("'2023-12-31 12:00:00Z', '2024-08-06 00:00:00'", ["moscow-2023", "sudzha-day"]),  # a space
    ],
)
def test_interval_timestamps_select_the_days_they_name(client, story, interval, expected):
    response = items(client, f"interval T_INTERSECTS INTERVAL({interval})")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert [f["id"] for f in body["features"]] == expected
    assert body["numberMatched"] == len(expected)


def test_a_timestamp_neither_reader_takes_is_a_400(client, story):
    response = items(client, "start T_INTERSECTS TIMESTAMP('2024-0806T10:00:00')")  # mixed forms
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == "InvalidParameterValue"
    assert body["description"].startswith("filter:")
