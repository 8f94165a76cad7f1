"""Fill a deployment with synthetic applicants, for load tests and benchmarks (issue 12):

    python -m deploy.synth --applications 100000

Accounts (identity), applications (application) and review cases with their first step
(review), for the current exam year, spread over the demo data's units (so their cities,
counties and 主管单位), the five grades, a few trades and every status: 未提交, each review
level, 退回, 审核不通过, 终审通过. Every synthetic applicant logs in with their ID number
and ``Synth2026pass``. Written straight into each service's own PostgreSQL database in
batches (minutes, not hours — through the services it would take hours); running it again
adds nothing twice. Run ``deploy.seed`` (or ``make run``) first: the units and the year
come from there. A tool for test deployments only: never against production data."""
from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from datetime import date, timedelta

import sqlalchemy as sa

from deploy.seed import UNITS, with_check_digit
from kit import clock
from kit.config import settings
from services.identity.passwords import hash_password

PASSWORD = "Synth2026pass"
NAMESPACE = uuid.UUID("7b0c4d55-1e0a-4b3a-9c51-3d1f5c0e2a10")
TRADES = ("T013", "T021", "T034", "T045", "T052", "T061")
FIRST = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华"
BATCH = 5000
# i % 20 → (application status, review status, level index in the chain or None)
STATUSES = ([("not_submitted", None, None)] * 4 + [("in_review", "in_review", 0)] * 4
            + [("in_review", "in_review", 1)] * 3 + [("in_review", "in_review", 2)] * 3
            + [("returned", "returned", None), ("rejected", "rejected", None)] + [("approved", "approved", None)] * 4)


def chain_of(city_code: str) -> list[str]:
    return ["supervisor", "province"] if city_code == "410000" else ["supervisor", "city", "province"]


def person(i: int, year: int) -> dict:
    unit_id, unit_name, city, county, supervisor = UNITS[i % len(UNITS)]
    region = county or "410105"
    birth = date(1968, 1, 1) + timedelta(days=(i // 1000) % 9000)
    seq = f"{i % 1000:03d}"
    id_number = with_check_digit(f"{region}{birth:%Y%m%d}{seq}")
    grade = (5, 5, 4, 4, 4, 3, 3, 2, 5, 1)[i % 10]
    app, case_status, level = STATUSES[i % len(STATUSES)]
    return {"i": i, "id": uuid.uuid5(NAMESPACE, f"{year}:{i}").hex, "id_number": id_number,
            "name": FIRST[i % 20] + GIVEN[(i // 20) % 20] + (GIVEN[(i // 400) % 20] if i % 3 else ""),
            "gender": "M" if int(seq[-1]) % 2 else "F", "birth_month": f"{birth:%Y-%m}",
            "phone": f"1{3 + i % 7}{i:09d}"[-11:], "city_code": city, "county_code": county, "unit_id": unit_id,
            "unit_name": unit_name, "supervisor_id": supervisor, "grade": grade, "trade": TRADES[i % len(TRADES)],
            "status": app, "case_status": case_status, "level": level}


def insert(conn, table: str, rows: list[dict], conflict: str) -> None:
    if not rows:
        return
    cols = list(rows[0])
    stmt = sa.text(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)}) "  # noqa: S608 - this module's own table and column names
                   f"ON CONFLICT {conflict} DO NOTHING")
    conn.execute(stmt, rows)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--applications", type=int, default=100_000)
    args = ap.parse_args(argv)
    cfg = settings()
    urls = {s: cfg.db_url(s) for s in ("identity", "application", "review")}
    if not all(u.startswith("postgresql") for u in urls.values()):
        raise SystemExit("deploy.synth writes PostgreSQL databases: set GONGKAO_<SERVICE>_DB_URL")
    engines = {s: sa.create_engine(u) for s, u in urls.items()}
    with engines["identity"].connect() as conn:
        year = conn.execute(sa.text("SELECT year FROM exam_years WHERE is_current")).scalar()
    if year is None:
        raise SystemExit("no current exam year: run deploy.seed first")
    password_hash = hash_password(PASSWORD)
    now = clock.now()
    started = time.perf_counter()
    for start in range(0, args.applications, BATCH):
        people = [person(i, year) for i in range(start, min(start + BATCH, args.applications))]
        with engines["identity"].begin() as conn:
            insert(conn, "accounts", [{
                "year": year, "id_number": p["id_number"], "name": p["name"], "gender": p["gender"],
                "birth_month": p["birth_month"], "phone": p["phone"], "city_code": p["city_code"],
                "county_code": p["county_code"], "unit_id": p["unit_id"], "unit_chosen_at": now,
                "declared_grade": p["grade"], "password_hash": password_hash, "must_change_password": False,
                "supplementary": False, "ever_submitted": p["status"] != "not_submitted", "created_at": now,
                "updated_at": now} for p in people], "")
        with engines["application"].begin() as conn:
            insert(conn, "applications", [{
                "id": p["id"], "year": year, "id_number": p["id_number"], "name": p["name"], "gender": p["gender"],
                "birth_month": p["birth_month"], "phone": p["phone"], "city_code": p["city_code"],
                "target_grade": p["grade"], "unit_id": p["unit_id"], "county_code": p["county_code"],
                "supervisor_id": p["supervisor_id"], "education": "senior_high", "work_start": "2000-07",
                "service_years": year - 2000, "current_grade": min(5, p["grade"] + 1) if p["grade"] < 5 else 0,
                "current_trade": p["trade"], "target_trade": p["trade"], "route": "years", "exceptional": False,
                "frontline": True, "exceptional_reason": "", "prohibited": False, "pledge": True, "files": "{}",
                "status": p["status"], "round": 0 if p["status"] == "not_submitted" else 1,
                "submitted_at": None if p["status"] == "not_submitted" else now - timedelta(minutes=p["i"] % 50000),
                "created_at": now, "updated_at": now} for p in people], "")
        cases = [p for p in people if p["case_status"]]
        with engines["review"].begin() as conn:
            insert(conn, "cases", [{
                "application_id": p["id"], "year": year, "id_number": p["id_number"], "name": p["name"],
                "gender": p["gender"], "target_grade": p["grade"], "target_trade": p["trade"], "route": "years",
                "unit_id": p["unit_id"], "unit_name": p["unit_name"], "supervisor_id": p["supervisor_id"],
                "county_code": p["county_code"], "city_code": p["city_code"],
                "chain": json.dumps(chain_of(p["city_code"])),
                "level_index": min(p["level"] or 0, len(chain_of(p["city_code"])) - 1),
                "current_level": (chain_of(p["city_code"])[min(p["level"], len(chain_of(p["city_code"])) - 1)]
                                  if p["level"] is not None else None),
                "status": p["case_status"], "rejected_index": 0 if p["case_status"] == "rejected" else None,
                "round": 1, "snapshot": json.dumps({"name": p["name"], "unit": {"name": p["unit_name"]},
                                                    "target_grade": p["grade"], "target_trade": p["trade"]},
                                                   ensure_ascii=False),
                "materials": "{}", "submitted_at": now - timedelta(minutes=p["i"] % 50000),
                "finally_approved_at": now if p["case_status"] == "approved" else None, "updated_at": now,
                "version": 1} for p in cases], "")
            ids = [p["id"] for p in cases]
            have = set(conn.execute(sa.text("SELECT application_id FROM steps WHERE application_id = ANY(:ids)"),
                                    {"ids": ids}).scalars())
            insert(conn, "steps", [{
                "application_id": p["id"], "round": 1, "level": "applicant", "decision": "submitted",
                "actor": p["id_number"][:6] + "********" + p["id_number"][-4:], "actor_name": p["name"],
                "actor_role": None, "actor_scope": None, "reason": "", "at": now - timedelta(minutes=p["i"] % 50000)}
                for p in cases if p["id"] not in have], "(id)")
        done = min(start + BATCH, args.applications)
        print(f"\r{done}/{args.applications} applicants", end="", file=sys.stderr, flush=True)
    for engine in engines.values():     # as autovacuum would leave them: statistics and visibility
        with engine.connect() as conn:    # maps (index-only scans)
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text("VACUUM ANALYZE"))
        engine.dispose()
    print(f"\n{args.applications} synthetic applicants of {year} in {time.perf_counter() - started:.0f} s "
          f"(password {PASSWORD})", file=sys.stderr)


if __name__ == "__main__":
    main()
