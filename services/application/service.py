"""Application service: reference data (cities, units and their 主管单位, trades, 咨询电话),
the 报名信息 form with its uploads and eligibility rules, and the applicant's progress.

Thin entrypoints: check who is calling, validate, apply the rules of ``domain`` and
``eligibility``, persist in one transaction, announce through the outbox.
"""
from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Session

from kit import clock, regions
from kit.config import settings
from kit.db import Database
from kit.entrypoints import handles, rpc
from kit.errors import Forbidden, InvalidInput, NotFound, RuleNotMet, Unauthenticated
from kit.images import BlobStore, check_image

from . import domain, eligibility
from .models import Application, Base, Blob, CountyContact, RuleSetRow, Supervisor, Trade, Unit, YearCopy
from .photos import normalize_personal_photo, stamp_id_number
from .schemas import (
    DELETED,
    PHOTO_SPEC,
    SUBMITTED,
    UNIT_CHOSEN,
    CityOut,
    StoredFile,
    SupervisorOut,
    UnitOut,
)

FILE_KINDS = eligibility.FILE_KINDS
STAMPED = "personal_photo_stamped"


def unit_out(u: Unit, sup: Supervisor) -> dict:
    return UnitOut(unit_id=u.id, name=u.name, city_code=u.city_code, county_code=u.county_code,
                   supervisor=SupervisorOut(id=sup.id, name=sup.name, admin=sup.admin, phone=sup.phone)
                   ).model_dump(mode="json")


def _b64(data_b64: str, field: str) -> bytes:
    try:
        return base64.b64decode(data_b64 or "", validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("文件内容无法读取", field=field) from None


class ApplicationService:
    name = "application"

    db = Database(Base.metadata)

    @property
    def store(self) -> BlobStore:
        return BlobStore(settings().data_dir / "files" / "application")

    # --- helpers ----------------------------------------------------------------------
    def _applicant(self, principal: dict, account: dict) -> None:
        """The gateway passes the principal and identity's account; they must agree."""
        if not principal or principal.get("kind") != "applicant":
            raise Forbidden("仅限报考人员操作")
        if principal.get("must_change_password"):
            raise Forbidden("请先修改初始密码", code="must_change_password")
        if principal.get("id_number") != account.get("id_number") or principal.get("year") != account.get("year"):
            raise Forbidden("只能操作本人的报名信息")

    def _ensure(self, s: Session, account: dict, lock: bool = False) -> Application:
        """The applicant's application, created from the account if identity's event has
        not arrived yet (either path creates it once)."""
        q = sa.select(Application).where(Application.year == account["year"],
                                         Application.id_number == account["id_number"])
        app = s.scalars(q.with_for_update() if lock else q).first()
        if app is None:
            app = self._create(s, account)
            if lock:
                app = s.scalars(q.with_for_update()).first()
        return app

    def _create(self, s: Session, data: dict) -> Application:
        now = clock.now()
        files = {}
        if data.get("id_card_photo"):
            blob = s.get(Blob, data["id_card_photo"])
            if blob is not None:
                files["id_card_photo"] = self._file_entry(blob, now)
        app = Application(id=uuid.uuid4().hex, year=data["year"], id_number=data["id_number"], name=data["name"],
                          gender=data["gender"], birth_month=data["birth_month"], phone=data["phone"],
                          city_code=data["city_code"], target_grade=int(data["declared_grade"]),
                          exceptional=False, frontline=False, exceptional_reason="", pledge=False,
                          files=files, status="not_submitted", round=0, created_at=now, updated_at=now)
        s.add(app)
        try:
            with s.begin_nested():
                s.flush()
        except sa.exc.IntegrityError:  # created meanwhile by the other path
            s.expunge(app)
            app = s.scalars(sa.select(Application).where(Application.year == data["year"],
                                                         Application.id_number == data["id_number"])).one()
        return app

    @staticmethod
    def _file_entry(blob: Blob, at) -> dict:
        return {"sha256": blob.sha256, "content_type": blob.content_type, "size": blob.size,
                "width": blob.width, "height": blob.height, "uploaded_at": at.isoformat()}

    def _catalogue(self, s: Session) -> eligibility.Catalogue:
        trades = list(s.scalars(sa.select(Trade)))
        driver = next((t.code for t in trades if t.name == "汽车驾驶员"), None)
        return eligibility.Catalogue(names={t.code: t.name for t in trades},
                                     mapping={t.code: tuple(t.new_codes or ()) for t in trades},
                                     driver_code=driver)

    def _rules(self, s: Session, year: int) -> eligibility.RuleSet:
        row = s.get(RuleSetRow, year)
        return eligibility.RuleSet.from_dict(row.rules if row else None)

    def _form(self, app: Application) -> eligibility.Form:
        return eligibility.Form(
            exam_year=app.year, gender=app.gender, birth_month=app.birth_month, target_grade=app.target_grade,
            unit_id=app.unit_id, education=app.education, work_start=app.work_start,
            service_years=app.service_years, current_grade=app.current_grade, current_trade=app.current_trade,
            grade_obtained_year=app.grade_obtained_year, target_trade=app.target_trade, route=app.route,
            exceptional=app.exceptional, frontline=app.frontline, exceptional_reason=app.exceptional_reason or "",
            prohibited=app.prohibited, pledge=app.pledge,
            files=frozenset(k for k in (app.files or {}) if k in FILE_KINDS))

    def _out(self, s: Session, app: Application) -> dict:
        unit = None
        if app.unit_id:
            row = s.execute(sa.select(Unit, Supervisor).join(Supervisor, Unit.supervisor_id == Supervisor.id)
                            .where(Unit.id == app.unit_id)).first()
            unit = unit_out(*row) if row else None
        return {
            "application_id": app.id, "year": app.year, "status": app.status, "round": app.round,
            "submitted_at": app.submitted_at.isoformat() if app.submitted_at else None,
            "locked": app.status not in domain.EDITABLE_STATUSES,
            "name": app.name, "id_number": app.id_number, "gender": app.gender, "birth_month": app.birth_month,
            "phone": app.phone, "city_code": app.city_code, "target_grade": app.target_grade,
            "unit_id": app.unit_id, "unit": unit, "county_code": app.county_code,
            "supervisor_id": app.supervisor_id, "education": app.education, "work_start": app.work_start,
            "service_years": app.service_years,
            "service_years_max": eligibility.max_service_years(app.year, app.work_start) if app.work_start
            else None,
            "current_grade": app.current_grade, "current_trade": app.current_trade,
            "grade_obtained_year": app.grade_obtained_year, "target_trade": app.target_trade,
            "route": app.route, "exceptional": app.exceptional, "frontline": app.frontline,
            "exceptional_reason": app.exceptional_reason or "", "prohibited": app.prohibited,
            "pledge": app.pledge, "files": dict(app.files or {}),
            "review_note": app.review_note,
        }

    def _calendar(self, s: Session, year: int) -> dict | None:
        row = s.get(YearCopy, year)
        return row.calendar if row else None

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
                q = q.where(Unit.city_code == city_code)
            return [unit_out(u, sup) for u, sup in s.execute(q.order_by(Unit.city_code, Unit.id))]

    @rpc
    def get_supervisor(self, supervisor_id: str) -> dict | None:
        with self.db.tx() as s:
            sup = s.get(Supervisor, supervisor_id)
            if sup is None:
                return None
            return {"id": sup.id, "name": sup.name, "city_code": sup.city_code,
                    "admin": sup.admin, "phone": sup.phone}

    @rpc
    def upsert_reference(self, supervisors: list[dict], units: list[dict]) -> dict:
        """Load units and their 主管单位 (the local run's demo data and deployments)."""
        with self.db.tx() as s:
            for row in supervisors:
                if row["city_code"] not in regions.city_codes():
                    raise InvalidInput(f"未知的省辖市代码 {row['city_code']}")
                s.merge(Supervisor(**row))
            s.flush()
            for row in units:
                if row.get("county_code") and regions.county(row["county_code"]) is None:
                    raise InvalidInput(f"未知的县区代码 {row['county_code']}")
                s.merge(Unit(**row))
        return {"supervisors": len(supervisors), "units": len(units)}

    @rpc
    def import_units(self, principal: dict, csv_b64: str) -> dict:
        """The province imports units with their 主管单位 (name, admin user name, phone)."""
        if (principal or {}).get("kind") != "admin" or principal.get("role") != "province":
            raise Forbidden("只有省级管理员可以维护单位信息")
        parents = {r.code: r.parent_code or "" for r in regions.all_regions().values() if r.level == "county"}
        rows, refused = domain.parse_units(_b64(csv_b64, "file"), regions.city_codes(), parents)
        supervisors: dict[str, dict] = {}
        for r in rows:
            supervisors.setdefault(r["supervisor_id"], dict(
                id=r["supervisor_id"], name=r["supervisor_name"], city_code=r["city_code"],
                admin=r["supervisor_admin"], phone=r["supervisor_phone"]))
        self.upsert_reference(list(supervisors.values()), [
            dict(id=r["unit_id"], name=r["name"], city_code=r["city_code"], county_code=r["county_code"] or None,
                 supervisor_id=r["supervisor_id"]) for r in rows])
        return {"imported": len(rows), "supervisors": len(supervisors), "refused": refused}

    @rpc
    def list_trades(self) -> list[dict]:
        with self.db.tx() as s:
            return [{"code": t.code, "name": t.name, "category": t.category, "new_trades": list(t.new_codes or [])}
                    for t in s.scalars(sa.select(Trade).order_by(Trade.code))]

    @rpc
    def import_trades(self, principal: dict, csv_b64: str) -> dict:
        """The province imports or edits the catalogue (CSV: code,name,category,new_codes)."""
        if (principal or {}).get("kind") != "admin" or principal.get("role") != "province":
            raise Forbidden("只有省级管理员可以维护工种目录")
        rows, refused = domain.parse_trades(_b64(csv_b64, "file"))
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
        return {"imported": len(good), "refused": refused}

    @rpc
    def contacts(self) -> dict:
        with self.db.tx() as s:
            phones = {c.county_code: c.phone for c in s.scalars(sa.select(CountyContact))}
        counties = [{"county_code": code, "name": regions.all_regions()[code].name,
                     "city_name": regions.city_name(regions.all_regions()[code].parent_code or "") or "",
                     "phone": phone} for code, phone in sorted(phones.items())]
        return {"center_phone": settings().center_phone, "counties": counties}

    @rpc
    def put_contacts(self, principal: dict, counties: list[dict]) -> dict:
        if (principal or {}).get("kind") != "admin" or principal.get("role") != "province":
            raise Forbidden("只有省级管理员可以维护咨询电话")
        with self.db.tx() as s:
            for row in counties or []:
                code, phone = str(row.get("county_code") or ""), str(row.get("phone") or "").strip()
                if regions.county(code) is None:
                    raise InvalidInput(f"县区代码不正确：{code}", field="county_code")
                if len(phone) > 40:
                    raise InvalidInput("咨询电话不能超过40个字符", field="phone")
                if phone:
                    s.merge(CountyContact(county_code=code, phone=phone))
                else:  # an empty phone removes the county's entry
                    s.execute(sa.delete(CountyContact).where(CountyContact.county_code == code))
        return self.contacts()

    @rpc
    def put_rules(self, principal: dict, year: int, rules: dict) -> dict:
        """The eligibility figures of a year (R-A4 is data per exam year)."""
        if principal.get("kind") != "admin" or principal.get("role") != "province":
            raise Forbidden("只有省级管理员可以设置申报条件")
        if not isinstance(rules, dict):
            raise InvalidInput("申报条件应为 JSON 对象")
        with self.db.tx() as s:
            try:
                merged = self._rules(s, int(year)).merged(rules)
            except (TypeError, ValueError) as exc:
                raise InvalidInput(f"申报条件设置不正确：{exc}") from None
            s.merge(RuleSetRow(year=int(year), rules=merged.to_dict()))
        return merged.to_dict()

    @rpc
    def get_rules(self, year: int) -> dict:
        with self.db.tx() as s:
            return self._rules(s, int(year)).to_dict()

    # --- the form (R-A1, R-A2) ---------------------------------------------------------
    @rpc
    def get_form(self, principal: dict, account: dict) -> dict:
        self._applicant(principal, account)
        with self.db.tx() as s:
            return self._out(s, self._ensure(s, account))

    @rpc
    def save_form(self, principal: dict, account: dict, changes: dict) -> dict:
        """保存: a partial draft; a left-out field keeps its value."""
        self._applicant(principal, account)
        if not isinstance(changes, dict):
            raise InvalidInput("请求内容须为 JSON 对象")
        with self.db.tx() as s:
            app = self._ensure(s, account, lock=True)
            domain.require_editable(app.status)
            self._require_form_window(s, app)
            current = self._out(s, app)
            units = {u.id: u for u in s.scalars(sa.select(Unit).where(Unit.city_code == app.city_code))}
            clean = domain.clean_changes(changes, current, eligibility.EDUCATION_LEVELS,
                                         set(s.scalars(sa.select(Trade.code))), set(units))
            if "work_start" in clean and "service_years" not in clean and clean["work_start"] \
                    and clean["work_start"] != app.work_start:
                clean["service_years"] = eligibility.max_service_years(app.year, clean["work_start"])
            if "unit_id" in clean and clean["unit_id"] != app.unit_id:
                unit = units.get(clean["unit_id"]) if clean["unit_id"] else None
                app.county_code = unit.county_code if unit else None
                app.supervisor_id = unit.supervisor_id if unit else None
                self.db.emit(s, UNIT_CHOSEN, {"year": app.year, "id_number": app.id_number,
                                              "unit_id": clean["unit_id"], "county_code": app.county_code,
                                              "supervisor_id": app.supervisor_id, "at": clock.now().isoformat()})
            for key, value in clean.items():
                setattr(app, key, value)
            if app.work_start and app.service_years is None:  # 工作年限 defaults to its maximum
                app.service_years = eligibility.max_service_years(app.year, app.work_start)
            app.updated_at = clock.now()
            s.flush()
            return self._out(s, app)

    def _require_form_window(self, s: Session, app: Application) -> None:
        domain.require_form_window(self._calendar(s, app.year), app.status, clock.now())

    @rpc
    def eligibility(self, principal: dict, account: dict) -> dict:
        self._applicant(principal, account)
        with self.db.tx() as s:
            app = self._ensure(s, account)
            results = eligibility.evaluate(self._form(app), self._rules(s, app.year), self._catalogue(s))
        return {"eligible": all(r.passed for r in results),
                "rules": [{"rule": r.rule, "title": r.title, "passed": r.passed, "message": r.message,
                           "field": r.field} for r in results]}

    @rpc
    def choices(self, principal: dict, account: dict, draft: dict | None = None) -> dict:
        """What the form offers for the choices on the page (saved or not): routes, target
        trades, 工作年限 maximum, required uploads. The page asks; it repeats no rule."""
        self._applicant(principal, account)
        with self.db.tx() as s:
            app = self._ensure(s, account)
            clean = domain.clean_draft(draft or {}, set(s.scalars(sa.select(Trade.code))))
            form = dataclasses.replace(self._form(app), **clean)
            return eligibility.choices(form, self._catalogue(s))

    @rpc
    def submit(self, principal: dict, account: dict) -> dict:
        """提交: every rule must hold; the form is locked and sent to review (the event
        carries the snapshot the reviewers need)."""
        self._applicant(principal, account)
        with self.db.tx() as s:
            app = self._ensure(s, account, lock=True)
            domain.require_editable(app.status)
            self._require_form_window(s, app)
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
            snapshot = self._out(s, app)
            self.db.emit(s, SUBMITTED, {
                "application_id": app.id, "year": app.year, "id_number": app.id_number, "name": app.name,
                "gender": app.gender, "target_grade": app.target_grade, "route": app.route,
                "target_trade": app.target_trade, "unit_id": app.unit_id, "supervisor_id": app.supervisor_id,
                "county_code": app.county_code, "city_code": app.city_code, "round": app.round,
                "submitted_at": now.isoformat(), "form": snapshot})
            return snapshot

    # --- uploads (R-A3, R-A5) ---------------------------------------------------------
    def _store(self, s: Session, data: bytes, field: str = "file", personal: bool = False) -> Blob:
        image = check_image(data, settings().upload_max_bytes, field=field)
        stored, width, height = image.data, image.width, image.height
        content_type, sha = image.content_type, image.sha256
        if personal:
            stored = normalize_personal_photo(image.data)
            width, height, content_type = PHOTO_SPEC["width"], PHOTO_SPEC["height"], "image/jpeg"
            sha = hashlib.sha256(stored).hexdigest()
        self.store.put(sha, stored)
        blob = s.get(Blob, sha)
        if blob is None:
            blob = Blob(sha256=sha, content_type=content_type, size=len(stored), width=width, height=height,
                        created_at=clock.now())
            s.add(blob)
        return blob

    @rpc
    def store_registration_photo(self, data_b64: str) -> dict:
        """The ID card photo uploaded before registering (R-I2); identity keeps its hash
        and the application form starts with it."""
        data = _b64(data_b64, "id_card_photo")
        with self.db.tx() as s:
            blob = self._store(s, data, field="id_card_photo")
            return StoredFile(sha256=blob.sha256, content_type=blob.content_type, size=blob.size,
                              width=blob.width, height=blob.height).model_dump()

    @rpc
    def upload_file(self, principal: dict, account: dict, kind: str, data_b64: str) -> dict:
        self._applicant(principal, account)
        if kind not in FILE_KINDS:
            raise NotFound("没有这种上传资料", field="kind")
        data = _b64(data_b64, "file")
        with self.db.tx() as s:
            app = self._ensure(s, account, lock=True)
            domain.require_editable(app.status)
            self._require_form_window(s, app)
            blob = self._store(s, data, personal=kind == "personal_photo")
            files = dict(app.files or {})
            files[kind] = self._file_entry(blob, clock.now())
            if kind == "personal_photo":
                files.pop(STAMPED, None)  # a new photo needs 添加身份证号 again
            app.files, app.updated_at = files, clock.now()
            s.flush()
            return self._out(s, app)

    @rpc
    def stamp_photo(self, principal: dict, account: dict) -> dict:
        """添加身份证号 (R-A3): a derived copy with the ID number printed; the original stays."""
        self._applicant(principal, account)
        with self.db.tx() as s:
            app = self._ensure(s, account, lock=True)
            domain.require_editable(app.status)
            self._require_form_window(s, app)
            original = (app.files or {}).get("personal_photo")
            if not original:
                raise RuleNotMet("请先上传个人照片", code="no_personal_photo", field="personal_photo")
            stamped = stamp_id_number(self.store.get(original["sha256"]), app.id_number)
            sha = hashlib.sha256(stamped).hexdigest()
            self.store.put(sha, stamped)
            if s.get(Blob, sha) is None:
                s.add(Blob(sha256=sha, content_type="image/jpeg", size=len(stamped), width=original["width"],
                           height=original["height"], created_at=clock.now()))
            files = dict(app.files)
            files[STAMPED] = {**original, "sha256": sha, "size": len(stamped), "content_type": "image/jpeg",
                              "uploaded_at": clock.now().isoformat()}
            app.files, app.updated_at = files, clock.now()
            s.flush()
            return self._out(s, app)

    @rpc
    def read_file(self, principal: dict, kind: str, account: dict | None = None,
                  application_id: str | None = None) -> dict:
        """A file of an application: to its owner, or to administrators in scope."""
        with self.db.tx() as s:
            if principal.get("kind") == "applicant":
                if account is None:
                    raise Forbidden("只能查看本人的资料")
                self._applicant(principal, account)
                app = s.scalars(sa.select(Application).where(Application.year == account["year"],
                                                             Application.id_number == account["id_number"])).first()
            elif principal.get("kind") == "admin":
                app = s.get(Application, application_id or "")
                if app is not None and not domain.can_view_application(
                        principal.get("role"), principal.get("scope_code"), app.city_code, app.county_code,
                        app.supervisor_id):
                    raise Forbidden("该报名信息不在您的管理范围内", code="out_of_scope")
            else:
                raise Unauthenticated("请先登录")
            # reviewers see the files of the submission under review, not later edits
            files = (app.submitted_files or app.files) if app and principal["kind"] == "admin" \
                else (app.files if app else None)
            meta = (files or {}).get(kind)
            if not meta:
                raise NotFound("没有找到该资料")
        return {"content_type": meta["content_type"], "sha256": meta["sha256"],
                "data_b64": base64.b64encode(self.store.get(meta["sha256"])).decode()}

    # --- progress (R-P2) --------------------------------------------------------------
    @rpc
    def progress(self, account: dict) -> dict:
        with self.db.tx() as s:
            calendar = self._calendar(s, int(account["year"]))
            app = s.scalars(sa.select(Application).where(Application.year == account["year"],
                                                         Application.id_number == account["id_number"])).first()
            status = app.status if app else "not_submitted"
            supervisor = None
            if app and app.supervisor_id:
                sup = s.get(Supervisor, app.supervisor_id)
                if sup:
                    supervisor = {"id": sup.id, "name": sup.name, "admin": sup.admin, "phone": sup.phone}
        return {"status": status, "steps": domain.progress(calendar, status, clock.now()),
                "application_window": ((calendar or {}).get("windows") or {}).get("application"),
                "supervisor": supervisor}

    # --- events from others ----------------------------------------------------------
    @handles("identity.year_updated.v1")
    def on_year_updated(self, s, data: dict) -> None:
        row = s.get(YearCopy, int(data["year"]))
        if row is None:
            row = YearCopy(year=int(data["year"]))
            s.add(row)
        elif domain.is_older(data.get("updated_at"), (row.calendar or {}).get("updated_at")):
            return  # an older calendar arriving late changes nothing
        row.is_current = bool(data.get("current"))
        row.calendar = {"windows": data.get("windows") or {}, "switches": data.get("switches") or {},
                        "updated_at": data.get("updated_at") or ""}

    @handles("identity.account_registered.v1")
    def on_account_registered(self, s, data: dict) -> None:
        """The form exists from registration on, pre-filled, with the ID card photo."""
        exists = s.scalars(sa.select(Application.id).where(Application.year == data["year"],
                                                           Application.id_number == data["id_number"])).first()
        if not exists:
            self._create(s, data)

    @handles("identity.account_deleted.v1")
    def on_account_deleted(self, s, data: dict) -> None:
        app = s.scalars(sa.select(Application).where(Application.year == data["year"],
                                                     Application.id_number == data["id_number"])).first()
        if app is not None:
            self.db.emit(s, DELETED, {"application_id": app.id, "year": app.year, "id_number": app.id_number,
                                      "was_submitted": app.round > 0})
            s.delete(app)

    # --- review outcomes (R-R2): the form follows the reviewers' decisions ----------------
    def _review_outcome(self, s, data: dict, expected: str, status: str) -> None:
        app = s.get(Application, data["application_id"], with_for_update=True)
        if app is None or app.round != int(data["round"]) or app.status != expected:
            return  # stale or repeated: the state guards it
        app.status, app.review_note, app.updated_at = status, data.get("reason") or None, clock.now()

    @handles("review.returned.v1")
    def on_returned(self, s, data: dict) -> None:
        """退回 unlocks the form; the applicant edits and resubmits while review is open."""
        self._review_outcome(s, data, "in_review", "returned")

    @handles("review.reopened.v1")
    def on_reopened(self, s, data: dict) -> None:
        self._review_outcome(s, data, "rejected", "returned")

    @handles("review.rejected.v1")
    def on_rejected(self, s, data: dict) -> None:
        self._review_outcome(s, data, "in_review", "rejected")

    @handles("review.finally_approved.v1")
    def on_finally_approved(self, s, data: dict) -> None:
        self._review_outcome(s, data, "in_review", "approved")
