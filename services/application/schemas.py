"""Application's contract: its labels (the one source pages, scripts and PDFs take them
from), RPC payloads and event payloads. The bottom layer of the service: it imports nothing
of the service, and the rules (``domain``, ``eligibility``) import their labels from here."""
from __future__ import annotations

from pydantic import BaseModel

# --- labels ------------------------------------------------------------------------------
EDUCATION_LEVELS = ("primary", "junior_high", "senior_high", "secondary_vocational", "technical_school",
                    "vocational_high", "junior_college", "bachelor", "master", "doctor")
EDUCATION_NAMES = {
    "primary": "小学", "junior_high": "初中", "senior_high": "高中", "secondary_vocational": "中专",
    "technical_school": "技校", "vocational_high": "职高", "junior_college": "大学专科",
    "bachelor": "大学本科", "master": "硕士研究生", "doctor": "博士研究生",
}
# 中专/技校/职高 count as 高中 (manual, 学历要求).
EDUCATION_RANK = {
    "primary": 1, "junior_high": 2, "senior_high": 3, "secondary_vocational": 3, "technical_school": 3,
    "vocational_high": 3, "junior_college": 4, "bachelor": 5, "master": 6, "doctor": 7,
}
# Grades are integers (API.md): 5 五级 … 1 一级; 0 未定级 (current grade only).
GRADE_NAMES = {0: "未定级", 5: "五级", 4: "四级", 3: "三级", 2: "二级", 1: "一级"}
GRADE_TITLES = {5: "五级（初级工）", 4: "四级（中级工）", 3: "三级（高级工）", 2: "二级（技师）", 1: "一级（高级技师）"}
FILE_KINDS = ("id_card_photo", "personal_photo", "education_proof", "grade_certificate")
STAMPED_PHOTO = "personal_photo_stamped"  # 添加身份证号: a derived copy of the 2-inch photo
FILE_NAMES = {"id_card_photo": "身份证照片", "personal_photo": "个人照片",
              "education_proof": "学历证明材料", "grade_certificate": "现岗位等级证书",
              STAMPED_PHOTO: "添加身份证号的个人照片"}
ROUTES = ("years", "certificate")
ROUTE_NAMES = {"years": "按工作年限申报", "certificate": "按岗位等级证书申报"}
GRADE_ROUTES = {5: ("years",), 4: ("years", "certificate"), 3: ("years", "certificate"),
                2: ("certificate",), 1: ("certificate",)}
STATUSES = ("not_submitted", "in_review", "returned", "rejected", "approved")
STATUS_NAMES = {"not_submitted": "未提交", "in_review": "审核中", "returned": "退回", "rejected": "审核不通过",
                "approved": "审核通过"}
GENDER_NAMES = {"M": "男", "F": "女"}
STEP_NAMES = {"application": "报名信息", "review": "审核结果", "payment": "网上缴费", "ticket": "打印准考证",
              "result": "考核结果", "certificate": "打印电子证书"}


def labels() -> dict:
    """Every label of this service as JSON-ready data (pages hand it to their scripts)."""
    return {"education": EDUCATION_NAMES, "grades": {str(k): v for k, v in GRADE_NAMES.items()},
            "grade_titles": {str(k): v for k, v in GRADE_TITLES.items()}, "files": FILE_NAMES,
            "routes": ROUTE_NAMES, "statuses": STATUS_NAMES, "genders": GENDER_NAMES, "steps": STEP_NAMES}



class SupervisorOut(BaseModel):
    id: str
    name: str
    admin: str
    phone: str


class UnitOut(BaseModel):
    unit_id: str
    name: str
    city_code: str
    county_code: str | None
    supervisor: SupervisorOut


class CityOut(BaseModel):
    code: str
    name: str


class StoredFile(BaseModel):
    sha256: str
    content_type: str
    size: int
    width: int
    height: int


SUBMITTED = "application.submitted.v1"
UNIT_CHOSEN = "application.unit_chosen.v1"
DELETED = "application.deleted.v1"


# The 2-inch photo (R-A5, R-P3): one definition for the server's check and the photo tool.
PHOTO_SPEC = {
    "width": 413,            # stored size: 35×49 mm at 300 dpi
    "height": 579,
    "min_width": 295,        # smallest accepted source
    "min_height": 413,
    "ratio": 5 / 7,          # width / height
    "tolerance": 0.03,       # ±3 %
    "dpi": 300,
    "max_bytes": 5 * 1024 * 1024,
    "content_types": ["image/jpeg", "image/png"],
}
