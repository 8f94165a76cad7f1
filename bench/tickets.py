"""Admission tickets at scale (issue 10, R-D1 R-D2 R-D6): seat assignment for N applicants, the
bulk job that makes every ticket PDF with one and with two documents instances, the peak
memory of the job and of streaming its ZIP, and a cached ticket's re-download under load
(Debian's ``wrk``, not Python threads sharing the 2 cores).

    .venv/bin/python bench/tickets.py [--applicants 10000] [--seconds 10]

Starts the whole system the way the tests do (fresh vhost and databases, one process per
service, gunicorn gthread). One applicant goes the real way (registered, submitted with a
2-inch photo, approved at every level); the other N-1 are copies of that application put
straight into application's and documents' databases (the approvals are not what is
measured; every copy's ticket still fetches the photo from application over kit.files).
Prints the figures; stops what it started."""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from harness import ADMIN_PASSWORD, Stack  # noqa: E402
from helpers import Api, approved, wait_for  # noqa: E402

ROOM_SEATS = 400
TRADES = ("T0101", "T0102", "T0201", "T0301", "T0402")


def peak_kib(pid: int) -> int:
    """The process's high-water mark of resident memory (VmHWM), KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def gateway_peak_kib(stack: Stack) -> int:
    master = stack.procs["gateway"].pid
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return max([peak_kib(master), *(peak_kib(int(c)) for c in children)])


def copy_applications(stack: Stack, source: str, n: int) -> None:
    """N copies of the real application (ids md5(source||i), ID numbers made up), in both
    databases that hold it: application's (the photo is served from there) and documents'."""
    for service, table, key, id_col in (("application", "applications", "id", "id_number"),
                                        ("documents", "candidates", "application_id", "id_number")):
        engine = sa.create_engine(stack.env[f"GONGKAO_{service.upper()}_DB_URL"])
        with engine.begin() as conn:
            cols = [r[0] for r in conn.execute(sa.text(
                "SELECT column_name FROM information_schema.columns WHERE table_name = :t ORDER BY ordinal_position"),
                {"t": table})]
            made = {key: f"md5(src.{key} || g::text)",
                    id_col: "'4100001980' || lpad(g::text, 8, '0')",
                    "name": "'考生' || g::text"}
            if service == "documents":
                made["target_trade"] = f"(ARRAY{list(TRADES)!r})[1 + g % {len(TRADES)}]"
            select = ", ".join(made.get(c, f"src.{c}") for c in cols)
            conn.execute(sa.text(f"INSERT INTO {table} ({', '.join(cols)}) SELECT {select} "
                                 f"FROM {table} src, generate_series(1, :n) g WHERE src.{key} = :s"),
                         {"n": n, "s": source})
        engine.dispose()


def run_job(province: Api, year: int) -> tuple[int, float, str]:
    r = province.post("/api/v1/admin/document-jobs", json={"kind": "tickets", "year": year})
    assert r.status_code == 202, r.text
    job_id, started = r.json()["job_id"], time.perf_counter()
    while True:
        job = province.get(f"/api/v1/admin/document-jobs/{job_id}").json()
        if job["status"] == "done":
            return job["total"], time.perf_counter() - started, job_id
        time.sleep(1)


def forget_pdfs(stack: Stack) -> None:
    """The next job makes every PDF again (the cache and the stored PDFs go)."""
    engine = sa.create_engine(stack.env["GONGKAO_DOCUMENTS_DB_URL"])
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM blob_chunks WHERE sha256 IN (SELECT sha256 FROM rendered)"))
        conn.execute(sa.text("DELETE FROM blobs WHERE sha256 IN (SELECT sha256 FROM rendered)"))
        conn.execute(sa.text("DELETE FROM rendered"))
    engine.dispose()


def wrk(url: str, token: str, connections: int, seconds: int) -> str:
    out = subprocess.run(["wrk", "-t1" if connections == 1 else "-t2", f"-c{connections}", f"-d{seconds}s",
                          "--latency", "-H", f"Authorization: Bearer {token}", "-H", "X-Forwarded-For: 10.9.9.9",
                          url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"50%\s+(\S+)", out).group(1)
    p99 = re.search(r"99%\s+(\S+)", out).group(1)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return f"{rate:.0f} req/s, p50 {p50}, p99 {p99}" + (f", NON-2xx {non2xx.group(1)}" if non2xx else "")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--applicants", type=int, default=10000)
    ap.add_argument("--seconds", type=int, default=10)
    args = ap.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed (Debian: apt-get install wrk)")
    stack = Stack(Path(tempfile.mkdtemp(prefix="gk-bench-")))
    stack.start()
    try:
        province = Api(stack.url).login_admin("admin", ADMIN_PASSWORD)
        year = province.get("/api/v1/years/current").json()["year"]
        api, person, source = approved(stack, province)                      # 省直, with a 2-inch photo
        wait_for(lambda: stack.db_scalar("documents", "SELECT approved FROM candidates WHERE application_id = :a",
                                         a=source), what="documents learning of 终审通过")
        copy_applications(stack, source, args.applicants - 1)
        rooms = -(-args.applicants // ROOM_SEATS)
        sites = [{"site_code": f"SZ{s + 1:02d}", "name": f"省直第{s + 1}考点", "address": "郑州市金水区", "city_code": "410000",
                  "rooms": [{"room_code": f"{r + 1:03d}", "name": f"第{r + 1}考场", "seats": ROOM_SEATS}
                            for r in range(s * 10, min(rooms, s * 10 + 10))]} for s in range(-(-rooms // 10))]
        assert province.put(f"/api/v1/admin/years/{year}/exam-sites", json=sites).status_code == 200
        day = (datetime.now().astimezone() + timedelta(days=20)).replace(hour=8, minute=0, second=0, microsecond=0)
        rows = [{"subject": subject, "start": (day + timedelta(hours=2 * i)).isoformat(),
                 "end": (day + timedelta(hours=2 * i + 1)).isoformat(), "place": ""}
                for i, subject in enumerate(("职业道德", "职业能力", "岗位技能"))]
        assert province.put(f"/api/v1/admin/years/{year}/timetable", json={"4": rows}).status_code == 200
        started = time.perf_counter()
        result = province.post(f"/api/v1/admin/years/{year}/seat-assignments", json={}, timeout=300).json()
        assigned_in = time.perf_counter() - started
        assert result["assigned"] == args.applicants, result
        wait_for(lambda: stack.db_scalar("application", "SELECT count(*) FROM applications WHERE ticket_no IS NOT NULL")
                 == args.applicants, timeout=600, what="application learning of every ticket")
        r = province.put(f"/api/v1/admin/years/{year}", json={"switches": {"ticket_printing": True}})
        assert r.status_code == 200, r.text
        wait_for(lambda: api.get("/api/v1/me/ticket").json()["available"], what="printing on")

        total, one, job_id = run_job(province, year)
        documents_peak_one = peak_kib(stack.procs["documents"].pid)
        gateway_before = gateway_peak_kib(stack)
        started, size = time.perf_counter(), 0
        with requests.get(f"{stack.url}/api/v1/admin/document-jobs/{job_id}/archive.zip", stream=True, timeout=600,
                          headers={"Authorization": f"Bearer {province.token}", "X-Forwarded-For": "10.9.9.8"}) as z:
            assert z.status_code == 200, z.text[:300]
            for chunk in z.iter_content(1 << 20):
                size += len(chunk)
        zip_seconds = time.perf_counter() - started
        documents_peak_zip = peak_kib(stack.procs["documents"].pid)
        gateway_zip = gateway_peak_kib(stack)

        forget_pdfs(stack)
        stack.start_service("documents", key="documents-2")
        time.sleep(5)                          # the second instance joins the queues and its timer
        total_two, two, _ = run_job(province, year)
        peaks_two = [peak_kib(stack.procs[k].pid) for k in ("documents", "documents-2")]

        assert api.get("/api/v1/me/ticket.pdf").status_code == 200           # made once: cached from now on
        url = f"{stack.url}/api/v1/me/ticket.pdf"
        single, loaded = wrk(url, api.token, 1, args.seconds), wrk(url, api.token, 8, args.seconds)

        print(f"2 cores; PostgreSQL; gateway gunicorn gthread 2×8; {args.applicants} applicants in 省直, "
              f"{rooms} rooms of {ROOM_SEATS}; one PDF ≈ {size // max(total, 1) // 1024} KiB with the photo")
        print(f"seat assignment:                 {args.applicants} seated in {assigned_in:.1f} s (one request)")
        print(f"bulk job, 1 documents instance:  {total} tickets in {one:.0f} s = {total / one:.1f} tickets/s; "
              f"peak RSS {documents_peak_one // 1024} MiB")
        print(f"bulk job, 2 documents instances: {total_two} tickets in {two:.0f} s = {total_two / two:.1f} tickets/s; "
              f"peak RSS {' / '.join(f'{p // 1024} MiB' for p in peaks_two)}")
        print(f"ZIP of the job streamed:         {size / 2**20:.0f} MiB in {zip_seconds:.0f} s; peak RSS documents "
              f"{documents_peak_zip // 1024} MiB (before {documents_peak_one // 1024}), gateway worker "
              f"{gateway_zip // 1024} MiB (before {gateway_before // 1024})")
        print(f"cached re-download, 1 connection:  {single}")
        print(f"cached re-download, 8 connections: {loaded}")
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
