"""Server-rendered pages (Jinja2), by area: ``applicant`` (and the public pages around it),
``review`` (the administrators' queue and case), ``admin``, ``reference``, ``payment``,
``documents`` (打印准考证, 考场安排); ``common`` holds the chrome and the rendering. (Later areas
get a module each.)

Every page uses ``templates/base.html``; forms post to the JSON API from ``static/*.js``. Pages
call the services only to show things: every change goes through the API, which (with the
service) checks it again. The exception: 考场安排's small forms (``documents``) post to the page
itself (CSRF token in the form, POST → redirect → GET) so that it works without script; they
call the same RPCs as the API, and the service checks them the same way."""
from __future__ import annotations

import falcon

from . import admin, applicant, documents, payment, reference, results, review, statistics
from .common import STATIC, PageHeaders, render_error

__all__ = ["register", "render_error"]


def register(app: falcon.App) -> None:
    app.add_middleware(PageHeaders())
    app.add_static_route("/static", str(STATIC))

    app.add_route("/", applicant.Root())
    app.add_route("/login", applicant.Login())
    app.add_route("/register", applicant.Register())
    app.add_route("/home", applicant.Home())
    app.add_route("/application", applicant.ApplicationForm())
    app.add_route("/review", applicant.ReviewResult())
    app.add_route("/payment", payment.PaymentPage())
    app.add_route("/result", results.ResultPage())
    app.add_route("/certificate", results.CertificatePage())
    app.add_route("/certificate.pdf", results.CertificatePdf())
    app.add_route("/verify", results.VerifyForm())
    app.add_route("/verify/{code}", results.VerifyPage())
    app.add_route("/password", applicant.Password(admin=False))
    app.add_route("/logout", applicant.Logout("/logout", "/login"))
    app.add_route("/manual/applicant", applicant.StaticPage("manual/applicant.html"))
    app.add_route("/manual/policies", applicant.StaticPage("manual/policies.html"))
    app.add_route("/manual/contacts", applicant.Contacts())
    app.add_route("/manual/admin", applicant.StaticPage("manual/admin.html"))
    app.add_route("/photo-tool", applicant.StaticPage("photo_tool.html"))
    app.add_route("/ticket", documents.TicketPage())
    app.add_route("/ticket.pdf", documents.TicketPdf())

    app.add_route("/admin", admin.AdminHome())
    app.add_route("/admin/login", admin.AdminLogin())
    app.add_route("/admin/logout", applicant.Logout("/admin/logout", "/admin/login"))
    app.add_route("/admin/password", applicant.Password(admin=True))
    app.add_route("/admin/accounts", admin.AdminAccounts())
    app.add_route("/admin/roster", admin.AdminRoster())
    app.add_route("/admin/supplementary", admin.AdminSupplementary())
    app.add_route("/admin/admins", admin.AdminAdmins())
    app.add_route("/admin/years", admin.AdminYears())
    app.add_route("/admin/fees", payment.AdminFees())
    app.add_route("/admin/payments", payment.AdminPayments())
    app.add_route("/admin/results", results.AdminResults())
    app.add_route("/admin/results/pass-lines", results.AdminResults(), suffix="pass_lines")
    app.add_route("/admin/results/jobs", results.AdminResults(), suffix="jobs")
    app.add_route("/admin/audit", admin.AdminAudit())
    app.add_route("/admin/statistics", statistics.AdminStatistics())
    app.add_route("/admin/reference", reference.AdminReference())
    app.add_route("/admin/reviews", review.AdminReviews())
    app.add_route("/admin/reviews/{application_id}", review.AdminReviewCase())
    app.add_route("/admin/exam", documents.AdminExam())
    app.add_route("/admin/exam/sites", documents.AdminExamSite())
    app.add_route("/admin/exam/timetable", documents.AdminExamTimetable())
    app.add_route("/admin/exam/assign", documents.AdminExamAssign())
    app.add_route("/admin/exam/jobs", documents.AdminExamJob())
    app.add_route("/admin/exam/templates/{name}", documents.AdminExamTemplate())
