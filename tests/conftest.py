"""Shared fixtures. The whole system runs once per test session on the real RabbitMQ and
PostgreSQL (see harness.py); a missing broker or database fails the run, never skips it."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from harness import ADMIN_PASSWORD, Stack, check_infrastructure, running  # noqa: E402

# Until every browser test imports its helpers from helpers.py (not from here):
from helpers import (  # noqa: E402, F401
    Api,  # noqa: E402
    jpeg_bytes,
    new_person,
    png_bytes,
    register,
)


def pytest_collection_modifyitems(session, config, items):
    """Tests that run the system need RabbitMQ and PostgreSQL: fail at once, clearly, when
    they are not there (never skip)."""
    if any("stack" in getattr(item, "fixturenames", ()) for item in items):
        problems = check_infrastructure()
        if problems:
            pytest.exit("Cannot run the tests:\n  - " + "\n  - ".join(problems), returncode=3)


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Stack:
    with running(tmp_path_factory.mktemp("stack")) as s:
        yield s


@pytest.fixture(autouse=True)
def _real_clock(request):
    """Every test starts and ends on the real clock."""
    if "stack" not in request.fixturenames:
        yield
        return
    s = request.getfixturevalue("stack")
    s.set_clock(None)
    yield
    s.set_clock(None)


@pytest.fixture
def api(stack) -> Api:
    return Api(stack.url)


@pytest.fixture
def province(stack) -> Api:
    return Api(stack.url).login_admin("admin", ADMIN_PASSWORD)


# --- pages: one headless Debian Chromium for every browser test ----------------------------
# Nothing is downloaded: playwright drives /usr/bin/chromium, which `make test` installs.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--lang=zh-CN"]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
