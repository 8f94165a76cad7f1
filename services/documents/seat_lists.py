"""Documents' seat lists for the proctors (issue 14, R-P4): every exam room of a year with who
sits where — seat, ticket number, name, masked ID number, grade and trade — and the times of
the grades sitting there; as Excel (a sheet per room), as a printable PDF (a page per room,
with the proctors' signature line) and as a ZIP of one such PDF per 考点. Scoped: a city
administrator gets only the rooms of their city's sites. Mixed into ``DocumentsService``
(service.py), whose ``db`` and ``files`` it uses.

The files are made when their ticket is fetched (kit.files ``@generates``), from rows read
500 at a time in room order, one room held at a time: the list is always the current
arrangement (a second 安排考场 run is in the next download), and it needs no photo and no
per-person PDF — what the bulk-job pattern exists for (tickets) — so there is no job to poll.
A PDF is written whole before its first byte goes out (reportlab writes the file at the
end), at about 60 pages a second: one PDF is therefore kept to SEAT_LIST_PDF_MAX_ROOMS rooms
(a city's or a 考点's), and any number of rooms — the whole province — comes as the ZIP,
which streams: each 考点's PDF is made when the ZIP reaches it and sent at once."""
from __future__ import annotations

import itertools
import tempfile
from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy.orm import Session
from zipstream import ZipStream

from kit import access, clock, offload, regions
from kit.access import Principal
from kit.entrypoints import rpc
from kit.errors import Conflict, Forbidden, InvalidInput
from kit.files import generates
from kit.masks import mask_id
from kit.tables import xlsx_book
from kit.validation import check_year, parse

from . import render
from .models import Candidate, Room, Seat, Site, Sitting
from .schemas import GRADE_NAMES, SEAT_LIST_COLUMNS, SEAT_LIST_PDF_MAX_ROOMS, SEAT_WITHDRAWN, SeatListQuery

ROLES = ("province", "city")
TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "pdf": "application/pdf",
         "zip": "application/zip"}
NOBODY = "暂无已安排座位的考生"


def _span(start, end) -> str:
    a, b = start.astimezone(clock.CST), end.astimezone(clock.CST)
    return f"{a.strftime('%m月%d日 %H:%M')}-{b.strftime('%H:%M')}"


class SeatListEntrypoints:
    def _seat_list_caller(self, principal: dict, q: SeatListQuery) -> Principal:
        who = access.require(principal, "admin", roles=ROLES)
        if q.city_code and not who.in_scope(q.city_code):
            raise Forbidden("只能导出本市考点的考场座次表", code="out_of_scope")
        return who

    @rpc
    def seat_lists_export(self, principal: dict, year: int, fmt: str, query: dict | None = None) -> dict:
        """A ticket to the seat lists of the caller's scope (or one city, one 考点) as ``xlsx``,
        ``pdf`` or ``zip`` (a PDF per 考点), made when it is fetched. One PDF of more than
        SEAT_LIST_PDF_MAX_ROOMS rooms is 409 ``too_many_rooms`` (the ZIP has them all)."""
        q = parse(SeatListQuery, query or {})
        who = self._seat_list_caller(principal, q)
        year = check_year(year)
        if fmt not in TYPES:
            raise InvalidInput("文件格式应为 xlsx、pdf 或 zip", field="fmt")
        if fmt == "pdf":
            with self.db.tx() as s:
                rooms = s.scalar(sa.select(sa.func.count()).select_from(
                    self._seated(who, year, q, sa.select(Seat.site_code, Seat.room_code).distinct()).subquery()))
            if rooms > SEAT_LIST_PDF_MAX_ROOMS:
                raise Conflict(f"共{rooms}个考场，请按考点或省辖市分别打印，或下载按考点分开的压缩包",
                               code="too_many_rooms", details={"rooms": rooms, "max": SEAT_LIST_PDF_MAX_ROOMS})
        where = regions.city_name(q.city_code or "") or ("" if q.site_code else "全部")
        name = f"考场座次表_{year}_{q.site_code or where}.{fmt}"
        return self.files.generated_ticket(f"seat_lists_{fmt}", {"year": year, **q.model_dump()}, principal,
                                           filename=name, content_type=TYPES[fmt])

    @staticmethod
    def _seated(who: Principal, year: int, q: SeatListQuery, query):
        """``query`` over seats, limited to the year, the caller's scope and the query's city or 考点."""
        query = query.join(Room, sa.and_(Room.year == Seat.year, Room.site_code == Seat.site_code,
                                         Room.room_code == Seat.room_code)) \
            .where(Seat.year == year, access.scope_clause(who, city=Room.city_code))
        if q.city_code:
            query = query.where(Room.city_code == q.city_code)
        if q.site_code:
            query = query.where(Seat.site_code == q.site_code)
        return query

    def _seat_rooms(self, s: Session, who: Principal, year: int, q: SeatListQuery) -> Iterator[tuple[dict, list[dict]]]:
        """(the room's header, its seats) for every room with somebody seated, in 考点 and 考场
        order; rows read 500 at a time, one room's rows (at most its seats) held at a time."""
        times: dict[int, list[Sitting]] = {}
        for sitting in s.scalars(sa.select(Sitting).where(Sitting.year == year).order_by(Sitting.start)):
            times.setdefault(sitting.grade, []).append(sitting)
        cities = {c.code: c.name for c in regions.cities()}
        query = self._seated(who, year, q, sa.select(
            Seat.site_code, Seat.room_code, Seat.seat_no, Seat.ticket_no, Candidate.name, Candidate.id_number,
            Candidate.target_grade, Candidate.trade_name, Candidate.unit_name, Candidate.withdrawn,
            Room.name.label("room_name"), Room.seats, Room.city_code, Site.name.label("site_name"), Site.address)
            .join(Candidate, Candidate.application_id == Seat.application_id)
            .join(Site, sa.and_(Site.year == Seat.year, Site.site_code == Seat.site_code)))
        rows = s.execute(query.order_by(Seat.site_code, Seat.room_code, Seat.seat_no)   # uq_seat_place's order
                         .execution_options(yield_per=500))
        for _, group in itertools.groupby(rows, key=lambda r: (r.site_code, r.room_code)):
            seats = list(group)
            first = seats[0]
            grades = sorted({r.target_grade for r in seats}, reverse=True)
            head = {"city": cities.get(first.city_code, first.city_code), "site_code": first.site_code,
                    "site": first.site_name, "address": first.address or "", "room_code": first.room_code,
                    "room": first.room_name, "seats": first.seats, "seated": len(seats),
                    "times": [f"{GRADE_NAMES.get(g, g)}：" + ("；".join(
                        f"{x.subject} {_span(x.start, x.end)}" for x in times[g]) if g in times else "考试时间未设置")
                        for g in grades]}
            yield head, [{"seat_no": r.seat_no, "ticket_no": r.ticket_no, "name": r.name,
                          "id_number": mask_id(r.id_number), "grade": GRADE_NAMES.get(r.target_grade, ""),
                          "trade": r.trade_name, "unit": r.unit_name, "note": SEAT_WITHDRAWN if r.withdrawn else ""}
                         for r in seats]

    @staticmethod
    def _head_lines(head: dict) -> list[str]:
        return [f"考点：{head['site']}（{head['site_code']}）　地址：{head['address'] or '—'}　省辖市：{head['city']}",
                f"考场：{head['room']}（{head['room_code']}）　座位数：{head['seats']}　安排人数：{head['seated']}",
                *(f"考试时间　{t}" for t in head["times"])]

    @generates("seat_lists_xlsx")
    def make_seat_lists_xlsx(self, principal: dict, args: dict):
        """A sheet per room: the header lines, then a row per seat (kit.tables.xlsx_book)."""
        year = check_year(args.get("year"))
        q = parse(SeatListQuery, {k: args.get(k) for k in SeatListQuery.model_fields})
        who = self._seat_list_caller(principal, q)
        title = render.seat_layout().title.format(year=year)

        def sheets(s: Session):
            empty = True
            for head, rows in self._seat_rooms(s, who, year, q):
                empty = False
                yield (f"{head['site_code']}-{head['room_code']}",
                       [[title], *([line] for line in self._head_lines(head)), [], SEAT_LIST_COLUMNS],
                       ([r["seat_no"], r["ticket_no"], r["name"], r["id_number"], r["grade"], r["trade"], r["unit"],
                         r["note"]] for r in rows))
            if empty:
                yield "考场座次表", [[title], [NOBODY]], []

        with self.db.tx() as s:
            return xlsx_book(sheets(s))

    def _seat_list_pdf(self, who: Principal, year: int, q: SeatListQuery) -> tuple[object, int]:
        """The rooms' pages, drawn off the hub room by room into a temporary file that spills
        to disk."""
        out = tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024)
        pdf = render.SeatLists(out, year)
        with self.db.tx() as s:
            for head, rows in self._seat_rooms(s, who, year, q):
                offload.run(pdf.room, self._head_lines(head), rows, gate="pdf", size=2)
        if not pdf.pages:
            pdf.note(NOBODY)
        offload.run(pdf.finish, gate="pdf", size=2)
        size = out.tell()
        out.seek(0)
        return out, size

    @generates("seat_lists_pdf")
    def make_seat_lists_pdf(self, principal: dict, args: dict):
        year = check_year(args.get("year"))
        q = parse(SeatListQuery, {k: args.get(k) for k in SeatListQuery.model_fields})
        return self._seat_list_pdf(self._seat_list_caller(principal, q), year, q)

    @generates("seat_lists_zip")
    def make_seat_lists_zip(self, principal: dict, args: dict):
        """A PDF per 考点 in one ZIP that streams (its length unknown in advance): a 考点's PDF is
        made when the ZIP reaches it, so the first bytes go out after the first 考点 and only
        one 考点's file is held at a time."""
        year = check_year(args.get("year"))
        q = parse(SeatListQuery, {k: args.get(k) for k in SeatListQuery.model_fields})
        who = self._seat_list_caller(principal, q)
        with self.db.tx() as s:
            sites = s.execute(self._seated(who, year, q, sa.select(Seat.site_code, Site.name).distinct()
                                           .join(Site, sa.and_(Site.year == Seat.year,
                                                               Site.site_code == Seat.site_code)))
                              .order_by(Seat.site_code)).all()

        def site_pdf(site_code: str):
            body, _ = self._seat_list_pdf(who, year, q.model_copy(update={"site_code": site_code}))
            try:
                while block := body.read(256 * 1024):
                    yield block
            finally:
                body.close()

        zs = ZipStream(sized=False)
        for site_code, name in sites:
            zs.add(site_pdf(site_code), f"考场座次表_{year}_{site_code}_{name}.pdf")
        if not sites:
            zs.add(NOBODY.encode(), "说明.txt")
        return zs, None
