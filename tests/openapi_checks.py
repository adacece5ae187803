"""Running schemathesis over an OpenAPI document the app serves: every operation, valid and invalid
examples, bounded and derandomized so the suite stays fast and the same on every run."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable

EXAMPLES_PER_OPERATION = 25


def operations_of(app: Any, document: str) -> tuple[Any, list[Any]]:
    """The loaded document and its operations (schemathesis leaves out the document's own path)."""
    schema = schemathesis.openapi.from_wsgi(document, app)
    return schema, [result.ok() for result in schema.get_all_operations()]


def failures_against_document(
    operations: Sequence[Any],
    *,
    excluded_checks: Sequence[Any] = (),
    headers_for: Callable[[Any], dict[str, str]] = lambda operation: {},
    examples: int = EXAMPLES_PER_OPERATION,
) -> list[str]:
    """What went wrong, per operation and mode: a 5xx, an undocumented status, content type or body.

    Not schemathesis.pytest's lazy fixture: it does not work with pytest 9 (it reads a node
    attribute pytest no longer has). Each operation gets its own bounded Hypothesis run instead.
    """
    failures = []
    for operation, mode in itertools.product(operations, schemathesis.GenerationMode):
        # Uncompressed answers: schemathesis reads a WSGI answer's body as sent (tests/infra checks
        # the compression itself).
        headers = {"Accept-Encoding": "identity", **headers_for(operation)}
        check = _bounded_run(operation, mode, headers, list(excluded_checks), examples)
        try:
            check()
        except Unsatisfiable:
            continue  # nothing the document forbids can be sent (e.g. no constrained parameter)
        except (Exception, BaseExceptionGroup) as error:  # one operation's must not hide another's
            found = error.exceptions if isinstance(error, BaseExceptionGroup) else [error]
            details = "\n".join(map(str, found))
            failures.append(f"{operation.label} ({mode.value} examples): {error}\n{details}")
    return failures


def _bounded_run(
    operation: Any, mode: Any, headers: dict[str, str], excluded: list[Any], examples: int
) -> Callable[[], None]:
    @given(case=operation.as_strategy(mode))
    @settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def answers_as_documented(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers or None, excluded_checks=excluded)

    return answers_as_documented
