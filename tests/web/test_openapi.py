"""The JSON API's OpenAPI 3.1 document: valid, complete, and true of the answers the API gives."""

import schemathesis
from helpers import feature, square
from openapi_checks import failures_against_document, operations_of
from openapi_spec_validator import validate

# A paging token, a date or a bbox can be any string to a JSON Schema, but must still parse:
# a malformed one is answered with a 400, rightly.
NOT_EXPRESSIBLE = [schemathesis.checks.positive_data_acceptance]


def test_the_document_is_valid_openapi_3_1(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    doc = response.get_json()
    assert doc["openapi"] == "3.1.0"
    validate(doc)


def test_every_route_of_the_api_is_documented(app, client):
    documented = set()
    for path, item in client.get("/api/openapi.json").get_json()["paths"].items():
        documented |= {(method.upper(), path) for method in item}
    served = set()
    for rule in app.url_map.iter_rules():
        path = rule.rule.replace("<event_id>", "{eventId}").replace("<ext>", "{ext}")
        path = path.replace("<int:place_id>", "{placeId}")
        if not path.startswith(("/api/", "/export/")) or path in ("/api/openapi.json", "/api/docs"):
            continue
        served |= {(method, path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert served - documented == set()
    assert documented - served == set()


def test_the_feature_schema_follows_the_field_table(client):
    props = client.get("/api/openapi.json").get_json()["components"]["schemas"]["Properties"]
    assert props["required"] == ["title", "start"]
    assert props["properties"]["title"]["maxLength"] == 500
    assert props["properties"]["confidence"]["enum"] == ["confirmed", "reported", "claimed"]
    assert props["properties"]["attributes"]["type"] == "object"


def test_the_docs_page_lists_every_operation(client):
    page = client.get("/api/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    for label in ("GET /api/events", "PATCH /api/events/{eventId}", "GET /export/events.{ext}"):
        assert f"<code>{label}</code>" in text
    assert '<script src="http' not in text  # nothing from outside: it works offline


def test_the_api_answers_as_its_document_says(app, load, users):
    load(
        feature("point-1", title="Shelling reported near Sudzha"),
        feature("area-1", geometry=square(35.0, 51.2), start="2024-08-10", end="2024-09-30"),
        feature("draft-1", title="Not yet checked", status="draft"),
    )
    _, operations = operations_of(app, "/api/openapi.json")
    assert len(operations) >= 15
    token = {"Authorization": f"Bearer {users['admin']['token']}"}

    def headers_for(operation):
        needs_token = operation.method.upper() != "GET" or "revisions" in operation.path
        return token if needs_token else {}

    failures = failures_against_document(
        operations, excluded_checks=NOT_EXPRESSIBLE, headers_for=headers_for, examples=10
    )
    assert not failures, "\n\n".join(failures)
