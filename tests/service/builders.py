"""What the service tests build: sealed principals, accounts, event envelopes, calendars, and a
look into a service's outbox. Test modules import from here (fixtures live in conftest.py)."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from deploy.seed import with_check_digit
from kit import access
from kit.access import Principal
from kit.clock import CST
from kit.db import Db

YEAR = 2026
# The tests' "now": inside the application and review windows of CALENDAR below.
NOW = datetime(2026, 3, 10, 10, 0, 0, tzinfo=CST)


# --- who calls -------------------------------------------------------------------------------
def admin(role: str, scope: str | None = None, username: str | None = None, id: int = 1,
          name: str = "王建国", **kw) -> dict:
    """A sealed administrator, as identity hands it to the gateway."""
    return access.seal(Principal(kind="admin", id=id, name=name, username=username or f"{role}_{scope or 'all'}",
                                 role=role, scope_code=scope, **kw))


PROVINCE = admin("province", username="admin", name="周明远")


class Person:
    """An applicant: their sealed principal and identity's account, as the gateway passes both."""

    _seq = 0

    def __init__(self, birth: str = "19800512", city_code: str = "410100", gender: str = "M",
                 grade: int = 4, year: int = YEAR, name: str = "张伟", id_card_photo: str | None = None):
        Person._seq += 1
        region = "410102" if city_code != "410300" else "410303"
        gender_digit = str((Person._seq % 5) * 2 + (1 if gender == "M" else 0))
        self.id_number = with_check_digit(f"{region}{birth}{Person._seq % 100:02d}{gender_digit}")
        self.id = 1000 + Person._seq
        self.name, self.city_code, self.gender, self.grade, self.year = name, city_code, gender, grade, year
        self.birth_month = f"{birth[:4]}-{birth[4:6]}"
        self.phone = f"139{Person._seq:08d}"
        self.id_card_photo = id_card_photo

    @property
    def principal(self) -> dict:
        return access.seal(Principal(kind="applicant", id=self.id, name=self.name, year=self.year,
                                     id_number=self.id_number, city_code=self.city_code))

    @property
    def account(self) -> dict:
        """identity's account as ``identity.me`` answers it (what application reads of it)."""
        return {"year": self.year, "id_number": self.id_number, "name": self.name, "gender": self.gender,
                "birth_month": self.birth_month, "phone": self.phone, "city_code": self.city_code,
                "declared_grade": self.grade, "id_card_photo": self.id_card_photo}


# --- events ----------------------------------------------------------------------------------
def envelope(event_type: str, data: dict[str, Any], event_id: str | None = None) -> dict:
    """An event as the outbox relay publishes it."""
    return {"event_id": event_id or str(uuid.uuid4()), "event_type": event_type,
            "occurred_at": NOW.isoformat(), "data": data}


def window(start: datetime, end: datetime) -> dict:
    return {"start": start.isoformat(), "end": end.isoformat()}


def calendar(updated_at: datetime = NOW, **windows: dict | None) -> dict:
    """identity.year_updated.v1's payload: the application and review windows open around NOW
    unless told otherwise."""
    base = {"registration": window(NOW - timedelta(days=40), NOW + timedelta(days=20)),
            "application": window(NOW - timedelta(days=30), NOW + timedelta(days=30)),
            "review": window(NOW - timedelta(days=30), NOW + timedelta(days=60)),
            "payment": window(NOW + timedelta(days=61), NOW + timedelta(days=90)),
            "results": None}
    base.update(windows)
    return {"year": YEAR, "current": True, "windows": base,
            "switches": {"ticket_printing": False, "certificate_printing": False},
            "updated_at": updated_at.isoformat()}


def year_updated(updated_at: datetime = NOW, **windows) -> dict:
    return envelope("identity.year_updated.v1", calendar(updated_at, **windows))


# --- the outbox ------------------------------------------------------------------------------
VIEWERS_CHANGED = "%.viewers_changed.v1"


def outbox(db: Db, event_type: str | None = None) -> list[dict]:
    """The envelopes the service announced (kit.db writes them with the change), oldest first.
    Without ``event_type``: all but ``<service>.viewers_changed.v1``, which most writes add
    for the gateways (issue 12; ``viewers`` reads them, and their own tests do)."""
    table = db._p.metadata.tables["outbox"]
    q = sa.select(table.c.envelope).order_by(table.c.id)
    if event_type:
        q = q.where(table.c.event_type == event_type)
    else:
        q = q.where(table.c.event_type.not_like(VIEWERS_CHANGED))
    with db.engine.connect() as conn:
        return [row.envelope for row in conn.execute(q)]


def viewers(db: Db) -> tuple[set[tuple[int, str]], set[tuple[int, str]], bool]:
    """Who the service said changed (its viewers_changed events): the applicants named, those
    whose form alone changed, and whether everyone did."""
    table = db._p.metadata.tables["outbox"]
    named, forms, everyone = set(), set(), False
    with db.engine.connect() as conn:
        for row in conn.execute(sa.select(table.c.envelope).where(table.c.event_type.like(VIEWERS_CHANGED))):
            named |= {tuple(a) for a in row.envelope["data"]["applicants"]}
            forms |= {tuple(a) for a in row.envelope["data"].get("forms", [])}
            everyone = everyone or row.envelope["data"]["everyone"]
    return named, forms, everyone


def clear_outbox(db: Db) -> None:
    with db.engine.begin() as conn:
        conn.execute(db._p.metadata.tables["outbox"].delete())


def count(db: Db, table: str) -> int:
    with db.engine.connect() as conn:
        return conn.scalar(sa.select(sa.func.count()).select_from(db._p.metadata.tables[table]))
