"""A bounded schemathesis run against the live test server: no 5xx, no answer off the schema.

Hypothesis generates requests from the OpenAPI schema (each filter, its codes,
numbers at and past their bounds, long and odd strings, unexpected methods);
every response must be a non-5xx whose status, content type and body the
schema documents. Bounded to a few hundred requests (MAX_EXAMPLES per
operation, plus the examples and coverage phases) to stay well under a minute.
"""

import collections

import hypothesis
import pytest
import schemathesis
from schemathesis.checks import CHECKS

from .factories import make_facility

MAX_EXAMPLES = 25
REQUESTS = collections.Counter()
CHECK_NAMES = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)


@pytest.fixture
def api_schema(live_server, transactional_db, settings):
    settings.API_ANON_RATE = "100000/min"  # the run itself must not be throttled
    make_facility(
        name="Oxford IOP",
        city="Oxford",
        zip="38655",
        latitude=34.3665,
        longitude=-89.5192,
        ownership="VAMC",
        payments=["MD", "MI"],
        assistance=["SS"],
        populations=["VET"],
        languages=["SP"],
        hours_per_week_min=9,
        hours_per_week_max=12,
    )
    make_facility(name="Jackson outpatient", levels=["ORT", "TELE"], ownership="PVTP")
    make_facility(name="Draft", status="draft")
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/schema/?format=json")
    schema.config.update(base_url=live_server.url)
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    derandomize=True,
    database=None,
)
def test_generated_requests_get_documented_answers(case):
    REQUESTS[case.operation.label] += 1
    case.call_and_validate(checks=[CHECKS.get_one(name) for name in CHECK_NAMES])


@pytest.fixture(scope="module", autouse=True)
def _report_request_counts():
    yield
    print(f"\nschemathesis requests: {sum(REQUESTS.values())} {dict(REQUESTS)}")
