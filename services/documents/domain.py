"""Documents rules (R-D1, R-D2): who may sit the exam, seat assignment, ticket numbers, when a
ticket may be printed. Pure functions; no nameko, no SQLAlchemy, no I/O."""
from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from kit.errors import Conflict

from .schemas import (
    CERTIFICATE_TITLE,
    GENDER_NAMES,
    GRADE_NAMES,
    ISSUER,
    RESULT_NAMES,
    SUBJECTS,
    TICKET_NOTICE,
    WAITING_REASONS,
)


@dataclass(frozen=True)
class Sittable:
    """What seating needs to know of a candidate."""

    application_id: str
    city_code: str
    target_grade: int
    target_trade: str
    id_number: str


@dataclass
class Hall:
    """A room as seating sees it: its place in the city's order and the seats already taken."""

    site_code: str
    room_code: str
    city_code: str
    number: int
    seats: int
    taken: set[int] = field(default_factory=set)
    _cursor: int = 1          # no free seat below it: seats are only ever taken in a run

    def free_seat(self) -> int | None:
        """The lowest free seat (gaps left by seats given before are filled first)."""
        while self._cursor <= self.seats and self._cursor in self.taken:
            self._cursor += 1
        return self._cursor if self._cursor <= self.seats else None


@dataclass(frozen=True)
class Placement:
    application_id: str
    site_code: str
    room_code: str
    seat_no: int
    ticket_no: str


def eligible(approved: bool, withdrawn: bool, paid: bool, city_code: str, online_cities: set[str]) -> bool:
    """R-D1: 终审通过, and paid — or in a city without online payment (settled offline)."""
    return approved and not withdrawn and (paid or city_code not in online_cities)


def not_eligible_reason(approved: bool, withdrawn: bool, paid: bool, city_code: str,
                        online_cities: set[str]) -> str | None:
    if withdrawn:
        return "报名信息已删除"
    if not approved:
        return "尚未终审通过"
    if city_code in online_cities and not paid:
        return "尚未缴费"
    return None


MAX_ROOMS_PER_CITY = 999     # three digits of the ticket number


def ticket_no(year: int, city_code: str, room_number: int, grade: int, seat_no: int) -> str:
    """12 digits (R-D1): the year's last two digits, the city (GB/T 2260 digits 3–4), the
    room's number in the city, the grade, the seat. Unique per year by construction: a room's
    number is unique in its city, a seat in its room."""
    value = f"{year % 100:02d}{city_code[2:4]}{room_number:03d}{grade}{seat_no:04d}"
    assert len(value) == 12 and value.isdigit(), value
    return value


def seating_order(c: Sittable) -> tuple:
    """Grouped by city, grade and trade (R-D1), then by ID number: the same data always
    seats the same way."""
    return (c.city_code, c.target_grade, c.target_trade, c.id_number, c.application_id)


def assign(year: int, candidates: list[Sittable], halls: list[Hall], graded: set[int]
           ) -> tuple[list[Placement], dict[str, str]]:
    """Seats for candidates who have none, in the halls of their own city, filling rooms in
    order so that a city's grade and trade sit together; the seats already taken stay as they
    are (a re-run moves nobody). Returns the placements and, for those left waiting, why."""
    by_city: dict[str, list[Hall]] = defaultdict(list)
    for hall in sorted(halls, key=lambda h: (h.city_code, h.number)):
        by_city[hall.city_code].append(hall)
    placements: list[Placement] = []
    waiting: dict[str, str] = {}
    for c in sorted(candidates, key=seating_order):
        if c.target_grade not in graded:
            waiting[c.application_id] = "no_timetable"
            continue
        city_halls = by_city.get(c.city_code)
        if not city_halls:
            waiting[c.application_id] = "no_site"
            continue
        for hall in city_halls:
            seat = hall.free_seat()
            if seat is not None:
                hall.taken.add(seat)
                placements.append(Placement(c.application_id, hall.site_code, hall.room_code, seat,
                                            ticket_no(year, c.city_code, hall.number, c.target_grade, seat)))
                break
        else:
            waiting[c.application_id] = "no_room"
    return placements, waiting


def waiting_text(reason: str) -> str:
    return WAITING_REASONS.get(reason, reason)


# --- the ticket (R-D2) ------------------------------------------------------------------------
def age(exam_year: int, birth_month: str) -> int:
    """Counted in whole years against the exam year, as the eligibility rules count (R-A4)."""
    return exam_year - int(birth_month[:4])


def last_end(sittings: list[dict]) -> datetime | None:
    return max((s["end"] for s in sittings), default=None)


def ticket_state(printing_on: bool, seated: bool, sittings: list[dict], now: datetime) -> tuple[str | None, str | None]:
    """(refusal code, reason) — (None, None) when the ticket may be printed (R-D2)."""
    if not printing_on:
        return "not_open", "管理员开通准考证打印后方可打印"
    if not seated:
        return "not_open", "准考证尚未生成，请关注省工考办通知"
    end = last_end(sittings)
    if end is not None and now > end:
        return "exam_over", "考试时间已过，不能打印"
    return None, None


def ticket_fresh_until(printing_on: bool, sittings: list[dict], now: datetime) -> datetime | None:
    """The moment a seated applicant's ticket turns by the clock alone: the first instant
    after the last subject's end (``ticket_state``: 考试时间已过). None: nothing ahead."""
    end = last_end(sittings)
    if not printing_on or end is None or now > end:
        return None
    return end + timedelta(microseconds=1)


def require_printable(printing_on: bool, seated: bool, sittings: list[dict], now: datetime) -> None:
    code, reason = ticket_state(printing_on, seated, sittings, now)
    if code is not None:
        raise Conflict(reason, code=code)


def ticket_data(year: int, ticket: str, name: str, gender: str, birth_month: str, id_number: str, unit: str,
                trade: str, grade: int, rows: list[dict]) -> dict:
    """What the ticket shows, as text: the one input of its PDF (and of the PDF's cache key)."""
    return {
        "title": f"{year}年度工勤技能岗位等级考核准考证", "year": str(year), "ticket_no": ticket, "name": name,
        "gender": GENDER_NAMES.get(gender, gender), "age": str(age(year, birth_month)), "id_number": id_number,
        "unit": unit, "trade": trade, "grade": GRADE_NAMES.get(grade, str(grade)),
        "subjects": [{"subject": r["subject"], "site": r["site"], "room": r["room"], "time": r["time"],
                      "site_room": f"{r['site']}\n{r['room']}", "place": r["place"], "seat": str(r["seat"])}
                     for r in sorted(rows, key=lambda r: SUBJECTS.index(r["subject"]))],
        "notice": list(TICKET_NOTICE),
    }


def data_hash(data: dict, photo_sha256: str | None, layout_name: str) -> str:
    """A document is made again only when what it shows changes (a seat moved, a name
    corrected, another photo, another layout)."""
    text = json.dumps([data, photo_sha256, layout_name], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def ticket_seal(ticket: str, id_number: str, year: int, secret: str) -> str:
    """What the QR code carries: the ticket number and a signature a proctor checks."""
    mac = hmac.new(secret.encode(), f"ticket:{year}:{ticket}:{id_number}".encode(), hashlib.sha256).hexdigest()
    return f"{ticket}.{mac[:16]}"


def check_seal(value: str, id_number: str, year: int, secret: str) -> bool:
    ticket, _, _ = value.partition(".")
    return hmac.compare_digest(value, ticket_seal(ticket, id_number, year, secret))


# --- importing the arrangement from a spreadsheet (R-D1) ----------------------------------------
SITE_COLUMNS = {"考点代码": "site_code", "考点名称": "name", "考点地址": "address", "省辖市代码": "city_code",
                "考场代码": "room_code", "考场名称": "room_name", "座位数": "seats",
                **{k: k for k in ("site_code", "name", "address", "city_code", "room_code", "room_name", "seats")}}
SITE_REQUIRED = {"site_code", "name", "city_code", "room_code", "seats"}
TIMETABLE_COLUMNS = {"等级": "grade", "科目": "subject", "开始时间": "start", "结束时间": "end", "地点": "place",
                     **{k: k for k in ("grade", "subject", "start", "end", "place")}}
TIMETABLE_REQUIRED = {"grade", "subject", "start", "end"}
GRADE_BY_TEXT = {**{name: g for g, name in GRADE_NAMES.items()}, **{str(g): g for g in GRADE_NAMES}}


def sites_from_sheet(rows) -> tuple[list[dict], list[dict]]:
    """One row per 考场 (the 考点's columns repeated) → the PUT …/exam-sites body, and the
    rows refused with why. A site's name, address and city must agree on every row."""
    sites: dict[str, dict] = {}
    refused: list[dict] = []
    for line, r in rows:
        code = r.get("site_code", "")
        if not code:
            refused.append({"line": line, "reason": "考点代码不能为空"})
            continue
        seats = r.get("seats", "")
        if not seats.isdigit():
            refused.append({"line": line, "reason": "座位数须为整数"})
            continue
        site = sites.setdefault(code, {"site_code": code, "name": r.get("name", ""), "address": r.get("address", ""),
                                       "city_code": r.get("city_code", ""), "rooms": [], "line": line})
        if (site["name"], site["city_code"]) != (r.get("name", ""), r.get("city_code", "")):
            refused.append({"line": line, "reason": f"考点{code}的名称或省辖市代码与第{site['line']}行不一致"})
            continue
        site["rooms"].append({"room_code": r.get("room_code", ""), "name": r.get("room_name") or r.get("room_code", ""),
                              "seats": int(seats)})
    return [{k: v for k, v in s.items() if k != "line"} for s in sites.values()], refused


def _sheet_time(text: str, tz) -> datetime | None:
    """"2026-06-13 08:00" (Beijing time, as a person types it or Excel stores it) or ISO with
    an offset."""
    try:
        value = datetime.fromisoformat(text.strip().replace("/", "-"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=tz)


def timetable_from_sheet(rows, tz) -> tuple[dict, list[dict]]:
    """One row per grade and subject → the PUT …/timetable body, and the rows refused."""
    grades: dict[str, list[dict]] = {}
    refused: list[dict] = []
    for line, r in rows:
        grade = GRADE_BY_TEXT.get(r.get("grade", ""))
        start, end = _sheet_time(r.get("start", ""), tz), _sheet_time(r.get("end", ""), tz)
        if grade is None:
            refused.append({"line": line, "reason": "等级须为五级、四级、三级、二级、一级之一（或 5–1）"})
        elif r.get("subject") not in SUBJECTS:
            refused.append({"line": line, "reason": "科目须为职业道德、职业能力、岗位技能之一"})
        elif start is None or end is None:
            refused.append({"line": line, "reason": "时间格式须为 2026-06-13 08:00"})
        else:
            grades.setdefault(str(grade), []).append({"subject": r["subject"], "start": start.isoformat(),
                                                      "end": end.isoformat(), "place": r.get("place", "")})
    return grades, refused


# --- scores and results (R-D3) -------------------------------------------------------------------
SUBJECT_KEYS = {"职业道德": "ethics", "职业能力": "ability", "岗位技能": "skill"}
SCORE_COLUMNS = {"准考证号": "ticket_no", "ticket_no": "ticket_no", **{s: s for s in SUBJECTS}}
SCORE_REQUIRED = {"ticket_no", *SUBJECTS}


def _score(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


def scores_from_sheet(rows) -> tuple[list[dict], list[dict]]:
    """(line, {ticket_no, 职业道德, 职业能力, 岗位技能}) rows → the good ones as
    {line, ticket_no, scores: {subject: Decimal}} and the refused ones as {line, ticket_no,
    reason}. A ticket twice in one file is refused every time (which line is right cannot be
    known). Whether a ticket exists is the service's to check."""
    good: list[dict] = []
    refused: list[dict] = []
    lines_of: dict[str, list[int]] = defaultdict(list)
    for line, r in rows:
        ticket = r.get("ticket_no", "").strip()
        if not ticket:
            refused.append({"line": line, "ticket_no": "", "reason": "准考证号不能为空"})
            continue
        lines_of[ticket].append(line)
        scores, reason = {}, None
        for subject in SUBJECTS:
            text = r.get(subject, "").strip()
            value = _score(text) if text else None
            if not text:
                reason = f"缺少{subject}成绩"
            elif value is None or not 0 <= value <= 100:
                reason = f"{subject}成绩须为0–100之间的数"
            elif value != value.quantize(Decimal("0.1")):
                reason = f"{subject}成绩最多保留一位小数"
            if reason:
                break
            scores[subject] = value.quantize(Decimal("0.1"))
        if reason:
            refused.append({"line": line, "ticket_no": ticket, "reason": reason})
        else:
            good.append({"line": line, "ticket_no": ticket, "scores": scores})
    twice = {t for t, lines in lines_of.items() if len(lines) > 1}
    for t in sorted(twice):
        for line in lines_of[t]:
            if not any(x["line"] == line for x in refused):
                refused.append({"line": line, "ticket_no": t,
                                "reason": f"准考证号在文件中重复（第{'、'.join(map(str, lines_of[t]))}行）"})
    return [g for g in good if g["ticket_no"] not in twice], sorted(refused, key=lambda x: x["line"])


def passed(scores: dict[str, Decimal], subject_lines: dict[str, int], total_line: int) -> bool:
    """合格 (R-D3): every subject at or above its line, and the total at or above the total's."""
    return all(scores[s] >= subject_lines[s] for s in SUBJECTS) and sum(scores.values()) >= total_line


def result_rows(scores: dict[str, Decimal], subject_lines: dict[str, int]) -> list[dict]:
    return [{"subject": s, "score": float(scores[s]), "pass_line": float(subject_lines[s])} for s in SUBJECTS]


def result_reason(window_open: bool, seated: bool, scored: bool) -> str | None:
    """Why 考核结果 cannot be shown now (None: it can)."""
    if not window_open:
        return "当前不是考核结果查询时间"
    if not seated:
        return "您未参加本年度考核"
    if not scored:
        return "暂无您的考核结果"
    return None


# --- assessment history (R-D4) ----------------------------------------------------------------------
HISTORY_COLUMNS = {"身份证号": "id_number", "年度": "year", "类型": "kind", "岗位工种": "trade", "岗位等级": "grade",
                   "取得证书时间": "obtained_at", "考核结果": "result",
                   **{k: k for k in ("id_number", "year", "kind", "trade", "grade", "obtained_at", "result")}}
HISTORY_REQUIRED = {"id_number", "year", "kind", "trade", "grade", "result"}
RESULT_BY_TEXT = {"pass": "pass", "fail": "fail", "合格": "pass", "不合格": "fail"}
_ID = re.compile(r"^\d{17}[\dX]$")


def history_from_sheet(rows, this_year: int) -> tuple[list[dict], list[dict]]:
    """Earlier years' records: id_number, year, kind, trade, grade (1–5 or 五级…), obtained_at
    (YYYY-MM-DD; may be empty for a failed one), result (pass/fail or 合格/不合格)."""
    good, refused = [], []
    for line, r in rows:
        id_number = r.get("id_number", "").strip().upper()
        grade = GRADE_BY_TEXT.get(r.get("grade", "").strip())
        result = RESULT_BY_TEXT.get(r.get("result", "").strip())
        year_text, when = r.get("year", "").strip(), r.get("obtained_at", "").strip()
        obtained = None
        reason = None
        if not _ID.match(id_number):
            reason = "身份证号须为18位"
        elif not (year_text.isdigit() and 1980 <= int(year_text) <= this_year):
            reason = f"年度须为1980–{this_year}之间的年份"
        elif not r.get("kind", "").strip() or not r.get("trade", "").strip():
            reason = "类型和岗位工种不能为空"
        elif len(r["kind"].strip()) > 30 or len(r["trade"].strip()) > 60:
            reason = "类型或岗位工种过长"
        elif grade is None:
            reason = "岗位等级须为1–5或五级…一级"
        elif result is None:
            reason = "考核结果须为合格或不合格（pass/fail）"
        elif when:
            try:
                obtained = date.fromisoformat(when.replace("/", "-"))
            except ValueError:
                reason = "取得证书时间须为 YYYY-MM-DD"
        elif result == "pass":
            reason = "合格的记录须有取得证书时间"
        if reason:
            refused.append({"line": line, "id_number": id_number, "reason": reason})
            continue
        good.append({"id_number": id_number, "year": int(year_text), "kind": r["kind"].strip(),
                     "trade": r["trade"].strip(), "grade": grade, "obtained_at": obtained, "result": result})
    return good, refused


def record(year: int, kind: str, trade: str, grade: int, obtained_at: date | None, result: str) -> dict:
    return {"year": year, "kind": kind, "trade": trade, "grade": grade, "grade_name": GRADE_NAMES.get(grade, ""),
            "obtained_at": obtained_at.isoformat() if obtained_at else None, "result": result,
            "result_name": RESULT_NAMES[result]}


def certificate_data(code: str, url: str, issued: date, basic: dict, records: list[dict]) -> dict:
    """What the certificate shows, as text: the one input of its PDF (and its cache key)."""
    years = basic.get("service_years")
    return {"title": CERTIFICATE_TITLE, "code": code, "verify_url": url, "issued": issued.isoformat(),
            "issuer": ISSUER, **{k: "" if v is None else str(v) for k, v in basic.items()},
            "service_years_text": f"{years}年" if years is not None else "—",
            "records": [{**r, "year": str(r["year"]), "obtained_at": r["obtained_at"] or "—"}
                        for r in sorted(records, key=lambda r: (r["year"], r["grade"]))]}
