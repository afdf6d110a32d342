"""The whole JSON API against its own OpenAPI document (schemathesis, property-based): generated
requests to every operation, with a filer's key, never get a 500 or an answer the document does
not describe (status code, content type, body schema)."""
from __future__ import annotations

import pytest
import schemathesis
from factories import add_license, make_user
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from aimweb import apikeys

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def token(app, query):
    def world():
        user = make_user()
        add_license(user.id, "AOWN10126")
        return apikeys.create_key(user, "Schemathesis")[1]

    app.config["RATELIMIT_ENABLED"] = False
    return query(world)


def test_the_api_keeps_to_its_openapi_document(app, token):
    """Every operation, with examples generated from the document (schemathesis' own pytest
    plugin is not used: it does not run under pytest 9 here)."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 11
    for operation in operations:
        # A PDF is rendered by WeasyPrint (hundreds of ms): fewer examples of it.
        examples = 5 if operation.path.endswith("/pdf") else 25

        @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def call(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        call()
