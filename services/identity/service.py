"""Identity: the exam year's calendar, accounts, roster, SMS codes, sessions, audit.

Thin entrypoints: validate the input, apply the rules of ``domain``, persist in one
transaction, announce through the outbox.
"""
from __future__ import annotations

import hashlib
import json
import logging
import secrets
from datetime import datetime, time, timedelta

import sqlalchemy as sa
from nameko.rpc import RpcProxy
from nameko.timer import timer
from sqlalchemy.orm import Session

from kit import access, clock, regions, throttle
from kit import files as kit_files
from kit.access import Principal
from kit.config import settings
from kit.db import Database
from kit.entrypoints import handles, rpc
from kit.errors import Conflict, Forbidden, InvalidInput, NotFound, RuleNotMet, Unauthenticated
from kit.files import generates, uploads
from kit.metrics import Metrics
from kit.sms import gateway_from
from kit.tables import xlsx_file
from kit.validation import check_year
from kit.validation import parse as _parse

from . import domain
from .models import (
    Account,
    Admin,
    AuditEntry,
    Base,
    ExamYear,
    LoginLock,
    RosterEntry,
    SmsCode,
    SourceCounter,
    UserSession,
)
from .passwords import hash_password, verify_password
from .schemas import (
    AUDIT_ACTIONS,
    AUDIT_COLUMNS,
    ROLE_NAMES,
    SWITCHES,
    WINDOWS,
    AccountDeleted,
    AccountOut,
    AccountRegistered,
    AdminCreate,
    AdminOut,
    AdminsChanged,
    ApplicationAuditedView,
    AuditFilters,
    AuditItem,
    AuditPage,
    AuditQuery,
    DocumentsAuditedView,
    PasswordReset,
    PaymentAuditedView,
    PrincipalChanged,
    Registration,
    ReviewAuditedView,
    ReviewContact,
    SessionOut,
    SmsSent,
    SubmittedView,
    Supplementary,
    UnitChosenView,
    YearCalendar,
    YearUpdate,
    YearUpdated,
)

log = logging.getLogger(__name__)

SMS_PURPOSES = ("register", "delete_self", "unlock")


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _code_hash(phone: str, purpose: str, code: str) -> str:
    return _sha(f"{phone}:{purpose}:{code}")


def calendar_of(row: ExamYear) -> dict:
    cal = row.calendar or {}
    return YearCalendar(
        year=row.year, current=row.is_current,
        windows={name: (cal.get("windows") or {}).get(name) for name in WINDOWS},
        switches={name: bool((cal.get("switches") or {}).get(name)) for name in SWITCHES},
        updated_at=row.updated_at.isoformat() if row.updated_at else None, version=row.version or 0).model_dump()


def account_out(a: Account) -> dict:
    return AccountOut(
        year=a.year, id_number=a.id_number, name=a.name, gender=a.gender, birth_month=a.birth_month,
        phone=a.phone, city_code=a.city_code, city_name=regions.city_name(a.city_code),
        county_code=a.county_code, unit_id=a.unit_id, declared_grade=a.declared_grade,
        id_card_photo=a.id_card_photo, supplementary=a.supplementary,
        must_change_password=a.must_change_password, ever_submitted=a.ever_submitted,
        created_at=a.created_at).model_dump(mode="json")


def admin_out(a: Admin) -> dict:
    return AdminOut(id=a.id, username=a.username, name=a.name, phone=a.phone, role=a.role,
                    scope_code=a.scope_code, scope_city=a.scope_city, created_by=a.created_by,
                    created_at=a.created_at).model_dump(mode="json")


def account_audit_view(a: Account) -> dict:
    return {"id_number": domain.mask_id(a.id_number), "name": a.name, "city_code": a.city_code,
            "declared_grade": a.declared_grade, "must_change_password": a.must_change_password}


def _scope_text(role: str | None, scope: str | None) -> str:
    """An administrator's scope as the 操作日志 names it: 全省, a city, a county, a 主管单位's id."""
    if role == "province" or not scope:
        return "全省"
    if role == "city":
        return regions.city_name(scope) or scope
    if role == "county":
        county = regions.county(scope)
        return f"{regions.city_name(county.parent_code or '') or ''}{county.name}" if county else scope
    return scope


def _json_text(value) -> str:
    """Before / after of an audit entry as one cell (Excel holds 32,767 characters in a cell)."""
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)[:32000]


class IdentityService(kit_files.FileEndpoints):
    name = "identity"

    db = Database(Base.metadata)
    metrics = Metrics()
    application = RpcProxy("application")

    # --- helpers ----------------------------------------------------------------------
    def _current_year(self, s: Session) -> ExamYear:
        row = s.scalars(sa.select(ExamYear).where(ExamYear.is_current)).first()
        if row is None:
            raise RuleNotMet("本年度考核尚未开放，请关注省工考办通知", code="no_current_year")
        return row

    def _admin(self, s: Session, principal: dict, roles: tuple[str, ...] = ()) -> tuple[Principal, Admin]:
        """The calling administrator (kit.access) and their row, read now."""
        who = access.require(principal, "admin", roles=roles)
        admin = s.get(Admin, who.id)
        if admin is None:
            raise Unauthenticated("管理员账号不存在或已被删除，请重新登录")
        return who, admin

    def _applicant(self, s: Session, principal: dict, allow_must_change: bool = False) -> Account:
        who = access.require(principal, "applicant", allow_must_change=allow_must_change)
        account = s.get(Account, who.id)
        if account is None:
            raise Unauthenticated("账号不存在或已被删除，请重新注册")
        return account

    def _audit(self, s: Session, admin: Admin, action: str, target: str | None,
               before: dict | None = None, after: dict | None = None) -> None:
        s.add(AuditEntry(at=clock.now(), actor=admin.username, actor_role=admin.role,
                         actor_scope=admin.scope_code, actor_city=admin.scope_city, action=action, target=target,
                         before=before, after=after))

    def _account_in_year(self, s: Session, year: int, id_number: str) -> Account:
        account = s.scalars(sa.select(Account).where(Account.year == year,
                                                     Account.id_number == id_number)).first()
        if account is None:
            raise NotFound("本年度没有该身份证号的注册账号", field="id_number")
        return account

    def _new_session(self, s: Session, kind: str, principal_id: int) -> str:
        token = secrets.token_urlsafe(32)
        now = clock.now()
        s.add(UserSession(token_hash=_sha(token), kind=kind, principal_id=principal_id,
                          created_at=now, last_seen_at=now))
        return token

    def _end_sessions(self, s: Session, kind: str, principal_id: int, reason: str, keep: str | None = None) -> None:
        """Ends the account's sessions (but ``keep``) and tells every gateway: the principal
        it keeps for any session of this account is stale, the kept one's included."""
        q = sa.delete(UserSession).where(UserSession.kind == kind, UserSession.principal_id == principal_id)
        if keep:
            q = q.where(UserSession.token_hash != _sha(keep))
        s.execute(q)
        self.db.emit(s, PrincipalChanged(kind=kind, principal_id=principal_id, reason=reason, at=clock.now()))

    # --- health and calendar ----------------------------------------------------------
    @rpc
    def ping(self) -> str:
        with self.db.tx() as s:
            s.execute(sa.text("SELECT 1"))
        return "pong"

    @rpc
    def current_year(self) -> dict | None:
        with self.db.tx() as s:
            row = s.scalars(sa.select(ExamYear).where(ExamYear.is_current)).first()
            return calendar_of(row) if row else None

    @rpc
    def get_year(self, year: int) -> dict:
        year = check_year(year)
        with self.db.tx() as s:
            row = s.get(ExamYear, year)
            if row is None:
                raise NotFound(f"{year}年度尚未设置")
            return calendar_of(row)

    @rpc
    def put_year(self, principal: dict, year: int, body: dict) -> dict:
        """R-Y1/R-Y3: the province sets the year's windows and switches; every change is
        announced with the whole calendar."""
        update = _parse(YearUpdate, body)
        year = check_year(year)
        with self.db.tx() as s:
            _, admin = self._admin(s, principal, roles=("province",))
            row = s.get(ExamYear, year, with_for_update=True)
            before = calendar_of(row) if row else None
            cal = dict(row.calendar) if row else {"windows": {}, "switches": {}}
            windows = dict(cal.get("windows") or {})
            for name, w in update.windows.items():
                windows[name] = {"start": w.start.isoformat(), "end": w.end.isoformat()}
            switches = dict(cal.get("switches") or {})
            switches.update(update.switches)
            if row is None:
                has_current = s.scalars(sa.select(ExamYear.year).where(ExamYear.is_current)).first()
                row = ExamYear(year=year, is_current=not has_current, calendar={}, updated_at=clock.now())
                s.add(row)
            row.calendar = {"windows": windows, "switches": switches}
            row.updated_at = clock.now()
            row.version = (row.version or 0) + 1      # under the row lock: the copies' order
            if update.current:
                s.execute(sa.update(ExamYear).where(ExamYear.year != year).values(is_current=False))
                row.is_current = True
            s.flush()
            after = calendar_of(row)
            self._audit(s, admin, "year.update", str(year), before, after)
            self.db.emit(s, YearUpdated.model_validate(after))
            return after

    # --- per-source throttles (R-I7) ----------------------------------------------------
    def _count(self, action: str, source: str | None) -> None:
        """Counts a request of ``source`` for ``action`` in its own transaction (a refused
        request counts too) and refuses it over the limit."""
        cfg = settings()
        limit = cfg.source_sms_per_10min if action == "sms" else cfg.source_login_per_10min
        now = clock.now()
        with self.db.tx() as s:
            count = throttle.hit(s, SourceCounter.__table__, source, action, now)
        throttle.require_under(count, limit, domain.THROTTLE_TEXT[action], now)

    @timer(interval=600)
    def forget_old_counters(self) -> None:
        """Counters and lock records nobody needs any more (safe with many instances)."""
        now = clock.now()
        with self.db.tx() as s:
            throttle.forget(s, SourceCounter.__table__, now)
            s.execute(sa.delete(LoginLock).where(LoginLock.updated_at < now - timedelta(days=2)))

    # --- SMS codes --------------------------------------------------------------------
    @rpc
    def request_sms_code(self, phone: str, purpose: str, principal: dict | None = None,
                         source: str | None = None, id_number: str | None = None) -> dict:
        """A code to a phone (R-I5): for registering, for 删除本人信息 (the logged-in
        applicant's phone) or to unlock a locked account (its registered phone, R-I7)."""
        if purpose not in SMS_PURPOSES:
            raise InvalidInput("验证码用途不正确", field="purpose")
        cfg = settings()
        if purpose == "delete_self":
            access.require(principal, "applicant")
        self._count("sms", source)
        now = clock.now()
        code = f"{secrets.randbelow(1_000_000):06d}"
        with self.db.tx() as s:
            if purpose == "delete_self":
                phone = self._applicant(s, principal).phone
            elif purpose == "unlock":
                year = self._current_year(s)
                phone = self._account_in_year(s, year.year, str(id_number or "").strip().upper()).phone
            else:
                phone = domain.check_phone(phone)
            last = s.scalars(sa.select(SmsCode.sent_at).where(SmsCode.phone == phone, SmsCode.purpose == purpose)
                             .order_by(SmsCode.sent_at.desc()).limit(1).with_for_update()).first()
            day_start = clock.local_now().replace(hour=0, minute=0, second=0, microsecond=0)
            sent_today = s.scalar(sa.select(sa.func.count()).select_from(SmsCode).where(
                SmsCode.phone == phone, SmsCode.sent_at >= day_start))
            domain.require_can_send(last, sent_today or 0, now, cfg.sms_resend_seconds, cfg.sms_daily_limit)
            s.add(SmsCode(phone=phone, purpose=purpose, code_hash=_code_hash(phone, purpose, code),
                          sent_at=now, expires_at=now + timedelta(seconds=cfg.sms_code_ttl_seconds),
                          attempts=0))
            gateway_from(cfg).send_code(phone, purpose, code, now, cfg.sms_code_ttl_seconds // 60)
        log.info("sms code sent for %s", purpose)
        return SmsSent(phone=domain.mask_phone(phone), resend_after=cfg.sms_resend_seconds,
                       expires_in=cfg.sms_code_ttl_seconds).model_dump()

    def _check_code(self, s: Session, phone: str, purpose: str, code: str, consume: bool) -> domain.CodeCheck:
        cfg = settings()
        row = s.scalars(sa.select(SmsCode).where(SmsCode.phone == phone, SmsCode.purpose == purpose)
                        .order_by(SmsCode.sent_at.desc()).limit(1).with_for_update()).first()
        check = domain.check_sms_code(
            row.code_hash if row else None, row.expires_at if row else None, row.attempts if row else 0,
            bool(row and row.used_at), _code_hash(phone, purpose, code), clock.now(), cfg.sms_max_attempts)
        if check.ok and consume:
            row.used_at = clock.now()
        return check

    def _record_wrong_code(self, phone: str, purpose: str) -> None:
        with self.db.tx() as s:
            row = s.scalars(sa.select(SmsCode).where(SmsCode.phone == phone, SmsCode.purpose == purpose)
                            .order_by(SmsCode.sent_at.desc()).limit(1).with_for_update()).first()
            if row is not None:
                row.attempts += 1

    def _refuse_code(self, check: domain.CodeCheck, phone: str, purpose: str) -> None:
        if check.count_attempt:
            self._record_wrong_code(phone, purpose)
        raise InvalidInput(check.message, code="sms_code_invalid", field="sms_code")

    # --- registration (R-I1 … R-I6) ---------------------------------------------------
    def _validate_person(self, s: Session, city_code, grade, id_number, name, phone):
        if city_code not in regions.city_codes():
            raise InvalidInput("请选择省辖市、直辖区", field="city_code")
        grade = domain.check_grade(grade)
        info = domain.parse_id_number(id_number, clock.local_now().date())
        name = domain.check_name(name)
        phone = domain.check_phone(phone)
        return grade, info, name, phone

    def _registration(self, s: Session, payload: dict, consume: bool):
        """Every check of a registration, the cheap ones first: fields, window, roster, the
        SMS code. Returns what creating the account needs, or the wrong code's check."""
        year = self._current_year(s)
        domain.require_window(year.calendar, "registration", clock.now())
        reg = _parse(Registration, payload)
        if str(reg.agreed).lower() not in ("true", "1", "on", "yes"):
            raise InvalidInput("请阅读申报人员须知并勾选“已阅读并同意”", field="agreed")
        grade, info, name, phone = self._validate_person(
            s, reg.city_code, reg.declared_grade, reg.id_number, reg.name, reg.phone)
        domain.check_birth_month(reg.birth_month, info)
        domain.check_password(reg.password, reg.password_confirm)
        code = domain.check_code_format(reg.sms_code)
        if s.scalars(sa.select(Account.id).where(Account.year == year.year,
                                                 Account.id_number == info.id_number)).first():
            raise Conflict("该身份证号本年度已注册，请直接登录", code="already_registered", field="id_number")
        roster = s.get(RosterEntry, info.id_number)
        if roster is None:
            raise RuleNotMet("社保信息中没有该身份证号，请联系管理员进行补报", code="not_on_roster",
                             field="id_number")
        if domain.normalize_name(roster.name) != name:
            raise RuleNotMet("身份证号与姓名不匹配，请核对后重新输入", code="roster_mismatch", field="name")
        check = self._check_code(s, phone, "register", code, consume=consume)
        return reg, year, grade, info, name, phone, check

    @rpc(sensitive=("payload.password", "payload.password_confirm", "payload.sms_code"))
    def check_registration(self, payload: dict) -> dict:
        """Everything a registration is checked for, before the ID card photo is taken in
        (issue 8: a refused registration leaves no file): a wrong code counts as a try."""
        with self.db.tx() as s:
            *_, phone, check = self._registration(s, payload, consume=False)
        if not check.ok:
            self._refuse_code(check, phone, "register")
        return {"ok": True}

    @rpc(sensitive=("payload.password", "payload.password_confirm", "payload.sms_code"))
    def register(self, payload: dict, id_card_photo: str | None) -> dict:
        if not id_card_photo:
            raise InvalidInput("请选择身份证照片，上传后方可进行注册", field="id_card_photo")
        with self.db.tx() as s:
            reg, year, grade, info, name, phone, check = self._registration(s, payload, consume=True)
            if check.ok:
                account = self._create_account(s, year.year, info, name, phone, reg.city_code, grade,
                                               hash_password(reg.password), id_card_photo, supplementary=False)
                return account_out(account)
        self._refuse_code(check, phone, "register")

    def _create_account(self, s, year, info, name, phone, city_code, grade, password_hash, photo,
                        supplementary: bool) -> Account:
        now = clock.now()
        account = Account(year=year, id_number=info.id_number, name=name, gender=info.gender,
                          birth_month=info.birth_month, phone=phone, city_code=city_code,
                          declared_grade=grade, id_card_photo=photo, password_hash=password_hash,
                          must_change_password=supplementary, supplementary=supplementary,
                          ever_submitted=False, created_at=now, updated_at=now)
        s.add(account)
        s.flush()
        self.db.emit(s, AccountRegistered(
            year=year, id_number=info.id_number, name=name, gender=info.gender, birth_month=info.birth_month,
            phone=phone, city_code=city_code, declared_grade=grade, id_card_photo=photo,
            supplementary=supplementary))
        return account

    # --- login, sessions, passwords (R-I7, R-I8) --------------------------------------
    def _lock_row(self, s: Session, kind: str, principal_id: int, source: str, lock: bool = False):
        return s.get(LoginLock, (kind, principal_id, source), with_for_update=lock)

    def _login(self, model, where, password: str, kind: str, source: str | None) -> dict:
        """Failures count per account *and source address* (R-I7): five in a row lock that
        source out of the account for 30 minutes; the owner logging in from elsewhere is not
        locked. The password is checked outside any lock (argon2 is slow on purpose), the
        outcome recorded under the row lock."""
        cfg = settings()
        source = throttle.check_source(source)
        self._count("admin_login" if kind == "admin" else "login", source)
        sms_unlock = kind == "applicant"
        with self.db.tx() as s:
            row = s.scalars(sa.select(model).where(*where)).first()
            if row is not None:
                held = self._lock_row(s, kind, row.id, source)
                domain.require_not_locked(held.locked_until if held else None, clock.now(), sms_unlock)
            seen_hash = row.password_hash if row else None
        ok = verify_password(seen_hash, password or "")
        if row is None:
            return {}
        locked_until = None
        with self.db.tx() as s:
            row = s.get(model, row.id, with_for_update=True)
            if row is None:
                return {}
            now = clock.now()
            held = self._lock_row(s, kind, row.id, source, lock=True)
            domain.require_not_locked(held.locked_until if held else None, now, sms_unlock)
            if not ok or row.password_hash != seen_hash:
                if held is None:
                    held = LoginLock(kind=kind, principal_id=row.id, source=source, failures=0, updated_at=now)
                    s.add(held)
                held.failures, held.locked_until = domain.after_failed_login(
                    held.failures or 0, held.locked_until, now, cfg.login_max_failures, cfg.login_lock_minutes)
                held.updated_at = now
                locked_until = held.locked_until
            else:
                if held is not None:
                    s.delete(held)
                return {"token": self._new_session(s, kind, row.id), "row": row}
        if locked_until is not None:
            domain.require_not_locked(locked_until, clock.now(), sms_unlock)
        return {}

    @rpc(sensitive=("password",))
    def login(self, id_number: str, password: str, source: str | None = None) -> dict:
        id_number = str(id_number or "").strip().upper()
        with self.db.tx() as s:
            year = self._current_year(s).year
        result = self._login(Account, (Account.year == year, Account.id_number == id_number), password,
                             "applicant", source)
        if not result:
            raise Unauthenticated("身份证号或密码错误", code="bad_credentials")
        return SessionOut(token=result["token"], must_change_password=result["row"].must_change_password).model_dump()

    @rpc(sensitive=("sms_code",))
    def unlock(self, id_number: str, sms_code: str) -> None:
        """The owner ends the lockout of their applicant account with a code sent to its
        registered phone (R-I7): every source's lock on it ends."""
        code = domain.check_code_format(sms_code)
        with self.db.tx() as s:
            year = self._current_year(s)
            account = self._account_in_year(s, year.year, str(id_number or "").strip().upper())
            check = self._check_code(s, account.phone, "unlock", code, consume=True)
            if check.ok:
                s.execute(sa.delete(LoginLock).where(LoginLock.kind == "applicant",
                                                     LoginLock.principal_id == account.id))
                return None
            phone = account.phone
        self._refuse_code(check, phone, "unlock")

    @rpc(sensitive=("password",))
    def admin_login(self, username: str, password: str, source: str | None = None) -> dict:
        result = self._login(Admin, (Admin.username == str(username or "").strip(),), password, "admin", source)
        if not result:
            raise Unauthenticated("用户名或密码错误", code="bad_credentials")
        row = result["row"]
        return SessionOut(token=result["token"], must_change_password=row.must_change_password, role=row.role,
                          scope_code=row.scope_code).model_dump()

    @rpc(sensitive=("token",))
    def resolve_session(self, token: str) -> dict | None:
        """The principal behind a session token, sealed (kit.access), or None when it ended
        or idled out."""
        view = self._session_view(token)
        return view["principal"] if view else None

    @rpc(sensitive=("token",))
    def resolve_session_view(self, token: str) -> dict | None:
        """What a gateway keeps for a session: the sealed principal and, for an applicant,
        the account as ``me`` answers it — one call for both (issue 12); the gateway forgets
        them when identity.principal_changed.v1 says so."""
        return self._session_view(token)

    def _session_view(self, token: str) -> dict | None:
        if not token or len(token) > 200:
            return None
        now = clock.now()
        with self.db.tx() as s:
            sess = s.get(UserSession, _sha(token))
            if sess is None:
                return None
            if not domain.session_alive(sess.last_seen_at, now, settings().session_idle_minutes):
                s.delete(sess)
                return None
            if (now - sess.last_seen_at).total_seconds() > 30:
                sess.last_seen_at = now
            if sess.kind == "applicant":
                a = s.get(Account, sess.principal_id)
                if a is None:
                    s.delete(sess)
                    return None
                return {"principal": access.seal(Principal(
                            kind="applicant", id=a.id, name=a.name, year=a.year, id_number=a.id_number,
                            city_code=a.city_code, must_change_password=a.must_change_password)),
                        "account": account_out(a)}
            ad = s.get(Admin, sess.principal_id)
            if ad is None:
                s.delete(sess)
                return None
            return {"principal": access.seal(Principal(
                        kind="admin", id=ad.id, name=ad.name, username=ad.username, role=ad.role,
                        scope_code=ad.scope_code, scope_city=ad.scope_city,
                        must_change_password=ad.must_change_password)), "account": None}

    @rpc(sensitive=("token",))
    def logout(self, token: str) -> None:
        with self.db.tx() as s:
            sess = s.get(UserSession, _sha(token or ""))
            if sess is not None:
                s.delete(sess)
                self.db.emit(s, PrincipalChanged(kind=sess.kind, principal_id=sess.principal_id,
                                                 token_hash=sess.token_hash, reason="logout", at=clock.now()))

    @rpc(sensitive=("old_password", "new_password", "token"))
    def change_password(self, principal: dict, old_password: str, new_password: str,
                        token: str | None = None) -> dict:
        """Also the only way out of the forced change after a reset; other sessions end."""
        domain.check_password(new_password, field="new_password")
        p = access.require(principal, allow_must_change=True)
        with self.db.tx() as s:
            row = (self._applicant(s, principal, allow_must_change=True) if p.kind == "applicant"
                   else s.get(Admin, p.id))
            if row is None:
                raise Unauthenticated("请重新登录")
            if not verify_password(row.password_hash, old_password or ""):
                raise InvalidInput("原密码不正确", code="bad_old_password", field="old_password")
            if old_password == new_password:
                raise InvalidInput("新密码不能与原密码相同", field="new_password")
            row.password_hash = hash_password(new_password)
            row.must_change_password = False
            self._end_sessions(s, p.kind, row.id, "password_changed", keep=token)
        return {"must_change_password": False}

    # --- the applicant's own account --------------------------------------------------
    @rpc
    def me(self, principal: dict) -> dict:
        with self.db.tx() as s:
            return account_out(self._applicant(s, principal, allow_must_change=True))

    @rpc(sensitive=("sms_code",))
    def delete_self(self, principal: dict, sms_code: str) -> None:
        """删除本人信息: only while never submitted, confirmed by a fresh code (R-I5, R-I10)."""
        code = domain.check_code_format(sms_code)
        with self.db.tx() as s:
            account = self._applicant(s, principal)
            if account.ever_submitted:
                raise Conflict("报名信息已提交，不能删除本人信息", code="already_submitted")
            check = self._check_code(s, account.phone, "delete_self", code, consume=True)
            if check.ok:
                self._delete_account(s, account, "self")
                return None
            phone = account.phone
        self._refuse_code(check, phone, "delete_self")

    def _delete_account(self, s: Session, account: Account, by: str) -> None:
        self._end_sessions(s, "applicant", account.id, "deleted")
        self.db.emit(s, AccountDeleted(year=account.year, id_number=account.id_number, by=by))
        s.delete(account)

    # --- administrators acting on accounts (R-I8 … R-I10) -----------------------------
    @staticmethod
    def _require_manage(who: Principal, account: Account) -> None:
        if not access.may_manage_account(who, account.city_code, account.county_code):
            raise Forbidden("该账号不在您的管理范围内", code="out_of_scope")

    @rpc
    def admin_find_account(self, principal: dict, id_number: str) -> dict:
        with self.db.tx() as s:
            who, admin = self._admin(s, principal, roles=("province", "city", "county"))
            year = self._current_year(s)
            account = self._account_in_year(s, year.year, str(id_number or "").strip().upper())
            self._require_manage(who, account)
            out = account_out(account)
            out["phone"] = domain.mask_phone(account.phone)
            return out

    @rpc
    def admin_reset_password(self, principal: dict, id_number: str) -> dict:
        with self.db.tx() as s:
            who, admin = self._admin(s, principal, roles=("province", "city", "county"))
            year = self._current_year(s)
            account = self._account_in_year(s, year.year, str(id_number or "").strip().upper())
            self._require_manage(who, account)
            before = account_audit_view(account)
            account.password_hash = hash_password(domain.RESET_PASSWORD)
            account.must_change_password = True
            s.execute(sa.delete(LoginLock).where(LoginLock.kind == "applicant", LoginLock.principal_id == account.id))
            account.updated_at = clock.now()
            self._end_sessions(s, "applicant", account.id, "password_reset")
            self._audit(s, admin, "account.password_reset", account.id_number, before,
                        account_audit_view(account))
            self.db.emit(s, PasswordReset(year=account.year, id_number=account.id_number, by=admin.username))
            return {"id_number": account.id_number, "must_change_password": True}

    @rpc
    def admin_delete_account(self, principal: dict, id_number: str) -> None:
        with self.db.tx() as s:
            who, admin = self._admin(s, principal, roles=("province", "city", "county"))
            year = self._current_year(s)
            account = self._account_in_year(s, year.year, str(id_number or "").strip().upper())
            self._require_manage(who, account)
            self._audit(s, admin, "account.delete", account.id_number, account_audit_view(account), None)
            self._delete_account(s, account, "admin")

    @rpc
    def supplementary_register(self, principal: dict, payload: dict) -> dict:
        """补报 (R-I9): a person missing from the roster; password 123, must change."""
        sup = _parse(Supplementary, payload)
        with self.db.tx() as s:
            who, admin = self._admin(s, principal, roles=("province", "city"))
            year = self._current_year(s)
            grade, info, name, phone = self._validate_person(
                s, sup.city_code, sup.declared_grade, sup.id_number, sup.name, sup.phone)
            if not access.may_supplement(who, sup.city_code):
                raise Forbidden("只能为本市人员补报", code="out_of_scope", field="city_code")
            app_window = (year.calendar.get("windows") or {}).get("application")
            if app_window and clock.now() > domain.at(app_window["end"]):
                raise RuleNotMet("本年度报名时间已结束，不能补报", code="outside_application_window")
            if s.scalars(sa.select(Account.id).where(Account.year == year.year,
                                                     Account.id_number == info.id_number)).first():
                raise Conflict("该身份证号本年度已注册", code="already_registered", field="id_number")
            account = self._create_account(s, year.year, info, name, phone, sup.city_code, grade,
                                           hash_password(domain.RESET_PASSWORD), None, supplementary=True)
            self._audit(s, admin, "account.supplementary", account.id_number, None, account_audit_view(account))
            return account_out(account)

    # --- administrator accounts (R-I11) -----------------------------------------------
    def _scope_city(self, role: str, scope_code: str | None) -> str | None:
        if role == "province":
            return None
        if role == "city":
            if scope_code not in regions.city_codes() or scope_code == regions.PROVINCE_CODE:
                raise InvalidInput("请选择省辖市或济源示范区", field="scope_code")
            return scope_code
        if role == "county":
            county = regions.county(scope_code or "")
            if county is None:
                raise InvalidInput("县区代码不正确", field="scope_code")
            return county.parent_code
        supervisor = self.application.get_supervisor(scope_code or "")
        if not supervisor:
            raise InvalidInput("主管单位不存在", field="scope_code")
        return supervisor["city_code"]

    @rpc(sensitive=("payload.password",))
    def create_admin(self, principal: dict, payload: dict) -> dict:
        body = _parse(AdminCreate, payload)
        if body.role not in domain.ROLES:
            raise InvalidInput("角色应为 province、city、county 或 supervisor", field="role")
        if not body.username or not body.username.replace("_", "").replace("-", "").isalnum() \
                or not body.username.isascii():
            raise InvalidInput("用户名只能包含字母、数字、下划线或连字符", field="username")
        if not body.name:
            raise InvalidInput("请填写管理员姓名", field="name")
        if not body.phone:
            raise InvalidInput("请填写办公室电话", field="phone")
        domain.check_password(body.password)
        scope = None if body.role == "province" else body.scope_code
        scope_city = self._scope_city(body.role, scope)
        with self.db.tx() as s:
            who, creator = self._admin(s, principal, roles=("province", "city"))
            if not access.may_create_admin(who, body.role, scope_city):
                raise Forbidden("只能在本市范围内创建县区或主管单位管理员", code="out_of_scope")
            if s.scalars(sa.select(Admin.id).where(Admin.username == body.username)).first():
                raise Conflict("用户名已存在", field="username")
            admin = Admin(username=body.username, name=body.name, phone=body.phone, role=body.role,
                          scope_code=scope, scope_city=scope_city, password_hash=hash_password(body.password),
                          must_change_password=True, created_by=creator.username,
                          created_at=clock.now())
            s.add(admin)
            s.flush()
            out = admin_out(admin)
            self._audit(s, creator, "admin.create", admin.username, None, out)
            self.db.emit(s, AdminsChanged(at=clock.now()))
            return out

    @rpc
    def list_admins(self, principal: dict) -> list[dict]:
        with self.db.tx() as s:
            who, _ = self._admin(s, principal, roles=("province", "city"))
            q = sa.select(Admin).where(access.scope_clause(who, city=Admin.scope_city)) \
                .order_by(Admin.role, Admin.username)
            return [admin_out(a) for a in s.scalars(q)]

    @rpc
    def review_contacts(self, city_code: str, supervisor_id: str | None) -> list[dict]:
        """Each review level's contact for an applicant (R-R3): the administrator's masked
        name (as the steps show it; never the login name) and office phone; the province's
        center phone."""
        with self.db.tx() as s:
            def first(role: str, scope: str | None) -> Admin | None:
                if not scope:
                    return None
                return s.scalars(sa.select(Admin).where(Admin.role == role, Admin.scope_code == scope)
                                 .order_by(Admin.id)).first()

            out = []
            for level, admin in (("supervisor", first("supervisor", supervisor_id)),
                                 ("city", first("city", city_code))):
                if admin is not None:  # masked like the steps; login names never leave the admin pages
                    out.append(ReviewContact(level=level, name=domain.mask_name(admin.name), phone=admin.phone))
            out.append(ReviewContact(level="province", name="省评价中心", phone=settings().center_phone))
            return [c.model_dump() for c in out]

    def _audit_where(self, who: Principal, q: AuditQuery) -> list:
        """The filters as SQL conditions; an administrator but the province sees their own
        entries only."""
        where = [] if who.role == "province" else [AuditEntry.actor == (who.username or "")]
        if q.actor:
            where.append(AuditEntry.actor == q.actor)
        if q.action:
            where.append(AuditEntry.action == q.action)
        if q.date_from is not None:         # Beijing dates, whole days
            where.append(AuditEntry.at >= datetime.combine(q.date_from, time.min, clock.CST))
        if q.date_to is not None:
            where.append(AuditEntry.at < datetime.combine(q.date_to + timedelta(days=1), time.min, clock.CST))
        if q.scope == "province":
            where.append(AuditEntry.actor_role == "province")
        elif q.scope:
            if q.scope not in regions.city_codes():
                raise InvalidInput("省辖市代码不正确", field="scope")
            where.append(AuditEntry.actor_city == q.scope)
        return where

    @staticmethod
    def _audit_target(target: str | None) -> str | None:
        return domain.mask_id(target) if target and len(target) == 18 else target

    @rpc
    def list_audit(self, principal: dict, page: int = 1, page_size: int = 50, filters: dict | None = None) -> dict:
        """操作日志, newest first, filtered (who, what, when, the actor's city), paged and
        counted in the database."""
        try:
            page, page_size = max(1, min(100000, int(page))), min(200, max(1, int(page_size)))
        except (TypeError, ValueError):
            raise InvalidInput("页码应为整数", field="page") from None
        q = _parse(AuditFilters, {**(filters if isinstance(filters, dict) else {}), "page": page,
                                  "page_size": page_size})
        with self.db.tx() as s:
            who, _ = self._admin(s, principal)
            where = self._audit_where(who, q)
            total = s.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(*where))
            rows = s.scalars(sa.select(AuditEntry).where(*where).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
                             .offset((q.page - 1) * q.page_size).limit(q.page_size))
            return AuditPage(total=total or 0, items=[AuditItem(
                at=r.at, actor=r.actor, role=r.actor_role, scope=r.actor_scope, action=r.action,
                target=self._audit_target(r.target), before=r.before, after=r.after)
                for r in rows]).model_dump(mode="json")

    @rpc
    def audit_export(self, principal: dict, filters: dict | None = None) -> dict:
        """The audit log with the page's filters as Excel (the province): a ticket to the
        file, made when it is fetched."""
        access.require(principal, "admin", roles=("province",))
        q = _parse(AuditQuery, filters or {})
        return self.files.generated_ticket("audit_xlsx", q.model_dump(mode="json"), principal,
                                           filename=f"操作日志_{clock.local_now().strftime('%Y%m%d')}.xlsx",
                                           content_type="application/vnd.openxmlformats-officedocument."
                                                        "spreadsheetml.sheet")

    @generates("audit_xlsx")
    def make_audit_xlsx(self, principal: dict, args: dict):
        """Every entry of the query, newest first, read 500 at a time and written row by row."""
        with self.db.tx() as s:
            who, _ = self._admin(s, principal, roles=("province",))
            q = _parse(AuditQuery, args)
            rows = s.scalars(sa.select(AuditEntry).where(*self._audit_where(who, q))
                             .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).execution_options(yield_per=500))
            cities = {c.code: c.name for c in regions.cities()}
            return xlsx_file("操作日志", AUDIT_COLUMNS, (
                [r.at.astimezone(clock.CST).strftime("%Y-%m-%d %H:%M:%S"), r.actor,
                 ROLE_NAMES.get(r.actor_role, r.actor_role or ""), _scope_text(r.actor_role, r.actor_scope),
                 cities.get(r.actor_city or "", "") if r.actor_city else "全省",
                 AUDIT_ACTIONS.get(r.action, r.action), r.action, self._audit_target(r.target) or "",
                 _json_text(r.before), _json_text(r.after)] for r in rows))

    # --- the roster (R-I4) ------------------------------------------------------------
    def _precheck_roster(self, principal: dict, args: dict) -> None:
        access.require(principal, "admin", roles=("province", "city"))

    @uploads("roster_csv", max_bytes=20 * 1024 * 1024, precheck="_precheck_roster")
    def import_roster(self, principal: dict, args: dict, data: bytes) -> dict:
        """The social-security roster (R-I4), CSV ``id_number,name``: rows added, updated,
        and refused with their reasons."""
        self._precheck_roster(principal, args)
        if not data:
            raise InvalidInput("请选择要导入的 CSV 文件", field="file")
        rows, refused = domain.parse_roster(data, clock.local_now().date())
        with self.db.tx() as s:
            _, admin = self._admin(s, principal, roles=("province", "city"))
            existing = {r.id_number: r for r in s.scalars(
                sa.select(RosterEntry).where(RosterEntry.id_number.in_([r.id_number for r in rows])))}
            added = updated = unchanged = 0
            now = clock.now()
            for r in rows:
                old = existing.get(r.id_number)
                if old is None:
                    s.add(RosterEntry(id_number=r.id_number, name=r.name, imported_by=admin.username,
                                      imported_at=now))
                    added += 1
                elif old.name != r.name:
                    old.name, old.imported_by, old.imported_at = r.name, admin.username, now
                    updated += 1
                else:
                    unchanged += 1
            result = {"added": added, "updated": updated, "unchanged": unchanged,
                      "refused": refused, "refused_count": len(refused)}
            self._audit(s, admin, "roster.import", None, None,
                        {k: v for k, v in result.items() if k != "refused"})
            return result

    # --- events from others ----------------------------------------------------------
    @handles(SubmittedView)
    def on_application_submitted(self, s: Session, event: SubmittedView) -> None:
        """Once submitted, the applicant can no longer delete their information."""
        account = s.scalars(sa.select(Account).where(Account.year == event.year, Account.id_number == event.id_number)
                            .with_for_update()).first()
        if account is not None and not account.ever_submitted:
            account.ever_submitted = True
            self._account_changed(s, account)

    @handles(UnitChosenView)
    def on_unit_chosen(self, s: Session, event: UnitChosenView) -> None:
        """The chosen unit fixes the county whose administrators may manage the account."""
        account = s.scalars(sa.select(Account).where(Account.year == event.year,
                                                     Account.id_number == event.id_number)
                            .with_for_update()).first()
        if account is None or (account.unit_chosen_at is not None and account.unit_chosen_at >= event.at):
            return  # gone, or an older choice arriving late
        account.unit_id, account.county_code, account.unit_chosen_at = event.unit_id, event.county_code, event.at
        self._account_changed(s, account)

    def _account_changed(self, s: Session, account: Account) -> None:
        """The gateways keep the account with its sessions: they fetch it again."""
        self.db.emit(s, PrincipalChanged(kind="applicant", principal_id=account.id, reason="changed", at=clock.now()))

    # --- one audit log: administrators' actions recorded by the other services (R-I11) ----
    def _record_audit(self, s: Session, event) -> None:
        """The entry, with the city of the administrator who acted (identity's own admins)."""
        city = s.scalar(sa.select(Admin.scope_city).where(Admin.username == event.actor))
        s.add(AuditEntry(at=event.at, actor=event.actor, actor_role=event.actor_role or "", actor_scope=event.actor_scope,
                         actor_city=city, action=event.action, target=event.target, before=event.before,
                         after=event.after))

    @handles(ApplicationAuditedView)
    def on_application_audited(self, s: Session, event: ApplicationAuditedView) -> None:
        self._record_audit(s, event)

    @handles(ReviewAuditedView)
    def on_review_audited(self, s: Session, event: ReviewAuditedView) -> None:
        self._record_audit(s, event)

    @handles(PaymentAuditedView)
    def on_payment_audited(self, s: Session, event: PaymentAuditedView) -> None:
        self._record_audit(s, event)

    @handles(DocumentsAuditedView)
    def on_documents_audited(self, s: Session, event: DocumentsAuditedView) -> None:
        self._record_audit(s, event)
