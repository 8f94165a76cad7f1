"""The distributed run as an operator starts it (``python -m deploy.run``), two processes per
service, supervised; one per module (its own vhost and databases)."""
from __future__ import annotations

import pytest
from harness import Stack


@pytest.fixture(scope="module")
def supervised(tmp_path_factory):
    stack = Stack(tmp_path_factory.mktemp("supervised"))
    try:
        stack.start_supervised("2")
    except Exception:
        stack.stop()
        raise
    try:
        yield stack
    finally:
        stack.stop()
