"""The documents service on a worker over its own PostgreSQL database, no broker (R-D1, R-D2,
R-D6): who may sit the exam (from events), seat assignment across rooms that re-runs without
moving anyone, unique 12-digit ticket numbers, the arrangement's guards and its Excel import,
the ticket and its PDF (printing switch, exam over, cache hit and regeneration), the proctor's
QR check, and bulk jobs taken in chunks and taken again after a crash."""
from __future__ import annotations

import io
import re
import subprocess
import zipfile
from datetime import datetime, timedelta
from unittest import mock

import pytest
import sqlalchemy as sa
from builders import (
    NOW,
    PROVINCE,
    YEAR,
    Person,
    admin,
    calendar,
    clear_outbox,
    count,
    envelope,
    outbox,
    viewers,
)
from helpers import jpeg_bytes, xlsx_bytes
from nameko.testing.services import worker_factory

from deploy.seed import with_check_digit
from kit import access
from kit.access import Principal
from kit.clock import CST
from kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from services.application.schemas import Submitted
from services.documents import render
from services.documents.schemas import TICKET_NOTICE
from services.documents.service import DocumentsService

SERVICE = "documents"
ZHENGZHOU, LUOYANG, PROVINCIAL = "410100", "410300", "410000"
CITY = admin("city", ZHENGZHOU, "zz_city", id=13, scope_city=ZHENGZHOU)
LUOYANG_CITY = admin("city", LUOYANG, "ly_city", id=14, scope_city=LUOYANG)
SUPERVISOR = admin("supervisor", "S410100-01", "zz_wsjw", id=11, scope_city=ZHENGZHOU)
EXAM_DAY = datetime(2026, 6, 13, tzinfo=CST)


def at(hour: int, minute: int = 0, day: int = 0) -> str:
    return (EXAM_DAY + timedelta(days=day, hours=hour, minutes=minute)).isoformat()


TIMETABLE = {g: [{"subject": "职业道德", "start": at(8), "end": at(9), "place": ""},
                 {"subject": "职业能力", "start": at(9, 30), "end": at(11), "place": ""},
                 {"subject": "岗位技能", "start": at(14), "end": at(16), "place": "实训楼"}] for g in ("5", "4")}


def sites(*rooms_per_site: tuple[str, str, list[int]]) -> list[dict]:
    """(site_code, city_code, [seats per room]) → the PUT body."""
    return [{"site_code": code, "name": f"考点{code}", "address": f"{code}路1号", "city_code": city,
             "rooms": [{"room_code": f"R{i + 1}", "name": f"第{i + 1}考场", "seats": n} for i, n in enumerate(seats)]}
            for code, city, seats in rooms_per_site]


def printing(on: bool, updated_at: datetime) -> dict:
    cal = calendar(updated_at)
    cal["switches"]["ticket_printing"] = on
    return envelope("identity.year_updated.v1", cal)


class World:
    """The documents worker and what it has learnt from the other services' events."""

    def __init__(self, svc, db, clock):
        self.svc, self.db, self.clock = svc, db, clock
        self.seq = 0

    def candidate(self, city: str = ZHENGZHOU, grade: int = 4, trade: str = "T0101", approved: bool = True,
                  paid: bool = True, name: str | None = None) -> str:
        self.seq += 1
        app_id = f"{self.seq:032x}"
        person = Person(city_code=city if city != PROVINCIAL else ZHENGZHOU, grade=grade)
        # the sequence code follows this world's order, so seating by ID number seats in creation order
        id_number = with_check_digit(f"{person.id_number[:14]}{self.seq:03d}")
        example = Submitted.EXAMPLE
        form = {**example["form"], "application_id": app_id, "city_code": city, "target_grade": grade,
                "birth_month": "1985-03", "target_trade": trade,
                "unit": {**example["form"]["unit"], "name": "郑州市第一人民医院"}}
        data = {**example, "application_id": app_id, "id_number": id_number, "name": name or f"考生{self.seq}",
                "city_code": city, "target_grade": grade, "target_trade": trade, "target_trade_name": f"工种{trade}",
                "form": form}
        assert self.svc.on_submitted(envelope("application.submitted.v1", data)) == "applied"
        if approved:
            self.approve(app_id)
        if paid:
            self.pay(app_id)
        return app_id

    def approve(self, app_id: str, round_: int = 1) -> None:
        self.svc.on_finally_approved(envelope("review.finally_approved.v1", {
            "application_id": app_id, "round": round_, "at": NOW.isoformat(), "version": 4, "name": "终审通过",
            "year": YEAR, "id_number": "x", "level": "province", "reason": None}))

    def pay(self, app_id: str) -> None:
        self.svc.on_fee_paid(envelope("payment.fee_paid.v1", {"application_id": app_id,
                                                              "paid_at": NOW.isoformat()}))

    def seat_of(self, app_id: str) -> dict | None:
        with self.db.engine.connect() as conn:
            row = conn.execute(sa.text("SELECT ticket_no, site_code, room_code, seat_no FROM seats "
                                       "WHERE application_id = :a"), {"a": app_id}).mappings().first()
        return dict(row) if row else None

    def seats(self) -> dict[str, dict]:
        with self.db.engine.connect() as conn:
            return {r["application_id"]: dict(r) for r in conn.execute(sa.text(
                "SELECT application_id, ticket_no, site_code, room_code, seat_no FROM seats")).mappings()}


@pytest.fixture
def world(db, clock):
    svc = worker_factory(DocumentsService, db=db)
    svc.application.service_file_ticket.return_value = None     # no photo unless a test gives one
    w = World(svc, db, clock)
    svc.on_fees_set(envelope("payment.fees_set.v1", {"year": YEAR, "online_payment_cities": [PROVINCIAL, ZHENGZHOU],
                                                     "fees_fen": {"4": 15000}, "updated_at": NOW.isoformat()}))
    svc.on_year_updated(printing(False, NOW))
    svc.put_timetable(PROVINCE, YEAR, TIMETABLE)
    return w


# --- the arrangement (R-D1) ---------------------------------------------------------------------
def test_seats_fill_rooms_in_order_across_sites_grouped_by_grade_and_trade(world):
    world.svc.put_exam_sites(PROVINCE, YEAR, {"sites": sites(("ZZ01", ZHENGZHOU, [2, 2]), ("ZZ02", ZHENGZHOU, [3]))})
    ids = [world.candidate(trade="T0202"), world.candidate(trade="T0101"), world.candidate(trade="T0202"),
           world.candidate(grade=5, trade="T0101"), world.candidate(trade="T0101"), world.candidate(trade="T0202")]
    result = world.svc.assign_seats(PROVINCE, YEAR)
    assert result == {"assigned": 6, "already": 0, "waiting": 0}
    seats = world.seats()
    order = sorted(seats.values(), key=lambda s: (s["site_code"], s["room_code"], s["seat_no"]))
    places = [(s["site_code"], s["room_code"], s["seat_no"]) for s in order]
    assert places == [("ZZ01", "R1", 1), ("ZZ01", "R1", 2), ("ZZ01", "R2", 1), ("ZZ01", "R2", 2),
                      ("ZZ02", "R1", 1), ("ZZ02", "R1", 2)]
    # grade 4 before grade 5 (5 sorts after 4), and within grade 4 a trade sits together
    by_place = {(s["site_code"], s["room_code"], s["seat_no"]): a for a, s in seats.items()}
    sequence = [by_place[p] for p in places]
    trades = ["T0101" if a in (ids[1], ids[4]) else "T0202" if a in (ids[0], ids[2], ids[5]) else "G5"
              for a in sequence]
    assert trades == ["T0101", "T0101", "T0202", "T0202", "T0202", "G5"]
    tickets = [s["ticket_no"] for s in seats.values()]
    assert all(len(t) == 12 and t.isdigit() and t.startswith("26") for t in tickets)
    assert len(set(tickets)) == len(tickets)
    issued = outbox(world.db, "documents.ticket_issued.v1")
    assert sorted(e["data"]["ticket_no"] for e in issued) == sorted(tickets)


def test_a_rerun_moves_nobody_and_seats_only_the_newcomers(world):
    world.svc.put_exam_sites(PROVINCE, YEAR, {"sites": sites(("ZZ01", ZHENGZHOU, [3, 3]))})
    first = [world.candidate(trade="T0303") for _ in range(3)]
    world.svc.assign_seats(PROVINCE, YEAR)
    before = world.seats()
    # newcomers who sort before everyone already seated
    later = [world.candidate(trade="T0101") for _ in range(2)]
    assert world.svc.assign_seats(PROVINCE, YEAR) == {"assigned": 2, "already": 3, "waiting": 0}
    after = world.seats()
    assert {a: after[a] for a in first} == before
    assert {(after[a]["room_code"], after[a]["seat_no"]) for a in later} == {("R2", 1), ("R2", 2)}
    assert world.svc.assign_seats(PROVINCE, YEAR) == {"assigned": 0, "already": 5, "waiting": 0}
    assert world.seats() == after
    assert len(outbox(world.db, "documents.ticket_issued.v1")) == 5


def test_ticket_numbers_are_unique_across_cities_grades_and_rooms(world):
    world.svc.put_exam_sites(PROVINCE, YEAR, {"sites": sites(("ZZ01", ZHENGZHOU, [2, 2]), ("LY01", LUOYANG, [2, 2]),
                                                              ("SZ01", PROVINCIAL, [2]))})
    for city in (ZHENGZHOU, LUOYANG, PROVINCIAL):
        for grade in (5, 4):
            world.candidate(city=city, grade=grade)
            world.candidate(city=city, grade=grade)
    result = world.svc.assign_seats(PROVINCE, YEAR)
    assert result["assigned"] == 10 and result["waiting"] == 2          # 省直 has 2 seats for 4 people
    tickets = [s["ticket_no"] for s in world.seats().values()]
    assert len(tickets) == len(set(tickets)) == 10
    assert {t[2:4] for t in tickets} == {"01", "03", "00"}             # the city's digits
    # a room's number is fixed when it is first set: the same room after a new list keeps it
    numbers = {(s["site_code"], r["room_code"]): r["number"] for s in world.svc.get_exam_sites(PROVINCE, YEAR)
               for r in s["rooms"]}
    world.svc.put_exam_sites(PROVINCE, YEAR, {"sites": sites(("ZZ00", ZHENGZHOU, [5]), ("ZZ01", ZHENGZHOU, [2, 2]),
                                                              ("LY01", LUOYANG, [2, 2]), ("SZ01", PROVINCIAL, [2, 3]))})
    again = {(s["site_code"], r["room_code"]): r["number"] for s in world.svc.get_exam_sites(PROVINCE, YEAR)
             for r in s["rooms"]}
    assert all(again[k] == v for k, v in numbers.items())
    assert again[("ZZ00", "R1")] == 3 and again[("SZ01", "R2")] == 2
    world.svc.assign_seats(PROVINCE, YEAR)
    tickets = [s["ticket_no"] for s in world.seats().values()]
    assert len(tickets) == len(set(tickets)) == 12


def test_not_eligible_gets_no_seat_and_the_list_says_why(world):
    world.svc.put_exam_sites(PROVINCE, YEAR, {"sites": sites(("ZZ01", ZHENGZHOU, [10]), ("LY01", LUOYANG, [1]))})
    unpaid_online = world.candidate(city=ZHENGZHOU, paid=False)
    offline_city = world.candidate(city=LUOYANG, paid=False)        # 洛阳 does not pay online: 终审通过 is enough
    not_approved = world.candidate(city=ZHENGZHOU, approved=False)
    withdrawn = world.candidate(city=ZHENGZHOU)
    world.svc.on_deleted(envelope("application.deleted.v1", {"application_id": withdrawn, "year": YEAR,
                                                             "id_number": "x"}))
    no_timetable = world.candidate(city=ZHENGZHOU, grade=3)
    no_room = world.candidate(city=LUOYANG, paid=False)
    no_site = world.candidate(city="410200", paid=False)
    result = world.svc.assign_seats(PROVINCE, YEAR)
    assert result == {"assigned": 1, "already": 0, "waiting": 3}
    assert set(world.seats()) == {offline_city}
    listed = {r["application_id"]: r for r in world.svc.seats(PROVINCE, YEAR, {"status": "all"})["items"]}
    assert listed[unpaid_online]["state"] == "not_eligible" and listed[unpaid_online]["reason"] == "尚未缴费"
    assert listed[not_approved]["reason"] == "尚未终审通过"
    assert listed[withdrawn]["reason"] == "报名信息已删除"
    assert listed[no_timetable]["state"] == "waiting"
    assert listed[no_timetable]["reason"] == "该等级尚未安排考试时间"
    assert listed[no_room]["reason"] == "本市考场座位已满，请增加考场"
    assert listed[no_site]["reason"] == "本市尚未设置考点"
    assert listed[offline_city]["state"] == "seated" and listed[offline_city]["ticket_no"]
    assert "*" in listed[offline_city]["id_number"]                 # masked in lists
    # paying later makes the unpaid one eligible on the next run
    world.pay(unpaid_online)
    assert world.svc.assign_seats(PROVINCE, YEAR)["assigned"] == 1 and world.seat_of(unpaid_online)
    # a city administrator sees their own city only
    mine = world.svc.seats(CITY, YEAR, {"status": "all"})["items"]
    assert mine and {r["city_code"] for r in mine} == {ZHENGZHOU}
    with pytest.raises(Forbidden) as e:
        world.svc.seats(SUPERVISOR, YEAR, {})
    assert e.value.code == "role_not_allowed"


def test_only_the_province_arranges_and_a_seated_room_cannot_shrink_or_go(world):
    body = {"sites": sites(("ZZ01", ZHENGZHOU, [2, 2]))}
    for who in (CITY, SUPERVISOR):
        with pytest.raises(Forbidden) as e:
            world.svc.put_exam_sites(who, YEAR, body)
        assert e.value.code == "role_not_allowed"
        with pytest.raises(Forbidden):
            world.svc.assign_seats(who, YEAR)
        with pytest.raises(Forbidden):
            world.svc.put_timetable(who, YEAR, TIMETABLE)
    world.svc.put_exam_sites(PROVINCE, YEAR, body)
    for _ in range(3):
        world.candidate()
    world.svc.assign_seats(PROVINCE, YEAR)
    before = world.svc.get_exam_sites(PROVINCE, YEAR)
    with pytest.raises(Conflict) as e:
        world.svc.put_exam_sites(PROVINCE, YEAR, {"sites": sites(("ZZ01", ZHENGZHOU, [2]))})
    assert e.value.code == "room_in_use" and "不能删除" in e.value.message
    with pytest.raises(Conflict) as e:
        world.svc.put_exam_sites(PROVINCE, YEAR, {"sites": sites(("ZZ01", ZHENGZHOU, [1, 2]))})
    assert e.value.code == "room_in_use" and "座位数不能少于2" in e.value.message
    with pytest.raises(Conflict):
        world.svc.put_exam_sites(PROVINCE, YEAR, {"sites": sites(("ZZ01", LUOYANG, [2, 2]))})
    with pytest.raises(InvalidInput) as e:
        world.svc.put_exam_sites(PROVINCE, YEAR, {"sites": sites(("ZZ01", "999999", [2, 2]))})
    assert e.value.field == "city_code"
    with pytest.raises(InvalidInput):
        world.svc.put_exam_sites(PROVINCE, YEAR, {"sites": sites(("ZZ01", ZHENGZHOU, [2, 0]))})
    with pytest.raises(InvalidInput):
        world.svc.put_timetable(PROVINCE, YEAR, {"4": TIMETABLE["4"][:2]})       # a subject missing
    with pytest.raises(InvalidInput):
        world.svc.put_timetable(PROVINCE, YEAR, {"4": [{**TIMETABLE["4"][0], "end": at(7)}, *TIMETABLE["4"][1:]]})
    assert world.svc.get_exam_sites(PROVINCE, YEAR) == before                    # nothing changed
    # growing a room and adding one is fine
    world.svc.put_exam_sites(PROVINCE, YEAR, {"sites": sites(("ZZ01", ZHENGZHOU, [4, 2, 2]))})
    actions = [e["data"]["action"] for e in outbox(world.db, "documents.action_audited.v1")]
    assert actions.count("exam_sites.set") == 2 and "seats.assign" in actions and "timetable.set" in actions


def test_the_arrangement_imports_from_excel_and_a_bad_row_changes_nothing(world):
    header = ["考点代码", "考点名称", "考点地址", "省辖市代码", "考场代码", "考场名称", "座位数"]
    good = xlsx_bytes([header, ["ZZ01", "郑州市第一考点", "金水路1号", "410100", "R1", "第一考场", 30],
                 ["ZZ01", "郑州市第一考点", "金水路1号", "410100", "R2", "第二考场", 30],
                 [None, None, None, None, None, None, None],
                 ["LY01", "洛阳市考点", "中州路2号", "410300", "R1", "第一考场", 40]])
    out = world.svc.import_exam_sites(PROVINCE, {"year": YEAR}, good)
    assert [(s["site_code"], len(s["rooms"])) for s in out] == [("LY01", 1), ("ZZ01", 2)]
    assert out[1]["rooms"][0] | {"seated": 0} == {"room_code": "R1", "name": "第一考场", "seats": 30, "number": 1,
                                                  "seated": 0}
    bad = xlsx_bytes([header, ["ZZ09", "新考点", "", "410100", "R1", "第一考场", 30],
                ["ZZ09", "新考点", "", "410300", "R2", "第二考场", 30],
                ["ZZ09", "新考点", "", "410100", "R3", "第三考场", "三十"]])
    with pytest.raises(InvalidInput) as e:
        world.svc.import_exam_sites(PROVINCE, {"year": YEAR}, bad)
    assert [r["line"] for r in e.value.details["refused"]] == [3, 4]
    assert "与第2行不一致" in e.value.details["refused"][0]["reason"]
    assert world.svc.get_exam_sites(PROVINCE, YEAR) == out
    with pytest.raises(InvalidInput) as e:
        world.svc.import_exam_sites(PROVINCE, {"year": YEAR}, xlsx_bytes([["考点代码", "名称"], ["A", "B"]]))
    assert "缺少列" in e.value.message
    with pytest.raises(InvalidInput):
        world.svc.import_exam_sites(PROVINCE, {"year": YEAR}, b"PK\x03\x04 not a workbook")
    # the timetable, as a CSV typed in Beijing time
    csv = ("等级,科目,开始时间,结束时间,地点\n五级,职业道德,2026-06-20 08:00,2026-06-20 09:00,\n"
           "五级,职业能力,2026-06-20 09:30,2026-06-20 11:00,\n5,岗位技能,2026/06/20 14:00,2026/06/20 16:00,实训楼\n")
    table = world.svc.import_timetable(PROVINCE, {"year": YEAR}, csv.encode("gbk"))
    assert [r["subject"] for r in table["5"]] == ["职业道德", "职业能力", "岗位技能"]
    assert table["5"][0]["start"].startswith("2026-06-20T00:00:00")                # stored as UTC
    assert table["4"] == world.svc.get_timetable(PROVINCE, YEAR)["4"]              # grade 4 kept
    with pytest.raises(Forbidden):
        world.svc.import_timetable(CITY, {"year": YEAR}, csv.encode())


# --- the ticket (R-D2) -----------------------------------------------------------------------------
@pytest.fixture
def seated(world):
    world.svc.put_exam_sites(PROVINCE, YEAR, {"sites": sites(("ZZ01", ZHENGZHOU, [30]))})
    app_id = world.candidate(name="李秀英")
    world.svc.assign_seats(PROVINCE, YEAR)
    with world.db.engine.connect() as conn:
        id_number = conn.scalar(sa.text("SELECT id_number FROM candidates WHERE application_id = :a"), {"a": app_id})
    person = mock.Mock(id_number=id_number)
    person.principal = access.seal(Principal(kind="applicant", id=1, name="李秀英", year=YEAR, id_number=id_number,
                                             city_code=ZHENGZHOU))
    return app_id, person


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "t.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def stored_pdf(world, app_id: str) -> tuple[str, bytes]:
    with world.db.engine.connect() as conn:
        sha, size = conn.execute(sa.text("SELECT sha256, size FROM rendered WHERE application_id = :a"),
                                 {"a": app_id}).first()
    return sha, b"".join(world.db.files.stream(world.db.engine, sha, size))


def test_the_ticket_prints_only_while_the_switch_is_on_and_until_the_exam_ends(world, seated, tmp_path):
    app_id, person = seated
    ticket = world.svc.my_ticket(person.principal)
    assert ticket["available"] is False and ticket["reason"] == "管理员开通准考证打印后方可打印"
    assert ticket["ticket_no"] and ticket["name"] == "李秀英"        # the page may show the seat already
    with pytest.raises(Conflict) as e:
        world.svc.my_ticket_pdf(person.principal)
    assert e.value.code == "not_open"
    world.svc.on_year_updated(printing(True, NOW + timedelta(seconds=1)))
    ticket = world.svc.my_ticket(person.principal)
    assert ticket["available"] is True and ticket["reason"] is None
    assert [r["subject"] for r in ticket["subjects"]] == ["职业道德", "职业能力", "岗位技能"]
    assert ticket["grade"] == "四级" and ticket["gender"] == "男" and ticket["age"] == 2026 - 1985
    world.svc.my_ticket_pdf(person.principal)
    _, pdf = stored_pdf(world, app_id)
    text = pdf_text(pdf, tmp_path)
    for field in (ticket["ticket_no"], "李秀英", person.id_number, "郑州市第一人民医院", "工种T0101", "四级", "职业道德",
                  "职业能力", "岗位技能", "考点ZZ01", "第1考场", "实训楼", "应考人员须知"):
        assert field in text.replace(" ", ""), field
    assert TICKET_NOTICE[1][:20] in text.replace(" ", "").replace("\n", "")
    # the last subject ends at 16:00 on the exam day: one minute later the ticket is refused
    world.clock.set(EXAM_DAY + timedelta(hours=16))
    assert world.svc.my_ticket(person.principal)["available"] is True
    world.clock.set(EXAM_DAY + timedelta(hours=16, minutes=1))
    ticket = world.svc.my_ticket(person.principal)
    assert ticket["available"] is False and ticket["reason"] == "考试时间已过，不能打印"
    with pytest.raises(Conflict) as e:
        world.svc.my_ticket_pdf(person.principal)
    assert e.value.code == "exam_over" and e.value.message == "考试时间已过，不能打印"


def test_a_pdf_is_made_once_and_again_only_when_what_it_shows_changes(world, seated, monkeypatch):
    app_id, person = seated
    world.svc.on_year_updated(printing(True, NOW + timedelta(seconds=1)))
    made = []
    real = render.render
    monkeypatch.setattr(render, "render", lambda *a: made.append(1) or real(*a))
    world.svc.my_ticket_pdf(person.principal)
    first, _ = stored_pdf(world, app_id)
    world.svc.my_ticket_pdf(person.principal)
    world.svc.my_ticket_pdf(person.principal)
    assert len(made) == 1 and stored_pdf(world, app_id)[0] == first           # cache hit
    # an unrelated change (another grade's timetable) changes nothing on this ticket
    world.svc.put_timetable(PROVINCE, YEAR, {"5": [{**r, "place": "综合楼"} for r in TIMETABLE["5"]]})
    world.svc.my_ticket_pdf(person.principal)
    assert len(made) == 1
    # the place of a subject changes: made again, and the new text is in it
    world.svc.put_timetable(PROVINCE, YEAR, {"4": [{**r, "place": "综合楼"} for r in TIMETABLE["4"]]})
    world.svc.my_ticket_pdf(person.principal)
    second, pdf = stored_pdf(world, app_id)
    assert len(made) == 2 and second != first
    # the site's name corrected: made again
    world.svc.put_exam_sites(PROVINCE, YEAR, {"sites": [{**sites(("ZZ01", ZHENGZHOU, [30]))[0],
                                                         "name": "郑州市第二中学考点"}]})
    world.svc.my_ticket_pdf(person.principal)
    assert len(made) == 3 and stored_pdf(world, app_id)[0] not in (first, second)


def test_the_photo_comes_from_application_through_a_file_ticket(world, seated, monkeypatch, tmp_path):
    app_id, person = seated
    world.svc.on_year_updated(printing(True, NOW + timedelta(seconds=1)))
    photo = jpeg_bytes(413, 579, color=(30, 60, 200))
    world.svc.application.service_file_ticket.return_value = {"url": "http://127.0.0.1:1/files/x"}
    fetched = []
    monkeypatch.setattr("kit.files.fetch", lambda ticket: fetched.append(ticket) or photo)
    world.svc.my_ticket_pdf(person.principal)
    principal, asked_for, kind = world.svc.application.service_file_ticket.call_args.args
    assert asked_for == app_id and kind == "personal_photo" and fetched == [{"url": "http://127.0.0.1:1/files/x"}]
    _, pdf = stored_pdf(world, app_id)
    path = tmp_path / "p.pdf"
    path.write_bytes(pdf)
    images = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True).stdout
    assert len(images.strip().splitlines()) == 3                 # header, rule, the one photo


def test_a_proctor_checks_the_qr_code(world, seated):
    app_id, person = seated
    ticket_no = world.seat_of(app_id)["ticket_no"]
    from kit.config import settings
    from services.documents import domain

    code = domain.ticket_seal(ticket_no, person.id_number, YEAR, settings().internal_secret)
    check = world.svc.check_ticket(CITY, code)
    assert check["valid"] is True and check["name"] == "李秀英" and check["ticket_no"] == ticket_no
    assert check["id_number"] != person.id_number and check["seat"] == 1
    forged = ticket_no + "." + "0" * 16
    assert world.svc.check_ticket(CITY, forged) == {**world.svc.check_ticket(CITY, "nonsense"), "valid": False}
    assert world.svc.check_ticket(CITY, forged)["name"] is None
    with pytest.raises(Forbidden):
        world.svc.check_ticket(person.principal, code)


# --- the proctors' seat lists (issue 14) ---------------------------------------------------------------
@pytest.fixture
def arranged(world):
    """郑州: ZZ01 with two rooms of two seats (grades 4 and 5 sit there); 洛阳: LY01, one room."""
    world.svc.put_exam_sites(PROVINCE, YEAR, {"sites": sites(("ZZ01", ZHENGZHOU, [2, 2]), ("LY01", LUOYANG, [3]))})
    zz = [world.candidate(name=n) for n in ("郑一", "郑二", "郑三")] + [world.candidate(grade=5, name="郑五")]
    ly = [world.candidate(city=LUOYANG, paid=False, name=n) for n in ("洛一", "洛二")]
    world.svc.assign_seats(PROVINCE, YEAR)
    world.svc.on_deleted(envelope("application.deleted.v1", {"application_id": zz[2], "year": YEAR,
                                                             "id_number": "x", "was_submitted": True}))
    return zz, ly


def workbook(body) -> dict[str, list[tuple]]:
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(body.read()), read_only=True)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book.worksheets}


def test_seat_lists_are_a_sheet_per_room_with_the_rooms_times_and_only_the_callers_city(world, arranged,
                                                                                        monkeypatch):
    """Issue 14 (R-P4): 考场座次表 as Excel, a sheet per room: 考点, 考场, the grades' times, then
    座号, 准考证号, 姓名, masked 身份证号, 等级, 工种, 单位, 备注 (a withdrawn applicant's seat says so);
    a city administrator gets only its own city's rooms and cannot ask for another city."""
    zz, ly = arranged
    seats = world.seats()
    sheets = workbook(world.svc.make_seat_lists_xlsx(PROVINCE, {"year": YEAR})[0])
    assert list(sheets) == ["LY01-R1", "ZZ01-R1", "ZZ01-R2"]
    room = sheets["ZZ01-R2"]
    assert room[0] == ("2026年度河南省机关事业单位工勤技能岗位等级考核考场座次表",)
    assert room[1][0] == "考点：考点ZZ01（ZZ01）　地址：ZZ01路1号　省辖市：郑州市"
    assert room[2][0] == "考场：第2考场（R2）　座位数：2　安排人数：2"
    assert [r[0] for r in room[3:5]] == ["考试时间　五级：职业道德 06月13日 08:00-09:00；职业能力 06月13日 09:30-11:00；"
                                         "岗位技能 06月13日 14:00-16:00", "考试时间　四级：职业道德 06月13日 08:00-09:00；"
                                         "职业能力 06月13日 09:30-11:00；岗位技能 06月13日 14:00-16:00"]
    header = room.index(("座号", "准考证号", "姓名", "身份证号", "申报等级", "申报工种", "工作单位", "备注"))
    body = room[header + 1:]
    assert [(r[0], r[1], r[2], r[4], r[7]) for r in body] == [
        (1, seats[zz[2]]["ticket_no"], "郑三", "四级", "报名已撤销"), (2, seats[zz[3]]["ticket_no"], "郑五", "五级", None)]
    assert all(re.fullmatch(r"\d{6}\*{8}\d{3}[\dX]", r[3]) for r in body) and body[0][5:7] == ("工种T0101",
                                                                                                 "郑州市第一人民医院")
    city = workbook(world.svc.make_seat_lists_xlsx(CITY, {"year": YEAR})[0])
    assert list(city) == ["ZZ01-R1", "ZZ01-R2"]
    assert "洛一" not in str(city) and "郑一" in str(city)
    assert list(workbook(world.svc.make_seat_lists_xlsx(LUOYANG_CITY, {"year": YEAR})[0])) == ["LY01-R1"]
    one_site = workbook(world.svc.make_seat_lists_xlsx(PROVINCE, {"year": YEAR, "site_code": "LY01"})[0])
    assert [r[2] for r in one_site["LY01-R1"][-2:]] == ["洛一", "洛二"]
    assert workbook(world.svc.make_seat_lists_xlsx(CITY, {"year": YEAR, "site_code": "LY01"})[0]) == {
        "考场座次表": [("2026年度河南省机关事业单位工勤技能岗位等级考核考场座次表",), ("暂无已安排座位的考生",)]}
    for call in (world.svc.make_seat_lists_xlsx, world.svc.make_seat_lists_pdf):
        with pytest.raises(Forbidden) as e:
            call(CITY, {"year": YEAR, "city_code": LUOYANG})
        assert e.value.code == "out_of_scope"
        with pytest.raises(Forbidden) as e:
            call(SUPERVISOR, {"year": YEAR})
        assert e.value.code == "role_not_allowed"
    with pytest.raises(Forbidden) as e:
        world.svc.seat_lists_export(CITY, YEAR, "pdf", {"city_code": LUOYANG})
    assert e.value.code == "out_of_scope"
    world.svc.seat_lists_export(CITY, YEAR, "pdf", {"site_code": "ZZ01"})
    action, args, who = world.svc.files.generated_ticket.call_args.args
    assert (action, args, who) == ("seat_lists_pdf", {"year": YEAR, "city_code": None, "site_code": "ZZ01"}, CITY)
    assert world.svc.files.generated_ticket.call_args.kwargs["filename"] == "考场座次表_2026_ZZ01.pdf"
    from services.documents import seat_lists

    monkeypatch.setattr(seat_lists, "SEAT_LIST_PDF_MAX_ROOMS", 1)          # one PDF of many rooms: the ZIP
    with pytest.raises(Conflict) as e:
        world.svc.seat_lists_export(CITY, YEAR, "pdf", {})
    assert (e.value.code, e.value.details) == ("too_many_rooms", {"rooms": 2, "max": 1})
    world.svc.seat_lists_export(LUOYANG_CITY, YEAR, "pdf", {})                     # one room: one PDF
    world.svc.seat_lists_export(CITY, YEAR, "zip", {})
    assert world.svc.files.generated_ticket.call_args.args[0] == "seat_lists_zip"


def test_seat_lists_print_a_page_per_room_with_the_signature_line(world, arranged, tmp_path, monkeypatch):
    """Issue 14: the PDF has a page per room (a long room goes on, marked 续) with its header,
    the seats and the proctors' signature line, in the embedded Chinese font; a city
    administrator's file has none of another city's people."""
    zz, ly = arranged
    body, size = world.svc.make_seat_lists_pdf(PROVINCE, {"year": YEAR})
    data = body.read()
    assert len(data) == size and data[:5] == b"%PDF-"
    pages = pdf_text(data, tmp_path).split("\f")
    pages = [p for p in pages if p.strip()]
    assert len(pages) == 3
    assert all("考场座次表" in p and "监考人员签名" in p and "考生签名" in p for p in pages)
    assert "考场：第1考场（R1）" in pages[0] and "洛一" in pages[0] and "洛二" in pages[0] and "郑一" not in pages[0]
    # 郑州's two rooms follow 洛阳's; which of them seats 郑三 is the arrangement's choice
    zz_page = next(p for p in pages[1:] if "郑三" in p)
    assert "报名已撤销" in zz_page and "五级：职业道德 06月13日 08:00-09:00" in zz_page
    ticket = world.seat_of(ly[0])["ticket_no"]
    assert ticket in pages[0] and re.search(r"\d{6}\*{8}\d{3}[\dX]", pages[0])
    assert not re.search(r"\d{17}[\dX]", "".join(pages))                          # no ID number in full
    mine = pdf_text(world.svc.make_seat_lists_pdf(CITY, {"year": YEAR})[0].read(), tmp_path)
    assert "郑一" in mine and "洛" not in mine.replace("洛阳", "")
    fonts = subprocess.run(["pdffonts", str(tmp_path / "t.pdf")], capture_output=True, text=True,
                           check=True).stdout.splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts        # every font embedded
    body, size = world.svc.make_seat_lists_zip(CITY, {"year": YEAR})               # a PDF per 考点, streamed
    assert size is None
    archive = zipfile.ZipFile(io.BytesIO(b"".join(body)))
    assert archive.namelist() == ["考场座次表_2026_ZZ01_考点ZZ01.pdf"]
    site = pdf_text(archive.read(archive.namelist()[0]), tmp_path).split("\f")
    assert len([p for p in site if p.strip()]) == 2 and "郑一" in site[0] and "郑五" in site[1]
    everything = zipfile.ZipFile(io.BytesIO(b"".join(world.svc.make_seat_lists_zip(PROVINCE, {"year": YEAR})[0])))
    assert [n.split("_")[2] for n in everything.namelist()] == ["LY01", "ZZ01"]
    big = render.seat_layout().model_copy(update={"row_height": 300.0})      # a seat a page: 2 pages
    monkeypatch.setattr(render, "seat_layout", lambda: big)
    long_room = pdf_text(world.svc.make_seat_lists_pdf(PROVINCE, {"year": YEAR, "site_code": "LY01"})[0].read(),
                         tmp_path).split("\f")
    assert [p for p in long_room if p.strip()] and "第1/2页" in long_room[0] and "第2/2页（续）" in long_room[1]


# --- bulk (R-D6) ----------------------------------------------------------------------------------
def test_a_bulk_job_goes_in_chunks_and_a_crashed_claim_is_taken_again(world, monkeypatch):
    monkeypatch.setenv("GONGKAO_DOCUMENT_CHUNK_SIZE", "2")
    from kit.config import settings
    settings.cache_clear()
    try:
        world.svc.put_exam_sites(PROVINCE, YEAR, {"sites": sites(("ZZ01", ZHENGZHOU, [30]), ("LY01", LUOYANG, [30]))})
        zz = [world.candidate(city=ZHENGZHOU) for _ in range(5)]
        world.candidate(city=LUOYANG, paid=False)
        world.svc.assign_seats(PROVINCE, YEAR)
        with pytest.raises(Conflict) as e:                   # printing off: every ticket would be left out
            world.svc.create_job(PROVINCE, {"kind": "tickets", "year": YEAR})
        assert e.value.code == "not_open" and count(world.db, "jobs") == 0
        world.svc.on_year_updated(printing(True, NOW + timedelta(seconds=1)))
        with pytest.raises(Forbidden):
            world.svc.create_job(CITY, {"kind": "tickets", "year": YEAR})
        job = world.svc.create_job(PROVINCE, {"kind": "tickets", "year": YEAR, "city_code": ZHENGZHOU})
        assert job["status"] == "queued" and job["total"] == 5 and count(world.db, "job_chunks") == 3
        with pytest.raises(Conflict) as e:
            world.svc.job_archive(PROVINCE, job["job_id"])
        assert e.value.code == "not_done"
        # an instance claims the first chunk and dies before finishing it
        crashed, kind = world.svc._claim_chunk()
        assert crashed.seq == 0 and kind == "tickets"
        assert world.svc.work_one_chunk() and world.svc.work_one_chunk()     # the others' chunks
        assert not world.svc.work_one_chunk()                                 # the crashed claim is not stale yet
        state = world.svc.job(PROVINCE, job["job_id"])
        assert state["status"] == "running" and state["done"] == 3
        world.clock.advance(minutes=4)
        assert world.svc.work_one_chunk() and not world.svc.work_one_chunk()
        state = world.svc.job(PROVINCE, job["job_id"])
        assert state["status"] == "done" and state["done"] == 5
        with world.db.engine.connect() as conn:
            assert conn.scalar(sa.text("SELECT attempts FROM job_chunks WHERE seq = 0")) == 2
        # the ZIP streams from the stored PDFs, one per ticket, named by ticket number
        body, size = world.svc.make_job_zip(PROVINCE, {"job_id": job["job_id"]})
        data = b"".join(body)
        assert len(data) == size
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        tickets = sorted(world.seat_of(a)["ticket_no"] for a in zz)
        assert [n.split("_")[0] for n in names] == tickets and all(n.endswith(".pdf") for n in names)
        with pytest.raises(NotFound):
            world.svc.job(PROVINCE, "nope")
    finally:
        settings.cache_clear()


def test_events_applied_twice_change_nothing_and_late_calendars_are_ignored(world):
    app_id = world.candidate(approved=False, paid=False)
    env = envelope("review.finally_approved.v1", {"application_id": app_id, "round": 1, "at": NOW.isoformat(),
                                                  "version": 4, "name": "终审通过", "year": YEAR, "id_number": "x",
                                                  "level": "province", "reason": None})
    assert world.svc.on_finally_approved(env) == "applied"
    assert world.svc.on_finally_approved(env) == "duplicate"
    # an approval of an older round does not approve a resubmitted application
    other = world.candidate(approved=False, paid=False)
    world.approve(other, round_=0)
    world.svc.put_exam_sites(PROVINCE, YEAR, {"sites": sites(("ZZ01", ZHENGZHOU, [5]))})
    world.pay(app_id)
    world.pay(other)
    assert world.svc.assign_seats(PROVINCE, YEAR)["assigned"] == 1 and world.seat_of(app_id)
    world.svc.on_year_updated(printing(True, NOW + timedelta(seconds=5)))
    world.svc.on_year_updated(printing(False, NOW + timedelta(seconds=2)))     # older, arriving late
    with world.db.engine.connect() as conn:
        cal = conn.scalar(sa.text("SELECT calendar FROM year_copies WHERE year = :y"), {"y": YEAR})
    assert cal["switches"]["ticket_printing"] is True


# --- after the exam: scores, 考核结果, certificates (R-D3 … R-D6) -----------------------------------
def year_with(results_open: bool, certificates: bool, updated_at: datetime, tickets: bool = False) -> dict:
    from builders import window

    results = window(NOW - timedelta(days=1), NOW + timedelta(days=30)) if results_open else \
        window(NOW + timedelta(days=10), NOW + timedelta(days=30))
    cal = calendar(updated_at, results=results)
    cal["switches"].update(ticket_printing=tickets, certificate_printing=certificates)
    return envelope("identity.year_updated.v1", cal)


def scores_csv(*rows: str, header: str = "ticket_no,职业道德,职业能力,岗位技能") -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


class Exam:
    """Seated candidates, the results window open, certificate printing on."""

    def __init__(self, world, n: int = 3, city: str = ZHENGZHOU):
        self.world = world
        world.svc.put_exam_sites(PROVINCE, YEAR, {"sites": sites(("ZZ01", ZHENGZHOU, [30]), ("LY01", LUOYANG, [30]))})
        self.ids = [world.candidate(city=city, name=f"考生{chr(0x7532 + i)}") for i in range(n)]
        world.svc.assign_seats(PROVINCE, YEAR)
        self.tickets = [world.seat_of(a)["ticket_no"] for a in self.ids]
        world.svc.on_year_updated(year_with(True, True, NOW + timedelta(seconds=10)))

    def principal(self, i: int) -> dict:
        with self.world.db.engine.connect() as conn:
            c = conn.execute(sa.text("SELECT name, id_number FROM candidates WHERE application_id = :a"),
                             {"a": self.ids[i]}).first()
        return access.seal(Principal(kind="applicant", id=100 + i, name=c.name, year=YEAR, id_number=c.id_number,
                                     city_code=ZHENGZHOU))

    def id_number(self, i: int) -> str:
        with self.world.db.engine.connect() as conn:
            return conn.scalar(sa.text("SELECT id_number FROM candidates WHERE application_id = :a"),
                               {"a": self.ids[i]})


@pytest.fixture
def exam(world):
    return Exam(world)


def test_each_refusal_of_the_score_import_is_reported_by_line_and_good_rows_go_in(world, exam):
    t = exam.tickets
    report = world.svc.import_scores(PROVINCE, {}, scores_csv(
        f"{t[0]},80,70,60", "999999999999,80,80,80", f"{t[1]},101,50,50", f"{t[1]},50,50,50", f"{t[2]},50,,50",
        ",50,50,50", f"{t[2]},abc,50,50", f"{t[2]},50.25,50,50"))
    assert report["imported"] == 1
    assert [(r["line"], r["reason"]) for r in report["refused"]] == [
        (3, "准考证号不存在"), (4, "职业道德成绩须为0–100之间的数"), (5, "准考证号在文件中重复（第4、5行）"),
        (6, "缺少职业能力成绩"), (7, "准考证号不能为空"), (8, "职业道德成绩须为0–100之间的数"),
        (9, "职业道德成绩最多保留一位小数")]
    assert count(world.db, "scores") == 1
    with pytest.raises(InvalidInput) as e:
        world.svc.import_scores(PROVINCE, {}, scores_csv(f"{t[0]},1,2,3", header="准考证号,职业道德,岗位技能"))
    assert "职业能力" in e.value.message
    with pytest.raises(Forbidden):
        world.svc.import_scores(CITY, {}, scores_csv())


def test_a_reimport_replaces_scores_says_what_changed_and_is_audited(world, exam):
    t = exam.tickets
    world.svc.import_scores(PROVINCE, {}, scores_csv(f"{t[0]},80,70,60", f"{t[1]},30,70,60"))
    report = world.svc.import_scores(PROVINCE, {}, scores_csv(f"{t[0]},80,70,60", f"{t[1]},40,70,60.5"))
    assert report["imported"] == 1 and report["unchanged"] == 1
    assert report["replaced"] == [{"line": 3, "ticket_no": t[1], "before": {"职业道德": 30.0, "职业能力": 70.0,
                                                                          "岗位技能": 60.0},
                                   "after": {"职业道德": 40.0, "职业能力": 70.0, "岗位技能": 60.5}}]
    audits = [e["data"] for e in outbox(world.db, "documents.action_audited.v1") if e["data"]["action"] == "scores.import"]
    assert audits[-1]["after"]["replaced"][0]["ticket_no"] == t[1]
    published = [e["data"] for e in outbox(world.db, "documents.results_published.v1")]
    mine = [p for p in published if p["application_id"] == exam.ids[1]]
    assert [(p["result"], p["revision"]) for p in mine] == [("fail", 1), ("pass", 2)]


@pytest.mark.parametrize(("scores", "lines", "result"), [
    ((35, 35, 35), None, "pass"),                     # every subject at its line, total 105 = the default line
    ((34, 35, 36), None, "fail"),                     # one subject one below, total still 105
    ((34.9, 60, 60), None, "fail"),
    ((40, 40, 40), {"total": 121}, "fail"),           # total line + 1
    ((40, 40, 40), {"total": 120}, "pass"),           # exactly the total line
    ((40, 40, 40), {"total": 119}, "pass"),           # total line − 1
])
def test_pass_is_computed_at_the_boundaries(world, exam, scores, lines, result):
    if lines:
        world.svc.put_pass_lines(PROVINCE, YEAR, {"subjects": dict.fromkeys(("职业道德", "职业能力", "岗位技能"), 35),
                                                  **lines})
    world.svc.import_scores(PROVINCE, {}, scores_csv(f"{exam.tickets[0]},{','.join(map(str, scores))}"))
    mine = world.svc.my_result(exam.principal(0))
    assert mine["available"] is True and mine["result"] == result
    assert mine["result_name"] == {"pass": "合格", "fail": "不合格"}[result]
    assert [r["pass_line"] for r in mine["scores"]] == [35, 35, 35]
    assert mine["total"] == sum(scores) and mine["total_line"] == (lines or {}).get("total", 105)


def test_new_pass_lines_announce_the_results_they_change(world, exam):
    t = exam.tickets
    world.svc.import_scores(PROVINCE, {}, scores_csv(f"{t[0]},40,40,40", f"{t[1]},60,60,60"))
    before = len(outbox(world.db, "documents.results_published.v1"))
    world.svc.put_pass_lines(PROVINCE, YEAR, {"subjects": {"职业道德": 45, "职业能力": 35, "岗位技能": 35}, "total": 105})
    after = outbox(world.db, "documents.results_published.v1")[before:]
    assert [(e["data"]["application_id"], e["data"]["result"], e["data"]["revision"]) for e in after] == [
        (exam.ids[0], "fail", 2)]
    with pytest.raises(InvalidInput):
        world.svc.put_pass_lines(PROVINCE, YEAR, {"subjects": {"职业道德": 101, "职业能力": 35, "岗位技能": 35}})
    with pytest.raises(InvalidInput):
        world.svc.put_pass_lines(PROVINCE, YEAR, {"subjects": {"职业道德": 35}})
    with pytest.raises(Forbidden):
        world.svc.put_pass_lines(CITY, YEAR, {})
    assert world.svc.get_pass_lines(CITY, YEAR)["subjects"]["职业道德"] == 45


def test_results_show_only_inside_the_results_window(world, exam):
    world.svc.import_scores(PROVINCE, {}, scores_csv(f"{exam.tickets[0]},80,80,80"))
    world.svc.on_year_updated(year_with(False, True, NOW + timedelta(seconds=20)))
    mine = world.svc.my_result(exam.principal(0))
    assert mine == {**mine, "available": False, "reason": "当前不是考核结果查询时间", "result": None, "scores": []}
    world.svc.on_year_updated(year_with(True, True, NOW + timedelta(seconds=30)))
    assert world.svc.my_result(exam.principal(0))["result"] == "pass"
    assert world.svc.my_result(exam.principal(1)) | {"reason": "暂无您的考核结果", "available": False} == \
        world.svc.my_result(exam.principal(1))


def test_the_certificate_for_a_passing_applicant_only_while_printing_is_on(world, exam, tmp_path):
    t = exam.tickets
    world.svc.import_scores(PROVINCE, {}, scores_csv(f"{t[0]},80,70,60", f"{t[1]},30,70,60"))
    with pytest.raises(Conflict) as e:                      # the failing one
        world.svc.my_certificate(exam.principal(1))
    assert e.value.code == "not_open" and e.value.message == "考核合格后方可下载电子证书"
    with pytest.raises(Conflict) as e:
        world.svc.my_certificate_pdf(exam.principal(1))
    assert e.value.code == "not_open"
    world.svc.on_year_updated(year_with(True, False, NOW + timedelta(seconds=20)))
    with pytest.raises(Conflict) as e:                      # the switch off
        world.svc.my_certificate(exam.principal(0))
    assert e.value.code == "not_open" and e.value.message == "管理员开通电子证书打印后方可下载"
    world.svc.on_year_updated(year_with(True, True, NOW + timedelta(seconds=30)))
    cert = world.svc.my_certificate(exam.principal(0))
    assert len(cert["verification_code"]) == 16 and cert["verify_url"].endswith("/verify/" + cert["verification_code"])
    assert cert["basic"]["education"] == "高中" and cert["basic"]["work_start"] == "2005-07"
    assert cert["basic"]["id_number"] == exam.id_number(0) and cert["basic"]["service_years"] == 22
    assert world.svc.my_certificate(exam.principal(0))["verification_code"] == cert["verification_code"]   # fixed
    issued = outbox(world.db, "documents.certificate_issued.v1")
    assert len(issued) == 1 and issued[0]["data"]["verification_code"] == cert["verification_code"]
    world.svc.my_certificate_pdf(exam.principal(0))
    with world.db.engine.connect() as conn:
        sha, size = conn.execute(sa.text("SELECT sha256, size FROM rendered WHERE kind = 'certificate'")).first()
    text = pdf_text(b"".join(world.db.files.stream(world.db.engine, sha, size)), tmp_path).replace(" ", "")
    for value in ("电子证书", "基本信息", "姓名：考生甲", "性别：男", "学历：高中", exam.id_number(0), "参加工作时间：2005-07",
                  "工作年限：22年", "郑州市第一人民医院", "岗位等级考核记录", "岗位等级考核", "工种T0101", "四级", "合格",
                  cert["verification_code"]):
        assert value in text, value


def test_history_across_years_is_on_the_certificate(world, exam):
    world.svc.import_scores(PROVINCE, {}, scores_csv(f"{exam.tickets[0]},80,70,60"))
    idn = exam.id_number(0)
    report = world.svc.import_history(PROVINCE, {}, (
        "身份证号,年度,类型,岗位工种,岗位等级,取得证书时间,考核结果\n"
        f"{idn},2018,岗位等级考核,护理员,5,2018-09-30,合格\n"
        f"{idn},2022,岗位等级考核,护理员,4,,不合格\n"
        f"{idn},2031,岗位等级考核,护理员,4,2031-01-01,合格\n"
        f"{idn[:10]},2019,岗位等级考核,护理员,4,2019-01-01,合格\n"
        f"{idn},2020,岗位等级考核,护理员,4,,合格\n").encode())
    assert report["imported"] == 2 and [r["line"] for r in report["refused"]] == [4, 5, 6]
    cert = world.svc.my_certificate(exam.principal(0))
    assert [(r["year"], r["grade_name"], r["obtained_at"], r["result_name"]) for r in cert["records"]] == [
        (2018, "五级", "2018-09-30", "合格"), (2022, "四级", None, "不合格"),
        (2026, "四级", (NOW - timedelta(days=1)).date().isoformat(), "合格")]
    # imported again: replaced, not doubled
    world.svc.import_history(PROVINCE, {}, f"id_number,year,kind,trade,grade,obtained_at,result\n"
                                           f"{idn},2018,岗位等级考核,护理员,5,2018-10-08,pass\n".encode())
    records = world.svc.my_certificate(exam.principal(0))["records"]
    assert len(records) == 3 and records[0]["obtained_at"] == "2018-10-08"


def test_anyone_checks_a_certificate_and_sees_only_masked_data(world, exam, monkeypatch):
    world.svc.import_scores(PROVINCE, {}, scores_csv(f"{exam.tickets[0]},80,70,60"))
    code = world.svc.my_certificate(exam.principal(0))["verification_code"]
    check = world.svc.check_certificate(code.lower(), "10.1.1.1")
    assert check["valid"] is True and check["year"] == YEAR and check["grade"] == "四级"
    assert check["name"] != "考生甲" and check["name"].startswith("考") and "*" in check["name"]
    idn = exam.id_number(0)
    assert check["id_number"] != idn and check["id_number"][:4] == idn[:4] and "*" in check["id_number"]
    assert set(check) == {"valid", "name", "id_number", "grade", "trade", "year", "issued_at"}
    for unknown in ("A" * 16, "nonsense", "", code[:-1] + ("A" if code[-1] != "A" else "B")):
        with pytest.raises(NotFound):
            world.svc.check_certificate(unknown, "10.1.1.1")
    # per source: the 31st check in ten minutes is refused, another source is not
    from kit.config import settings
    from kit.errors import TooManyRequests
    for _ in range(settings().source_verify_per_10min - 5):
        world.svc.check_certificate(code, "10.1.1.1")
    with pytest.raises(TooManyRequests) as e:
        world.svc.check_certificate(code, "10.1.1.1")
    assert e.value.code == "source_throttled"
    assert world.svc.check_certificate(code, "10.2.2.2")["valid"] is True


def test_results_statistics_by_city_grade_and_trade_and_their_excel(world, exam):
    t = exam.tickets
    ly = [world.candidate(city=LUOYANG, paid=False, grade=5) for _ in range(2)]
    world.svc.assign_seats(PROVINCE, YEAR)
    lt = [world.seat_of(a)["ticket_no"] for a in ly]
    world.svc.import_scores(PROVINCE, {}, scores_csv(f"{t[0]},80,70,60", f"{t[1]},30,70,60", f"{lt[0]},60,60,60",
                                                     f"{lt[1]},60,60,60"))
    by_city = world.svc.results_stats(PROVINCE, YEAR, {"by": "city"})
    assert [(r["key"], r["label"], r["sat"], r["passed"]) for r in by_city["rows"]] == [
        (ZHENGZHOU, "郑州市", 2, 1), (LUOYANG, "洛阳市", 2, 2)]
    assert by_city["total"] == {"sat": 4, "passed": 3, "rate": 0.75}
    by_grade = world.svc.results_stats(PROVINCE, YEAR, {"by": "grade"})
    assert {r["label"]: r["rate"] for r in by_grade["rows"]} == {"四级": 0.5, "五级": 1.0}
    mine = world.svc.results_stats(CITY, YEAR, {"by": "trade"})
    assert mine["total"] == {"sat": 2, "passed": 1, "rate": 0.5}
    with pytest.raises(Forbidden):
        world.svc.results_stats(SUPERVISOR, YEAR, {})
    body, size = world.svc.make_results_xlsx(PROVINCE, {"year": YEAR, "by": "city"})
    import openpyxl
    rows = list(openpyxl.load_workbook(io.BytesIO(body.read())).active.iter_rows(values_only=True))
    assert rows[0] == ("省辖市", "参考人数", "合格人数", "合格率") and rows[-1] == ("合计", 4, 3, "75.0%")
    # issue 14: a city administrator's file has its own city only
    body, _ = world.svc.make_results_xlsx(CITY, {"year": YEAR, "by": "city"})
    assert list(openpyxl.load_workbook(body).active.iter_rows(values_only=True))[1:] == [
        ("郑州市", 2, 1, "50.0%"), ("合计", 2, 1, "50.0%")]

    # the results list (scores.xlsx): a row per candidate, 合格 as the statistics count it
    def scores(who, **query) -> list[tuple]:
        return list(openpyxl.load_workbook(world.svc.make_scores_xlsx(who, {"year": YEAR, **query})[0])
                    .active.iter_rows(values_only=True))

    everyone = scores(PROVINCE)
    assert everyone[0] == ("准考证号", "姓名", "身份证号", "省辖市", "工作单位", "申报等级", "申报工种", "职业道德", "职业能力",
                           "岗位技能", "总分", "考核结果")
    assert [(r[0], r[3], r[10], r[11]) for r in everyone[1:]] == [
        (t[0], "郑州市", 210, "合格"), (t[1], "郑州市", 160, "不合格"), (lt[0], "洛阳市", 180, "合格"),
        (lt[1], "洛阳市", 180, "合格")]
    assert re.fullmatch(r"\d{6}\*{8}\d{3}[\dX]", everyone[1][2]) and everyone[1][7:10] == (80, 70, 60)
    assert [r[0] for r in scores(CITY)[1:]] == [t[0], t[1]]                             # never another city's
    assert [r[0] for r in scores(LUOYANG_CITY)[1:]] == lt
    assert [r[0] for r in scores(PROVINCE, result="fail")[1:]] == [t[1]]
    assert [r[0] for r in scores(PROVINCE, grade=5, city_code=LUOYANG)[1:]] == lt
    for call in (lambda: world.svc.make_scores_xlsx(CITY, {"year": YEAR, "city_code": LUOYANG}),
                 lambda: world.svc.scores_export(CITY, YEAR, {"city_code": LUOYANG})):
        with pytest.raises(Forbidden) as e:
            call()
        assert e.value.code == "out_of_scope"
    with pytest.raises(Forbidden):
        world.svc.scores_export(SUPERVISOR, YEAR, {})


def test_bulk_certificates_of_a_year_make_a_zip_of_the_passing_ones(world, exam):
    t = exam.tickets
    world.svc.import_scores(PROVINCE, {}, scores_csv(f"{t[0]},80,70,60", f"{t[1]},30,70,60", f"{t[2]},90,90,90"))
    job = world.svc.create_job(PROVINCE, {"kind": "certificates", "year": YEAR})
    assert job["total"] == 2
    while world.svc.work_one_chunk():
        pass
    assert world.svc.job(PROVINCE, job["job_id"])["status"] == "done"
    body, size = world.svc.make_job_zip(PROVINCE, {"job_id": job["job_id"]})
    names = zipfile.ZipFile(io.BytesIO(b"".join(body))).namelist()
    assert sorted(n.split("_")[1] for n in names) == sorted([t[0], t[2]]) and all(n.startswith("证书_") for n in names)


# --- what the gateways keep (issue 12) ------------------------------------------------------------
def test_each_change_of_an_applicants_documents_is_announced_and_a_read_none(world, exam):
    """documents.viewers_changed.v1 in the transaction of the change: an applicant's candidate
    row and certificate name them; seats (inserted by statement), the timetable, the calendar,
    scores and pass lines are everyone's; reading the ticket, the result or the certificate
    once issued announces nothing."""
    me = (YEAR, exam.id_number(0))
    principal = exam.principal(0)
    clear_outbox(world.db)
    world.svc.import_scores(PROVINCE, {}, scores_csv(f"{exam.tickets[0]},80,70,60"))
    assert viewers(world.db)[2] is True
    clear_outbox(world.db)
    world.svc.my_certificate(principal)                       # issued on first view: a change
    assert viewers(world.db) == ({me}, set(), False)
    clear_outbox(world.db)
    world.svc.my_ticket(principal)
    world.svc.my_result(principal)
    world.svc.my_certificate(principal)
    with pytest.raises(Conflict):
        world.svc.my_certificate(exam.principal(1))           # refused: no score
    assert viewers(world.db) == (set(), set(), False)
    world.svc.on_deleted(envelope("application.deleted.v1", {"application_id": exam.ids[1], "year": YEAR,
                                                             "id_number": "x", "was_submitted": True}))
    assert viewers(world.db) == ({(YEAR, exam.id_number(1))}, set(), False)
    world.candidate()                                         # (waiting for a seat)
    for change in (lambda: world.svc.put_timetable(PROVINCE, YEAR, {"5": TIMETABLE["5"]}),
                   lambda: world.svc.assign_seats(PROVINCE, YEAR),
                   lambda: world.svc.on_year_updated(year_with(True, False, NOW + timedelta(seconds=20)))):
        clear_outbox(world.db)
        change()
        assert viewers(world.db)[2] is True


def test_the_ticket_and_the_result_say_until_when_they_hold_by_the_clock(world, exam):
    """``fresh_until``: the ticket until the instant after the last subject ends (考试时间已过),
    the result until the results window opens or closes."""
    principal = exam.principal(0)
    world.svc.on_year_updated(year_with(True, True, NOW + timedelta(seconds=20), tickets=True))
    last_end = datetime.fromisoformat(at(16))
    ticket = world.svc.my_ticket(principal)
    assert ticket["available"] and datetime.fromisoformat(ticket["fresh_until"]) == last_end + timedelta(microseconds=1)
    world.clock.set(last_end)
    assert world.svc.my_ticket(principal)["available"]                          # the last moment
    world.clock.set(last_end + timedelta(microseconds=1))
    ticket = world.svc.my_ticket(principal)
    assert ticket["reason"] == "考试时间已过，不能打印" and ticket["fresh_until"] is None
    world.clock.set(NOW)
    result = world.svc.my_result(principal)                                     # window open, no score yet
    assert datetime.fromisoformat(result["fresh_until"]) == NOW + timedelta(days=30, seconds=1)
    world.svc.on_year_updated(year_with(False, True, NOW + timedelta(seconds=30)))
    result = world.svc.my_result(principal)
    assert result["reason"] == "当前不是考核结果查询时间"
    assert datetime.fromisoformat(result["fresh_until"]) == NOW + timedelta(days=10)
