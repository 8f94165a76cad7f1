"""After the exam (R-D3 … R-D6, R-P2, R-P4): the applicant's 考核结果 and 打印电子证书 (with the
certificate's PDF passed on), the public 证书核验 page a certificate's QR code opens, and the
administrators' 考核结果管理 (合格线, 成绩导入, 考核结果统计 with its Excel, 历年考核记录导入 and
批量生成电子证书).

The small forms of 考核结果管理 (合格线, 批量生成电子证书) are plain HTML forms (CSRF token in the
form, POST → redirect → GET) so the page works without script; a refusal is shown on the page
with what was typed and changes nothing (the documents service checks everything again). The
two imports go to the JSON API from ``static/results-admin.js``, which shows their reports and
follows a bulk job every 2 s (without script, reloading the page follows it). Labels come from
``services.documents.schemas``."""
from __future__ import annotations

import logging
import re
import secrets
from urllib.parse import quote, urlencode

import falcon

from kit import clock, regions
from kit.errors import Conflict, NotFound, ServiceError, TooManyRequests
from services.documents import schemas as documents_schemas

from .. import auth, files
from ..source import source_of
from .applicant import applicant_progress
from .common import (
    cities,
    current_year,
    form_year,
    plain_form,
    redirect,
    render_page,
    scope_label,
    soft_principal,
    step_view,
)

log = logging.getLogger(__name__)

# 合格线 form: one field per subject (ASCII names, the subjects' own names on the page)
SUBJECT_FIELDS = {"职业道德": "ethics", "职业能力": "ability", "岗位技能": "skill"}
SUBJECT_MAX, TOTAL_MAX = 100, 300          # as services.documents.schemas.PassLines allows
STATS_BY = {"city": "省辖市", "grade": "等级", "trade": "工种"}
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


def rate_text(rate) -> str:
    try:
        return f"{float(rate) * 100:.1f}%"
    except (TypeError, ValueError):
        return "—"


def city_label(code: str | None) -> str:
    return (regions.city_name(code or "") or code or "—") if code else "全省"


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


# --- administrators: 考核结果管理 ---------------------------------------------------------------
def _whole(text: str, label: str, top: int) -> tuple[int | None, str | None]:
    """A 合格线 typed in: a whole number 0…top, or why not."""
    text = (text or "").strip()
    if not text:
        return None, f"请填写{label}合格线"
    if not re.fullmatch(r"\d{1,3}", text):
        return None, f"{label}合格线须为0–{top}之间的整数"
    value = int(text)
    if value > top:
        return None, f"{label}合格线须为0–{top}之间的整数"
    return value, None


def _page_url(year: int, **params) -> str:
    query = {"year": year, **{k: v for k, v in params.items() if v}}
    anchor = params.get("saved") or ("cert-job" if params.get("job") else None)
    return "/admin/results?" + urlencode(query) + (f"#{anchor}" if anchor else "")


class AdminResults:
    """考核结果管理 (R-D3 … R-D6, R-P4). The province sets the year's 合格线, imports scores and
    earlier years' records, reads the statistics and makes every certificate of the year in
    one job; a city administrator reads its own city's statistics only. GET costs the session,
    the current year, then for the province documents.get_pass_lines and results_stats (and
    documents.job while a job is followed), for a city results_stats alone."""

    def on_get(self, req, resp):
        who = auth.require_admin(req, "province", "city")
        self.render(req, resp, who)

    def on_post_pass_lines(self, req, resp):
        """合格线 of a year: three whole numbers 0–100 and the total 0–300; PRG on success."""
        who = auth.require_admin(req, "province")
        form = plain_form(req)
        year = form_year(form.get("year"))
        typed = {name: (form.get(name) or "").strip()[:10] for name in (*SUBJECT_FIELDS.values(), "total")}
        errors: dict[str, str] = {}
        if year is None:
            errors["pass_lines"] = "考核年度应为2000至2100之间的四位数字"
        subjects = {}
        for subject, name in SUBJECT_FIELDS.items():
            value, error = _whole(typed[name], subject, SUBJECT_MAX)
            if error:
                errors[name] = error
            subjects[subject] = value
        total, error = _whole(typed["total"], "总成绩", TOTAL_MAX)
        if error:
            errors["total"] = error
        if not errors:
            try:
                req.context.rpc.documents.put_pass_lines(who, year, {"subjects": subjects, "total": total})
            except ServiceError as exc:
                if exc.status >= 500:
                    raise
                errors["pass_lines"] = exc.message or "合格线未能保存"
        if errors:
            errors.setdefault("pass_lines", "合格线未保存，请按提示修改后重新提交")
            resp.status = falcon.HTTP_400
            self.render(req, resp, who, year=year, errors=errors, typed=typed)
            return
        redirect(resp, _page_url(year, saved="pass-lines"))

    def on_post_jobs(self, req, resp):
        """批量生成电子证书 of a year (the whole province or one city): the job, then the page
        following it."""
        who = auth.require_admin(req, "province")
        form = plain_form(req)
        year = form_year(form.get("year"))
        city = (form.get("city_code") or "").strip()
        error = None
        if year is None:
            error = "考核年度应为2000至2100之间的四位数字"
        elif city and city not in {c["code"] for c in cities()}:
            error = "请选择省辖市、直辖区，或选择全省"
        job = None
        if error is None:
            try:
                job = req.context.rpc.documents.create_job(who, {"kind": "certificates", "year": year,
                                                                 "city_code": city or None})
            except ServiceError as exc:
                if exc.status >= 500:
                    raise
                error = exc.message or "批量任务未能创建"
        if error:
            resp.status = falcon.HTTP_400
            self.render(req, resp, who, year=year, errors={"jobs": error}, typed={"city_code": city})
            return
        redirect(resp, _page_url(year, job=job["job_id"]))

    def render(self, req, resp, who: dict, year: int | None = None, errors: dict | None = None,
               typed: dict | None = None) -> None:
        rpc = req.context.rpc
        errors = dict(errors or {})
        province = who.get("role") == "province"
        cal = current_year(req)
        current = int((cal or {}).get("year") or clock.local_now().year)
        if year is None:
            year = form_year(req.get_param("year")) or current
        by = req.get_param("by") if req.get_param("by") in STATS_BY else "city"

        lines = None
        if province:
            lines = rpc.documents.get_pass_lines(who, year)
        try:
            stats = rpc.documents.results_stats(who, year, {"by": by})
        except ServiceError as exc:
            if exc.status >= 500:
                raise
            errors.setdefault("stats", exc.message)
            stats = {"rows": [], "total": {"sat": 0, "passed": 0, "rate": 0}}
        for row in stats.get("rows") or []:
            row["rate_text"] = rate_text(row.get("rate"))
        stats["total"] = {**(stats.get("total") or {}), "rate_text": rate_text((stats.get("total") or {}).get("rate"))}

        job = None
        job_id = (req.get_param("job") or "").strip()
        if province and job_id:
            try:
                job = rpc.documents.job(who, job_id)
            except ServiceError as exc:
                if exc.status >= 500:
                    raise
                errors.setdefault("jobs", exc.message or "没有找到该批量任务")
            if job:
                job["status_name"] = documents_schemas.JOB_STATUSES.get(job["status"], job["status"])
                job["city_name"] = city_label(job.get("city_code"))
                job["zip_url"] = f"/api/v1/admin/document-jobs/{quote(job['job_id'], safe='')}/archive.zip"
                # a new address each time: a link to the page's own address and anchor would
                # only scroll, not load it again (no script: 刷新进度 is how the job is followed)
                job["refresh_url"] = "/admin/results?" + urlencode(
                    {"year": year, "job": job["job_id"], "t": secrets.token_hex(4)}) + "#cert-job"

        same_year = bool(cal) and int(cal.get("year") or 0) == year
        switches = ((cal or {}).get("switches") or {}) if same_year else {}
        windows = ((cal or {}).get("windows") or {}) if same_year else {}
        typed = typed or {}
        if province and lines and not any(k in typed for k in SUBJECT_FIELDS.values()):
            typed = {**typed, **{name: str(lines["subjects"].get(subject, "")) for subject, name in
                                 SUBJECT_FIELDS.items()}, "total": str(lines.get("total", ""))}
        query = {"year": year, "by": by}
        render_page(req, resp, "admin/results.html", who=who, year=year, current=current, province=province,
                    scope=scope_label(who.get("role"), who.get("scope_code")), lines=lines, typed=typed,
                    errors=errors, saved=req.get_param("saved") if req.method == "GET" else None,
                    stats=stats, by=by, stats_by=STATS_BY, by_label=STATS_BY[by],
                    export_url=f"/api/v1/admin/years/{year}/results.xlsx?" + urlencode({"by": by}),
                    scores_url=f"/api/v1/admin/years/{year}/scores.xlsx",
                    stats_url=lambda key: "/admin/results?" + urlencode({**query, "by": key}) + "#stats",
                    job=job, same_year=same_year, printing_on=switches.get("certificate_printing"),
                    results_window=windows.get("results"), cities=cities(),
                    subject_fields=SUBJECT_FIELDS, subject_max=SUBJECT_MAX, total_max=TOTAL_MAX,
                    labels={"jobs": documents_schemas.JOB_STATUSES, "subjects": list(documents_schemas.SUBJECTS)})
