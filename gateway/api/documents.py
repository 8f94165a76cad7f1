"""The documents API (R-D1, R-D2, R-D6): the exam's arrangement (sites and rooms, the
timetable, seats), the applicant's admission ticket and its PDF, bulk jobs and their ZIP.
Every call is checked again by the documents service."""
from __future__ import annotations

import falcon

from services.documents import schemas as documents

from .. import auth, files
from ..body import json_body, model_body, upload
from ..source import source_of

SEATS_QUERY = ("status", "city_code", "grade", "page", "page_size")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _is_upload(req) -> bool:
    return (req.content_type or "").startswith("multipart/form-data")


class ExamSites:
    """考点 and 考场: JSON (the list), or an Excel/CSV file with one row per 考场."""

    def on_get(self, req, resp, year):
        resp.media = req.context.rpc.documents.get_exam_sites(auth.require_admin(req), year)

    def on_put(self, req, resp, year):
        who = auth.require_admin(req, "province")
        if _is_upload(req):
            resp.media = upload(req, "documents", "exam_sites_sheet", who, {"year": year}, what="考场表（Excel 或 CSV）")
            return
        resp.media = req.context.rpc.documents.put_exam_sites(who, year, {"sites": json_body(req, True, list)})


class Timetable:
    """The three subjects' times per grade: JSON, or an Excel/CSV file, one row per subject."""

    def on_get(self, req, resp, year):
        resp.media = req.context.rpc.documents.get_timetable(auth.require_admin(req), year)

    def on_put(self, req, resp, year):
        who = auth.require_admin(req, "province")
        if _is_upload(req):
            resp.media = upload(req, "documents", "timetable_sheet", who, {"year": year},
                                what="考试时间表（Excel 或 CSV）")
            return
        resp.media = req.context.rpc.documents.put_timetable(who, year, json_body(req, True))


class SeatAssignments:
    """安排考场: seats every eligible applicant without one; GET lists who sits where and
    who is waiting, and why."""

    def on_get(self, req, resp, year):
        who = auth.require_admin(req, "province", "city")
        query = {k: req.get_param(k) for k in SEATS_QUERY if req.get_param(k) not in (None, "")}
        resp.media = req.context.rpc.documents.seats(who, year, query)

    def on_post(self, req, resp, year):
        who = auth.require_admin(req, "province")
        resp.media = req.context.rpc.documents.assign_seats(who, year, model_body(req, documents.SeatAssignment)
                                                            if req.content_length else {})


class SeatLists:
    """考场座次表 for the proctors: Excel (a sheet per room), PDF (a page per room) or a ZIP of
    one PDF per 考点; query ``city_code``, ``site_code``."""

    def __init__(self, fmt: str):
        self.fmt = fmt

    def on_get(self, req, resp, year):
        who = auth.require_admin(req, "province", "city")
        query = {k: req.get_param(k) for k in ("city_code", "site_code") if req.get_param(k) not in (None, "")}
        files.pass_on(resp, req.context.rpc.documents.seat_lists_export(who, year, self.fmt, query))


class TicketCheck:
    """A proctor checks the code of a ticket's QR code (the number and its signature)."""

    def on_get(self, req, resp, code):
        resp.media = req.context.rpc.documents.check_ticket(auth.require_admin(req), code)


class DocumentJobs:
    def on_post(self, req, resp):
        who = auth.require_admin(req, "province")
        resp.media = req.context.rpc.documents.create_job(who, model_body(req, documents.NewJob))
        resp.status = falcon.HTTP_202


class DocumentJob:
    def on_get(self, req, resp, job_id):
        resp.media = req.context.rpc.documents.job(auth.require_admin(req, "province"), job_id)


class DocumentJobArchive:
    def on_get(self, req, resp, job_id):
        who = auth.require_admin(req, "province")
        files.pass_on(resp, req.context.rpc.documents.job_archive(who, job_id))


class MyTicket:
    def on_get(self, req, resp):
        resp.media = req.context.rpc.documents.my_ticket(auth.require_applicant(req))


class MyTicketPdf:
    def on_get(self, req, resp):
        files.pass_on(resp, req.context.rpc.documents.my_ticket_pdf(auth.require_applicant(req)))


# --- after the exam (R-D3, R-D4, R-D5) ----------------------------------------------------------
class PassLines:
    def on_get(self, req, resp, year):
        resp.media = req.context.rpc.documents.get_pass_lines(auth.require_admin(req), year)

    def on_put(self, req, resp, year):
        who = auth.require_admin(req, "province")
        resp.media = req.context.rpc.documents.put_pass_lines(who, year, model_body(req, documents.PassLines))


class Scores:
    """成绩导入: CSV or Excel; the report lists what was imported, replaced and refused."""

    def on_put(self, req, resp):
        who = auth.require_admin(req, "province")
        resp.media = upload(req, "documents", "scores_sheet", who, what="成绩表（Excel 或 CSV）")


class AssessmentHistory:
    def on_put(self, req, resp):
        who = auth.require_admin(req, "province")
        resp.media = upload(req, "documents", "history_csv", who, what="历年考核记录（CSV 或 Excel）")


def _by(req) -> dict:
    return {"by": req.get_param("by")} if req.get_param("by") else {}


class Results:
    """考核结果统计 by city, grade or trade; Accept xlsx (or results.xlsx) for the Excel."""

    def on_get(self, req, resp, year):
        who = auth.require_admin(req, "province", "city")
        if XLSX in (req.get_header("Accept") or ""):
            files.pass_on(resp, req.context.rpc.documents.results_export(who, year, _by(req)))
            return
        resp.media = req.context.rpc.documents.results_stats(who, year, _by(req))


class ResultsExport:
    def on_get(self, req, resp, year):
        who = auth.require_admin(req, "province", "city")
        files.pass_on(resp, req.context.rpc.documents.results_export(who, year, _by(req)))


class ScoresExport:
    """考核成绩名单 as Excel: a row per candidate with scores (query city_code, grade, result)."""

    def on_get(self, req, resp, year):
        who = auth.require_admin(req, "province", "city")
        query = {k: req.get_param(k) for k in ("city_code", "grade", "result") if req.get_param(k) not in (None, "")}
        files.pass_on(resp, req.context.rpc.documents.scores_export(who, year, query))


class MyResult:
    def on_get(self, req, resp):
        resp.media = req.context.rpc.documents.my_result(auth.require_applicant(req))


class MyCertificate:
    def on_get(self, req, resp):
        resp.media = req.context.rpc.documents.my_certificate(auth.require_applicant(req))


class MyCertificatePdf:
    def on_get(self, req, resp):
        files.pass_on(resp, req.context.rpc.documents.my_certificate_pdf(auth.require_applicant(req)))


class CertificateCheck:
    """Anyone checks a certificate's code (R-D5); counted per source address."""

    def on_get(self, req, resp, code):
        resp.media = req.context.rpc.documents.check_certificate(code, source_of(req))
