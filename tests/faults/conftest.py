"""The distributed run as an operator starts it (``python -m deploy.run``), two processes per
service, supervised; one per module (its own vhost and databases)."""
from __future__ import annotations

import pytest
from harness import running


@pytest.fixture(scope="module")
def supervised(tmp_path_factory):
    # a person whose code was lost asks again within seconds (tests/faults/test_fault_suite.py)
    with running(tmp_path_factory.mktemp("supervised"), supervised="2", GONGKAO_SMS_RESEND_SECONDS="2") as stack:
        yield stack
