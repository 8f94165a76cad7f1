"""Application service: reference data (cities, units with their 主管单位) and uploaded
files so far; the 报名信息 form and eligibility rules arrive with issue 3."""
from __future__ import annotations

import base64
import binascii

import sqlalchemy as sa

from kit import clock, regions
from kit.config import settings
from kit.db import Database
from kit.entrypoints import handles, rpc
from kit.errors import InvalidInput

from . import domain
from .files import BlobStore, check_image
from .models import Base, Blob, Supervisor, Unit, YearCopy
from .schemas import CityOut, StoredFile, SupervisorOut, UnitOut


def unit_out(u: Unit, sup: Supervisor) -> dict:
    return UnitOut(unit_id=u.id, name=u.name, city_code=u.city_code, county_code=u.county_code,
                   supervisor=SupervisorOut(id=sup.id, name=sup.name, admin=sup.admin, phone=sup.phone)
                   ).model_dump(mode="json")


class ApplicationService:
    name = "application"

    db = Database(Base.metadata)

    @property
    def store(self) -> BlobStore:
        return BlobStore(settings().data_dir / "files" / "application")

    @rpc
    def ping(self) -> str:
        with self.db.tx() as s:
            s.execute(sa.text("SELECT 1"))
        return "pong"

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
        """Load units and their 主管单位 (the local run's demo data; the province's import
        page in issue 3 uses the same path)."""
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
    def store_registration_photo(self, data_b64: str) -> dict:
        """The ID card photo uploaded before registering (R-I2); identity keeps its hash
        and the application form starts with it."""
        try:
            data = base64.b64decode(data_b64 or "", validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput("文件内容无法读取", field="id_card_photo") from None
        image = check_image(data, settings().upload_max_bytes, field="id_card_photo")
        self.store.put(image.sha256, image.data)
        with self.db.tx() as s:
            if s.get(Blob, image.sha256) is None:
                s.add(Blob(sha256=image.sha256, content_type=image.content_type, size=len(image.data),
                           width=image.width, height=image.height, created_at=clock.now()))
        return StoredFile(sha256=image.sha256, content_type=image.content_type, size=len(image.data),
                          width=image.width, height=image.height).model_dump()

    # --- the applicant's progress (R-P2) ----------------------------------------------
    @rpc
    def progress(self, account: dict) -> dict:
        with self.db.tx() as s:
            cal = s.get(YearCopy, int(account["year"]))
            calendar = cal.calendar if cal else None
        status = "not_submitted"
        return {"status": status, "steps": domain.progress(calendar, status, clock.now()),
                "application_window": ((calendar or {}).get("windows") or {}).get("application"),
                "supervisor": None}

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
