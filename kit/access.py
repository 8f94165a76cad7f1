"""Who may do what: the one place roles and scopes are checked, by every service and the gateway.

A principal is resolved from a session by identity and *sealed* there: signed with the
internal secret that only the gateway and the services hold (``GONGKAO_INTERNAL_SECRET``). A
service trusts the sealed content only, never the plain fields next to it, so a broker client
without the secret cannot call an RPC as somebody else, nor as an administrator.

    who = access.require(principal, "admin", roles=("province", "city"))
    access.require_scope(who, city_code=app.city_code, county_code=…, supervisor_id=…)

Pure (no I/O): the domain modules may use it.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from kit import signing
from kit.errors import Forbidden, NotFound, Unauthenticated

Kind = Literal["applicant", "admin", "service"]
Role = Literal["province", "city", "county", "supervisor"]
ROLES: tuple[str, ...] = ("province", "city", "county", "supervisor")
SEAL_PURPOSE = "principal"
# A principal is resolved anew for every request; a seal outlives it only to cover slow calls.
SEAL_MAX_AGE = 300


class Principal(BaseModel):
    """Who is calling: an applicant of one exam year, or an administrator with a role and a
    scope (a city code, a county code or a 主管单位 id; none for the province)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Kind
    id: int
    name: str
    must_change_password: bool = False
    # applicants
    year: int | None = None
    id_number: str | None = None
    city_code: str | None = None
    # administrators
    username: str | None = None
    role: Role | None = None
    scope_code: str | None = None
    scope_city: str | None = None

    def in_scope(self, city_code: str | None, county_code: str | None = None,
                 supervisor_id: str | None = None) -> bool:
        """Whether a record lying in this city / county / 主管单位 is in the administrator's
        scope: the province everything, a city its city, a county its county, a 主管单位 its
        units' applicants."""
        if self.kind != "admin":
            return False
        if self.role == "province":
            return True
        if self.role == "city":
            return city_code is not None and self.scope_code == city_code
        if self.role == "county":
            return county_code is not None and self.scope_code == county_code
        if self.role == "supervisor":
            return supervisor_id is not None and self.scope_code == supervisor_id
        return False

    def owns(self, year: int, id_number: str) -> bool:
        """Whether an applicant's record (by exam year and ID number) is this applicant's."""
        return self.kind == "applicant" and self.year == year and self.id_number == id_number


def seal(principal: Principal) -> dict:
    """The principal as identity hands it to the gateway: its fields, plus the seal that the
    services check."""
    return {**principal.model_dump(mode="json"),
            "seal": signing.dumps(SEAL_PURPOSE, principal.model_dump(mode="json"))}


# Seals already verified, by (secret, seal) (issue 12): a kept session brings the same seal
# with each of its requests, and checking its HMAC and reading its claims every time was a
# twentieth of a request's cost in the gateway and in the service. A kept seal is held to its
# age on every use, as itsdangerous would hold it; the secret is part of the key.
_VERIFIED: dict[tuple[str, str], tuple[Principal, int]] = {}
_VERIFIED_MAX = 4096


def unseal(principal: dict | Principal | None) -> Principal | None:
    """The sealed principal, or None when there is none or its seal does not hold."""
    if isinstance(principal, Principal):
        return principal
    if not isinstance(principal, dict) or not isinstance(principal.get("seal"), str):
        return None
    key = (signing.settings().internal_secret, principal["seal"])
    kept = _VERIFIED.get(key)
    if kept is not None:
        return kept[0] if signing.is_fresh(kept[1], SEAL_MAX_AGE) else None
    verified = signing.loads_timed(SEAL_PURPOSE, principal["seal"], max_age=SEAL_MAX_AGE)
    if verified is None:
        return None
    try:
        who = Principal.model_validate(verified[0])
    except ValidationError:
        return None
    if len(_VERIFIED) >= _VERIFIED_MAX:
        _VERIFIED.clear()     # seals live minutes: whoever is still active is verified anew once
    _VERIFIED[key] = (who, verified[1])
    return who


_KIND_REFUSED = {"applicant": "仅限报考人员操作", "admin": "仅限管理员操作", "service": "仅限系统内部服务调用"}


def service_principal(service: str) -> dict:
    """A service asking another for a query that cannot wait (DESIGN: RPC between services
    only then), sealed like a person's principal: only holders of the secret make one."""
    return seal(Principal(kind="service", id=0, name=service))


def require(principal: dict | Principal | None, kind: Kind | None = None, roles: tuple[str, ...] = (),
            allow_must_change: bool = False) -> Principal:
    """The caller, checked: logged in (a valid seal), of this kind, past the forced password
    change (R-I8) unless allowed, and of one of these roles."""
    who = unseal(principal)
    if who is None:
        raise Unauthenticated("请先登录", code="unauthenticated")
    if kind is not None and who.kind != kind:
        raise Forbidden(_KIND_REFUSED[kind], code="wrong_kind")
    if who.must_change_password and not allow_must_change:
        raise Forbidden("请先修改初始密码后再进行其他操作", code="must_change_password")
    if roles and who.role not in roles:
        raise Forbidden("您的管理员角色无权进行此操作", code="role_not_allowed")
    return who


def require_scope(who: Principal, city_code: str | None, county_code: str | None = None,
                  supervisor_id: str | None = None, message: str = "不在您的管理范围内",
                  hide: bool = False) -> None:
    """Refuses a record outside the administrator's scope: 403 ``out_of_scope``, or 404 when
    ``hide`` (the same answer as for a record that does not exist: no probing)."""
    if who.in_scope(city_code, county_code, supervisor_id):
        return
    if hide:
        raise NotFound(message, code="not_found")
    raise Forbidden(message, code="out_of_scope")


def require_owner(who: Principal, year: int, id_number: str) -> None:
    if not who.owns(year, id_number):
        raise Forbidden("只能操作本人的信息", code="not_owner")


def scope_kind(who: Principal) -> str:
    """What of a record decides whether it is in ``who``'s scope: "all" (the province),
    "city", "county" or "supervisor" (compared with ``who.scope_code``), or "none"."""
    if who.kind == "admin" and who.role == "province":
        return "all"
    return who.role if who.kind == "admin" and who.role in ("city", "county", "supervisor") else "none"


def scope_condition(kind: str, value, city=None, county=None, supervisor=None):
    """``scope_clause`` for a scope of the given kind (``scope_kind``) and code: ``value`` may
    be a bind parameter, for a statement built once for every caller of that kind."""
    import sqlalchemy as sa  # here, so that the pure rules above need no SQLAlchemy

    if kind == "all":
        return sa.true()
    column = {"city": city, "county": county, "supervisor": supervisor}.get(kind)
    return sa.false() if column is None else column == value


def scope_clause(who: Principal, city=None, county=None, supervisor=None):
    """The same rule as ``Principal.in_scope`` as an SQL condition on the given columns."""
    return scope_condition(scope_kind(who), who.scope_code, city=city, county=county, supervisor=supervisor)


# --- who may manage whom (R-I8 … R-I11) ------------------------------------------------------
def may_manage_account(who: Principal, account_city: str, account_county: str | None) -> bool:
    """Reset a password, delete an account: the province everything (and 省直 in place of a
    city), a city its city, a county the applicants whose unit is in it; a 主管单位 none."""
    return who.role in ("province", "city", "county") and who.in_scope(account_city, account_county)


def may_supplement(who: Principal, city_code: str) -> bool:
    """补报: the city for its city; the province for any (省直 included)."""
    return who.role in ("province", "city") and who.in_scope(city_code)


def may_create_admin(who: Principal, new_role: str, new_scope_city: str | None) -> bool:
    """The province creates any administrator; a city creates county and 主管单位
    administrators inside its own city."""
    if who.role == "province":
        return True
    return who.role == "city" and new_role in ("county", "supervisor") and who.in_scope(new_scope_city)


def decides_reviews(who: Principal) -> bool:
    """Whether an administrator decides on cases at some review level (R-R1): the province,
    a city and a 主管单位; a county only reads its county's cases."""
    return who.kind == "admin" and who.role in ("province", "city", "supervisor")


def acting_level(who: Principal, chain: tuple[str, ...], city_code: str, supervisor_id: str | None) -> str | None:
    """The level of a review chain at which an administrator acts on a case, if any: their
    role, when the chain has that level and the case is in their scope (a county reads, it
    does not decide)."""
    if who.role not in chain or who.role == "county":
        return None
    return who.role if who.in_scope(city_code, None, supervisor_id) else None
