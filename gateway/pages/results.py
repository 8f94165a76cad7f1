"""After the exam (R-D3 … R-D5, R-P2): the applicant's 考核结果 and 打印电子证书 (with the
certificate's PDF passed on), and the public 证书核验 page a certificate's QR code opens.

Labels come from ``services.documents.schemas``."""
from __future__ import annotations

import logging
import re
from urllib.parse import quote

import falcon

from kit.errors import Conflict, NotFound, TooManyRequests
from services.documents import schemas as documents_schemas

from .. import auth, files
from ..source import source_of
from .applicant import applicant_progress
from .common import redirect, render_page, soft_principal, step_view

log = logging.getLogger(__name__)

NOT_FOUND_TEXT = "证书不存在或验证码有误"
CODE_CHARS = re.compile(r"^[A-Za-z0-9]{1,64}$")


def score_text(value) -> str:
    """A score as the page shows it: 80, 70.5 (scores have at most one decimal)."""
    if value is None or value == "":
        return "—"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{number:g}"


# --- the applicant: 考核结果 -------------------------------------------------------------------
class ResultPage:
    """考核结果 (R-D3, manual 三): 姓名, 身份证号, 准考证 and 考核结果：合格; or 不合格 with the
    考核成绩 table (科目, 本人分数, 单科最低线合格线, and 总成绩 with the total line). Outside the
    results window, or without a result, the reason alone. Three RPCs: the session, the steps,
    documents.my_result."""

    def on_get(self, req, resp):
        who, progress = applicant_progress(req)
        result = req.context.rpc.documents.my_result(who)
        available = bool(result.get("available"))
        rows = [{"subject": r.get("subject"), "score": score_text(r.get("score")),
                 "line": score_text(r.get("pass_line")),
                 "below": _below(r.get("score"), r.get("pass_line"))} for r in result.get("scores") or []]
        steps = step_view(progress.get("steps"))
        certificate = next((s for s in steps if s["key"] == "certificate"), None)
        render_page(req, resp, "result.html", who=who, progress=progress, result=result, available=available,
                    passed=available and result.get("result") == "pass", rows=rows,
                    total=score_text(result.get("total")), total_line=score_text(result.get("total_line")),
                    total_below=_below(result.get("total"), result.get("total_line")),
                    result_names=documents_schemas.RESULT_NAMES, certificate=certificate)


def _below(score, line) -> bool:
    try:
        return float(score) < float(line)
    except (TypeError, ValueError):
        return False


# --- the applicant: 打印电子证书 -----------------------------------------------------------------
class CertificatePage:
    """打印电子证书 (R-D4, R-D5, manual 四): 下载证书, 基本信息, 岗位等级考核记录, the verification
    code and the public URL its QR code holds; while not allowed (409 not_open: printing off,
    not 合格) the reason alone, no download. Three RPCs: the session, the steps,
    documents.my_certificate (which issues the certificate on first view)."""

    def on_get(self, req, resp):
        who, progress = applicant_progress(req)
        cert, reason = None, None
        try:
            cert = req.context.rpc.documents.my_certificate(who)
        except Conflict as exc:
            reason = exc.message or "电子证书暂不能下载"
        render_page(req, resp, "certificate.html", who=who, progress=progress, cert=cert, reason=reason,
                    title=documents_schemas.CERTIFICATE_TITLE, issuer=documents_schemas.ISSUER)


class CertificatePdf:
    """下载证书: the documents service's PDF passed on (an attachment); a refusal meanwhile
    (printing switched off) is the Chinese error page, not a file."""

    def on_get(self, req, resp):
        who = auth.require_applicant(req)
        files.pass_on(resp, req.context.rpc.documents.my_certificate_pdf(who))


# --- anyone: 证书核验 ---------------------------------------------------------------------------
class VerifyForm:
    """证书核验: a code typed in goes to its page (/verify/{code}); nothing is asked of any
    service until then."""

    def on_get(self, req, resp):
        raw = req.get_param("code")
        if raw is None:
            render_page(req, resp, "verify.html", who=soft_principal(req), state="form", code="", error=None)
            return
        code = re.sub(r"[\s-]+", "", raw).upper()
        if not code:
            error = "请输入证书验证码"
        elif not CODE_CHARS.match(code):
            error = "验证码由字母和数字组成，请核对后重新输入"
        else:
            redirect(resp, f"/verify/{quote(code, safe='')}")
            return
        resp.status = falcon.HTTP_400
        render_page(req, resp, "verify.html", who=soft_principal(req), state="form", code=raw.strip()[:64],
                    error=error)


class VerifyPage:
    """The page a certificate's QR code opens (R-D5): 证书有效 with only what confirms it
    (masked 姓名 and 身份证号, 等级, 工种, 年度, 发证日期); 404 for an unknown code, the
    service's 429 message past the per-source limit. One RPC (documents.check_certificate,
    counted per source address), and the session's when someone logged in opens it."""

    def on_get(self, req, resp, code):
        who = soft_principal(req)
        shown = code.strip()[:64]          # what the page repeats of the address
        try:
            check = req.context.rpc.documents.check_certificate(code, source_of(req))
        except NotFound:
            resp.status = falcon.HTTP_404
            render_page(req, resp, "verify.html", who=who, state="not_found", code=shown, error=NOT_FOUND_TEXT)
            return
        except TooManyRequests as exc:
            resp.status = falcon.HTTP_429
            retry = (exc.details or {}).get("retry_after") if isinstance(exc.details, dict) else None
            if retry:
                resp.set_header("Retry-After", str(retry))
            render_page(req, resp, "verify.html", who=who, state="throttled", code=shown,
                        error=exc.message or "查询过于频繁，请稍后再试")
            return
        render_page(req, resp, "verify.html", who=who, state="valid" if check.get("valid") else "invalid",
                    code=shown.upper(), check=check, title=documents_schemas.CERTIFICATE_TITLE,
                    issuer=documents_schemas.ISSUER, error=None)
