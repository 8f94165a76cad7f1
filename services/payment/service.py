"""Payment service. It owns the fees per grade and the cities paying online per year (the
rest of 网上缴费 comes with the payment issue); it answers the readiness ping and owns its
database and outbox."""
from __future__ import annotations

import sqlalchemy as sa

from kit import access, clock, regions
from kit.db import Database
from kit.entrypoints import rpc
from kit.errors import InvalidInput
from kit.validation import check_year, parse

from .models import Base, FeeSchedule
from .schemas import ActionAudited, Fees, FeesSet, FeesUpdate


def _fees(row: FeeSchedule | None, year: int) -> Fees:
    if row is None:
        return Fees(year=year, fees_fen={}, online_payment_cities=[], updated_at=None)
    return Fees(year=row.year, fees_fen=dict(row.fees_fen), online_payment_cities=list(row.online_payment_cities),
                updated_at=row.updated_at)


class PaymentService:
    name = "payment"

    db = Database(Base.metadata)

    @rpc
    def ping(self) -> str:
        with self.db.tx() as s:
            s.execute(sa.text("SELECT 1"))
        return "pong"

    @rpc
    def get_fees(self, year: int) -> dict:
        year = check_year(year)
        with self.db.tx() as s:
            return _fees(s.get(FeeSchedule, year), year).model_dump(mode="json")

    @rpc
    def put_fees(self, principal: dict, year: int, body: dict) -> dict:
        """The province sets a year's fees per grade and the cities that pay online (R-Y1,
        R-Y3); every change is announced whole."""
        who = access.require(principal, "admin", roles=("province",))
        year = check_year(year)
        update = parse(FeesUpdate, body)
        unknown = sorted(set(update.online_payment_cities or []) - regions.city_codes())
        if unknown:
            raise InvalidInput(f"省辖市代码不正确：{'、'.join(unknown)}", field="online_payment_cities")
        with self.db.tx() as s:
            row = s.get(FeeSchedule, year, with_for_update=True)
            before = _fees(row, year).model_dump(mode="json", exclude={"updated_at"})
            if row is None:
                row = FeeSchedule(year=year, fees_fen={}, online_payment_cities=[], updated_at=clock.now())
                s.add(row)
            row.fees_fen = {**dict(row.fees_fen or {}), **update.fees_fen}
            if update.online_payment_cities is not None:
                row.online_payment_cities = sorted(set(update.online_payment_cities))
            row.updated_at = clock.now()
            s.flush()
            after = _fees(row, year)
            self.db.emit(s, FeesSet(year=year, fees_fen=after.fees_fen,
                                    online_payment_cities=after.online_payment_cities, updated_at=row.updated_at))
            self.db.audit(s, ActionAudited, who, "fees.update", str(year), before,
                          after.model_dump(mode="json", exclude={"updated_at"}))
            return after.model_dump(mode="json")
