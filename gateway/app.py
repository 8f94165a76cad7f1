"""The gateway: a Falcon WSGI app in front of the services. It owns nothing durable."""
from __future__ import annotations

import falcon
from falcon.routing import CompiledRouter

from kit.config import SERVICES, settings

from . import auth, errors, pages
from .api import admin, applicant, application, documents, overview, payment, public, review
from .body import require_storable
from .events import EventListener
from .metrics import Metrics, Observe
from .openapi import OpenApi
from .reference import Reference, host_stamps
from .rpc import Rpc, RpcPool
from .sessions import Sessions
from .views import KeptRpc, Views, after_request, wrote_recently


class RpcContext:
    """Puts the RPC facade (an applicant's views kept: gateway.views) and the kept reference
    data on every request."""

    def __init__(self, rpc: Rpc, reference: Reference, views: Views):
        self.rpc = rpc
        self.reference = reference
        self.views = views

    def process_request(self, req, resp):
        req.context.rpc = KeptRpc(self.rpc, self.views, wrote_recently(req))
        req.context.reference = self.reference

    def process_response(self, req, resp, resource, req_succeeded):
        after_request(req, resp, self.views)


class StorableRequest:
    """A path or query holding what no service could store (NUL, a lone surrogate) is a 400
    before anything else runs."""

    def process_request(self, req, resp):
        values = [req.path, *(v for value in req.params.values()
                              for v in (value if isinstance(value, list) else [value]))]
        for value in values:
            if isinstance(value, str):
                require_storable(value)


class SecurityHeaders:
    def process_response(self, req, resp, resource, req_succeeded):
        resp.set_header("X-Content-Type-Options", "nosniff")
        resp.set_header("X-Frame-Options", "DENY")
        resp.set_header("Referrer-Policy", "same-origin")
        if req.path.startswith("/api/"):
            resp.set_header("Cache-Control", "no-store")


def create_app(amqp_uri: str | None = None, rpc=None, listener=None, stamps=None) -> falcon.App:
    """The gateway on the broker at ``amqp_uri`` (default: the configuration), or on ``rpc``:
    anything of the same ``rpc.<service>.<method>(...)`` shape with a ``pool.call`` for the
    readiness pings (the gateway tests pass a fake and need no broker). ``listener``: what
    keeps the copies (sessions, reference data) fresh — by default gateway.events on the
    broker; none with a fake RPC unless the test gives one. ``stamps``: the host's shared
    stamps of kept reference data (gateway.reference.HostStamps; by default the file under
    ``GONGKAO_DATA_DIR``)."""
    cfg = settings()
    uri = None               # a fake RPC (the gateway tests): no broker, no principal cache
    if rpc is None:
        uri = amqp_uri or cfg.amqp_uri
        if not uri:
            raise RuntimeError("GONGKAO_AMQP_URI is not set")
        rpc = Rpc(RpcPool(uri, size=cfg.rpc_pool_size, timeout=cfg.rpc_timeout))
        ping_rpc = Rpc(RpcPool(uri, size=len(SERVICES), timeout=3.0))
    else:
        ping_rpc = rpc

    if listener is None and uri:
        listener = EventListener(uri)                   # one per process: copies kept fresh by events
    sessions = Sessions(rpc, listener)
    reference = Reference(rpc, listener, stamps or (host_stamps() if listener is not None else None))
    views = Views(listener)
    router = CompiledRouter()
    app = falcon.App(router=router, middleware=[Observe(router), StorableRequest(), RpcContext(rpc, reference, views),
                                                auth.AuthMiddleware(sessions), SecurityHeaders()])
    if listener is not None:
        listener.ensure_started()                       # again after a fork, if need be
    app.req_options.strip_url_path_trailing_slash = True
    mp = app.req_options.media_handlers[falcon.MEDIA_MULTIPART]
    mp.parse_options.max_body_part_buffer_size = cfg.upload_max_bytes + 1024
    mp.parse_options.max_body_part_count = 40
    errors.install(app)

    app.add_route("/healthz", public.Health())
    app.add_route("/readyz", public.Ready(ping_rpc))
    app.add_route("/metrics", Metrics())
    app.add_route("/api/v1/openapi.json", OpenApi())
    app.add_route("/api/v1/years/current", public.CurrentYear())
    app.add_route("/api/v1/cities", public.Cities())
    app.add_route("/api/v1/units", public.Units())
    app.add_route("/api/v1/trades", application.Trades())
    app.add_route("/api/v1/contacts", application.Contacts())
    app.add_route("/api/v1/photo-spec", application.PhotoSpec())

    app.add_route("/api/v1/sms-codes", applicant.SmsCodes())
    app.add_route("/api/v1/registrations", applicant.Registrations())
    app.add_route("/api/v1/sessions", applicant.Sessions())
    app.add_route("/api/v1/sessions/current", applicant.CurrentSession())
    app.add_route("/api/v1/sessions/unlock", applicant.Unlock())
    app.add_route("/api/v1/me", applicant.Me())
    app.add_route("/api/v1/me/password", applicant.Password(admin=False))
    app.add_route("/api/v1/me/application", application.Form())
    app.add_route("/api/v1/me/application/eligibility", application.Eligibility())
    app.add_route("/api/v1/me/application/choices", application.Choices())
    app.add_route("/api/v1/me/application/submit", application.Submit())
    app.add_route("/api/v1/me/application/files/personal_photo/stamp", application.Stamp())
    app.add_route("/api/v1/me/application/files/{kind}", application.File())
    app.add_route("/api/v1/me/review", review.MyReview())
    app.add_route("/api/v1/me/payment", payment.MyPayment())
    app.add_route("/api/v1/me/payment/orders", payment.Orders())
    app.add_route("/api/v1/me/payment/orders/{order_no}/cancel", payment.CancelOrder())
    app.add_route("/api/v1/me/ticket", documents.MyTicket())
    app.add_route("/api/v1/me/ticket.pdf", documents.MyTicketPdf())
    app.add_route("/api/v1/me/result", documents.MyResult())
    app.add_route("/api/v1/me/certificate", documents.MyCertificate())
    app.add_route("/api/v1/me/certificate.pdf", documents.MyCertificatePdf())
    app.add_route("/api/v1/certificates/{code}", documents.CertificateCheck())
    app.add_route("/api/v1/callbacks/nontax", payment.NontaxCallback())
    app.add_route("/api/v1/admin/payments", payment.Payments())
    app.add_route("/api/v1/admin/payments.xlsx", payment.PaymentsExport())
    app.add_route("/api/v1/admin/payments/offline", payment.OfflinePayments())
    app.add_route("/api/v1/admin/payments/reconcile", payment.Reconcile())
    app.add_route("/api/v1/admin/payments/mismatches", payment.Mismatches())

    app.add_route("/api/v1/admin/sessions", admin.AdminSessions())
    app.add_route("/api/v1/admin/sessions/current", applicant.CurrentSession(), suffix=None)
    app.add_route("/api/v1/admin/me", admin.AdminMe())
    app.add_route("/api/v1/admin/me/password", applicant.Password(admin=True))
    app.add_route("/api/v1/admin/admins", admin.Admins())
    app.add_route("/api/v1/admin/roster", admin.Roster())
    app.add_route("/api/v1/admin/accounts/{id_number}", admin.Account())
    app.add_route("/api/v1/admin/accounts/{id_number}/password-reset", admin.PasswordReset())
    app.add_route("/api/v1/admin/supplementary-registrations", admin.Supplementary())
    app.add_route("/api/v1/admin/years/{year:int}", admin.Year())
    app.add_route("/api/v1/admin/years/{year:int}/fees", admin.Fees())
    app.add_route("/api/v1/admin/audit", admin.Audit())
    app.add_route("/api/v1/admin/audit.xlsx", admin.AuditExport())
    app.add_route("/api/v1/admin/applications/{application_id}/files/{kind}", application.AdminFile())
    app.add_route("/api/v1/admin/trades", application.AdminTrades())
    app.add_route("/api/v1/admin/units", application.AdminUnits())
    app.add_route("/api/v1/admin/contacts", application.AdminContacts())
    app.add_route("/api/v1/admin/years/{year:int}/eligibility-rules", application.AdminRules())
    app.add_route("/api/v1/admin/reviews", review.Queue())
    app.add_route("/api/v1/admin/reviews.xlsx", review.QueueExport())
    app.add_route("/api/v1/admin/reviews/decisions", review.BatchDecisions())
    app.add_route("/api/v1/admin/reviews/{application_id}", review.CaseResource())
    app.add_route("/api/v1/admin/reviews/{application_id}/decisions", review.Decisions())
    app.add_route("/api/v1/admin/reviews/{application_id}/files/{kind}", review.Material())
    app.add_route("/api/v1/admin/review-chains/{city_code}", review.Chains())
    app.add_route("/api/v1/admin/years/{year:int}/exam-sites", documents.ExamSites())
    app.add_route("/api/v1/admin/years/{year:int}/timetable", documents.Timetable())
    app.add_route("/api/v1/admin/years/{year:int}/seat-assignments", documents.SeatAssignments())
    for fmt in ("xlsx", "pdf", "zip"):
        app.add_route(f"/api/v1/admin/years/{{year:int}}/seat-lists.{fmt}", documents.SeatLists(fmt))
    app.add_route("/api/v1/admin/ticket-checks/{code}", documents.TicketCheck())
    app.add_route("/api/v1/admin/years/{year:int}/pass-lines", documents.PassLines())
    app.add_route("/api/v1/admin/years/{year:int}/results", documents.Results())
    app.add_route("/api/v1/admin/years/{year:int}/results.xlsx", documents.ResultsExport())
    app.add_route("/api/v1/admin/years/{year:int}/scores.xlsx", documents.ScoresExport())
    app.add_route("/api/v1/admin/scores", documents.Scores())
    app.add_route("/api/v1/admin/assessment-history", documents.AssessmentHistory())
    app.add_route("/api/v1/admin/document-jobs", documents.DocumentJobs())
    app.add_route("/api/v1/admin/document-jobs/{job_id}", documents.DocumentJob())
    app.add_route("/api/v1/admin/document-jobs/{job_id}/archive.zip", documents.DocumentJobArchive())
    app.add_route("/api/v1/admin/statistics", overview.Statistics())
    app.add_route("/api/v1/admin/statistics.xlsx", overview.StatisticsExport())
    app.add_route("/api/v1/admin/applications.xlsx", overview.ApplicationsExport())

    pages.register(app)
    return app
