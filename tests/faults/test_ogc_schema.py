"""The OGC API answers what its own OpenAPI document (/ogc/api) promises, for any input it allows.

schemathesis reads the document the app serves and sends every operation requests generated from
its parameters: valid ones (numbers at their bounds, odd strings, bounding boxes, intervals, CQL2
text) and invalid ones (values the schema forbids, which must be refused with a 4xx). Each answer
must not be a 5xx, must have a Content-Type the document lists and a body that fits the schema
given for it. The examples are bounded and derandomized (the same requests every run), so the
suite stays fast and repeatable, on both databases.
"""

from __future__ import annotations

import schemathesis
from helpers import feature, square
from openapi_checks import failures_against_document, operations_of

# "Any string the schema allows must be accepted" cannot hold for a paging token, a CQL2 filter or
# a datetime interval: their syntax is more than a JSON Schema says, and a malformed one is the
# client's mistake, answered with a 400 OGC exception.
NOT_EXPRESSIBLE = [schemathesis.checks.positive_data_acceptance]
# Every status the service answers is in the document (400 for a malformed query on every
# operation, 404 for an unknown collection's queryables): nothing is left out of the checks.
DOCUMENT_GAPS: list = []


def test_the_ogc_api_answers_as_its_openapi_document_says(app, load):
    load(
        feature("point-1", title="Shelling reported near Sudzha"),
        feature("area-1", geometry=square(35.0, 51.2), start="2024-08-10", end="2024-09-30"),
        feature("draft-1", title="Not yet checked", status="draft"),
    )
    schema, operations = operations_of(app, "/ogc/api")
    paths = schema.raw_schema["paths"]
    documented = {f"{method.upper()} {path}" for path, item in paths.items() for method in item}
    # Every operation is exercised, but the document's own path, which schemathesis leaves out.
    assert {op.label for op in operations} == documented - {"GET /api"} and len(operations) >= 7
    failures = failures_against_document(operations, excluded_checks=NOT_EXPRESSIBLE + DOCUMENT_GAPS)
    assert not failures, "\n\n".join(failures)
