"""A second system for the abuse tests (issue 8), with limits low enough to reach in a test:
per-source login and SMS throttles, storage quotas. Its own vhost and databases; the
session's main system is not disturbed by what these tests do to it."""
from __future__ import annotations

import pytest
from harness import ADMIN_PASSWORD, Stack, running
from helpers import Api

LIMITS = {
    "GONGKAO_SOURCE_LOGIN_PER_10MIN": "12",
    "GONGKAO_SOURCE_SMS_PER_10MIN": "6",
    "GONGKAO_SOURCE_FILES_PER_HOUR": "3",
    "GONGKAO_ACCOUNT_FILES_MAX": "8",
}


@pytest.fixture(scope="session")
def abuse(tmp_path_factory) -> Stack:
    with running(tmp_path_factory.mktemp("abuse"), **LIMITS) as s:
        yield s


@pytest.fixture
def aprovince(abuse) -> Api:
    return Api(abuse.url).login_admin("admin", ADMIN_PASSWORD)


@pytest.fixture(autouse=True)
def _real_clock_abuse(request):
    if "abuse" not in request.fixturenames:
        yield
        return
    s = request.getfixturevalue("abuse")
    s.set_clock(None)
    yield
    s.set_clock(None)
