"""The few words every service of this exam shares (one source, Simplified Chinese as the
manual writes them): the five grades, the education levels, the review levels, the result
of the assessment and the administrators' audited actions. A service's own labels stay in
its ``schemas.py``."""
from __future__ import annotations

# Grades are integers (API.md): 5 五级 … 1 一级.
GRADE_NAMES = {5: "五级", 4: "四级", 3: "三级", 2: "二级", 1: "一级"}
EDUCATION_LEVELS = ("primary", "junior_high", "senior_high", "secondary_vocational", "technical_school",
                    "vocational_high", "junior_college", "bachelor", "master", "doctor")
EDUCATION_NAMES = {
    "primary": "小学", "junior_high": "初中", "senior_high": "高中", "secondary_vocational": "中专",
    "technical_school": "技校", "vocational_high": "职高", "junior_college": "大学专科",
    "bachelor": "大学本科", "master": "硕士研究生", "doctor": "博士研究生",
}
# The levels of the review chain (R-R1): review owns the chain; application's statistics
# count the cases waiting at each (issue 14).
REVIEW_LEVEL_NAMES = {"supervisor": "主管单位", "city": "省辖市", "province": "省评价中心"}
# 考核结果: documents computes it; application keeps a copy for the applicant's steps and exports.
RESULT_NAMES = {"pass": "合格", "fail": "不合格"}

# The administrators' actions in the one audit log (R-I11): every service records its own
# (``<service>.action_audited.v1``), identity keeps and exports the log and the 操作日志 page
# shows it — so the names are shared here, by the service that records each action.
AUDIT_ACTIONS = {
    # identity
    "year.update": "修改考核年度设置", "account.password_reset": "重置密码", "account.delete": "删除账号",
    "account.supplementary": "补报", "admin.create": "创建管理员", "roster.import": "导入社保名单",
    # application
    "units.import": "导入单位及主管单位", "trades.import": "导入工种目录", "contacts.update": "修改咨询电话",
    "rules.update": "修改申报条件", "reference.load": "载入单位及主管单位",
    # review
    "review_chain.set": "设置审核流程",
    # payment
    "fees.update": "设置考核费用及网上缴费地市", "payment.offline": "登记线下缴费", "payment.reconcile": "对账",
    # documents
    "exam_sites.set": "设置考点考场", "timetable.set": "设置考试时间", "seats.assign": "安排考场座位",
    "document_job.create": "批量生成文件", "pass_lines.set": "设置合格线", "scores.import": "导入成绩",
    "history.import": "导入历年考核记录",
}
