"""Documents service (R-D1, R-D2, R-D6): the exam's sites, rooms and timetable, seats and
ticket numbers, the admission ticket (准考证) and its PDF, bulk jobs.

It learns who may sit the exam from events (终审通过 from review; paid, or a city without
online payment, from payment) and what the ticket shows from the submitted application;
the 2-inch photo comes from application through kit.files, never through RPC. PDFs are
made from layouts that are data, cached by the hash of what they show, and made again only
when that changes. Bulk jobs are split into chunks any instance takes (SKIP LOCKED) and a
crashed instance's chunk is taken again."""
from __future__ import annotations

import logging
import uuid
from datetime import timedelta

import sqlalchemy as sa
from eventlet.greenpool import GreenPool
from nameko.rpc import RpcProxy
from nameko.timer import timer
from sqlalchemy.orm import Session
from zipstream import ZipStream

from kit import access, clock, offload, regions
from kit import files as kit_files
from kit.access import Principal
from kit.config import settings
from kit.db import (
    Database,
    everyone_changed,
    keep_calendar,
    track_everyone,
    track_viewers,
    track_viewers_through,
)
from kit.entrypoints import handles, rpc
from kit.errors import Conflict, InvalidInput, NotFound
from kit.files import generates, uploads
from kit.masks import mask_id
from kit.metrics import Metrics
from kit.tables import sheet_dicts
from kit.validation import check_year, parse

from . import domain, render, results, seat_lists
from .models import (
    Base,
    Candidate,
    Certificate,
    HistoryRecord,
    Job,
    JobChunk,
    OnlineCities,
    PassLine,
    Rendered,
    Room,
    Score,
    Seat,
    Site,
    Sitting,
    YearCopy,
)
from .schemas import (
    GRADE_NAMES,
    ActionAudited,
    AssignmentResult,
    DeletedView,
    ExamSites,
    FeePaidView,
    FeesSetView,
    FinallyApprovedView,
    JobOut,
    NewJob,
    SeatAssignment,
    SeatsQuery,
    SubjectRow,
    SubmittedView,
    Ticket,
    TicketCheck,
    TicketIssued,
    Timetable,
    ViewersChanged,
    YearUpdatedView,
)

log = logging.getLogger(__name__)
PROVINCE = ("province",)
TICKET_LAYOUT = "ticket"
SHEET_MAX_BYTES = 2 * 1024 * 1024


def _time_text(start, end) -> str:
    a, b = start.astimezone(clock.CST), end.astimezone(clock.CST)
    return f"{a.strftime('%Y-%m-%d %H:%M')}-{b.strftime('%H:%M')}"


# what 准考证, 考核结果 and 电子证书 are read from (issue 12): an applicant's candidate row, seat
# and certificate; every applicant's, the calendar, the timetable, the sites and rooms, the pass
# lines, and the scores and earlier years' records (imported for many at once, and read across
# a person's years). Seats are inserted by statement: assign_seats marks them by hand.
track_viewers(Candidate, lambda c: (c.year, c.id_number))
track_viewers_through(Seat, Candidate)
track_viewers_through(Certificate, Candidate)
track_everyone(YearCopy, Sitting, Site, Room, PassLine, Score, HistoryRecord)


# The mixins are reached through their modules: a class imported here by name would be
# taken for a service of its own by `nameko run services.documents.service`.
class DocumentsService(results.ResultsEntrypoints, seat_lists.SeatListEntrypoints, kit_files.FileEndpoints):
    name = "documents"

    db = Database(Base.metadata, viewers_event=ViewersChanged)
    metrics = Metrics()
    application = RpcProxy("application")

    @rpc
    def ping(self) -> str:
        with self.db.tx() as s:
            s.execute(sa.text("SELECT 1"))
        return "pong"

    # --- helpers --------------------------------------------------------------------------
    def _calendar(self, s: Session, year: int) -> dict:
        row = s.get(YearCopy, year)
        return (row.calendar if row else None) or {}

    def _online(self, s: Session, year: int) -> set[str]:
        row = s.get(OnlineCities, year)
        return set(row.cities or []) if row else set()

    def _audit(self, s: Session, who: Principal, action: str, target: str | None, before=None, after=None):
        self.db.audit(s, ActionAudited, who, action, target, before, after)

    def _sittings(self, s: Session, year: int, grade: int) -> list[Sitting]:
        return list(s.scalars(sa.select(Sitting).where(Sitting.year == year, Sitting.grade == grade)))

    # --- the exam's arrangement (R-D1) ----------------------------------------------------------
    @rpc
    def get_exam_sites(self, principal: dict, year: int) -> list[dict]:
        access.require(principal, "admin")
        year = check_year(year)
        with self.db.tx() as s:
            return self._sites_out(s, year)

    def _sites_out(self, s: Session, year: int) -> list[dict]:
        rooms: dict[str, list[Room]] = {}
        for room in s.scalars(sa.select(Room).where(Room.year == year).order_by(Room.site_code, Room.room_code)):
            rooms.setdefault(room.site_code, []).append(room)
        used = {(site, room): n for site, room, n in s.execute(
            sa.select(Seat.site_code, Seat.room_code, sa.func.count()).where(Seat.year == year)
            .group_by(Seat.site_code, Seat.room_code))}
        return [{"site_code": site.site_code, "name": site.name, "address": site.address, "city_code": site.city_code,
                 "rooms": [{"room_code": r.room_code, "name": r.name, "seats": r.seats, "number": r.number,
                            "seated": used.get((r.site_code, r.room_code), 0)}
                           for r in rooms.get(site.site_code, [])]}
                for site in s.scalars(sa.select(Site).where(Site.year == year).order_by(Site.site_code))]

    @rpc
    def put_exam_sites(self, principal: dict, year: int, body: dict) -> list[dict]:
        """The year's 考点 and 考场 (the list replaces the one before)."""
        who = access.require(principal, "admin", roles=PROVINCE)
        year = check_year(year)
        with self.db.tx() as s:
            return self._set_sites(s, who, year, parse(ExamSites, body).sites)

    def _province_year(self, principal: dict, args: dict) -> Principal:
        who = access.require(principal, "admin", roles=PROVINCE)
        check_year(args.get("year"))
        return who

    @uploads("exam_sites_sheet", max_bytes=SHEET_MAX_BYTES, precheck="_province_year")
    def import_exam_sites(self, principal: dict, args: dict, data: bytes) -> list[dict]:
        """The same list from Excel or CSV, one row per 考场; any row refused changes nothing."""
        who = self._province_year(principal, args)
        body, refused = domain.sites_from_sheet(sheet_dicts(data, domain.SITE_COLUMNS, domain.SITE_REQUIRED))
        if refused:
            raise InvalidInput(f"文件中有{len(refused)}行不正确，未导入任何考场", field="file",
                               details={"refused": refused[:100]})
        sites = parse(ExamSites, {"sites": body}).sites
        with self.db.tx() as s:
            return self._set_sites(s, who, check_year(args["year"]), sites)

    def _set_sites(self, s: Session, who: Principal, year: int, sites: list) -> list[dict]:
        """A room where someone is seated stays, with at least as many seats as its highest
        seat number; a room keeps its number, a new one gets the next of its city (ticket
        numbers carry it)."""
        for site in sites:
            if site.city_code not in regions.city_codes():
                raise InvalidInput(f"考点{site.site_code}的省辖市代码不正确", field="city_code")
        self.db.lock(s, f"documents.arrangement:{year}")
        before = self._sites_out(s, year)
        highest = {(site, room): n for site, room, n in s.execute(
            sa.select(Seat.site_code, Seat.room_code, sa.func.max(Seat.seat_no)).where(Seat.year == year)
            .group_by(Seat.site_code, Seat.room_code))}
        wanted = {(site.site_code, room.room_code): (site, room) for site in sites for room in site.rooms}
        for (site_code, room_code), top in highest.items():
            if (site_code, room_code) not in wanted:
                raise Conflict(f"考点{site_code}考场{room_code}已安排考生，不能删除", code="room_in_use")
            site, room = wanted[(site_code, room_code)]
            if room.seats < top:
                raise Conflict(f"考点{site_code}考场{room_code}已安排到{top}号座位，座位数不能少于{top}",
                               code="room_in_use")
            old = s.get(Room, (year, site_code, room_code))
            if old is not None and old.city_code != site.city_code:
                raise Conflict(f"考点{site_code}已安排考生，不能改为其他省辖市", code="room_in_use")
        existing = {(r.site_code, r.room_code): r for r in s.scalars(sa.select(Room).where(Room.year == year))}
        numbers: dict[str, int] = {}
        for r in existing.values():
            numbers[r.city_code] = max(numbers.get(r.city_code, 0), r.number)
        for key, room in existing.items():
            if key not in wanted:
                s.delete(room)
        s.flush()
        for site_row in s.scalars(sa.select(Site).where(Site.year == year)):
            if site_row.site_code not in {x.site_code for x in sites}:
                s.delete(site_row)
        s.flush()
        for site in sites:
            s.merge(Site(year=year, site_code=site.site_code, name=site.name, address=site.address,
                         city_code=site.city_code))
        s.flush()
        for (site_code, room_code), (site, room) in wanted.items():
            old = existing.get((site_code, room_code))
            if old is not None and old.city_code == site.city_code:
                old.name, old.seats = room.name, room.seats
                continue
            if old is not None:
                s.delete(old)
                s.flush()
            numbers[site.city_code] = numbers.get(site.city_code, 0) + 1
            s.add(Room(year=year, site_code=site_code, room_code=room_code, name=room.name, seats=room.seats,
                       city_code=site.city_code, number=numbers[site.city_code]))
        s.flush()
        after = self._sites_out(s, year)
        self._audit(s, who, "exam_sites.set", str(year), {"sites": len(before)}, {"sites": len(after),
                    "rooms": sum(len(x["rooms"]) for x in after)})
        return after

    @rpc
    def get_timetable(self, principal: dict, year: int) -> dict:
        access.require(principal, "admin")
        year = check_year(year)
        with self.db.tx() as s:
            return self._timetable_out(s, year)

    def _timetable_out(self, s: Session, year: int) -> dict:
        out: dict[str, list] = {}
        for row in s.scalars(sa.select(Sitting).where(Sitting.year == year).order_by(Sitting.grade, Sitting.start)):
            out.setdefault(str(row.grade), []).append({"subject": row.subject, "start": row.start.isoformat(),
                                                       "end": row.end.isoformat(), "place": row.place})
        return out

    @rpc
    def put_timetable(self, principal: dict, year: int, body: dict) -> dict:
        """The timetable per grade: the three subjects' times and places (a grade left out
        keeps its rows)."""
        who = access.require(principal, "admin", roles=PROVINCE)
        year = check_year(year)
        table = parse(Timetable, {"grades": body})
        with self.db.tx() as s:
            return self._set_timetable(s, who, year, table)

    @uploads("timetable_sheet", max_bytes=SHEET_MAX_BYTES, precheck="_province_year")
    def import_timetable(self, principal: dict, args: dict, data: bytes) -> dict:
        """The timetable from Excel or CSV, one row per grade and subject (Beijing time)."""
        who = self._province_year(principal, args)
        body, refused = domain.timetable_from_sheet(
            sheet_dicts(data, domain.TIMETABLE_COLUMNS, domain.TIMETABLE_REQUIRED), clock.CST)
        if refused:
            raise InvalidInput(f"文件中有{len(refused)}行不正确，未导入考试时间", field="file",
                               details={"refused": refused[:100]})
        table = parse(Timetable, {"grades": body})
        with self.db.tx() as s:
            return self._set_timetable(s, who, check_year(args["year"]), table)

    def _set_timetable(self, s: Session, who: Principal, year: int, table: Timetable) -> dict:
        self.db.lock(s, f"documents.arrangement:{year}")
        before = self._timetable_out(s, year)
        for grade, rows in table.grades.items():
            s.execute(sa.delete(Sitting).where(Sitting.year == year, Sitting.grade == int(grade)))
            everyone_changed(s)                       # (a statement: the ORM marks nothing)
            for row in rows:
                s.add(Sitting(year=year, grade=int(grade), subject=row.subject, start=row.start, end=row.end,
                              place=row.place))
        s.flush()
        after = self._timetable_out(s, year)
        self._audit(s, who, "timetable.set", str(year), before, after)
        return after

    @rpc
    def assign_seats(self, principal: dict, year: int, body: dict | None = None) -> dict:
        """Seats every eligible candidate without one (grouped by city, grade and trade;
        deterministic; nobody already seated moves); announces each ticket issued."""
        who = access.require(principal, "admin", roles=PROVINCE)
        year = check_year(year)
        city = parse(SeatAssignment, body or {}).city_code
        now = clock.now()
        with self.db.tx() as s:
            self.db.lock(s, f"documents.arrangement:{year}")     # one run at a time, and no room changes meanwhile
            online = self._online(s, year)
            q = sa.select(Candidate).where(Candidate.year == year, Candidate.approved, ~Candidate.withdrawn)
            if city:
                q = q.where(Candidate.city_code == city)
            candidates = [c for c in s.scalars(q) if domain.eligible(True, False, c.paid, c.city_code, online)]
            seated = set(s.scalars(sa.select(Seat.application_id).where(Seat.year == year)))
            halls = []
            taken: dict[tuple[str, str], set[int]] = {}
            for seat in s.scalars(sa.select(Seat).where(Seat.year == year)):
                taken.setdefault((seat.site_code, seat.room_code), set()).add(seat.seat_no)
            for room in s.scalars(sa.select(Room).where(Room.year == year)):
                halls.append(domain.Hall(room.site_code, room.room_code, room.city_code, room.number, room.seats,
                                         set(taken.get((room.site_code, room.room_code), set()))))
            graded = {g for (g,) in s.execute(sa.select(Sitting.grade).where(Sitting.year == year).distinct())}
            todo = [domain.Sittable(c.application_id, c.city_code, c.target_grade, c.target_trade, c.id_number)
                    for c in candidates if c.application_id not in seated]
            placements, waiting = domain.assign(year, todo, halls, graded)
            by_id = {c.application_id: c for c in candidates}
            if placements:       # thousands at once in the first run: multi-row inserts
                everyone_changed(s)                   # (a statement: the ORM marks nothing)
                s.execute(sa.insert(Seat), [
                    {"application_id": p.application_id, "year": year, "ticket_no": p.ticket_no,
                     "site_code": p.site_code, "room_code": p.room_code, "seat_no": p.seat_no, "assigned_at": now}
                    for p in placements])
            self.db.emit_many(s, [TicketIssued(application_id=p.application_id, year=year,
                                               id_number=by_id[p.application_id].id_number, ticket_no=p.ticket_no,
                                               issued_at=now) for p in placements])
            for c in candidates:
                if c.waiting != waiting.get(c.application_id):
                    c.waiting = waiting.get(c.application_id)
            result = AssignmentResult(assigned=len(placements), already=len(candidates) - len(todo),
                                      waiting=len(waiting))
            self._audit(s, who, "seats.assign", str(year), None, {**result.model_dump(), "city_code": city})
            return result.model_dump()

    @rpc
    def seats(self, principal: dict, year: int, query: dict | None = None) -> dict:
        """Who is seated (with room and ticket number), who is waiting and why, and who may
        not sit yet (not approved, or unpaid in an online city)."""
        who = access.require(principal, "admin", roles=("province", "city"))
        year = check_year(year)
        q = parse(SeatsQuery, query or {})
        with self.db.tx() as s:
            online = self._online(s, year)
            base = sa.select(Candidate, Seat).outerjoin(Seat, Seat.application_id == Candidate.application_id).where(
                Candidate.year == year, access.scope_clause(who, city=Candidate.city_code))
            if q.city_code:
                base = base.where(Candidate.city_code == q.city_code)
            if q.grade:
                base = base.where(Candidate.target_grade == q.grade)
            # eligible (R-D1): 终审通过, not withdrawn, and paid or in a city without online payment
            eligible = sa.and_(Candidate.approved, ~Candidate.withdrawn,
                               sa.or_(Candidate.paid, Candidate.city_code.not_in(sorted(online)) if online
                                      else sa.true()))
            if q.status == "seated":
                base = base.where(Seat.application_id.is_not(None))
            elif q.status == "waiting":
                base = base.where(Seat.application_id.is_(None), eligible)
            elif q.status == "not_eligible":
                base = base.where(Seat.application_id.is_(None), ~eligible)
            # paged and counted in the database: a page costs the same at 100,000 candidates
            total = s.scalar(sa.select(sa.func.count()).select_from(base.order_by(None).subquery()))
            page = s.execute(base.order_by(Candidate.city_code, Candidate.target_grade, Candidate.target_trade,
                                           Candidate.id_number, Candidate.application_id)
                             .offset((q.page - 1) * q.page_size).limit(q.page_size))
            rows = []
            for c, seat in page:
                reason = domain.not_eligible_reason(c.approved, c.withdrawn, c.paid, c.city_code, online)
                state = "seated" if seat else ("not_eligible" if reason else "waiting")
                rows.append({"application_id": c.application_id, "name": c.name, "id_number": mask_id(c.id_number),
                             "city_code": c.city_code, "grade": c.target_grade, "trade": c.trade_name,
                             "state": state, "ticket_no": seat.ticket_no if seat else None,
                             "site_code": seat.site_code if seat else None,
                             "room_code": seat.room_code if seat else None, "seat_no": seat.seat_no if seat else None,
                             "reason": reason or (domain.waiting_text(c.waiting) if c.waiting and not seat else None)})
            return {"items": rows, "total": total or 0}

    # --- the applicant's ticket (R-D2) -----------------------------------------------------------
    def _ticket(self, s: Session, c: Candidate) -> tuple[Ticket, dict | None]:
        """The ticket as the page shows it, and the data its PDF is made of (None: not
        printable now, with the reason)."""
        seat = s.get(Seat, c.application_id)
        sittings = self._sittings(s, c.year, c.target_grade)
        printing = bool((self._calendar(s, c.year).get("switches") or {}).get("ticket_printing"))
        now = clock.now()
        ends = [{"end": x.end} for x in sittings]
        code, reason = domain.ticket_state(printing, seat is not None, ends, now)
        if seat is None:
            return Ticket(available=False, reason=reason), None
        site = s.get(Site, (c.year, seat.site_code))
        room = s.get(Room, (c.year, seat.site_code, seat.room_code))
        rows = [{"subject": x.subject, "site": site.name if site else seat.site_code,
                 "room": room.name if room else seat.room_code, "start": x.start, "end": x.end,
                 "time": _time_text(x.start, x.end), "place": x.place or (site.address if site else ""),
                 "seat": seat.seat_no} for x in sittings]
        data = domain.ticket_data(c.year, seat.ticket_no, c.name, c.gender, c.birth_month, c.id_number, c.unit_name,
                                  c.trade_name, c.target_grade, rows)
        ticket = Ticket(available=code is None, reason=reason, fresh_until=domain.ticket_fresh_until(printing, ends, now),
                        ticket_no=seat.ticket_no, name=c.name,
                        gender=data["gender"], age=int(data["age"]), id_number=c.id_number, unit=c.unit_name,
                        trade=c.trade_name, grade=GRADE_NAMES.get(c.target_grade),
                        subjects=[SubjectRow(subject=r["subject"], site=r["site"], room=r["room"], start=r["start"],
                                             end=r["end"], place=r["place"], seat=r["seat"]) for r in
                                  sorted(rows, key=lambda r: r["start"])])
        return ticket, (data if code is None else None)

    def _candidate(self, s: Session, who: Principal) -> Candidate | None:
        return s.scalars(sa.select(Candidate).where(Candidate.year == who.year, Candidate.id_number == who.id_number,
                                                    ~Candidate.withdrawn)).first()

    @rpc
    def my_ticket(self, principal: dict) -> dict:
        who = access.require(principal, "applicant")
        with self.db.read() as s:                      # a read of the rush: no transaction
            c = self._candidate(s, who)
            if c is None:
                return Ticket(available=False, reason="终审通过并安排考场后方可打印准考证").model_dump(mode="json")
            return self._ticket(s, c)[0].model_dump(mode="json")

    def _pdf(self, application_id: str) -> dict:
        """The ticket's PDF (409 while it may not be printed), made again only if what it
        shows changed since it was last made."""
        with self.db.tx() as s:
            c = s.get(Candidate, application_id)
            ticket, data = self._ticket(s, c)
            if data is None:
                raise Conflict(ticket.reason or "准考证暂不能打印",
                               code="exam_over" if ticket.reason == "考试时间已过，不能打印" else "not_open")
            seal = domain.ticket_seal(data["ticket_no"], c.id_number, c.year, settings().internal_secret)
            wanted = self._wanted(s, c, "ticket", TICKET_LAYOUT, data, seal)
        return self._made(wanted)

    def _wanted(self, s: Session, c: Candidate, kind: str, layout: str, data: dict, qr_value: str) -> dict:
        """The cached PDF of ``kind`` if what it shows (data, QR, photo, layout) is unchanged,
        else what it takes to make it (``_made`` makes it outside the transaction)."""
        key = domain.data_hash({**data, "qr": qr_value}, c.photo_sha256, render.layout(layout).name)
        cached = s.get(Rendered, (c.application_id, kind))
        if cached is not None and cached.data_hash == key:
            return {"sha256": cached.sha256, "size": cached.size, "content_type": "application/pdf"}
        return {"make": {"application_id": c.application_id, "kind": kind, "layout": layout, "data": data,
                         "qr": qr_value, "key": key, "photo": c.photo_sha256}}

    def _made(self, wanted: dict) -> dict:
        """Makes a PDF ``_wanted`` asked for — the 2-inch photo from application, drawing off
        the hub — and keeps it; a cached one comes back as it is."""
        todo = wanted.get("make")
        if todo is None:
            return wanted
        photo = self._photo(todo["application_id"]) if todo["photo"] else None
        pdf = offload.run(render.render, todo["layout"], todo["data"], photo, todo["qr"], gate="pdf", size=2)
        with self.db.tx() as s:
            ref = self.db.files.put(s, pdf, "application/pdf", now=clock.now(),
                                    owner=f"{todo['kind']}:{todo['application_id']}")
            s.merge(Rendered(application_id=todo["application_id"], kind=todo["kind"], data_hash=todo["key"],
                             sha256=ref.sha256, size=ref.size, rendered_at=clock.now()))
        return {"sha256": ref.sha256, "size": ref.size, "content_type": "application/pdf"}

    def _photo(self, application_id: str) -> bytes | None:
        """The 2-inch photo as submitted, from application's file endpoint."""
        ticket = self.application.service_file_ticket(access.service_principal(self.name), application_id,
                                                      "personal_photo")
        return kit_files.fetch(ticket) if ticket else None

    @rpc
    def my_ticket_pdf(self, principal: dict) -> dict:
        """Where to fetch the applicant's ticket PDF: 409 not_open while printing is off or
        there is no seat yet; 409 exam_over after the last subject ended."""
        who = access.require(principal, "applicant")
        with self.db.tx() as s:
            c = self._candidate(s, who)
            if c is None:
                raise Conflict("终审通过并安排考场后方可打印准考证", code="not_open")
            application_id = c.application_id
        ref = self._pdf(application_id)
        return self.files.download_ticket(ref, filename=f"准考证_{who.name}.pdf", disposition="attachment")

    @rpc
    def check_ticket(self, principal: dict, code: str) -> dict:
        """What a proctor sees for a ticket's QR code: whether its signature is ours, and whose
        ticket it is (name, masked ID number, room and seat) to compare with the person."""
        access.require(principal, "admin")
        code = str(code or "")[:64]
        number = code.partition(".")[0]
        with self.db.tx() as s:
            seat = s.scalars(sa.select(Seat).where(Seat.ticket_no == number)).first() if number.isdigit() else None
            c = s.get(Candidate, seat.application_id) if seat else None
            if c is None or not domain.check_seal(code, c.id_number, c.year, settings().internal_secret):
                return TicketCheck(valid=False).model_dump()
            site = s.get(Site, (c.year, seat.site_code))
            room = s.get(Room, (c.year, seat.site_code, seat.room_code))
            return TicketCheck(valid=True, ticket_no=seat.ticket_no, name=c.name, id_number=mask_id(c.id_number),
                               year=c.year, grade=GRADE_NAMES.get(c.target_grade), trade=c.trade_name,
                               site=site.name if site else seat.site_code,
                               room=room.name if room else seat.room_code, seat=seat.seat_no,
                               withdrawn=c.withdrawn).model_dump()

    # --- bulk jobs (R-D6) -------------------------------------------------------------------------
    @rpc
    def create_job(self, principal: dict, body: dict) -> dict:
        who = access.require(principal, "admin", roles=PROVINCE)
        spec = parse(NewJob, body)
        with self.db.tx() as s:
            switch = "certificate_printing" if spec.kind == "certificates" else "ticket_printing"
            if not (self._calendar(s, spec.year).get("switches") or {}).get(switch):
                what = "电子证书打印" if spec.kind == "certificates" else "准考证打印"
                raise Conflict(f"请先开通{what}，再批量生成", code="not_open")
            if spec.kind == "certificates":
                ids = self._passing_ids(s, spec.year, spec.city_code)
            else:
                q = sa.select(Seat.application_id).join(Candidate, Candidate.application_id == Seat.application_id) \
                    .where(Seat.year == spec.year, ~Candidate.withdrawn)
                if spec.city_code:
                    q = q.where(Candidate.city_code == spec.city_code)
                ids = list(s.scalars(q.order_by(Seat.ticket_no)))
            job = Job(id=uuid.uuid4().hex, kind=spec.kind, year=spec.year, city_code=spec.city_code,
                      status="queued" if ids else "done", total=len(ids), done=0, created_by=who.username or "",
                      created_at=clock.now(), finished_at=None if ids else clock.now())
            s.add(job)
            s.flush()
            size = settings().document_chunk_size
            for seq, start in enumerate(range(0, len(ids), size)):
                s.add(JobChunk(job_id=job.id, seq=seq, application_ids=ids[start:start + size], status="queued",
                               attempts=0))
            self._audit(s, who, "document_job.create", job.id, None, {"kind": spec.kind, "year": spec.year,
                                                                        "city_code": spec.city_code, "total": len(ids)})
            return self._job_out(job)

    @staticmethod
    def _job_out(job: Job) -> dict:
        return JobOut(job_id=job.id, kind=job.kind, status=job.status, done=job.done, total=job.total, year=job.year,
                      city_code=job.city_code, created_at=job.created_at).model_dump(mode="json")

    @rpc
    def job(self, principal: dict, job_id: str) -> dict:
        access.require(principal, "admin", roles=PROVINCE)
        with self.db.tx() as s:
            job = s.get(Job, str(job_id or ""))
            if job is None:
                raise NotFound("没有找到该批量任务")
            return self._job_out(job)

    def _claim_chunk(self) -> tuple[JobChunk, str] | None:
        now = clock.now()
        stale = timedelta(seconds=settings().document_stale_seconds)
        with self.db.tx() as s:
            chunk = s.scalars(sa.select(JobChunk).where(
                sa.or_(JobChunk.status == "queued",
                       sa.and_(JobChunk.status == "running", JobChunk.claimed_at < now - stale)))
                .order_by(JobChunk.job_id, JobChunk.seq).limit(1).with_for_update(skip_locked=True)).first()
            if chunk is None:
                return None
            chunk.status, chunk.claimed_at, chunk.attempts = "running", now, chunk.attempts + 1
            job = s.get(Job, chunk.job_id, with_for_update=True)
            if job.status == "queued":
                job.status = "running"
            s.expunge(chunk)
            return chunk, job.kind

    def work_one_chunk(self) -> bool:
        """Takes one chunk of a job (any instance may), makes its PDFs, records progress.
        Returns whether there was one."""
        claimed = self._claim_chunk()
        if claimed is None:
            return False
        chunk, kind = claimed
        make = self._certificate_pdf if kind == "certificates" else self._pdf

        def one(application_id: str) -> None:
            try:
                make(application_id)
            except Conflict:
                pass   # printing switched off or the exam over meanwhile: that PDF is left out

        # a few at once: one PDF's drawing (off the hub) overlaps another's photo fetch
        pool = GreenPool(settings().document_job_concurrency)
        for _ in pool.imap(one, chunk.application_ids):
            pass
        with self.db.tx() as s:
            row = s.get(JobChunk, (chunk.job_id, chunk.seq), with_for_update=True)
            if row.status == "done":
                return True
            row.status = "done"
            job = s.get(Job, chunk.job_id, with_for_update=True)
            job.done = min(job.total, job.done + len(chunk.application_ids))
            if s.scalars(sa.select(JobChunk.seq).where(JobChunk.job_id == job.id, JobChunk.status != "done")
                         .limit(1)).first() is None:
                job.status, job.finished_at = "done", clock.now()
        return True

    @timer(interval=1)
    def work_on_jobs(self) -> None:
        for _ in range(4):            # a few chunks per tick, then the hub gets others' turn
            if not self.work_one_chunk():
                return

    @rpc
    def job_archive(self, principal: dict, job_id: str) -> dict:
        access.require(principal, "admin", roles=PROVINCE)
        with self.db.tx() as s:
            job = s.get(Job, str(job_id or ""))
            if job is None:
                raise NotFound("没有找到该批量任务")
            if job.status != "done":
                raise Conflict(f"任务尚未完成（{job.done}/{job.total}）", code="not_done")
            city = regions.city_name(job.city_code or "") or "全省"
            what = "电子证书" if job.kind == "certificates" else "准考证"
        return self.files.generated_ticket("job_zip", {"job_id": job_id}, principal,
                                           filename=f"{what}_{job.year}_{city}.zip", content_type="application/zip")

    @generates("job_zip")
    def make_job_zip(self, principal: dict, args: dict):
        """The job's PDFs as one ZIP, written as it streams (stored, not compressed: PDFs are
        compressed already): no whole ZIP, nor all PDFs, in memory at once."""
        access.require(principal, "admin", roles=PROVINCE)
        with self.db.tx() as s:
            job = s.get(Job, str(args["job_id"]))
            if job is None:
                raise NotFound("没有找到该批量任务")
            ids = [i for chunk in s.scalars(sa.select(JobChunk).where(JobChunk.job_id == job.id)
                                            .order_by(JobChunk.seq)) for i in chunk.application_ids]
            kind = "certificate" if job.kind == "certificates" else "ticket"
            rows = s.execute(sa.select(Rendered.sha256, Rendered.size, Seat.ticket_no, Candidate.name)
                             .join(Seat, Seat.application_id == Rendered.application_id)
                             .join(Candidate, Candidate.application_id == Rendered.application_id)
                             .where(Rendered.kind == kind, Rendered.application_id.in_(ids))
                             .order_by(Seat.ticket_no)).all()
        prefix = "证书_" if kind == "certificate" else ""
        zs = ZipStream(sized=True)
        for sha256, size, ticket_no, name in rows:
            zs.add(self.db.files.stream(self.db.engine, sha256, size), f"{prefix}{ticket_no}_{name}.pdf", size=size)
        return zs, len(zs)

    # --- events from others ------------------------------------------------------------------------
    @handles(SubmittedView)
    def on_submitted(self, s: Session, event: SubmittedView) -> None:
        """What the ticket shows, from the application as submitted (each resubmission too)."""
        form = event.form or {}
        photo = ((form.get("files") or {}).get("personal_photo") or {}).get("sha256")
        c = s.get(Candidate, event.application_id, with_for_update=True)
        fields = dict(year=event.year, id_number=event.id_number, name=event.name, gender=event.gender,
                      birth_month=str(form.get("birth_month") or ""), unit_name=str((form.get("unit") or {})
                                                                                     .get("name") or ""),
                      city_code=event.city_code, target_grade=event.target_grade, target_trade=event.target_trade or "",
                      trade_name=event.target_trade_name or event.target_trade or "", photo_sha256=photo,
                      education=str(form.get("education") or ""), work_start=str(form.get("work_start") or ""),
                      service_years=form.get("service_years") if isinstance(form.get("service_years"), int) else None,
                      round=event.round, updated_at=clock.now())
        if c is None:
            s.add(Candidate(application_id=event.application_id, approved=False, paid=False, withdrawn=False,
                            **fields))
        elif event.round >= c.round and not c.approved:
            for key, value in fields.items():
                setattr(c, key, value)

    @handles(FinallyApprovedView)
    def on_finally_approved(self, s: Session, event: FinallyApprovedView) -> None:
        c = s.get(Candidate, event.application_id, with_for_update=True)
        if c is not None and event.round == c.round:
            c.approved, c.approved_round, c.updated_at = True, event.round, clock.now()

    @handles(FeePaidView)
    def on_fee_paid(self, s: Session, event: FeePaidView) -> None:
        c = s.get(Candidate, event.application_id, with_for_update=True)
        if c is not None:
            c.paid, c.updated_at = True, clock.now()

    @handles(DeletedView)
    def on_deleted(self, s: Session, event: DeletedView) -> None:
        c = s.get(Candidate, event.application_id, with_for_update=True)
        if c is not None:
            c.withdrawn, c.updated_at = True, clock.now()

    @handles(FeesSetView)
    def on_fees_set(self, s: Session, event: FeesSetView) -> None:
        row = s.get(OnlineCities, event.year, with_for_update=True)
        if row is None:
            s.add(OnlineCities(year=event.year, cities=list(event.online_payment_cities), updated_at=event.updated_at))
        elif row.updated_at < event.updated_at:
            row.cities, row.updated_at = list(event.online_payment_cities), event.updated_at

    @handles(YearUpdatedView)
    def on_year_updated(self, s: Session, event: YearUpdatedView) -> None:
        keep_calendar(s, YearCopy, event)

