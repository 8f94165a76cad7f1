"""Application service: reference data (cities, units and their 主管单位, trades, 咨询电话),
the 报名信息 form with its uploads and eligibility rules, and the applicant's progress.

Thin entrypoints: check who is calling (kit.access), validate (schemas), apply the rules of
``domain`` and ``eligibility``, persist in one transaction, announce through the outbox.
Files come and go through kit.files, never through RPC.
"""
from __future__ import annotations

import dataclasses
import hashlib
import uuid
from datetime import timedelta

import sqlalchemy as sa
from nameko.rpc import RpcProxy
from nameko.timer import timer
from sqlalchemy.orm import Session

from kit import access, clock, images, regions
from kit import files as kit_files
from kit.access import Principal
from kit.config import settings
from kit.db import Database, keep_calendar, track_everyone, track_viewers
from kit.entrypoints import handles, rpc
from kit.errors import InvalidInput, NotFound, RuleNotMet, TooManyRequests
from kit.files import uploads
from kit.images import check_image
from kit.metrics import Metrics
from kit.validation import check_year, parse
from kit.windows import next_change

from . import domain, eligibility, overview
from . import notices as notice_mixin
from .models import (
    Application,
    Base,
    Blob,
    CountyContact,
    Notice,
    OnlinePaymentCopy,
    RuleSetRow,
    Supervisor,
    Trade,
    Unit,
    YearCopy,
)
from .photos import normalize_personal_photo, stamp_id_number
from .schemas import (
    FILE_KINDS,
    FILE_NAMES,
    PHOTO_SPEC,
    STAMPED_PHOTO,
    AccountDeletedView,
    AccountRegisteredView,
    ActionAudited,
    Choices,
    CityOut,
    ContactsOut,
    ContactsUpdate,
    CountyContactOut,
    Deleted,
    FeePaidView,
    FeesSetView,
    FinallyApprovedView,
    FormOut,
    FormSnapshot,
    ImportReport,
    Progress,
    ReferenceChanged,
    RejectedView,
    ReopenedView,
    ResultsPublishedView,
    ReturnedView,
    Submitted,
    SupervisorIn,
    SupervisorOut,
    TicketIssuedView,
    TradeOut,
    UnitChosen,
    UnitIn,
    UnitOut,
    ViewersChanged,
    YearUpdatedView,
)

PROVINCE = ("province",)
CSV_MAX_BYTES = 10 * 1024 * 1024


def unit_out(u: Unit, sup: Supervisor) -> UnitOut:
    return UnitOut(unit_id=u.id, name=u.name, city_code=u.city_code, county_code=u.county_code,
                   supervisor=SupervisorOut(id=sup.id, name=sup.name, admin=sup.admin, phone=sup.phone))


# The mixins are reached through their modules: a class imported here by name would be taken
# for a service of its own by `nameko run services.application.service`.
# What an applicant's views are read from (issue 12): each write of an application marks its
# applicant (a save that changed only what the form shows: their form alone, the steps stay
# kept), a write of the calendar, the online cities, the rules or reference data marks
# everyone; the transaction announces them (application.viewers_changed.v1) and the gateways
# drop what they kept. Notices are inserted by statement and marked where they are made.
FORM_COLUMNS = frozenset({"unit_id", "county_code", "education", "work_start", "service_years", "current_grade",
                          "current_trade", "grade_obtained_year", "target_trade", "route", "exceptional",
                          "frontline", "exceptional_reason", "prohibited", "pledge", "files", "updated_at"})
track_viewers(Application, lambda app: (app.year, app.id_number), form_columns=FORM_COLUMNS)
track_everyone(YearCopy, OnlinePaymentCopy, RuleSetRow, Unit, Supervisor, Trade)


# The statements of the rush, built once (issue 12): the same statement object on every call
# lets SQLAlchemy reuse its compiled form instead of building and keying it again; the values
# come as parameters.
# one applicant's application: the parameters are ``_applicant_key(account)``
_OF_APPLICANT = (Application.year == sa.bindparam("year"), Application.id_number == sa.bindparam("id_number"))
_APPLICATION_OF = sa.select(Application).where(*_OF_APPLICANT)
_APPLICATION_OF_LOCKED = _APPLICATION_OF.with_for_update()
_UNIT_WITH_SUPERVISOR = (sa.select(Unit, Supervisor).join(Supervisor, Unit.supervisor_id == Supervisor.id)
                         .where(Unit.id == sa.bindparam("unit_id")))
# the form as its owner sees it, its unit and 主管单位 with it: one round trip
_APPLICATION_WITH_UNIT = (sa.select(Application, Unit, Supervisor)
                          .outerjoin(Unit, Unit.id == Application.unit_id)
                          .outerjoin(Supervisor, Unit.supervisor_id == Supervisor.id)
                          .where(*_OF_APPLICANT))
_CATALOGUE = sa.select(Trade.code, Trade.name, Trade.new_codes)
_RULES_OF = sa.select(RuleSetRow.rules).where(RuleSetRow.year == sa.bindparam("year"))
_CALENDAR_OF = sa.select(YearCopy.calendar).where(YearCopy.year == sa.bindparam("year"))
# the form locked for a change, with its year's calendar (the window): one round trip
_APPLICATION_WITH_CALENDAR_LOCKED = (sa.select(Application, YearCopy.calendar)
                                     .outerjoin(YearCopy, YearCopy.year == Application.year)
                                     .where(*_OF_APPLICANT).with_for_update(of=Application))
# the form with its year's rules (the eligibility check): one round trip
_APPLICATION_WITH_RULES = (sa.select(Application, RuleSetRow.rules)
                           .outerjoin(RuleSetRow, RuleSetRow.year == Application.year)
                           .where(*_OF_APPLICANT))


def _applicant_key(account: dict) -> dict:
    return {"year": account["year"], "id_number": account["id_number"]}


class ApplicationService(notice_mixin.NoticeEntrypoints, overview.OverviewEntrypoints, kit_files.FileEndpoints):
    name = "application"

    db = Database(Base.metadata, viewers_event=ViewersChanged)
    metrics = Metrics()
    review = RpcProxy("review")      # 统计: the cases waiting at each review level (overview.py)

    # --- helpers ----------------------------------------------------------------------
    @staticmethod
    def _applicant(principal: dict, account: dict) -> Principal:
        """The gateway passes the sealed principal and identity's account; they must agree."""
        who = access.require(principal, "applicant")
        access.require_owner(who, account.get("year"), account.get("id_number"))
        return who

    @staticmethod
    def _existing_with_unit(s: Session, account: dict) -> Application | None:
        """The applicant's application if it exists, its unit and 主管单位 read in the same
        statement and kept for ``_snapshot`` (a unit without its 主管单位 is left for
        ``_snapshot`` to find absent)."""
        row = s.execute(_APPLICATION_WITH_UNIT, _applicant_key(account)).first()
        if row is None:
            return None
        app, unit, supervisor = row
        if app.unit_id and unit is not None and supervisor is not None:
            s.info.setdefault("units_out", {})[app.unit_id] = unit_out(unit, supervisor)
        return app

    def _ensure(self, s: Session, account: dict, lock: bool = False) -> Application:
        """The applicant's application, created from the account if identity's event has
        not arrived yet (either path creates it once)."""
        key = _applicant_key(account)
        app = s.scalars(_APPLICATION_OF_LOCKED if lock else _APPLICATION_OF, key).first()
        if app is None:
            app = self._create(s, AccountRegisteredView.model_validate(account))
            if lock:
                app = s.scalars(_APPLICATION_OF_LOCKED, key).first()
        return app

    def _create(self, s: Session, account: AccountRegisteredView) -> Application:
        now = clock.now()
        files = {}
        if account.id_card_photo:
            ref = self.db.files.ref(s, account.id_card_photo)
            if ref is not None:
                files["id_card_photo"] = self._file_entry(ref, now)
                # claimed: no longer an unclaimed registration photo of a source address
                s.execute(sa.update(Blob).where(Blob.sha256 == ref.sha256, Blob.owner.like("source:%"))
                          .values(owner=f"account:{account.year}:{account.id_number}"))
        app = Application(id=uuid.uuid4().hex, year=account.year, id_number=account.id_number, name=account.name,
                          gender=account.gender, birth_month=account.birth_month, phone=account.phone,
                          city_code=account.city_code, target_grade=account.declared_grade,
                          exceptional=False, frontline=False, exceptional_reason="", pledge=False,
                          files=files, status="not_submitted", round=0, created_at=now, updated_at=now)
        try:
            # added inside the savepoint: begin_nested flushes what is pending before it sets
            # the savepoint, so an insert added before it was not covered by it (a lost race
            # then aborted the whole transaction)
            with s.begin_nested():
                s.add(app)
                s.flush()
        except sa.exc.IntegrityError:  # created meanwhile by the other path (the savepoint's
            # rollback has taken this one out of the session)
            app = s.scalars(_APPLICATION_OF, {"year": account.year, "id_number": account.id_number}).one()
        return app

    @staticmethod
    def _file_entry(ref, at) -> dict:
        return {"sha256": ref.sha256, "content_type": ref.content_type, "size": ref.size,
                "width": ref.width, "height": ref.height, "uploaded_at": at.isoformat()}

    def _catalogue(self, s: Session) -> eligibility.Catalogue:
        # plain rows, not ORM objects: the whole catalogue is read on every eligibility check
        trades = s.execute(_CATALOGUE).all()
        driver = next((t.code for t in trades if t.name == "汽车驾驶员"), None)
        return eligibility.Catalogue(names={t.code: t.name for t in trades},
                                     mapping={t.code: tuple(t.new_codes or ()) for t in trades},
                                     driver_code=driver)

    def _rules(self, s: Session, year: int) -> eligibility.RuleSet:
        return eligibility.RuleSet.from_dict(s.execute(_RULES_OF, {"year": year}).scalar())

    def _form(self, app: Application) -> eligibility.Form:
        return eligibility.Form(
            exam_year=app.year, gender=app.gender, birth_month=app.birth_month, target_grade=app.target_grade,
            unit_id=app.unit_id, education=app.education, work_start=app.work_start,
            service_years=app.service_years, current_grade=app.current_grade, current_trade=app.current_trade,
            grade_obtained_year=app.grade_obtained_year, target_trade=app.target_trade, route=app.route,
            exceptional=app.exceptional, frontline=app.frontline, exceptional_reason=app.exceptional_reason or "",
            prohibited=app.prohibited, pledge=app.pledge,
            files=frozenset(k for k in (app.files or {}) if k in FILE_KINDS))

    def _snapshot(self, s: Session, app: Application) -> dict:
        unit = None
        if app.unit_id:       # read once per session (a save shows the form before and after)
            units = s.info.setdefault("units_out", {})
            if app.unit_id not in units:
                row = s.execute(_UNIT_WITH_SUPERVISOR, {"unit_id": app.unit_id}).first()
                units[app.unit_id] = unit_out(*row) if row else None
            unit = units[app.unit_id]
        return dict(
            application_id=app.id, year=app.year, status=app.status, round=app.round,
            submitted_at=app.submitted_at.isoformat() if app.submitted_at else None,
            name=app.name, id_number=app.id_number, gender=app.gender, birth_month=app.birth_month,
            phone=app.phone, city_code=app.city_code, county_code=app.county_code,
            supervisor_id=app.supervisor_id, target_grade=app.target_grade, unit_id=app.unit_id, unit=unit,
            education=app.education, work_start=app.work_start, service_years=app.service_years,
            current_grade=app.current_grade, current_trade=app.current_trade,
            grade_obtained_year=app.grade_obtained_year, target_trade=app.target_trade, route=app.route,
            exceptional=app.exceptional, frontline=app.frontline,
            exceptional_reason=app.exceptional_reason or "", prohibited=app.prohibited, pledge=app.pledge,
            files=dict(app.files or {}))

    def _out(self, s: Session, app: Application) -> dict:
        return FormOut(
            **self._snapshot(s, app), locked=app.status not in domain.EDITABLE_STATUSES,
            service_years_max=eligibility.max_service_years(app.year, app.work_start) if app.work_start else None,
            review_note=app.review_note).model_dump(mode="json")

    def _calendar(self, s: Session, year: int) -> dict | None:
        return s.execute(_CALENDAR_OF, {"year": year}).scalar()

    def _reference_changed(self, s: Session, *what: str) -> None:
        self.db.emit(s, ReferenceChanged(what=list(what), at=clock.now()))

    def _audit(self, s: Session, who: Principal, action: str, target: str | None, before=None, after=None):
        self.db.audit(s, ActionAudited, who, action, target, before, after)

    # --- health ----------------------------------------------------------------------
    @rpc
    def ping(self) -> str:
        with self.db.tx() as s:
            s.execute(sa.text("SELECT 1"))
        return "pong"

    # --- reference data ----------------------------------------------------------------
    @rpc
    def list_cities(self) -> list[dict]:
        return [CityOut(code=c.code, name=c.name).model_dump() for c in regions.cities()]

    @rpc
    def list_units(self, city_code: str | None = None) -> list[dict]:
        with self.db.tx() as s:
            q = sa.select(Unit, Supervisor).join(Supervisor, Unit.supervisor_id == Supervisor.id)
            if city_code:
                q = q.where(Unit.city_code == str(city_code))
            return [unit_out(u, sup).model_dump() for u, sup in s.execute(q.order_by(Unit.city_code, Unit.id))]

    @rpc
    def get_supervisor(self, supervisor_id: str) -> dict | None:
        with self.db.tx() as s:
            sup = s.get(Supervisor, str(supervisor_id or ""))
            if sup is None:
                return None
            return {**SupervisorOut(id=sup.id, name=sup.name, admin=sup.admin, phone=sup.phone).model_dump(),
                    "city_code": sup.city_code}

    def _upsert_reference(self, s: Session, supervisors: list[SupervisorIn], units: list[UnitIn]) -> None:
        for row in supervisors:
            if row.city_code not in regions.city_codes():
                raise InvalidInput(f"未知的省辖市代码 {row.city_code}")
            s.merge(Supervisor(**row.model_dump()))
        s.flush()
        for row in units:
            if row.county_code and regions.county(row.county_code) is None:
                raise InvalidInput(f"未知的县区代码 {row.county_code}")
            s.merge(Unit(**row.model_dump()))

    @rpc
    def upsert_reference(self, principal: dict, supervisors: list[dict], units: list[dict]) -> dict:
        """The province loads units and their 主管单位 (demo data, deployments)."""
        who = access.require(principal, "admin", roles=PROVINCE)
        sups = [parse(SupervisorIn, row) for row in supervisors or []]
        rows = [parse(UnitIn, row) for row in units or []]
        with self.db.tx() as s:
            self._upsert_reference(s, sups, rows)
            self._audit(s, who, "reference.load", None, None, {"supervisors": len(sups), "units": len(rows)})
            self._reference_changed(s, "units")
        return {"supervisors": len(sups), "units": len(rows)}

    def _province_upload(self, principal, args) -> Principal:
        return access.require(principal, "admin", roles=PROVINCE)

    @uploads("units_csv", max_bytes=CSV_MAX_BYTES, precheck="_province_upload")
    def import_units(self, principal: dict, args: dict, data: bytes) -> dict:
        """The province imports units with their 主管单位 (name, contact person, phone)."""
        who = self._province_upload(principal, args)
        parents = {r.code: r.parent_code or "" for r in regions.all_regions().values() if r.level == "county"}
        rows, refused = domain.parse_units(data, regions.city_codes(), parents)
        supervisors: dict[str, SupervisorIn] = {}
        for r in rows:
            supervisors.setdefault(r["supervisor_id"], SupervisorIn(
                id=r["supervisor_id"], name=r["supervisor_name"], city_code=r["city_code"],
                admin=r["supervisor_admin"], phone=r["supervisor_phone"]))
        units = [UnitIn(id=r["unit_id"], name=r["name"], city_code=r["city_code"],
                        county_code=r["county_code"] or None, supervisor_id=r["supervisor_id"]) for r in rows]
        report = ImportReport(imported=len(rows), supervisors=len(supervisors), refused=refused)
        with self.db.tx() as s:
            self._upsert_reference(s, list(supervisors.values()), units)
            self._reference_changed(s, "units")
            self._audit(s, who, "units.import", None, None,
                        {"imported": report.imported, "refused": len(refused)})
        return report.model_dump()

    @rpc
    def list_trades(self) -> list[dict]:
        with self.db.tx() as s:
            return [TradeOut(code=t.code, name=t.name, category=t.category, new_trades=list(t.new_codes or []))
                    .model_dump() for t in s.scalars(sa.select(Trade).order_by(Trade.code))]

    @uploads("trades_csv", max_bytes=CSV_MAX_BYTES, precheck="_province_upload")
    def import_trades(self, principal: dict, args: dict, data: bytes) -> dict:
        """The province imports or edits the catalogue (CSV: code,name,category,new_codes)."""
        who = self._province_upload(principal, args)
        rows, refused = domain.parse_trades(data)
        with self.db.tx() as s:
            existing = set(s.scalars(sa.select(Trade.code)))
            good = rows
            while True:  # a row pointing at a refused row is refused too
                known = existing | {r["code"] for r in good}
                bad = [r for r in good if any(c not in known for c in r["new_codes"])]
                if not bad:
                    break
                for r in bad:
                    missing = [c for c in r["new_codes"] if c not in known]
                    refused.append({"line": r["line"], "code": r["code"],
                                    "reason": f"对应新工种代码不存在：{'、'.join(missing)}"})
                good = [r for r in good if r not in bad]
            refused.sort(key=lambda x: x["line"])
            for r in good:
                s.merge(Trade(code=r["code"], name=r["name"], category=r["category"], new_codes=r["new_codes"]))
            self._audit(s, who, "trades.import", None, None, {"imported": len(good), "refused": len(refused)})
            self._reference_changed(s, "trades")
        return ImportReport(imported=len(good), refused=refused).model_dump()

    def _contacts(self, s: Session) -> ContactsOut:
        phones = {c.county_code: c.phone for c in s.scalars(sa.select(CountyContact))}
        counties = []
        for code, phone in sorted(phones.items()):
            county = regions.county(code)
            if county is not None:
                counties.append(CountyContactOut(county_code=code, name=county.name, phone=phone,
                                                 city_name=regions.city_name(county.parent_code or "") or ""))
        return ContactsOut(center_phone=settings().center_phone, counties=counties)

    @rpc
    def contacts(self) -> dict:
        with self.db.tx() as s:
            return self._contacts(s).model_dump()

    @rpc
    def put_contacts(self, principal: dict, body: dict) -> dict:
        """咨询电话 per 县区 (R-P1); an empty phone removes the county's entry."""
        who = access.require(principal, "admin", roles=PROVINCE)
        update = parse(ContactsUpdate, body)
        for row in update.counties:
            if regions.county(row.county_code) is None:
                raise InvalidInput(f"县区代码不正确：{row.county_code}", field="county_code")
        with self.db.tx() as s:
            before = {c.county_code: c.phone for c in s.scalars(sa.select(CountyContact))}
            for row in update.counties:
                if row.phone:
                    s.merge(CountyContact(county_code=row.county_code, phone=row.phone))
                else:
                    s.execute(sa.delete(CountyContact).where(CountyContact.county_code == row.county_code))
            s.flush()
            out = self._contacts(s)
            after = {c.county_code: c.phone for c in out.counties}
            changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
            self._reference_changed(s, "contacts")
            self._audit(s, who, "contacts.update", None, {k: before.get(k) for k in changed},
                        {k: after.get(k) for k in changed})
            return out.model_dump()

    @rpc
    def put_rules(self, principal: dict, year: int, rules: dict) -> dict:
        """The eligibility figures of a year (R-A4 is data per exam year)."""
        who = access.require(principal, "admin", roles=PROVINCE)
        year = check_year(year)
        if not isinstance(rules, dict):
            raise InvalidInput("申报条件应为 JSON 对象")
        with self.db.tx() as s:
            current = self._rules(s, year)
            try:
                merged = current.merged(rules)
            except (TypeError, ValueError) as exc:
                raise InvalidInput(f"申报条件设置不正确：{exc}") from None
            s.merge(RuleSetRow(year=year, rules=merged.to_dict()))
            self._audit(s, who, "rules.update", str(year), current.to_dict(), merged.to_dict())
        return merged.to_dict()

    @rpc
    def get_rules(self, year: int) -> dict:
        year = check_year(year)
        with self.db.tx() as s:
            return self._rules(s, year).to_dict()

    # --- the form (R-A1, R-A2) ---------------------------------------------------------
    @rpc
    def get_form(self, principal: dict, account: dict) -> dict:
        self._applicant(principal, account)
        with self.db.read() as s:                      # the common case: the form exists
            app = self._existing_with_unit(s, account)
            if app is not None:
                return self._out(s, app)
        with self.db.tx() as s:
            return self._out(s, self._ensure(s, account))

    @rpc
    def form_page(self, principal: dict, account: dict) -> dict:
        """What the 报名信息 page shows, in one call (issue 12): the form, its eligibility
        check, what it offers (unless locked) and the steps — the form and the catalogue read
        once for all of them."""
        self._applicant(principal, account)

        def parts(s: Session, app: Application):
            catalogue = self._catalogue(s)
            return self._out(s, app), catalogue, eligibility.evaluate(self._form(app), self._rules(s, app.year),
                                                                      catalogue)

        with self.db.read() as s:                        # the form read once, in the common case
            app = self._existing_with_unit(s, account)
            read = parts(s, app) if app is not None else None
        if read is None:                                 # identity's event not here yet
            with self.db.tx() as s:
                app = self._ensure(s, account)
                read = parts(s, app)
        form, catalogue, results = read
        progress = self.progress(principal)
        return {"form": form, "eligibility": _eligibility_out(results),
                "choices": None if form.get("locked") else
                Choices(**eligibility.choices(self._form(app), catalogue)).model_dump(),
                "progress": progress, "fresh_until": progress.pop("fresh_until", None)}

    @rpc
    def save_form(self, principal: dict, account: dict, changes: dict) -> dict:
        """保存: a partial draft; a left-out field keeps its value."""
        self._applicant(principal, account)
        if not isinstance(changes, dict):
            raise InvalidInput("请求内容须为 JSON 对象")
        with self.db.tx() as s:
            app = self._editable(s, account)
            # the form as its owner sees it, for the read-only fields a save may echo back
            # unchanged (the page sends the editable ones only)
            current = self._out(s, app) if not domain.READ_ONLY.keys().isdisjoint(changes) else {}
            # the city's units and the trades are read only when the save names one (a save of
            # 工作年限 alone, the commonest, costs two round trips fewer)
            units = ({u.id: u for u in s.scalars(sa.select(Unit).where(Unit.city_code == app.city_code))}
                     if "unit_id" in changes else {})
            trades = (set(s.scalars(sa.select(Trade.code)))
                      if "current_trade" in changes or "target_trade" in changes else set())
            clean = domain.clean_changes(changes, current, eligibility.EDUCATION_LEVELS, trades, set(units))
            if "work_start" in clean and "service_years" not in clean and clean["work_start"] \
                    and clean["work_start"] != app.work_start:
                clean["service_years"] = eligibility.max_service_years(app.year, clean["work_start"])
            if "unit_id" in clean and clean["unit_id"] != app.unit_id:
                unit = units.get(clean["unit_id"]) if clean["unit_id"] else None
                app.county_code = unit.county_code if unit else None
                app.supervisor_id = unit.supervisor_id if unit else None
                self.db.emit(s, UnitChosen(year=app.year, id_number=app.id_number, unit_id=clean["unit_id"],
                                           county_code=app.county_code, supervisor_id=app.supervisor_id,
                                           at=clock.now()))
            for key, value in clean.items():
                setattr(app, key, value)
            if app.work_start and app.service_years is None:  # 工作年限 defaults to its maximum
                app.service_years = eligibility.max_service_years(app.year, app.work_start)
            app.updated_at = clock.now()
            s.flush()
            return self._out(s, app)

    def _editable(self, s: Session, account: dict) -> Application:
        """The applicant's form, locked for a change that only 未提交 and 已退回 allow, in the
        报名时间 (R-A1): the form and the year's calendar read in one statement."""
        row = s.execute(_APPLICATION_WITH_CALENDAR_LOCKED, _applicant_key(account)).first()
        if row is None:                              # identity's event not here yet
            app = self._ensure(s, account, lock=True)
            calendar = self._calendar(s, app.year)
        else:
            app, calendar = row
        domain.require_editable(app.status)
        domain.require_form_window(calendar, app.status, clock.now())
        return app

    def _require_form_window(self, s: Session, app: Application) -> None:
        domain.require_form_window(self._calendar(s, app.year), app.status, clock.now())

    @rpc
    def eligibility(self, principal: dict, account: dict) -> dict:
        self._applicant(principal, account)
        with self.db.read() as s:
            row = s.execute(_APPLICATION_WITH_RULES, _applicant_key(account)).first()
            app = row[0] if row is not None else None
            if app is not None:
                results = eligibility.evaluate(self._form(app), eligibility.RuleSet.from_dict(row[1]),
                                               self._catalogue(s))
        if app is None:
            with self.db.tx() as s:
                app = self._ensure(s, account)
                results = eligibility.evaluate(self._form(app), self._rules(s, app.year), self._catalogue(s))
        return _eligibility_out(results)

    @rpc
    def choices(self, principal: dict, account: dict, draft: dict | None = None) -> dict:
        """What the form offers for the choices on the page (saved or not): routes, target
        trades, 工作年限 maximum, required uploads. The page asks; it repeats no rule."""
        self._applicant(principal, account)
        if draft is not None and not isinstance(draft, dict):
            raise InvalidInput("请求内容须为 JSON 对象")
        with self.db.tx() as s:
            app = self._ensure(s, account)
            clean = domain.clean_draft(draft or {}, set(s.scalars(sa.select(Trade.code))))
            form = dataclasses.replace(self._form(app), **clean)
            return Choices(**eligibility.choices(form, self._catalogue(s))).model_dump()

    @rpc
    def submit(self, principal: dict, account: dict) -> dict:
        """提交: every rule must hold; the form is locked and sent to review (the event
        carries the snapshot the reviewers need)."""
        self._applicant(principal, account)
        with self.db.tx() as s:
            app = self._editable(s, account)
            results = eligibility.evaluate(self._form(app), self._rules(s, app.year), self._catalogue(s))
            failed = [r for r in results if not r.passed]
            if failed:
                raise RuleNotMet("报名信息不符合申报条件，请按提示修改后再提交", code="not_eligible",
                                 details=[{"rule": r.rule, "title": r.title, "passed": False,
                                           "message": r.message, "field": r.field} for r in failed])
            now = clock.now()
            app.status, app.round, app.submitted_at, app.updated_at = "in_review", app.round + 1, now, now
            app.review_note = None
            app.submitted_files = dict(app.files or {})
            s.flush()
            snapshot = FormSnapshot(**self._snapshot(s, app))
            trade = s.get(Trade, app.target_trade) if app.target_trade else None
            self.db.emit(s, Submitted(
                application_id=app.id, year=app.year, id_number=app.id_number, name=app.name, gender=app.gender,
                target_grade=app.target_grade, route=app.route, target_trade=app.target_trade,
                target_trade_name=trade.name if trade else None,
                unit_id=app.unit_id, supervisor_id=app.supervisor_id, county_code=app.county_code,
                city_code=app.city_code, round=app.round, submitted_at=now, form=snapshot))
            return self._out(s, app)

    # --- uploads (R-A3, R-A5): bytes arrive over kit.files, never over RPC ---------------
    @staticmethod
    def _prepare_image(data: bytes, field: str, personal: bool) -> tuple[bytes, str, int, int]:
        """The checked, re-encoded image (the 2-inch photo normalised): CPU work, run off
        the hub (kit.images.off_hub)."""
        image = check_image(data, settings().upload_max_bytes, field=field)
        if personal:
            return normalize_personal_photo(image.data), "image/jpeg", PHOTO_SPEC["width"], PHOTO_SPEC["height"]
        return image.data, image.content_type, image.width, image.height

    def _image(self, data: bytes, field: str = "file", personal: bool = False) -> tuple[bytes, str, int, int]:
        images.probe(data, settings().upload_max_bytes, field)   # the cheap refusals first, on the hub
        return images.off_hub(self._prepare_image, data, field, personal)

    def _require_quota(self, s: Session, owner: str, data: bytes, files: int, bytes_: int | None,
                       since=None) -> None:
        """Storage quotas (issue 8): so many files (and bytes) per owner. Bytes already
        stored (the same photo again) take no room and pass."""
        if self.db.files.ref(s, hashlib.sha256(data).hexdigest()) is not None:
            return
        size = len(data)
        q = sa.select(sa.func.count(Blob.sha256), sa.func.coalesce(sa.func.sum(Blob.size), 0)).where(
            Blob.owner == owner)
        if since is not None:
            q = q.where(Blob.created_at >= since)
        count, total = s.execute(q).one()
        if count + 1 > files or (bytes_ is not None and total + size > bytes_):
            raise TooManyRequests("上传的文件过多，已超出存储限额，请联系管理员", code="quota_exceeded", field="file")

    @timer(interval=3600)
    def forget_unclaimed_photos(self) -> None:
        """Registration photos whose registration never completed (refused after the photo
        was taken in, e.g. by a race): gone after three days. Safe with many instances."""
        before = clock.now() - timedelta(days=3)
        with self.db.tx() as s:
            stale = list(s.scalars(sa.select(Blob.sha256).where(Blob.owner.like("source:%"),
                                                                 Blob.created_at < before).limit(1000)))
            if stale:
                s.execute(sa.delete(self.db.files.chunks).where(self.db.files.chunks.c.sha256.in_(stale)))
                s.execute(sa.delete(Blob).where(Blob.sha256.in_(stale)))

    @uploads("registration_photo")
    def receive_registration_photo(self, principal: dict | None, args: dict, data: bytes) -> dict:
        """The ID card photo uploaded before registering (R-I2), once identity has checked
        everything else; identity keeps its hash and the application form starts with it.
        Until its account claims it, it belongs to the source address that sent it: at most
        so many unclaimed photos per source and hour."""
        stored, content_type, width, height = self._image(data, field="id_card_photo")
        owner = "source:" + str(args.get("source") or "unknown")[:50]
        with self.db.tx() as s:
            self._require_quota(s, owner, stored, settings().source_files_per_hour, None,
                                since=clock.now() - timedelta(hours=1))
            return self.db.files.put(s, stored, content_type, width, height, now=clock.now(),
                                     owner=owner).model_dump()

    def _check_upload(self, principal: dict, args: dict) -> tuple[Principal, dict, str]:
        account, kind = args.get("account") or {}, str(args.get("kind") or "")
        who = self._applicant(principal, account)
        if kind not in FILE_KINDS:
            raise NotFound("没有这种上传资料", field="kind")
        return who, account, kind

    def _precheck_application_file(self, principal: dict, args: dict) -> None:
        _, account, _ = self._check_upload(principal, args)
        with self.db.tx() as s:
            app = self._ensure(s, account)
            domain.require_editable(app.status)
            self._require_form_window(s, app)

    @uploads("application_file", precheck="_precheck_application_file")
    def receive_application_file(self, principal: dict, args: dict, data: bytes) -> dict:
        """A file of the form; a new 2-inch photo that had 添加身份证号 gets a new stamped copy.
        Refused (bad image, locked form, window, quota): nothing is stored."""
        _, account, kind = self._check_upload(principal, args)
        self._precheck_application_file(principal, args)
        stored, content_type, width, height = self._image(data, personal=kind == "personal_photo")
        cfg = settings()
        owner = f"account:{account['year']}:{account['id_number']}"
        with self.db.tx() as s:
            app = self._editable(s, account)
            self._require_quota(s, owner, stored, cfg.account_files_max, cfg.account_bytes_max)
            ref = self.db.files.put(s, stored, content_type, width, height, now=clock.now(), owner=owner)
            files = dict(app.files or {})
            files[kind] = self._file_entry(ref, clock.now())
            if kind == "personal_photo" and STAMPED_PHOTO in files:
                files[STAMPED_PHOTO] = self._stamp(s, app, files[kind])
            app.files, app.updated_at = files, clock.now()
            s.flush()
            return self._out(s, app)

    def _stamp(self, s: Session, app: Application, original: dict) -> dict:
        stamped = images.off_hub(stamp_id_number, self.db.files.read(s, original["sha256"]), app.id_number)
        ref = self.db.files.put(s, stamped, "image/jpeg", original.get("width"), original.get("height"),
                                now=clock.now(), owner=f"account:{app.year}:{app.id_number}")
        return self._file_entry(ref, clock.now())

    @rpc
    def stamp_photo(self, principal: dict, account: dict) -> dict:
        """添加身份证号 (R-A3): a derived copy with the ID number printed; the original stays."""
        self._applicant(principal, account)
        with self.db.tx() as s:
            app = self._editable(s, account)
            original = (app.files or {}).get("personal_photo")
            if not original:
                raise RuleNotMet("请先上传个人照片", code="no_personal_photo", field="personal_photo")
            files = dict(app.files)
            files[STAMPED_PHOTO] = self._stamp(s, app, original)
            app.files, app.updated_at = files, clock.now()
            s.flush()
            return self._out(s, app)

    @rpc
    def file_ticket(self, principal: dict, kind: str, account: dict | None = None,
                    application_id: str | None = None) -> dict:
        """Where to fetch a file of an application: for its owner, or for administrators in
        scope once it was submitted to them (R-I12); a draft stays the applicant's own."""
        who = access.require(principal)
        with self.db.tx() as s:
            if who.kind == "applicant":
                self._applicant(principal, account or {})
                app = s.scalars(sa.select(Application).where(Application.year == who.year,
                                                             Application.id_number == who.id_number)).first()
                files = app.files if app else None
            else:
                app = s.get(Application, str(application_id or ""))
                if app is None or not app.submitted_files:
                    raise NotFound("没有找到该资料")
                access.require_scope(who, app.city_code, app.county_code, app.supervisor_id,
                                     message="没有找到该资料", hide=True)
                # reviewers see the files of the submission under review, not later edits
                files = app.submitted_files
            meta = (files or {}).get(str(kind))
            if not meta:
                raise NotFound("没有找到该资料")
        ext = {"image/jpeg": "jpg", "image/png": "png"}.get(meta["content_type"], "bin")
        return self.files.download_ticket(
            {k: meta.get(k) for k in ("sha256", "content_type", "size", "width", "height")},
            filename=f"{FILE_NAMES.get(kind, kind)}.{ext}")

    @rpc
    def service_file_ticket(self, principal: dict, application_id: str, kind: str) -> dict | None:
        """For another service (documents prints the 2-inch photo): a file of the application
        as submitted, or None when it has none."""
        access.require(principal, "service")
        with self.db.tx() as s:
            app = s.get(Application, str(application_id or ""))
            meta = ((app.submitted_files or app.files) if app else {}).get(str(kind))
        if not meta:
            return None
        return self.files.download_ticket(
            {k: meta.get(k) for k in ("sha256", "content_type", "size", "width", "height")}, filename=str(kind))

    # --- progress (R-P2) --------------------------------------------------------------
    @rpc
    def progress(self, principal: dict, notices: bool = False) -> dict:
        """The applicant's own steps (R-P2): the sealed principal says whose. ``notices``:
        with their latest notices too (issue 14: the home and 审核结果 pages list them)."""
        who = access.require(principal, "applicant", allow_must_change=True)
        with self.db.read() as s:
            row = s.execute(_PROGRESS, {"year": who.year, "id_number": who.id_number}).one()
            listed = self._notices(s, row.app_id) if notices and row.app_id is not None else []
        calendar, now = row.calendar, clock.now()
        app = row if row.app_id is not None else None
        status = app.status if app else "not_submitted"
        supervisor = (SupervisorOut(id=row.sup_id, name=row.sup_name, admin=row.sup_admin, phone=row.sup_phone)
                      if app and row.sup_id else None)
        city = app.city_code if app else who.city_code
        online_payment = city in (row.online_cities or [])
        facts = {"paid": bool(app and app.paid_at), "ticket": bool(app and app.ticket_no),
                 "result": app.result if app else None,
                 # documents issues the certificate when a passing applicant first opens it
                 "certificate": bool(app and app.result == "pass")}
        return Progress(status=status, steps=domain.progress(calendar, status, now, online_payment, facts),
                        application_window=((calendar or {}).get("windows") or {}).get("application"),
                        supervisor=supervisor, notices=listed if notices else None,
                        fresh_until=next_change(calendar, now)).model_dump(mode="json")

    # --- events from others ----------------------------------------------------------
    @handles(YearUpdatedView)
    def on_year_updated(self, s, event: YearUpdatedView) -> None:
        row = keep_calendar(s, YearCopy, event)
        if row is not None:
            row.is_current = event.current
            s.flush()
            self._sweep(s, clock.now())      # printing switched on, a window opened: notices due

    @handles(FeesSetView)
    def on_fees_set(self, s, event: FeesSetView) -> None:
        """Which cities pay online this year: 网上缴费 shows only there (R-F1)."""
        row = s.get(OnlinePaymentCopy, event.year, with_for_update=True)
        if row is None:
            s.add(OnlinePaymentCopy(year=event.year, cities=list(event.online_payment_cities),
                                    updated_at=event.updated_at))
        elif row.updated_at < event.updated_at:
            row.cities, row.updated_at = list(event.online_payment_cities), event.updated_at
        else:
            return
        s.flush()
        self._sweep(s, clock.now())          # a city paying online now: paying may have opened

    @handles(FeePaidView)
    def on_fee_paid(self, s, event: FeePaidView) -> None:
        """The fee is paid: the steps after 网上缴费 follow (R-P2)."""
        app = s.get(Application, event.application_id, with_for_update=True)
        if app is not None and app.paid_at is None:
            app.paid_at = event.paid_at
            self._notify(s, app, "paid", amount_fen=event.amount_fen)

    @handles(TicketIssuedView)
    def on_ticket_issued(self, s, event: TicketIssuedView) -> None:
        """A seat is arranged: 打印准考证 opens when the province switches printing on (R-D2)."""
        app = s.get(Application, event.application_id, with_for_update=True)
        if app is not None:
            app.ticket_no = event.ticket_no
            self._notify_if_due(s, app)

    @handles(ResultsPublishedView)
    def on_results_published(self, s, event: ResultsPublishedView) -> None:
        """考核结果 (R-D3): the latest revision wins, whatever order the events come in."""
        app = s.get(Application, event.application_id, with_for_update=True)
        if app is not None and event.revision > app.result_revision:
            app.result, app.result_revision = event.result, event.revision
            self._notify_if_due(s, app)

    @handles(AccountRegisteredView)
    def on_account_registered(self, s, event: AccountRegisteredView) -> None:
        """The form exists from registration on, pre-filled, with the ID card photo."""
        exists = s.scalars(sa.select(Application.id).where(Application.year == event.year,
                                                           Application.id_number == event.id_number)).first()
        if not exists:
            self._create(s, event)

    @handles(AccountDeletedView)
    def on_account_deleted(self, s, event: AccountDeletedView) -> None:
        app = s.scalars(sa.select(Application).where(Application.year == event.year,
                                                     Application.id_number == event.id_number)).first()
        if app is not None:
            self.db.emit(s, Deleted(application_id=app.id, year=app.year, id_number=app.id_number,
                                    was_submitted=app.round > 0))
            s.execute(sa.delete(Notice).where(Notice.application_id == app.id))
            s.delete(app)

    # --- review outcomes (R-R2): the form follows the reviewers' decisions ----------------
    def _review_outcome(self, s, event, expected: str, status: str) -> Application | None:
        """The form follows review's case. Outcomes travel on separate queues and may arrive
        in any order: the case's version orders them (a later one wins, an older one arriving
        late changes nothing); an outcome of another round never applies."""
        app = s.get(Application, event.application_id, with_for_update=True)
        if app is None or app.round != event.round or app.status == "not_submitted":
            return None
        if event.version is None:      # from before versions were sent: the state guards it
            if app.status != expected:
                return None
        elif event.version <= (app.review_version or 0):
            return None                # repeated, or older than what the form shows
        app.status, app.review_note, app.updated_at = status, event.reason or None, clock.now()
        if event.version is not None:
            app.review_version = event.version
        # the applicant is told, once per decision (issue 14): 退回 (a reopen is one too)
        # with the reason, 审核不通过, 终审通过
        self._notify(s, app, {"returned": "returned", "rejected": "rejected", "approved": "approved"}[status],
                     version=event.version, round_=event.round, reason=event.reason)
        return app

    @handles(ReturnedView)
    def on_returned(self, s, event: ReturnedView) -> None:
        """退回 unlocks the form; the applicant edits and resubmits while review is open."""
        self._review_outcome(s, event, "in_review", "returned")

    @handles(ReopenedView)
    def on_reopened(self, s, event: ReopenedView) -> None:
        self._review_outcome(s, event, "rejected", "returned")

    @handles(RejectedView)
    def on_rejected(self, s, event: RejectedView) -> None:
        self._review_outcome(s, event, "in_review", "rejected")

    @handles(FinallyApprovedView)
    def on_finally_approved(self, s, event: FinallyApprovedView) -> None:
        """终审通过: paying opens 24 h / 48 h later (R-F2): the sweep tells the applicant."""
        app = self._review_outcome(s, event, "in_review", "approved")
        if app is not None:
            app.approved_at = event.at or clock.now()
            self._notify_if_due(s, app)      # a late event: paying may be open already


def _eligibility_out(results) -> dict:
    return {"eligible": all(r.passed for r in results),
            "rules": [{"rule": r.rule, "title": r.title, "passed": r.passed, "message": r.message,
                       "field": r.field} for r in results]}


def _progress_query() -> sa.Select:
    """One round trip for the applicant's steps: the year's calendar and online cities, the
    application and its 主管单位. Built once (``year`` and ``id_number`` bound at each call):
    the hottest read of the rush skips building the statement and its cache key."""
    year, id_number = sa.bindparam("year", type_=sa.Integer), sa.bindparam("id_number", type_=sa.String)
    one = sa.select(sa.literal(1).label("one")).subquery()
    return (sa.select(
        sa.select(YearCopy.calendar).where(YearCopy.year == year).scalar_subquery().label("calendar"),
        sa.select(OnlinePaymentCopy.cities).where(OnlinePaymentCopy.year == year).scalar_subquery()
        .label("online_cities"),
        Application.id.label("app_id"), Application.status, Application.city_code, Application.paid_at,
        Application.ticket_no, Application.result, Supervisor.id.label("sup_id"), Supervisor.name.label("sup_name"),
        Supervisor.admin.label("sup_admin"), Supervisor.phone.label("sup_phone"))
        .select_from(one)
        .outerjoin(Application, sa.and_(Application.year == year, Application.id_number == id_number))
        .outerjoin(Supervisor, Supervisor.id == Application.supervisor_id).limit(1))


_PROGRESS = _progress_query()
