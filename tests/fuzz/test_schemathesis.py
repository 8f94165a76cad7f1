"""schemathesis against the served OpenAPI description (issue 8): generated requests for every
operation, as the province administrator and as an applicant, on a system of its own (the
fuzzer changes calendars, catalogues and accounts freely). No 5xx, and every answer matches
the schema the description gives it. Bounded: a few examples per operation.

Driven through schemathesis's Python API and hypothesis directly (its pytest plugin does not
run on this pytest)."""
from __future__ import annotations

import pytest
import schemathesis
from harness import ADMIN_PASSWORD, running
from helpers import Api, applicant, random_source
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance

EXAMPLES = 8
# an applicant on an administrator's operation is refused before its input is read: a few
# examples show it (a 403, never a 5xx); the many belong where the input is read
EXAMPLES_REFUSED = 3
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
SESSION_ENDING = {("DELETE", "/api/v1/sessions/current"), ("DELETE", "/api/v1/admin/sessions/current")}


@pytest.fixture(scope="module")
def fuzz_stack(tmp_path_factory):
    with running(tmp_path_factory.mktemp("fuzz")) as s:
        yield s


@pytest.fixture(scope="module")
def operations(fuzz_stack):
    schema = schemathesis.openapi.from_url(fuzz_stack.url + "/api/v1/openapi.json")
    return [result.ok() for result in schema.get_all_operations()]


@pytest.fixture(scope="module")
def tokens(fuzz_stack):
    province = Api(fuzz_stack.url).login_admin("admin", ADMIN_PASSWORD)
    person_api, _ = applicant(fuzz_stack, province)
    return {"province": province.token, "applicant": person_api.token}


def fuzz(operation, token: str, base_url: str, statuses: dict, mode, examples: int = EXAMPLES) -> int:
    """Runs the operation's generated cases; returns how many ran."""
    ran = 0

    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        nonlocal ran
        headers = {} if (case.method.upper(), case.path) in SESSION_ENDING else {"Authorization": f"Bearer {token}"}
        headers["X-Forwarded-For"] = random_source()
        response = case.call_and_validate(base_url=base_url, headers=headers, timeout=30, checks=CHECKS)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        ran += 1

    try:
        run()
    except Unsatisfiable:   # nothing to break: no parameters and no body
        assert mode is GenerationMode.NEGATIVE
    return ran


@pytest.mark.parametrize(("who", "mode"), [("province", GenerationMode.POSITIVE),
                                           ("province", GenerationMode.NEGATIVE),
                                           ("applicant", GenerationMode.POSITIVE),
                                           ("applicant", GenerationMode.NEGATIVE)])
def test_no_server_error_and_answers_match_the_schema(who, mode, operations, tokens, fuzz_stack):
    """Positive cases follow the schema; negative ones break it on purpose (a 4xx is right)."""
    statuses: dict[int, int] = {}
    total = 0
    for operation in operations:
        refused = who == "applicant" and operation.path.startswith("/api/v1/admin/")
        total += fuzz(operation, tokens[who], fuzz_stack.url, statuses, mode,
                      EXAMPLES_REFUSED if refused else EXAMPLES)
    print(f"\nschemathesis as {who}, {mode.value}: {len(operations)} operations, {total} cases, "
          f"statuses {dict(sorted(statuses.items()))}")
    assert len(operations) >= 50 and total >= 3 * len(operations)
    assert not [s for s in statuses if s >= 500]
