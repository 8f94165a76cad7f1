"""The few words every service of this exam shares (one source, Simplified Chinese as the
manual writes them): the five grades, the education levels, the review levels and the
result of the assessment. A service's own labels stay in its ``schemas.py``."""
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
