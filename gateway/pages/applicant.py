"""The applicant's pages (and the public ones around them): root, login, register, home,
报名信息, 审核结果, password, logout, the manuals, 咨询电话 and the photo tool.

Each page asks the services as little as today's RPCs allow: the principal carries the year
and the ID number, which is all ``application.progress`` reads, so pages that do not show the
account do not ask identity for it."""
from __future__ import annotations

import logging
from itertools import groupby

from kit import clock
from services.application import schemas as application_schemas

from .. import auth, links
from .common import (
    STEP_PAGES,
    _at,
    app_window,
    cities,
    current_year,
    redirect,
    render_page,
    soft_principal,
    step_view,
    window_open,
)

log = logging.getLogger(__name__)

REJECTED_TEXT = ("审核员认为该报考人员不符合本年度报考条件，终止该报考人员本年度申报。报考人员无法再进行修改提交，"
                 "若报考人员对该审核意见有异议，可电话咨询审核人员。若沟通后认定符合报考条件，但需要修改报考填报信息，"
                 "需联系审核员将该条申请退回给本人后，再进行修改提交。")


def applicant_progress(req, notices: bool = False) -> tuple[dict, dict]:
    """The applicant and their progress (two RPCs with the session's); ``notices``: with the
    latest notices (消息通知, issue 14) in the same answer."""
    who = auth.require_applicant(req)
    return who, req.context.rpc.application.progress(who, notices=notices)


def applicant_account(req, notices: bool = False) -> tuple[dict, dict, dict]:
    """The applicant, identity's account and the progress, for pages that show the account."""
    who = auth.require_applicant(req)
    return who, auth.account(req), req.context.rpc.application.progress(who, notices=notices)


class Root:
    def on_get(self, req, resp):
        who = soft_principal(req)
        redirect(resp, "/home" if who and who.get("kind") == "applicant" else "/login")


class Login:
    def on_get(self, req, resp):
        render_page(req, resp, "login.html", who=soft_principal(req), application_window=app_window(current_year(req)))


class Register:
    def on_get(self, req, resp):
        cal = current_year(req)
        window = ((cal or {}).get("windows") or {}).get("registration")
        now = clock.local_now()
        is_open = window_open(window, now)
        if cal is None:
            closed_message = "本年度考核尚未开放，请关注省工考办通知"
        elif not window or not _at(window.get("start")) or not _at(window.get("end")):
            closed_message = "本年度注册时间尚未公布，请关注省工考办通知"
        elif now < _at(window["start"]):
            closed_message = "本年度注册尚未开始，请在注册时间内进行注册"
        else:
            closed_message = "本年度注册时间已结束，非注册时间段内不允许注册"
        render_page(req, resp, "register.html", who=soft_principal(req), application_window=app_window(cal),
                    year=cal, registration_window=window, registration_open=is_open,
                    closed_message=closed_message, cities=cities() if is_open else [])


def next_action(progress: dict, steps: list[dict], paid: bool = False) -> dict:
    """What the home page tells the applicant to do next, from the status and the steps:
    {text, href, button, next} where ``next`` is the first step still closed, with its reason.
    ``paid``: the fee is settled, so 网上缴费 (open for the rest of the year) is done."""
    status = progress.get("status") or "not_submitted"
    by_key = {s["key"]: s for s in steps}
    last_open = max((i for i, s in enumerate(steps) if s["enabled"]), default=-1)
    upcoming = steps[last_open + 1] if last_open + 1 < len(steps) else None
    application = by_key.get("application") or {}
    out: dict = {"text": "", "href": None, "button": None, "next": upcoming}
    if status == "not_submitted":
        if application.get("enabled"):
            out.update(text="请点击“报名信息”，依次如实填写相关信息。信息检测无误，请及时提交；如若不确定，请先保存信息，"
                            "待确认后再进行提交。", href=application.get("href"), button="填写报名信息")
        else:
            out.update(text=f"报名信息暂不能填写：{application.get('reason') or '暂不可用'}。")
        out["next"] = None
    elif status == "returned":
        if application.get("enabled"):
            out.update(text="您的报名信息已被退回。请在“审核结果”中查看退回原因，修改报名信息后重新提交。",
                       href=application.get("href"), button="修改报名信息")
        else:
            out.update(text=f"您的报名信息已被退回，暂不能修改：{application.get('reason') or '暂不可用'}。",
                       href=STEP_PAGES.get("review"), button="查看审核结果")
        out["next"] = None
    elif status == "in_review":
        out.update(text="报名信息已提交，正在审核中。请留意“审核结果”中的审核进度及审核结果。",
                   href=(by_key.get("review") or {}).get("href"), button="查看审核结果")
    elif status == "rejected":
        out.update(text="审核不通过，本年度申报已终止。如对审核意见有异议，可电话咨询审核人员。",
                   href=(by_key.get("review") or {}).get("href"), button="查看审核结果")
        out["next"] = None
    else:  # approved: the first open step after 审核结果 with a page, else what comes next
        ahead = [s for s in steps[steps.index(by_key["review"]) + 1:]] if "review" in by_key else []
        if paid:
            ahead = [s for s in ahead if s["key"] != "payment"]
        open_page = next((s for s in ahead if s["enabled"] and s["href"]), None)
        done = "报名信息已终审通过，考核费用已缴纳。" if paid else "报名信息已终审通过，"
        if open_page:
            out.update(text=f"{done}请办理“{open_page['title']}”。", href=open_page["href"],
                       button=open_page["title"])
            out["next"] = None
        elif paid:
            out.update(text=done, href=(by_key.get("payment") or {}).get("href"), button="查看缴费情况")
            out["next"] = next((s for s in ahead if not s["enabled"]), None)
        else:
            out.update(text="恭喜您，报名信息已终审通过！", href=(by_key.get("review") or {}).get("href"),
                       button="查看审核结果")
            out["next"] = next((s for s in ahead if not s["enabled"]), None)
    return out


class Home:
    """The home page: three RPCs (session, account, progress); the steps say whether the fee
    is paid (application learns it from payment's event); the progress brings the 消息通知."""

    def on_get(self, req, resp):
        who, account, progress = applicant_account(req, notices=True)
        steps = step_view(progress.get("steps"))
        paid = any(s["key"] == "payment" and s.get("done") for s in steps)
        guide = next_action(progress, steps, paid)
        render_page(req, resp, "home.html", who=who, progress=progress, account=account, guide=guide)


class ApplicationForm:
    """报名信息 (R-A1 … R-A6): the form with its data embedded; application.js keeps it live
    and saves through the API. ``choices`` is the service's first answer on what the form
    offers (routes, target trades, 工作年限 maximum, required marks): the page repeats no rule."""

    def on_get(self, req, resp):
        who, account = auth.require_applicant(req), auth.account(req)
        view = req.context.rpc.application.form_page(who, account)     # one RPC: form, check, choices, steps
        form, check, choices, progress = (links.form_for_applicant(view["form"]), view["eligibility"],
                                          view["choices"], view["progress"])
        units = req.context.reference.units(account["city_code"])
        trades = req.context.reference.trades()
        step = next((s for s in progress.get("steps") or [] if s.get("key") == "application"), None) or {}
        render_page(req, resp, "application.html", who=who, progress=progress, account=account, form=form,
                    units=units, trades=trades, eligibility=check, choices=choices,
                    labels=application_schemas.labels(),
                    can_delete=not (account.get("ever_submitted") or form.get("round")),
                    closed_reason=None if step.get("enabled", True) else step.get("reason"))


class ReviewResult:
    """审核结果 (R-R3): the status, every step with masked reviewer names, every level's
    contact; the 退回 reason, the 审核不通过 text, the 终审通过 line; the 消息通知 (from the
    progress, issue 14). The review answer carries the city and the 主管单位 the contacts are
    looked up by."""

    def on_get(self, req, resp):
        who, progress = applicant_progress(req, notices=True)
        rpc = req.context.rpc
        review = rpc.review.applicant_review(who)
        supervisor_id = review.get("supervisor_id") or (progress.get("supervisor") or {}).get("id")
        chain = review.get("chain") or []
        contacts = req.context.reference.review_contacts(review.get("city_code") or who.get("city_code"),
                                                         supervisor_id)
        contacts = [c for c in contacts if not chain or c["level"] in chain]
        status = review.get("status") or "not_submitted"
        payment = next((s for s in step_view(progress.get("steps")) if s["key"] == "payment"), None)
        render_page(req, resp, "review.html", who=who, progress=progress, review=review, status=status,
                    contacts=contacts, payment=payment, rejected_text=REJECTED_TEXT,
                    last_return=next((st for st in reversed(review.get("steps") or [])
                                      if st.get("decision") in ("return", "reject", "reopen")), None))


class Password:
    """修改密码, for applicants or administrators (constructor arguments, one template)."""

    def __init__(self, admin: bool):
        self.admin = admin
        self.api = "/api/v1/admin/me/password" if admin else "/api/v1/me/password"
        self.next_url = "/admin" if admin else "/home"

    def on_get(self, req, resp):
        if self.admin:
            who, progress = auth.require_admin(req), None
        else:
            who, progress = applicant_progress(req)
        render_page(req, resp, "password.html", who=who, progress=progress, admin=self.admin,
                    must_change=bool(who.get("must_change_password")), api=self.api, next_url=self.next_url)


class Logout:
    """退出: ``POST`` ends the session (the CSRF token rides along like every change). A ``GET``
    (a link from another site, an old bookmark) ends nothing: it shows the 退出 button."""

    def __init__(self, action: str, target: str):
        self.action = action      # where the 退出 button posts (this resource's own path)
        self.target = target      # where the browser goes afterwards

    def on_get(self, req, resp):
        who = soft_principal(req)
        if not who:
            redirect(resp, self.target)
            return
        render_page(req, resp, "logout.html", who=who, logout_action=self.action, logout_target=self.target)

    def on_post(self, req, resp):
        token = auth.token_of(req)
        if token:
            try:
                auth.logout(req, token)
            except Exception:  # noqa: BLE001 - the cookie goes anyway; the session idles out
                log.warning("logout could not reach identity")
        auth.clear_session_cookie(resp)
        redirect(resp, self.target)


class StaticPage:
    """A page with no data of its own (manuals, policies, the photo tool)."""

    def __init__(self, template: str):
        self.template = template

    def on_get(self, req, resp):
        render_page(req, resp, self.template, who=soft_principal(req))


class Contacts:
    """咨询电话 (R-P1): the 工考中心 phone and every 县区's phone, grouped by 省辖市."""

    def on_get(self, req, resp):
        data = req.context.reference.contacts()
        counties = sorted(data.get("counties") or [], key=lambda c: c["county_code"])
        groups = [(city, list(rows)) for city, rows in groupby(counties, key=lambda c: c.get("city_name") or "—")]
        render_page(req, resp, "manual/contacts.html", who=soft_principal(req), groups=groups,
                    contact_center_phone=data.get("center_phone"))
