"""The distributed run's supervisor (issue 13, API.md "Operations"): GONGKAO_SERVICE_INSTANCES
as a count for all or per service, refused when malformed; a process that dies is started
again (a new pid), one that keeps dying waits longer each time; stop is SIGTERM first and
SIGKILL only after the grace period. Real child processes, no broker."""
from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from deploy.supervise import Supervisor, instances
from kit.config import SERVICES


def test_instances_for_all_or_per_service():
    assert instances(None, SERVICES) == dict.fromkeys(SERVICES, 1)
    assert instances("", SERVICES) == dict.fromkeys(SERVICES, 1)
    assert instances("2", SERVICES) == dict.fromkeys(SERVICES, 2)
    assert instances("identity=2, application=3", SERVICES) == {
        "identity": 2, "application": 3, "review": 1, "payment": 1, "documents": 1}


@pytest.mark.parametrize("spec", ["0", "17", "identity", "identity=0", "identity=x", "gateway=2", "2,3",
                                  "identity=2;review=2"])
def test_a_malformed_count_is_refused_with_the_setting_named(spec):
    with pytest.raises(ValueError, match="GONGKAO_SERVICE_INSTANCES"):
        instances(spec, SERVICES)


def sleeper(seconds: float = 60) -> list[str]:
    return [sys.executable, "-c", f"import time; time.sleep({seconds})"]


def wait_until(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("not within the time")


def test_a_killed_process_is_started_again_and_the_others_are_left_alone(tmp_path: Path):
    sup = Supervisor(tmp_path, dict(os.environ), log_dir=tmp_path)
    try:
        sup.add("identity#1", sleeper())
        sup.add("identity#2", sleeper())
        before = sup.pids()
        os.kill(before["identity#1"], signal.SIGKILL)
        time.sleep(0.2)
        for child in sup.children:                                   # ran a while: no back-off
            child.started_at -= 60

        def restarted():
            sup.check()
            pids = sup.pids()
            return pids if pids.get("identity#1") not in (None, before["identity#1"]) else None

        after = wait_until(restarted)
        assert after["identity#2"] == before["identity#2"]            # untouched
        assert [c.restarts for c in sup.children] == [1, 0]
        assert (tmp_path / "identity-1.log").exists()
    finally:
        sup.stop(5)
    assert sup.pids() == {}


def test_a_process_that_keeps_dying_waits_longer_each_time(tmp_path: Path):
    sup = Supervisor(tmp_path, dict(os.environ))
    try:
        child = sup.add("review#1", [sys.executable, "-c", "raise SystemExit(3)"])
        waits = []
        for _ in range(3):
            wait_until(lambda: child.proc is None or child.proc.poll() is not None)
            sup.check()                                              # notices the death
            waits.append(round(child.next_start - time.monotonic()))
            child.next_start = 0                                     # as if the wait were over
            sup.check()                                              # starts it again
        assert waits == [1, 2, 4] and child.restarts == 3
    finally:
        sup.stop(5)


def test_a_process_not_to_restart_is_reported_gone(tmp_path: Path):
    sup = Supervisor(tmp_path, dict(os.environ))
    try:
        sup.add("gateway", [sys.executable, "-c", "raise SystemExit(1)"], restart=False)
        assert wait_until(lambda: sup.check()) == ["gateway"]
    finally:
        sup.stop(5)


def test_stop_is_sigterm_first_and_sigkill_only_after_the_grace(tmp_path: Path):
    graceful = tmp_path / "graceful"
    code = ("import signal, sys, time, pathlib\n"
            "def bye(*_):\n"
            f"    time.sleep(0.5); pathlib.Path({str(graceful)!r}).write_text('finished'); sys.exit(0)\n"
            "signal.signal(signal.SIGTERM, bye)\n"
            "print('ready', flush=True)\n"
            "time.sleep(60)\n")
    stubborn = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); " \
               "time.sleep(60)"
    sup = Supervisor(tmp_path, dict(os.environ), log_dir=tmp_path)
    sup.add("payment#1", [sys.executable, "-c", code])
    sup.add("payment#2", [sys.executable, "-c", stubborn])
    wait_until(lambda: "ready" in (tmp_path / "payment-1.log").read_text()
               and "ready" in (tmp_path / "payment-2.log").read_text())
    started = time.monotonic()
    sup.stop(grace=2)
    took = time.monotonic() - started
    assert graceful.read_text() == "finished"                        # finished its work after SIGTERM
    assert [c.proc.returncode for c in sup.children] == [0, -signal.SIGKILL]
    assert 2 <= took < 6
    sup.check()
    assert sup.pids() == {}                                          # nothing started again while stopping
