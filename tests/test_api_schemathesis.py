"""A bounded schemathesis run against the live test server: no 5xx, no answer off the schema.

Hypothesis generates requests from the OpenAPI schema (each filter, its codes,
numbers at and past their bounds, long and odd strings, unexpected methods);
every response must be a non-5xx whose status, content type and body the
schema documents. Bounded to a few hundred requests: the search endpoint gets
every phase (examples, coverage of each parameter's edges, MAX_EXAMPLES fuzzed
requests); the others, whose filters are the same FilterSet, get examples and
fuzzing only.
"""

import collections

import hypothesis
import pytest
import schemathesis
from schemathesis.checks import CHECKS

from .factories import make_facility, make_oxford_iop

# The live server needs committed rows; serialized_rollback restores the vocabularies
# (loaded by a migration) that flushing the database after each test would delete.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

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
def live_api(live_server, settings):
    settings.API_ANON_RATE = "100000/min"  # the run itself must not be throttled
    make_oxford_iop()
    make_facility(name="Jackson outpatient", levels=["ORT", "TELE"], ownership="PVTP")
    make_facility(name="Draft", status="draft")
    return live_server.url


def load(base_url, phases):
    schema = schemathesis.openapi.from_url(f"{base_url}/api/v1/schema/?format=json")
    schema.config.update(base_url=base_url)
    schema.config.phases.update(phases=phases)
    return schema


@pytest.fixture
def full_schema(live_api):
    return load(live_api, ["examples", "coverage", "fuzzing"])


@pytest.fixture
def light_schema(live_api):
    return load(live_api, ["examples", "fuzzing"])


SEARCH = "/api/v1/facilities/"
BOUNDED = hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    derandomize=True,
    database=None,
)


def call_and_check(case):
    REQUESTS[case.operation.label] += 1
    case.call_and_validate(checks=[CHECKS.get_one(name) for name in CHECK_NAMES])


@schemathesis.pytest.from_fixture("full_schema").include(path=SEARCH).parametrize()
@BOUNDED
def test_generated_searches_get_documented_answers(case):
    call_and_check(case)


@schemathesis.pytest.from_fixture("light_schema").exclude(path=SEARCH).parametrize()
@BOUNDED
def test_generated_requests_to_other_endpoints_get_documented_answers(case):
    call_and_check(case)


@pytest.fixture(scope="module", autouse=True)
def _report_request_counts():
    yield
    print(f"\nschemathesis requests: {sum(REQUESTS.values())} {dict(REQUESTS)}")
