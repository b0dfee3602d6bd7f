"""Generated requests against the API's own OpenAPI schema (schemathesis): no operation answers 500,
whatever the parameters and bodies. Each operation gets a bounded number of examples, sent as an admin so
every route runs past its role check into the services.

(The operations are listed from the schema at collection time; schemathesis's own pytest loader for a
schema from a fixture does not run on pytest 9, so each test builds the schema of its own app.)"""

from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from listing_sync.syncer.context import Context
from listing_sync.syncer.web.app import create_app
from schemathesis.checks import not_a_server_error

from .conftest import RecordingScheduler, Template, settings_for

#: examples per operation: enough to reach past validation into the services, few enough for ~25 CPU seconds
#: (SYNCER_TEST_API_EXAMPLES=200 for a deeper run by hand)
EXAMPLES = int(os.environ.get("SYNCER_TEST_API_EXAMPLES", "10"))


def _raw_schema() -> dict:
    with tempfile.TemporaryDirectory() as folder:
        return create_app(Context(settings=settings_for(Path(folder))), scheduler=RecordingScheduler()).openapi()


RAW = _raw_schema()
OPERATIONS = sorted((m.upper(), path) for path, item in RAW["paths"].items() for m in item if path.startswith("/api/"))


def _not_inline(case) -> bool:
    """Inline syncs and order pulls push to every emulated channel and take seconds each: their own tests
    run them (test_api_orders_sync.py); generated bodies here exercise every other part of those routes."""
    return not (isinstance(case.body, dict) and case.body.get("mode") == "inline")


@functools.cache
def _schema():
    """The schema, loaded once (loading it is most of an operation's time); each test points it at its app."""
    return schemathesis.openapi.from_dict(RAW)


def test_every_api_route_is_in_the_list() -> None:
    assert len(OPERATIONS) >= 40 and ("POST", "/api/changes/apply") in OPERATIONS


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_no_generated_request_is_a_server_error(
    method: str, path: str, web_app: FastAPI, web_template: Template
) -> None:
    schema = _schema()
    schema.app = web_app
    operation = schema[path][method]
    auth = {"Authorization": f"Bearer {web_template.tokens['admin']}"}

    @given(case=operation.as_strategy().filter(_not_inline))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    def check(case) -> None:
        response = case.call(headers=auth)
        case.validate_response(response, checks=[not_a_server_error])

    check()
