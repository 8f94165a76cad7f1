"""Documents rules as pure functions (R-D1, R-D2): who may sit, seating (deterministic, grouped,
gaps filled, nobody moved), ticket numbers, when a ticket may be printed, the QR seal, and
reading the arrangement from a spreadsheet."""
from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

from kit.clock import CST
from kit.tables import sheet_dicts
from services.documents import domain
from services.documents.domain import Hall, Sittable

ONLINE = {"410000", "410100"}


@pytest.mark.parametrize(("approved", "withdrawn", "paid", "city", "ok", "reason"), [
    (True, False, True, "410100", True, None),
    (True, False, False, "410100", False, "尚未缴费"),           # online city, unpaid
    (True, False, False, "410300", True, None),                 # no online payment: 终审通过 is enough
    (False, False, True, "410100", False, "尚未终审通过"),
    (True, True, True, "410100", False, "报名信息已删除"),
])
def test_who_may_sit_the_exam(approved, withdrawn, paid, city, ok, reason):
    assert domain.eligible(approved, withdrawn, paid, city, ONLINE) is ok
    assert domain.not_eligible_reason(approved, withdrawn, paid, city, ONLINE) == reason


def test_a_ticket_number_has_twelve_digits_and_starts_with_the_year():
    assert domain.ticket_no(2026, "410300", 7, 4, 25) == "260300740025"
    assert domain.ticket_no(2031, "410000", 999, 1, 500) == "310099910500"


def people(n: int, city: str = "410100", grade: int = 4, trades=("T01", "T02")) -> list[Sittable]:
    return [Sittable(f"a{i:04d}", city, grade, trades[i % len(trades)], f"4101021980010{i:05d}") for i in range(n)]


def test_seating_is_the_same_whatever_order_the_candidates_come_in():
    halls = lambda: [Hall("S1", "R1", "410100", 1, 5), Hall("S1", "R2", "410100", 2, 5)]  # noqa: E731
    group = people(9)
    first, _ = domain.assign(2026, group, halls(), {4})
    shuffled = group[:]
    random.Random(7).shuffle(shuffled)
    second, _ = domain.assign(2026, shuffled, halls(), {4})
    assert first == second
    trades = [next(c.target_trade for c in group if c.application_id == p.application_id) for p in first]
    assert trades == sorted(trades)                                    # a trade sits together


def test_gaps_are_filled_and_taken_seats_are_left_alone():
    hall = Hall("S1", "R1", "410100", 1, 4, taken={1, 3})
    placed, waiting = domain.assign(2026, people(3), [hall], {4})
    assert [p.seat_no for p in placed] == [2, 4] and list(waiting.values()) == ["no_room"]


def test_why_someone_waits():
    halls = [Hall("S1", "R1", "410100", 1, 1)]
    cands = [*people(2), Sittable("b1", "410100", 3, "T01", "x"), Sittable("c1", "410200", 4, "T01", "y")]
    placed, waiting = domain.assign(2026, cands, halls, {4})
    assert len(placed) == 1
    assert sorted(waiting.values()) == ["no_room", "no_site", "no_timetable"]


def test_the_ticket_prints_while_the_switch_is_on_until_the_last_subject_ends():
    end = datetime(2026, 6, 13, 16, 0, tzinfo=CST)
    sittings = [{"end": end - timedelta(hours=5)}, {"end": end}]
    assert domain.ticket_state(False, True, sittings, end - timedelta(days=1)) == (
        "not_open", "管理员开通准考证打印后方可打印")
    assert domain.ticket_state(True, False, sittings, end - timedelta(days=1))[0] == "not_open"
    assert domain.ticket_state(True, True, sittings, end) == (None, None)
    assert domain.ticket_state(True, True, sittings, end + timedelta(seconds=1)) == (
        "exam_over", "考试时间已过，不能打印")


def test_the_seal_proves_the_ticket_and_whose_it_is():
    seal = domain.ticket_seal("260100140001", "410102198001010011", 2026, "secret")
    assert domain.check_seal(seal, "410102198001010011", 2026, "secret")
    assert not domain.check_seal(seal, "410102198001010022", 2026, "secret")     # another person
    assert not domain.check_seal(seal, "410102198001010011", 2026, "other")      # not our signature
    assert not domain.check_seal("260100140002" + seal[12:], "410102198001010011", 2026, "secret")


def test_the_arrangement_from_a_spreadsheet():
    csv = ("考场代码,考点代码,考点名称,省辖市代码,座位数\nR1,S1,第一考点,410100,30\nR2,S1,第一考点,410100,x\n"
           "R3,S1,别的名字,410100,30\n").encode()
    sites, refused = domain.sites_from_sheet(sheet_dicts(csv, domain.SITE_COLUMNS, domain.SITE_REQUIRED))
    assert sites == [{"site_code": "S1", "name": "第一考点", "address": "", "city_code": "410100",
                      "rooms": [{"room_code": "R1", "name": "R1", "seats": 30}]}]
    assert [r["line"] for r in refused] == [3, 4]
    table, refused = domain.timetable_from_sheet(sheet_dicts(
        "等级,科目,开始时间,结束时间\n四级,职业道德,2026-06-13 08:00,2026-06-13T09:00+08:00\n六级,职业能力,,\n".encode(),
        domain.TIMETABLE_COLUMNS, domain.TIMETABLE_REQUIRED), CST)
    assert table == {"4": [{"subject": "职业道德", "start": "2026-06-13T08:00:00+08:00",
                            "end": "2026-06-13T09:00:00+08:00", "place": ""}]}
    assert refused == [{"line": 3, "reason": "等级须为五级、四级、三级、二级、一级之一（或 5–1）"}]


def test_a_workbook_is_data_bounded_before_it_is_read():
    import io
    import zipfile

    from kit.errors import InvalidInput
    from kit.tables import XLSX_MAX_UNPACKED, sheet_lists

    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (XLSX_MAX_UNPACKED + 1))
    assert len(bomb.getvalue()) < 200_000
    with pytest.raises(InvalidInput, match="解压后过大"):
        list(sheet_lists(bomb.getvalue()))
    with pytest.raises(InvalidInput, match="不是有效的 Excel"):
        list(sheet_lists(b"PK\x03\x04" + b"\0" * 100))
    # a CSV is told apart by its content, not its name; blank rows are left out
    assert list(sheet_lists("a,b\n\n1,2\n".encode("gbk"))) == [(1, ["a", "b"]), (3, ["1", "2"])]
