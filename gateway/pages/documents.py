"""打印准考证 and 考场安排 (R-D1, R-D2, R-D6): the applicant's admission ticket page and its PDF,
and the administrators' page for the exam's sites and rooms, the timetable, seating, the seat
list, bulk generation and the proctors' check of a ticket's QR code.

The small forms of 考场安排 are plain HTML forms (CSRF token in the form, POST → redirect →
GET), so the page works without script; a refusal is shown on the page and changes nothing
(the documents service checks everything again). The Excel/CSV imports go to the JSON API
from ``static/exam-admin.js``, which also follows a bulk job's progress. Labels come from
``services.documents.schemas``."""
from __future__ import annotations

import logging
from datetime import datetime
from urllib.parse import urlencode

import falcon

from kit import clock, regions
from kit.errors import ServiceError
from services.documents import schemas as documents_schemas

from .. import auth, files, links
from .applicant import applicant_progress
from .common import _at, cities, current_year, form_year, plain_form, redirect, render_page, step_view

log = logging.getLogger(__name__)

SEATS_PAGE_SIZE = 50
MAX_BLANK_ROOMS = 5           # empty room rows under a site's rooms in its form
SITE_HEADER = ("考点代码", "考点名称", "考点地址", "省辖市代码", "考场代码", "考场名称", "座位数")
TIMETABLE_HEADER = ("等级", "科目", "开始时间", "结束时间", "地点")
TEMPLATES = {"exam-sites.csv": SITE_HEADER, "timetable.csv": TIMETABLE_HEADER}
# What the service's validation names a field, as the page calls it
FIELD_NAMES = {"sites.site_code": "考点代码", "sites.name": "考点名称", "sites.address": "考点地址",
               "sites.city_code": "省辖市", "sites.rooms": "考场", "sites.rooms.room_code": "考场代码",
               "sites.rooms.name": "考场名称", "sites.rooms.seats": "座位数", "sites": "考点",
               "grades": "考试时间", "city_code": "省辖市"}
FIELD_NAMES.update({f"grades.{g}.{k}": v for g in "12345" for k, v in
                    (("start", "开始时间"), ("end", "结束时间"), ("place", "考核地点"), ("subject", "科目"))})


def time_span(start, end) -> str:
    """考试时间 as the ticket shows it: 2026-06-13 08:00-09:00 (Beijing time)."""
    a, b = _at(start), _at(end)
    if not a or not b:
        return "—"
    return f"{a.strftime('%Y-%m-%d %H:%M')}-{b.strftime('%H:%M')}"


def local_minutes(value) -> str:
    """The value of a datetime-local input without seconds (Beijing time)."""
    dt = _at(value)
    return dt.strftime("%Y-%m-%dT%H:%M") if dt else ""


def beijing_iso(text: str) -> str | None:
    """A datetime-local value (read as Beijing time) as ISO with its offset; None when empty;
    anything else is passed on for the service to refuse."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return text
    return (value if value.tzinfo else value.replace(tzinfo=clock.CST)).isoformat()


def refusal(exc: ServiceError) -> str:
    """The service's message, with the field it names said the way the page says it."""
    message = exc.message or "操作失败"
    field = exc.field or ""
    if field and message.startswith(f"{field}："):
        message = f"{FIELD_NAMES.get(field, field)}：{message[len(field) + 1:]}"
    return message


def city_label(code: str | None) -> str:
    return (regions.city_name(code or "") or code or "—") if code else "全省"


# --- the applicant: 打印准考证 ------------------------------------------------------------------
class TicketPage:
    """打印准考证 (R-D2, manual 二、4): the ticket as the manual shows it and the 下载准考证 button
    while it may be printed; the reason otherwise (printing not open, no seat yet, the exam
    over). The ticket itself shows once printing is open (the step is open), also after the
    exam with 考试时间已过，不能打印 above it."""

    def on_get(self, req, resp):
        who, progress = applicant_progress(req)
        ticket = req.context.rpc.documents.my_ticket(who)
        step = next((s for s in step_view(progress.get("steps")) if s["key"] == "ticket"), None) or {}
        available = bool(ticket.get("available"))
        shown = bool(ticket.get("ticket_no")) and (available or bool(step.get("enabled")))
        order = {name: i for i, name in enumerate(documents_schemas.SUBJECTS)}
        rows = sorted(ticket.get("subjects") or [], key=lambda r: order.get(r.get("subject"), 99))
        for row in rows:
            row["time"] = time_span(row.get("start"), row.get("end"))
        reason = None if available else (ticket.get("reason") or step.get("reason") or "准考证暂不能打印")
        render_page(req, resp, "ticket.html", who=who, progress=progress, ticket=ticket, rows=rows,
                    shown=shown, available=available, reason=reason,
                    photo_url=links.applicant_file("personal_photo"),
                    title=documents_schemas.TICKET_TITLE, notice=documents_schemas.TICKET_NOTICE)


class TicketPdf:
    """下载准考证（PDF）: the documents service's file passed on; a refusal (not open, the exam
    over) is the Chinese error page."""

    def on_get(self, req, resp):
        who = auth.require_applicant(req)
        files.pass_on(resp, req.context.rpc.documents.my_ticket_pdf(who))


# --- administrators: 考场安排 -----------------------------------------------------------------
def _year(req, who) -> int:
    value = req.get_param_as_int("year")
    if value and 2000 <= value <= 2100:
        return value
    return int((current_year(req) or {}).get("year") or clock.local_now().year)


def _plain_sites(sites: list[dict]) -> list[dict]:
    """The sites as PUT …/exam-sites takes them (without the counts the GET adds)."""
    return [{"site_code": s["site_code"], "name": s["name"], "address": s.get("address") or "",
             "city_code": s["city_code"],
             "rooms": [{"room_code": r["room_code"], "name": r["name"], "seats": r["seats"]} for r in s["rooms"]]}
            for s in sites]


def _site_from_form(form: dict) -> tuple[dict, list[str]]:
    """One site and its rooms from the page's form (rows left empty are no rooms), and what is
    wrong with the rows in words the page uses (the service checks the rest)."""
    rooms, problems = [], []
    count = min(int(form.get("rooms") or 0) if str(form.get("rooms") or "").isdigit() else 0, 400)
    for i in range(count):
        code = (form.get(f"room_code_{i}") or "").strip()
        name = (form.get(f"room_name_{i}") or "").strip()
        seats = (form.get(f"room_seats_{i}") or "").strip()
        if not (code or name or seats):
            continue
        if not code:
            problems.append(f"第{i + 1}个考场：请填写考场代码")
        if not seats.isdigit() or not 1 <= int(seats) <= 500:
            problems.append(f"第{i + 1}个考场：座位数须为1至500的整数")
        rooms.append({"room_code": code, "name": name or code, "seats": int(seats) if seats.isdigit() else seats})
    site = {"site_code": (form.get("site_code") or "").strip(), "name": (form.get("name") or "").strip(),
            "address": (form.get("address") or "").strip(), "city_code": (form.get("city_code") or "").strip(),
            "rooms": rooms}
    if not site["site_code"]:
        problems.insert(0, "请填写考点代码")
    if not site["name"]:
        problems.insert(0 if site["site_code"] else 1, "请填写考点名称")
    if not rooms:
        problems.append("请至少填写一个考场（考场代码和座位数）")
    return site, problems


class AdminExam:
    """考场安排: what is arranged for a year and the forms that change it (province); a city
    administrator sees its own city's sites, the timetable and its seat list, and checks
    tickets."""

    def on_get(self, req, resp):
        who = auth.require_admin(req, "province", "city")
        self.render(req, resp, who, _year(req, who))

    def render(self, req, resp, who: dict, year: int, errors: dict | None = None, site_form: dict | None = None,
               timetable_form: dict | None = None, status: str = falcon.HTTP_200) -> None:
        """The page; after a refused form, with its message (``errors`` by section) and what
        was typed in it (``site_form``, ``timetable_form``)."""
        rpc = req.context.rpc
        province = who.get("role") == "province"
        own_city = None if province else (who.get("scope_city") or who.get("scope_code"))
        errors = errors or {}
        every_site = rpc.documents.get_exam_sites(who, year)
        sites = [s for s in every_site if not own_city or s.get("city_code") == own_city]
        for s in sites:
            s["city_name"] = city_label(s.get("city_code"))
            s["seat_total"] = sum(r.get("seats") or 0 for r in s["rooms"])
            s["seated_total"] = sum(r.get("seated") or 0 for r in s["rooms"])
        timetable = rpc.documents.get_timetable(who, year)
        grades = []
        for grade, name in sorted(documents_schemas.GRADE_NAMES.items(), reverse=True):
            rows = {r["subject"]: r for r in timetable.get(str(grade)) or []}
            grades.append({"grade": grade, "name": name, "set": bool(rows),
                           "rows": [{"subject": subject, "time": time_span(rows[subject]["start"], rows[subject]["end"])
                                     if subject in rows else "—",
                                     "place": (rows.get(subject) or {}).get("place") or "",
                                     "start": local_minutes((rows.get(subject) or {}).get("start")),
                                     "end": local_minutes((rows.get(subject) or {}).get("end"))}
                                    for subject in documents_schemas.SUBJECTS]})
        if timetable_form:
            for g in grades:
                if str(g["grade"]) == str(timetable_form.get("grade")):
                    g["rows"], g["error"] = timetable_form["rows"], errors.get("timetable")

        # the seat list
        filters = {"status": req.get_param("status") or "all", "city_code": req.get_param("city_code") or "",
                   "grade": req.get_param("grade") or ""}
        if filters["status"] not in documents_schemas.SEAT_STATES and filters["status"] != "all":
            filters["status"] = "all"
        if own_city:
            filters["city_code"] = own_city
        page = max(1, req.get_param_as_int("page") or 1)
        query = {k: v for k, v in filters.items() if v}
        seat_error = None
        try:
            seats = rpc.documents.seats(who, year, {**query, "page": page, "page_size": SEATS_PAGE_SIZE})
        except ServiceError as exc:
            if exc.status >= 500:
                raise
            seat_error, seats = refusal(exc), {"items": [], "total": 0}
        names = {(s["site_code"], r["room_code"]): (s["name"], r["name"]) for s in every_site for r in s["rooms"]}
        for item in seats["items"]:
            site_name, room_name = names.get((item.get("site_code"), item.get("room_code")),
                                                 (item.get("site_code"), item.get("room_code")))
            item.update(site_name=site_name or "—", room_name=room_name or "—",
                        city_name=city_label(item.get("city_code")),
                        state_name=documents_schemas.SEAT_STATES.get(item.get("state"), item.get("state")))
        total = int(seats.get("total") or 0)
        pages = max(1, -(-total // SEATS_PAGE_SIZE))

        def page_url(n: int) -> str:
            return "/admin/exam?" + urlencode({"year": year, **query, "page": n}) + "#seats"

        # the job followed (province), the ticket checked, the site being edited
        job = None
        job_id = (req.get_param("job") or "").strip()
        if province and job_id:
            try:
                job = rpc.documents.job(who, job_id)
                job["status_name"] = documents_schemas.JOB_STATUSES.get(job["status"], job["status"])
                job["city_name"] = city_label(job.get("city_code"))
            except ServiceError as exc:
                if exc.status >= 500:
                    raise
                errors.setdefault("jobs", refusal(exc))
        code = (req.get_param("code") or "").strip()
        check = None
        if code:
            try:
                check = rpc.documents.check_ticket(who, code)
            except ServiceError as exc:
                if exc.status >= 500:
                    raise
                errors.setdefault("check", refusal(exc))
        if site_form is None and province:
            editing = next((s for s in sites if s["site_code"] == (req.get_param("edit") or "")), None)
            site_form = ({**_plain_sites([editing])[0], "original": editing["site_code"]} if editing
                         else {"site_code": "", "name": "", "address": "", "city_code": "", "rooms": [],
                               "original": ""})
        if site_form is not None:
            site_form["blank"] = max(1, MAX_BLANK_ROOMS - min(len(site_form["rooms"]), MAX_BLANK_ROOMS - 1))
        cal = current_year(req) or {}
        printing = bool((cal.get("switches") or {}).get("ticket_printing")) if cal.get("year") == year else None
        assigned = None
        if req.get_param("assigned") is not None:
            assigned = {k: req.get_param_as_int(k) or 0 for k in ("assigned", "already", "waiting")}
            assigned["city_name"] = city_label(req.get_param("assign_city"))
        offered = cities() if province else [c for c in cities() if c["code"] == own_city]
        lists = f"/api/v1/admin/years/{year}/seat-lists"      # 考场座次表 of the cities chosen (or a 考点)

        def seat_list_url(fmt: str, site_code: str | None = None) -> str:
            where = {"site_code": site_code} if site_code else (
                {"city_code": filters["city_code"]} if filters["city_code"] else {})
            return f"{lists}.{fmt}" + (("?" + urlencode(where)) if where else "")

        resp.status = status
        render_page(req, resp, "admin/exam.html", who=who, year=year, province=province, sites=sites,
                    grades=grades, subjects=documents_schemas.SUBJECTS, seats=seats["items"], total=total,
                    page=page, pages=pages, page_url=page_url, filters=filters, seat_error=seat_error,
                    seat_states=documents_schemas.SEAT_STATES, cities=offered, job=job,
                    job_statuses=documents_schemas.JOB_STATUSES, check=check, code=code, errors=errors,
                    site_form=site_form, printing=printing, assigned=assigned, seat_list_url=seat_list_url,
                    seated_rooms=sum(1 for x in sites for r in x["rooms"] if r.get("seated")
                                     and (not filters["city_code"] or x.get("city_code") == filters["city_code"])),
                    seat_list_city=city_label(filters["city_code"]),
                    max_pdf_rooms=documents_schemas.SEAT_LIST_PDF_MAX_ROOMS,
                    saved=req.get_param("saved"), labels=documents_schemas.labels())


class _AdminExamForm:
    """A form of 考场安排 (province): the change, then back to the page (303); a refusal
    re-renders the page with the service's message in the form's section."""

    section = ""

    def on_post(self, req, resp):
        who = auth.require_admin(req, "province")
        form = plain_form(req)
        year = form_year(form.get("year"))
        if year is None:
            AdminExam().render(req, resp, who, _year(req, who), errors={self.section: "年度应为四位数字"},
                               status=falcon.HTTP_400)
            return
        try:
            location = self.change(req, who, year, form)
        except _Refused as refused:
            AdminExam().render(req, resp, who, year, errors={self.section: refused.message}, status=refused.status,
                               **self.keep(form))
            return
        except ServiceError as exc:
            if exc.status >= 500:
                raise
            AdminExam().render(req, resp, who, year, errors={self.section: refusal(exc)},
                               status=falcon.code_to_http_status(exc.status), **self.keep(form))
            return
        redirect(resp, location)

    def change(self, req, who: dict, year: int, form: dict) -> str:
        raise NotImplementedError

    def keep(self, form: dict) -> dict:
        """What the re-rendered page keeps of the refused form."""
        return {}


class _Refused(Exception):
    def __init__(self, message: str, status: str = falcon.HTTP_400):
        super().__init__(message)
        self.message, self.status = message, status


def _page(year: int, anchor: str, **params) -> str:
    return "/admin/exam?" + urlencode({"year": year, **params}) + f"#{anchor}"


class AdminExamSite(_AdminExamForm):
    """新增/修改 one 考点 with its 考场, or 删除 it (``op=delete``): the year's list with this
    site replaced, added or left out, sent whole (the service keeps seated rooms)."""

    section = "sites"

    def change(self, req, who, year, form):
        rpc = req.context.rpc
        current = _plain_sites(rpc.documents.get_exam_sites(who, year))
        original = (form.get("original") or "").strip()
        if form.get("op") == "delete":
            if not any(s["site_code"] == original for s in current):
                raise _Refused("没有找到该考点", falcon.HTTP_404)
            rpc.documents.put_exam_sites(who, year, {"sites": [s for s in current if s["site_code"] != original]})
            return _page(year, "sites", saved="site_deleted")
        site, problems = _site_from_form(form)
        if problems:
            raise _Refused("；".join(problems))
        if site["site_code"] != original and any(s["site_code"] == site["site_code"] for s in current):
            raise _Refused(f"考点代码{site['site_code']}已存在，请修改该考点或换一个代码", falcon.HTTP_409)
        kept = [s for s in current if s["site_code"] != original] if original else current
        rpc.documents.put_exam_sites(who, year, {"sites": [*kept, site]})
        return _page(year, "sites", saved="site")

    def keep(self, form):
        site, _ = _site_from_form(form)
        return {"site_form": {**site, "original": (form.get("original") or "").strip()}}


class AdminExamTimetable(_AdminExamForm):
    """One grade's three subjects (开始, 结束, 考核地点; Beijing time)."""

    section = "timetable"

    def _rows(self, form):
        return [{"subject": subject, "start": form.get(f"start_{i}") or "", "end": form.get(f"end_{i}") or "",
                 "place": (form.get(f"place_{i}") or "").strip()} for i, subject in enumerate(documents_schemas.SUBJECTS)]

    def change(self, req, who, year, form):
        grade = (form.get("grade") or "").strip()
        if grade not in {str(g) for g in documents_schemas.GRADE_NAMES}:
            raise _Refused("请选择申报等级")
        rows = self._rows(form)
        missing = [r["subject"] for r in rows if not r["start"] or not r["end"]]
        if missing:
            raise _Refused(f"请填写{'、'.join(missing)}的开始时间和结束时间")
        body = {grade: [{"subject": r["subject"], "start": beijing_iso(r["start"]), "end": beijing_iso(r["end"]),
                         "place": r["place"]} for r in rows]}
        req.context.rpc.documents.put_timetable(who, year, body)
        return _page(year, f"grade-{grade}", saved=f"timetable_{grade}")

    def keep(self, form):
        return {"timetable_form": {"grade": form.get("grade"), "rows": self._rows(form)}}


class AdminExamAssign(_AdminExamForm):
    """安排考场 for the province or one city → {assigned, already, waiting} on the page."""

    section = "assign"

    def change(self, req, who, year, form):
        city = (form.get("city_code") or "").strip()
        result = req.context.rpc.documents.assign_seats(who, year, {"city_code": city} if city else {})
        return _page(year, "assign", assigned=result["assigned"], already=result["already"],
                     waiting=result["waiting"], assign_city=city)


class AdminExamJob(_AdminExamForm):
    """批量生成准考证 for the province or one city: the job, then the page following it."""

    section = "jobs"

    def change(self, req, who, year, form):
        city = (form.get("city_code") or "").strip()
        job = req.context.rpc.documents.create_job(who, {"kind": "tickets", "year": year,
                                                         **({"city_code": city} if city else {})})
        return _page(year, "jobs", job=job["job_id"])


class AdminExamTemplate:
    """The import templates: a CSV of the header row (UTF-8 with BOM: Excel opens it as such)."""

    def on_get(self, req, resp, name):
        auth.require_admin(req, "province")
        header = TEMPLATES.get(name)
        if header is None:
            raise falcon.HTTPNotFound()
        resp.content_type = "text/csv; charset=utf-8"
        resp.downloadable_as = {"exam-sites.csv": "考场导入模板.csv", "timetable.csv": "考试时间导入模板.csv"}[name]
        resp.data = ("\ufeff" + ",".join(header) + "\r\n").encode("utf-8")
        resp.set_header("Cache-Control", "no-store")

