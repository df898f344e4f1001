"""Schemathesis fuzzes the OpenAPI schema: no input yields a 5xx, responses match the schema."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from prices_predictor.serving.app import create_app
from tests.servers import redis_server
from tests.serving.fixtures import make_settings, wait_ready

# 40 examples for each of the API's operations take over a minute: `make test-slow` runs it
pytestmark = [pytest.mark.slow, pytest.mark.long]
EXAMPLES_PER_OPERATION = 40
SKIPPED_CHECKS = [
    schemathesis.checks.positive_data_acceptance,  # a valid-by-schema body can still be 503/422
    schemathesis.checks.missing_required_header,
    schemathesis.checks.ignored_auth,
]


def test_no_input_yields_a_server_error(bundle_dir: Path, tmp_path: Path) -> None:
    with redis_server(tmp_path / "redis") as (redis_url, _):  # the job routes' queue
        _fuzz(create_app(make_settings(tmp_path / "fuzz", bundle_dir, redis_url=redis_url)))


def _fuzz(app: FastAPI) -> None:
    with TestClient(app) as c:  # runs the lifespan: the model is loaded
        wait_ready(c)
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        operations = [op.ok() for op in schema.get_all_operations()]
        assert len(operations) >= 7
        for op in operations:

            @given(case=op.as_strategy())
            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
                database=None,
            )
            def check(case: schemathesis.Case) -> None:
                response = case.call()
                assert response.status_code < 500, (case.path, case.body, response.text[:300])
                case.validate_response(response, excluded_checks=SKIPPED_CHECKS)

            check()


__all__ = ["pytest"]
