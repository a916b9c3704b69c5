"""Schemathesis against the letting API's own OpenAPI schema (bounded): no request gives a server
error, and every error answer has the one documented shape `{"error", "detail"}`.

Runs in-process (ASGI) on SQLite and PostgreSQL (whose integer ranges and NUL-free text made
most of the former server errors) with a small world (an organisation's department, dwellings,
applicants, a vacancy with offers), once as the organisation and once as the municipality, with
`SCHEMATHESIS_EXAMPLES` examples per operation (default 12)."""

from __future__ import annotations

import os
from collections import Counter

import schemathesis
from hypothesis import HealthCheck, given, settings

from boligmix.letting.store.selection import StoreOrderRules
from boligmix.web.app import create_app

from test_letting_access_matrix import _world

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "12"))


def test_no_server_errors_and_one_error_shape(db_url):
    secrets, _ids = _world(db_url)
    app = create_app(db_url, rules=StoreOrderRules(), fast_path=False)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    calls: Counter[int] = Counter()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 26

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case):
            for who in ("org", "muni"):
                response = case.call(headers={"Authorization": f"Bearer {secrets[who]}"})
                calls[response.status_code] += 1
                assert response.status_code < 500, (who, case.method, case.formatted_path, response.status_code,
                                                    response.text)
                if response.status_code >= 400:
                    body = response.json()
                    assert isinstance(body, dict) and set(body) == {"error", "detail"}, (case.method, case.path, body)
                    assert isinstance(body["detail"], str)
        run()
    print("schemathesis answers by status:", dict(sorted(calls.items())))
    assert sum(calls.values()) >= len(operations) * 2 and not any(code >= 500 for code in calls)
