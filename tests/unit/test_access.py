"""kit.access: the one place roles and scopes are checked (issue 7), table-driven. Who sees
an application (R-I12, R-R1), who manages accounts (R-I10), who creates administrators
(R-I11), who decides at which level (R-R2), and that only a sealed principal counts."""
from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from kit import access, signing
from kit.access import Principal
from kit.errors import Forbidden, NotFound, Unauthenticated


def admin(role: str, scope: str | None = None, **kw) -> Principal:
    return Principal(kind="admin", id=1, name="王建国", username="u", role=role, scope_code=scope, **kw)


APPLICANT = Principal(kind="applicant", id=7, name="张伟", year=2026, id_number="410102198503120014",
                      city_code="410100")


# --- sealing ----------------------------------------------------------------------------------
def test_a_sealed_principal_is_accepted_and_read_from_its_seal():
    sealed = access.seal(admin("city", "410100"))
    assert access.require(sealed, "admin").scope_code == "410100"
    forged = {**sealed, "role": "province", "scope_code": None}      # the plain fields are not trusted
    assert access.require(forged, "admin").role == "city"


@pytest.mark.parametrize("principal", [
    None, {}, {"kind": "admin", "id": 1, "name": "x", "role": "province"},          # no seal: any broker client
    {"seal": "not-a-token"},
    {"seal": signing.dumps("file-ticket", admin("province").model_dump())},         # a token for another purpose
])
def test_without_a_valid_seal_nobody_is_logged_in(principal):
    with pytest.raises(Unauthenticated) as exc:
        access.require(principal)
    assert exc.value.code == "unauthenticated"


def test_a_seal_made_with_another_secret_does_not_hold(monkeypatch):
    from kit import config

    sealed = access.seal(admin("province"))
    assert access.require(sealed).role == "province"        # verified once, and kept
    other = config.Settings(internal_secret="another-secret")
    monkeypatch.setattr(access.signing, "settings", lambda: other)
    with pytest.raises(Unauthenticated):
        access.require(sealed)


def test_an_old_seal_expires(monkeypatch):
    sealed = access.seal(admin("province"))
    monkeypatch.setattr(access, "SEAL_MAX_AGE", -1)
    with pytest.raises(Unauthenticated):
        access.require(sealed)


def test_a_verified_seal_is_kept_and_still_held_to_its_age(monkeypatch):
    """Issue 12: the same seal again is not verified again (a kept session sends it with every
    request), but a kept seal still expires SEAL_MAX_AGE seconds after it was made."""
    sealed = access.seal(admin("city", "410100"))
    first = access.require(sealed)
    monkeypatch.setattr(access.signing, "loads_timed", lambda *a, **kw: pytest.fail("verified again"))
    assert access.require(dict(sealed)) is first
    now = time.time()
    monkeypatch.setattr(access.signing.time, "time", lambda: now + access.SEAL_MAX_AGE + 1)
    with pytest.raises(Unauthenticated):
        access.require(sealed)
    monkeypatch.setattr(access.signing.time, "time", lambda: now - 5)   # made "in the future"
    with pytest.raises(Unauthenticated):
        access.require(sealed)


def test_an_altered_seal_is_refused_even_when_its_original_is_kept():
    sealed = access.seal(admin("province"))
    access.require(sealed)
    token = sealed["seal"]
    altered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    with pytest.raises(Unauthenticated):
        access.require({"seal": altered})


# --- kind, forced password change, roles: each refusal has its own code ------------------------
def test_kind_must_change_and_roles_are_told_apart():
    with pytest.raises(Forbidden) as exc:
        access.require(access.seal(APPLICANT), "admin")
    assert exc.value.code == "wrong_kind"
    must = access.seal(admin("city", "410100", must_change_password=True))
    with pytest.raises(Forbidden) as exc:
        access.require(must, "admin")
    assert exc.value.code == "must_change_password"
    assert access.require(must, "admin", allow_must_change=True).role == "city"
    with pytest.raises(Forbidden) as exc:
        access.require(access.seal(admin("county", "410102")), "admin", roles=("province", "city"))
    assert exc.value.code == "role_not_allowed"


# --- scope (R-I12, R-R1) ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("role", "scope", "ok"),
    [("province", None, True), ("city", "410100", True), ("city", "410300", False), ("county", "410102", True),
     ("county", "410103", False), ("supervisor", "S1", True), ("supervisor", "S2", False)],
)
def test_who_sees_an_application(role, scope, ok):
    who = admin(role, scope)
    assert who.in_scope("410100", "410102", "S1") is ok
    if ok:
        access.require_scope(who, "410100", "410102", "S1")
    else:
        with pytest.raises(Forbidden) as exc:
            access.require_scope(who, "410100", "410102", "S1")
        assert exc.value.code == "out_of_scope"
        with pytest.raises(NotFound):                                # hidden: no probing
            access.require_scope(who, "410100", "410102", "S1", hide=True)


def test_an_applicant_is_in_nobodys_scope_and_owns_only_their_record():
    assert APPLICANT.in_scope("410100", "410102", "S1") is False
    assert APPLICANT.owns(2026, "410102198503120014") and not APPLICANT.owns(2025, "410102198503120014")
    with pytest.raises(Forbidden) as exc:
        access.require_owner(APPLICANT, 2026, "410105199007040027")
    assert exc.value.code == "not_owner"


@pytest.mark.parametrize(
    ("role", "scope", "ids"),
    [("province", None, {"a", "b", "c"}), ("city", "410100", {"a", "b"}), ("county", "410102", {"a"}),
     ("supervisor", "S2", {"b"}), ("supervisor", "S9", set())],
)
def test_the_scope_as_sql_selects_the_same_rows(role, scope, ids):
    engine = sa.create_engine("sqlite://")
    meta = sa.MetaData()
    t = sa.Table("t", meta, sa.Column("id", sa.String), sa.Column("city", sa.String), sa.Column("county", sa.String),
                 sa.Column("sup", sa.String))
    meta.create_all(engine)
    rows = [("a", "410100", "410102", "S1"), ("b", "410100", "410103", "S2"), ("c", "410300", "410311", "S3")]
    with engine.begin() as conn:
        conn.execute(t.insert(), [dict(zip(("id", "city", "county", "sup"), r, strict=True)) for r in rows])
        who = admin(role, scope)
        found = set(conn.scalars(sa.select(t.c.id).where(access.scope_clause(who, t.c.city, t.c.county, t.c.sup))))
    assert found == ids == {r[0] for r in rows if who.in_scope(r[1], r[2], r[3])}


# --- accounts (R-I10) and administrators (R-I11) -------------------------------------------------
@pytest.mark.parametrize(
    ("role", "scope", "city", "county", "ok"),
    [
        ("province", None, "410300", None, True),
        ("province", None, "410000", None, True),      # 省直: the province in place of a city
        ("city", "410100", "410100", None, True),
        ("city", "410100", "410300", None, False),     # 郑州 cannot touch 洛阳
        ("city", "410100", "410000", None, False),
        ("county", "410102", "410100", "410102", True),
        ("county", "410102", "410100", "410103", False),
        ("county", "410102", "410100", None, False),   # no unit chosen yet: the city's
        ("supervisor", "S1", "410100", "410102", False),
    ],
)
def test_who_manages_an_account(role, scope, city, county, ok):
    assert access.may_manage_account(admin(role, scope), city, county) is ok


@pytest.mark.parametrize(
    ("role", "scope", "city", "ok"),
    [("province", None, "410000", True), ("city", "410100", "410100", True), ("city", "410100", "410300", False),
     ("county", "410102", "410100", False), ("supervisor", "S1", "410100", False)],
)
def test_who_registers_supplementary_people(role, scope, city, ok):
    assert access.may_supplement(admin(role, scope), city) is ok


@pytest.mark.parametrize(
    ("creator", "scope", "new_role", "new_city", "ok"),
    [
        ("province", None, "province", None, True),
        ("province", None, "city", "410300", True),
        ("city", "410100", "county", "410100", True),
        ("city", "410100", "supervisor", "410100", True),
        ("city", "410100", "county", "410300", False),
        ("city", "410100", "city", "410100", False),
        ("city", "410100", "province", None, False),
        ("county", "410102", "supervisor", "410100", False),
        ("supervisor", "S1", "supervisor", "410100", False),
    ],
)
def test_who_creates_administrators(creator, scope, new_role, new_city, ok):
    assert access.may_create_admin(admin(creator, scope), new_role, new_city) is ok


# --- the level an administrator acts at (R-R2) ---------------------------------------------------
CITY_CHAIN = ("supervisor", "city", "province")
PROVINCIAL_CHAIN = ("supervisor", "province")


@pytest.mark.parametrize(
    ("role", "scope", "chain", "city", "supervisor", "level"),
    [
        ("supervisor", "S1", CITY_CHAIN, "410100", "S1", "supervisor"),
        ("supervisor", "S2", CITY_CHAIN, "410100", "S1", None),            # another 主管单位
        ("city", "410100", CITY_CHAIN, "410100", "S1", "city"),
        ("city", "410300", CITY_CHAIN, "410100", "S1", None),               # another city
        ("city", "410100", PROVINCIAL_CHAIN, "410100", "S1", None),         # a chain without the city level
        ("province", None, CITY_CHAIN, "410100", "S1", "province"),
        ("province", None, PROVINCIAL_CHAIN, "410000", "S9", "province"),
        ("county", "410102", CITY_CHAIN, "410100", "S1", None),             # a county reads, never decides
    ],
)
def test_acting_level(role, scope, chain, city, supervisor, level):
    assert access.acting_level(admin(role, scope), chain, city, supervisor) == level
