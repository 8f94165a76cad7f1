"""Eligibility rules of the 报名信息 form (SPEC R-A4, R-A6; the manual's 基本信息填报注意点 1–15),
table-driven: each row starts from a fully valid form for its grade and route, changes one
thing, and names exactly the rules that fail."""
from __future__ import annotations

import dataclasses
import json

import pytest

from services.application.eligibility import (
    EDUCATION_LEVELS,
    EDUCATION_NAMES,
    FILE_KINDS,
    GRADE_NAMES,
    RULE_IDS,
    Catalogue,
    Form,
    RuleSet,
    allowed_routes,
    allowed_target_trades,
    evaluate,
    failed,
    max_service_years,
)

EXAM_YEAR = 2026
RULES = RuleSet()
CATALOGUE = Catalogue(
    names={
        "T001": "汽车驾驶员", "T002": "打字员", "T003": "护理员", "T004": "电工", "T005": "保育员",
        "T010": "计算机信息处理员", "T020": "机动车驾驶员", "T030": "养老护理员", "T040": "园林绿化工",
    },
    mapping={"T001": ("T020",), "T002": ("T010",), "T003": ("T003", "T030"), "T005": ()},
    driver_code="T001",
)
FILES = frozenset({"id_card_photo", "personal_photo", "education_proof"})
WITH_CERTIFICATE = FILES | {"grade_certificate"}

# A man born 1980-06 (46 in the exam year), working since 2000-07 (at most 27 years of service).
_PERSON = dict(exam_year=EXAM_YEAR, gender="M", birth_month="1980-06", unit_id="U1", education="senior_high",
               work_start="2000-07", service_years=20, prohibited=False, pledge=True)
_BASES = {
    (5, "years"): dict(current_grade=0, target_trade="T004", files=FILES),
    (4, "years"): dict(current_grade=5, current_trade="T002", grade_obtained_year=2019, target_trade="T010",
                       files=FILES),
    (4, "certificate"): dict(current_grade=5, current_trade="T002", grade_obtained_year=2019,
                             target_trade="T010", files=WITH_CERTIFICATE),
    (3, "years"): dict(current_grade=4, current_trade="T002", grade_obtained_year=2019, target_trade="T010",
                       files=FILES),
    (3, "certificate"): dict(current_grade=4, current_trade="T002", grade_obtained_year=2019,
                             target_trade="T010", files=WITH_CERTIFICATE),
    (2, "certificate"): dict(current_grade=3, current_trade="T003", grade_obtained_year=2019,
                             target_trade="T003", files=WITH_CERTIFICATE),
    (1, "certificate"): dict(current_grade=2, current_trade="T003", grade_obtained_year=2019,
                             target_trade="T003", service_years=26, files=WITH_CERTIFICATE),
}


def base(grade: int = 4, via: str | None = None, **overrides) -> Form:
    """A fully valid form applying for ``grade`` by ``via`` (default: by years for 五级/四级/三级),
    with ``overrides`` applied."""
    via = via or ("years" if grade >= 3 else "certificate")
    values = {**_PERSON, **_BASES[(grade, via)], "target_grade": grade, "route": via, **overrides}
    return Form(**values)


def case(name, form, fails=(), *, rule=None, says=None, field=None, rules=RULES):
    """One row: the form, the rules that must fail (exactly), and optionally one rule's message
    fragment and field."""
    return pytest.param(form, rules, frozenset(fails), rule, says, field, id=name)


# 二级 applicants by age and gender (exam year 2026).
def grade2(gender: str, age: int, education: str) -> Form:
    return base(2, gender=gender, birth_month=f"{EXAM_YEAR - age}-03", education=education)


CASES = [
    # --- base forms ---
    *[case(f"base-grade{g}-{via}", base(g, via)) for g, via in _BASES],
    # --- required ---
    case("required-unit-missing", base(unit_id=None), ["required"],
         rule="required", says="单位信息", field="unit_id"),
    case("required-unit-blank", base(unit_id="  "), ["required"]),
    case("required-two-missing-named-together", base(unit_id=None, education=None), ["required"],
         rule="required", says="以下必填项未填写：单位信息、文化程度", field="unit_id"),
    case("required-education-missing", base(education=None), ["required"],
         rule="required", says="文化程度", field="education"),
    case("required-education-missing-grade2", base(2, education=None), ["required", "R-A4.7"],
         rule="R-A4.7", says="请先选择文化程度", field="education"),
    case("required-education-unknown", base(education="phd"), ["required"],
         rule="required", says="文化程度：无效的取值", field="education"),
    case("required-work-start-missing", base(work_start=None), ["required", "R-A4.2", "R-A4.3"],
         rule="required", says="参加工作时间", field="work_start"),
    case("required-work-start-malformed", base(work_start="2000/07"), ["required", "R-A4.2", "R-A4.3"],
         rule="required", says="格式应为YYYY-MM", field="work_start"),
    case("required-service-years-missing", base(service_years=None), ["required", "R-A4.3", "R-A4.5"],
         rule="required", says="工作年限", field="service_years"),
    case("required-current-grade-missing", base(current_grade=None),
         ["required", "R-A4.4", "R-A4.8", "R-A4.10"], rule="R-A4.4", says="请先选择现岗位等级",
         field="current_grade"),
    case("required-current-grade-unknown", base(current_grade=7),
         ["required", "R-A4.4", "R-A4.8", "R-A4.10"], rule="required", says="现岗位等级：取值无效",
         field="current_grade"),
    case("required-target-trade-missing", base(target_trade=None), ["required", "R-A4.8"],
         rule="required", says="申报岗位工种", field="target_trade"),
    case("required-route-missing", base(route=None), ["required", "R-A4.5", "R-A4.6"],
         rule="required", says="申报途径", field="route"),
    case("required-route-unknown", base(route="exam"), ["required", "R-A4.5", "R-A4.6"],
         rule="required", says="申报途径：无效的取值", field="route"),
    case("required-prohibited-unanswered", base(prohibited=None), ["required", "R-A4.12"],
         rule="required", says="是否存在禁止申报的情形", field="prohibited"),
    case("required-pledge-unticked", base(pledge=False), ["required"],
         rule="required", says="本人承诺", field="pledge"),
    case("required-birth-month-malformed", base(5, birth_month="1980"), ["required", "R-A4.1", "R-A4.2"],
         rule="required", says="出生年月", field="birth_month"),
    # --- routes the grade does not offer ---
    case("route-grade5-by-certificate", base(5, route="certificate", files=WITH_CERTIFICATE), ["required"],
         rule="required", says="申报五级（初级工）只能按工作年限申报", field="route"),
    case("route-grade2-by-years", base(2, route="years"), ["required"],
         rule="required", says="申报二级（技师）只能按岗位等级证书申报", field="route"),
    case("route-grade1-by-years", base(1, route="years"), ["required"],
         rule="required", says="申报一级（高级技师）只能按岗位等级证书申报", field="route"),
    # --- R-A4.1 age 8–65 ---
    case("age-7-fails", base(5, birth_month="2019-03"), ["R-A4.1", "R-A4.2"],
         rule="R-A4.1", says="年龄限制在8—65岁", field="birth_month"),
    case("age-8-passes-rule1", base(5, birth_month="2018-03"), ["R-A4.2"]),
    case("age-65-passes", base(5, birth_month="1961-03")),
    case("age-66-fails", base(5, birth_month="1960-03"), ["R-A4.1"],
         rule="R-A4.1", says="当前为66岁", field="birth_month"),
    # --- R-A4.2 参加工作时间 more than 8 years after birth ---
    case("work-start-8-years-after-birth-fails", base(work_start="1988-09"), ["R-A4.2"],
         rule="R-A4.2", says="限制大于8年", field="work_start"),
    case("work-start-9-years-after-birth-passes", base(work_start="1989-01")),
    case("work-start-after-exam-year-fails", base(5, work_start="2027-01", service_years=0), ["R-A4.2"],
         rule="R-A4.2", says="不能晚于报考年份", field="work_start"),
    case("work-start-in-exam-year-passes", base(5, work_start="2026-12", service_years=1)),
    case("work-start-before-birth-fails", base(5, work_start="1979-01"), ["R-A4.2"],
         rule="R-A4.2", says="不能早于出生年月", field="work_start"),
    # --- R-A4.3 工作年限 ≤ exam year − work-start year + 1 (2026 − 2000 + 1 = 27) ---
    case("service-years-at-maximum-passes", base(service_years=27)),
    case("service-years-above-maximum-fails", base(service_years=28), ["R-A4.3"],
         rule="R-A4.3", says="只允许往下修改", field="service_years"),
    case("service-years-negative-fails", base(5, service_years=-1), ["R-A4.3"],
         rule="R-A4.3", says="不能为负数", field="service_years"),
    case("service-years-zero-passes-grade5", base(5, service_years=0)),
    # --- R-A4.4 现岗位工种 required unless 未定级 ---
    case("unrated-without-current-trade-passes", base(5, current_grade=0, current_trade=None),
         rule="R-A4.4", says="未定级"),
    case("grade4-current-without-trade-fails", base(3, current_trade=None), ["R-A4.4"],
         rule="R-A4.4", says="必填项", field="current_trade"),
    case("current-trade-unknown-code", base(3, current_trade="T999"), ["R-A4.4"],
         rule="R-A4.4", says="未知的工种代码", field="current_trade"),
    # --- R-A4.5 工龄 ---
    case("grade4-years-9-fails", base(4, service_years=9), ["R-A4.5"],
         rule="R-A4.5", says="需工龄≥10年，当前为9年", field="service_years"),
    case("grade4-years-10-passes", base(4, service_years=10)),
    case("grade3-years-17-fails", base(3, service_years=17), ["R-A4.5"],
         rule="R-A4.5", says="需工龄≥18年，当前为17年", field="service_years"),
    case("grade3-years-18-passes", base(3, service_years=18)),
    case("grade1-24-fails", base(1, service_years=24), ["R-A4.5"],
         rule="R-A4.5", says="需工龄≥25年，当前为24年", field="service_years"),
    case("grade1-25-passes", base(1, service_years=25)),
    case("grade5-no-minimum", base(5, service_years=0), rule="R-A4.5", says="不限工龄"),
    case("grade4-certificate-ignores-years", base(4, "certificate", service_years=0),
         rule="R-A4.5", says="不适用"),
    case("grade2-ignores-years", base(2, service_years=0), rule="R-A4.5", says="不适用"),
    # --- R-A4.6 certificate: the grade below, held ≥ 5 years ---
    case("grade4-certificate-4-years-fails", base(4, "certificate", grade_obtained_year=2022), ["R-A4.6"],
         rule="R-A4.6", says="当前为2026−2022=4年", field="grade_obtained_year"),
    case("grade4-certificate-5-years-passes", base(4, "certificate", grade_obtained_year=2021)),
    case("grade3-certificate-4-years-fails", base(3, "certificate", grade_obtained_year=2022), ["R-A4.6"]),
    case("grade3-certificate-5-years-passes", base(3, "certificate", grade_obtained_year=2021)),
    case("grade2-certificate-4-years-fails", base(2, grade_obtained_year=2022), ["R-A4.6"]),
    case("grade2-certificate-5-years-passes", base(2, grade_obtained_year=2021)),
    case("grade1-certificate-4-years-fails", base(1, grade_obtained_year=2022), ["R-A4.6"]),
    case("grade1-certificate-5-years-passes", base(1, grade_obtained_year=2021)),
    case("grade3-certificate-from-grade5-fails", base(3, "certificate", current_grade=5), ["R-A4.6"],
         rule="R-A4.6", says="须现岗位等级为四级（中级工），当前为五级", field="current_grade"),
    case("grade4-certificate-from-unrated-fails", base(4, "certificate", current_grade=0), ["R-A4.6"],
         rule="R-A4.6", says="当前为未定级", field="current_grade"),
    case("grade1-from-grade3-fails", base(1, current_grade=3), ["R-A4.6"],
         rule="R-A4.6", says="须现岗位等级为二级（技师）", field="current_grade"),
    case("certificate-year-missing", base(2, grade_obtained_year=None), ["R-A4.6"],
         rule="R-A4.6", says="请先填写现等级取得时间", field="grade_obtained_year"),
    case("certificate-year-after-exam-year", base(2, grade_obtained_year=2027), ["R-A4.6"],
         rule="R-A4.6", says="不能晚于报考年份", field="grade_obtained_year"),
    case("certificate-year-before-age-8", base(2, grade_obtained_year=1987), ["R-A4.6"],
         rule="R-A4.6", says="不能早于1988年", field="grade_obtained_year"),
    case("grade4-years-ignores-certificate", base(4, current_grade=0, grade_obtained_year=None),
         rule="R-A4.6", says="不适用"),
    # --- R-A4.7 二级 education ---
    case("grade2-senior-high-passes", grade2("M", 46, "senior_high")),
    case("grade2-secondary-vocational-counts-as-senior-high", grade2("M", 46, "secondary_vocational")),
    case("grade2-technical-school-counts-as-senior-high", grade2("M", 46, "technical_school")),
    case("grade2-vocational-high-counts-as-senior-high", grade2("M", 46, "vocational_high")),
    case("grade2-junior-college-passes", grade2("F", 40, "junior_college")),
    case("grade2-man-49-junior-high-fails", grade2("M", 49, "junior_high"), ["R-A4.7"],
         rule="R-A4.7", says="学历须≥高中", field="education"),
    case("grade2-man-50-junior-high-passes", grade2("M", 50, "junior_high")),
    case("grade2-woman-44-junior-high-fails", grade2("F", 44, "junior_high"), ["R-A4.7"],
         rule="R-A4.7", says="当前为初中", field="education"),
    case("grade2-woman-45-junior-high-passes", grade2("F", 45, "junior_high")),
    case("grade2-man-49-senior-high-passes", grade2("M", 49, "senior_high")),
    case("grade2-man-60-primary-fails", grade2("M", 60, "primary"), ["R-A4.7"],
         rule="R-A4.7", says="学历须≥初中（男性年龄≥50岁），当前为小学", field="education"),
    case("grade2-woman-50-primary-fails", grade2("F", 50, "primary"), ["R-A4.7"]),
    case("grade3-primary-not-concerned", base(3, "certificate", education="primary"),
         rule="R-A4.7", says="不适用"),
    # --- R-A4.8 申报岗位工种 ---
    case("free-trade-unrated", base(4, "certificate", current_grade=0, current_trade=None, exceptional=True,
                                    target_trade="T040"), rule="R-A4.8", says="现岗位等级为未定级"),
    case("free-trade-target-grade5", base(5, target_trade="T040"), rule="R-A4.8", says="五级（初级工）"),
    case("free-trade-grade4-by-years", base(4, target_trade="T040"), rule="R-A4.8", says="按工作年限申报"),
    case("free-trade-grade3-by-years", base(3, target_trade="T040"), rule="R-A4.8", says="按工作年限申报"),
    case("free-trade-current-trade-unmapped", base(3, "certificate", current_trade="T004", target_trade="T040"),
         rule="R-A4.8", says="没有对应的新工种"),
    case("free-trade-current-trade-empty-mapping",
         base(3, "certificate", current_trade="T005", target_trade="T040")),
    case("free-trade-driver-grade4", base(4, "certificate", current_trade="T001", target_trade="T040"),
         rule="R-A4.8", says="汽车驾驶员非报考一级"),
    case("free-trade-driver-grade3", base(3, "certificate", current_trade="T001", target_trade="T040")),
    case("free-trade-driver-grade2", base(2, current_trade="T001", target_trade="T040")),
    case("restricted-driver-grade1-unmapped-fails", base(1, current_trade="T001", target_trade="T040"),
         ["R-A4.8"], rule="R-A4.8", says="只能从现岗位工种（汽车驾驶员）对应的新工种中选择：机动车驾驶员",
         field="target_trade"),
    case("restricted-driver-grade1-mapped-passes", base(1, current_trade="T001", target_trade="T020")),
    case("restricted-grade3-certificate-mapped-passes", base(3, "certificate", target_trade="T010"),
         rule="R-A4.8", says="对应的新工种"),
    case("restricted-grade3-certificate-unmapped-fails", base(3, "certificate", target_trade="T040"),
         ["R-A4.8"], rule="R-A4.8", says="只能从现岗位工种（打字员）对应的新工种中选择", field="target_trade"),
    case("restricted-grade2-second-mapped-passes", base(2, target_trade="T030")),
    case("restricted-grade2-unmapped-fails", base(2, target_trade="T004"), ["R-A4.8"]),
    case("target-trade-unknown-code", base(5, target_trade="T999"), ["R-A4.8"],
         rule="R-A4.8", says="未知的工种代码", field="target_trade"),
    # --- R-A4.9 破格 and 一线 ---
    case("exceptional-waives-years-grade4", base(4, service_years=9, exceptional=True),
         rule="R-A4.5", says="破格申报，由审核人员审核相关材料"),
    case("exceptional-waives-years-grade3", base(3, service_years=3, exceptional=True)),
    case("exceptional-waives-certificate-wait-grade4",
         base(4, "certificate", grade_obtained_year=2024, exceptional=True),
         rule="R-A4.6", says="破格申报"),
    case("exceptional-waives-current-grade-grade3", base(3, "certificate", current_grade=5, exceptional=True)),
    case("exceptional-waives-certificate-grade2", base(2, grade_obtained_year=2025, exceptional=True),
         rule="R-A4.9", says="二到五级破格人员根据政策要求直接上报"),
    case("exceptional-grade5", base(5, exceptional=True)),
    case("exceptional-does-not-waive-education-grade2", base(2, education="junior_high", exceptional=True),
         ["R-A4.7"]),
    case("exceptional-grade1-without-reason-fails", base(1, exceptional=True), ["R-A4.9"],
         rule="R-A4.9", says="一级破格人员须根据实际情况填写破格情况", field="exceptional_reason"),
    case("exceptional-grade1-reason-9-chars-fails", base(1, exceptional=True, exceptional_reason=" 获省级技能竞赛一等 "),
         ["R-A4.9"], rule="R-A4.9", says="当前为9字", field="exceptional_reason"),
    case("exceptional-grade1-reason-10-chars-passes",
         base(1, exceptional=True, exceptional_reason="获省级技能竞赛一等奖")),
    case("exceptional-grade1-with-reason-waives-years",
         base(1, service_years=20, exceptional=True, exceptional_reason="获得全国技术能手称号并有重大技术革新成果")),
    case("frontline-waives-nothing", base(4, service_years=9, frontline=True), ["R-A4.5"]),
    case("frontline-is-recorded", base(4, frontline=True), rule="R-A4.9", says="一线已记录"),
    case("exceptional-not-waiving-this-year", base(4, service_years=9, exceptional=True), ["R-A4.5"],
         rules=RuleSet(exceptional_waives_rules=False), rule="R-A4.9", says="不免除"),
    case("exceptional-not-waiving-certificate-this-year",
         base(2, grade_obtained_year=2024, exceptional=True), ["R-A4.6"],
         rules=RuleSet(exceptional_waives_rules=False)),
    # --- R-A4.10 same grade ---
    case("same-grade-other-trade-by-certificate-passes",
         base(4, "certificate", current_grade=4, target_trade="T040"), rule="R-A4.10", says="同级别不同工种"),
    case("same-grade-other-trade-rule6-not-applicable",
         base(4, "certificate", current_grade=4, grade_obtained_year=None, target_trade="T040"),
         rule="R-A4.6", says="同级别不同工种，不适用"),
    case("same-grade-other-trade-rule8-not-applicable",
         base(1, current_grade=1, current_trade="T001", target_trade="T040"),
         rule="R-A4.8", says="同级别不同工种，不适用"),
    case("same-grade-other-trade-grade5-by-certificate",
         base(5, route="certificate", current_grade=5, current_trade="T004", target_trade="T040",
              files=WITH_CERTIFICATE)),
    case("same-grade-other-trade-needs-grade-certificate",
         base(4, "certificate", current_grade=4, target_trade="T040", files=FILES), ["R-A4.13"],
         rule="R-A4.13", says="现岗位等级证书", field="grade_certificate"),
    case("same-grade-other-trade-by-years-fails",
         base(4, current_grade=4, target_trade="T040", files=WITH_CERTIFICATE), ["R-A4.10"],
         rule="R-A4.10", says="同级别不同工种只能按岗位等级证书申报", field="route"),
    case("same-grade-same-trade-fails", base(4, "certificate", current_grade=4, target_trade="T002"),
         ["R-A4.10"], rule="R-A4.10", says="已取得该工种该等级，无需申报", field="target_trade"),
    case("lower-grade-than-current-fails", base(4, current_grade=3, current_trade="T003", target_trade="T003"),
         ["R-A4.10"], rule="R-A4.10", says="不能申报较低的四级（中级工）", field="current_grade"),
    # --- R-A4.11 一级 materials ---
    case("grade1-materials-by-upper-reviewer", base(1), rule="R-A4.11", says="由上级审核员上传"),
    case("grade4-materials-not-applicable", base(4), rule="R-A4.11", says="不适用"),
    # --- R-A4.12 禁止申报的情形 ---
    case("prohibited-yes-fails", base(prohibited=True), ["R-A4.12"],
         rule="R-A4.12", says="存在禁止申报的情形，不能提交", field="prohibited"),
    case("prohibited-no-passes", base(prohibited=False)),
    # --- R-A4.13 uploads ---
    *[case(f"upload-missing-{kind}", base(4, "certificate", files=WITH_CERTIFICATE - {kind}), ["R-A4.13"],
           rule="R-A4.13", says=name, field=kind)
      for kind, name in (("id_card_photo", "身份证照片"), ("personal_photo", "个人照片"),
                         ("education_proof", "学历证明材料"), ("grade_certificate", "现岗位等级证书"))],
    case("upload-several-missing-listed", base(4, files=frozenset({"personal_photo"})), ["R-A4.13"],
         rule="R-A4.13", says="请上传身份证照片、学历证明材料", field="id_card_photo"),
    case("upload-grade2-needs-grade-certificate", base(2, files=FILES), ["R-A4.13"]),
    case("upload-years-route-needs-no-certificate", base(3, files=FILES)),
    # --- RuleSet figures are data ---
    case("ruleset-grade4-years-8", base(4, service_years=9),
         rules=RuleSet.from_dict({"years_required": {"4": 8}})),
    case("ruleset-grade3-years-unchanged-by-grade4-figure", base(3, service_years=17), ["R-A4.5"],
         rules=RuleSet.from_dict({"years_required": {"4": 8}})),
    case("ruleset-certificate-wait-4", base(4, "certificate", grade_obtained_year=2022),
         rules=RuleSet.from_dict({"certificate_wait_years": 4})),
    case("ruleset-max-age-70", base(5, birth_month="1958-03"), rules=RuleSet.from_dict({"max_age": 70})),
    case("ruleset-work-start-gap-10", base(work_start="1989-01"), ["R-A4.2"],
         rules=RuleSet.from_dict({"min_years_before_work": 10})),
]


@pytest.mark.parametrize(("form", "rules", "fails", "rule", "says", "field"), CASES)
def test_rules(form, rules, fails, rule, says, field):
    results = evaluate(form, rules, CATALOGUE)
    failures = {r.rule: r.message for r in failed(results)}
    assert set(failures) == fails, failures
    if rule is not None:
        result = next(r for r in results if r.rule == rule)
        assert says in result.message, result.message
        assert result.field == field
        assert result.passed == (rule not in fails)


# --- evaluate reports every rule once, in a fixed order ------------------------------------
ORDER = ["required", "R-A4.1", "R-A4.2", "R-A4.3", "R-A4.4", "R-A4.5", "R-A4.6", "R-A4.7", "R-A4.8",
         "R-A4.9", "R-A4.10", "R-A4.11", "R-A4.12", "R-A4.13"]
EMPTY_DRAFT = Form(exam_year=EXAM_YEAR, gender="F", birth_month="1990-01", target_grade=3)


@pytest.mark.parametrize(
    "form",
    [
        pytest.param(base(4), id="valid"),
        pytest.param(base(1, service_years=1, prohibited=True, files=frozenset()), id="many-failures"),
        pytest.param(EMPTY_DRAFT, id="empty-draft"),
        pytest.param(Form(exam_year=EXAM_YEAR, gender="?", birth_month="x", target_grade=9), id="garbage"),
    ],
)
def test_evaluate_returns_every_rule_once_in_order(form):
    results = evaluate(form, RULES, CATALOGUE)
    assert [r.rule for r in results] == ORDER == list(RULE_IDS)
    assert all(r.title and r.message for r in results)
    assert all(r.field is None for r in results if r.passed)
    assert all(r.field for r in results if not r.passed)


def test_empty_draft_fails_required_naming_every_missing_field():
    required = evaluate(EMPTY_DRAFT, RULES, CATALOGUE)[0]
    assert not required.passed and required.field == "unit_id"
    for label in ("单位信息", "文化程度", "参加工作时间", "工作年限", "现岗位等级", "申报岗位工种", "申报途径",
                  "是否存在禁止申报的情形", "本人承诺"):
        assert label in required.message


def test_failed_keeps_only_failures_in_order():
    results = evaluate(base(4, service_years=9, prohibited=True), RULES, CATALOGUE)
    assert [r.rule for r in failed(results)] == ["R-A4.5", "R-A4.12"]


# --- helpers -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("work_start", "maximum"),
    [
        pytest.param("2000-07", 27, id="2000"),
        pytest.param("2026-01", 1, id="exam-year"),
        pytest.param("1970-12", 57, id="1970"),
    ],
)
def test_max_service_years(work_start, maximum):
    assert max_service_years(EXAM_YEAR, work_start) == maximum


@pytest.mark.parametrize("bad", ["2000", "2000-13", "2000/07", ""])
def test_max_service_years_rejects_malformed(bad):
    with pytest.raises(ValueError):
        max_service_years(EXAM_YEAR, bad)


@pytest.mark.parametrize(
    ("target", "current", "target_trade", "current_trade", "routes"),
    [
        pytest.param(5, 0, "T004", None, ("years",), id="grade5"),
        pytest.param(4, 5, "T010", "T002", ("years", "certificate"), id="grade4"),
        pytest.param(3, None, None, None, ("years", "certificate"), id="grade3-current-unknown"),
        pytest.param(2, 3, "T003", "T003", ("certificate",), id="grade2"),
        pytest.param(1, 2, "T003", "T003", ("certificate",), id="grade1"),
        pytest.param(4, 4, "T040", "T002", ("certificate",), id="same-grade-other-trade"),
        pytest.param(5, 5, "T040", "T004", ("certificate",), id="same-grade-other-trade-grade5"),
        pytest.param(4, 4, "T002", "T002", (), id="same-grade-same-trade"),
        pytest.param(4, 3, "T003", "T003", (), id="below-current-grade"),
    ],
)
def test_allowed_routes(target, current, target_trade, current_trade, routes):
    assert allowed_routes(target, current, target_trade, current_trade) == routes


@pytest.mark.parametrize(
    ("form", "trades"),
    [
        pytest.param(base(5), None, id="grade5-free"),
        pytest.param(base(4), None, id="grade4-years-free"),
        pytest.param(base(3, "certificate"), ("T010",), id="grade3-certificate-mapped"),
        pytest.param(base(3, "certificate", current_trade="T004"), None, id="unmapped-free"),
        pytest.param(base(2, current_trade="T001"), None, id="driver-grade2-free"),
        pytest.param(base(1, current_trade="T001"), ("T020",), id="driver-grade1-mapped"),
        pytest.param(base(2, current_trade=None), (), id="current-trade-not-given"),
    ],
)
def test_allowed_target_trades(form, trades):
    assert allowed_target_trades(form, CATALOGUE) == trades


# --- RuleSet ------------------------------------------------------------------------------
def test_ruleset_defaults_are_the_manuals_figures():
    assert RuleSet.from_dict(None) == RuleSet() == RuleSet.from_dict({})
    assert RULES.years_required == {5: 0, 4: 10, 3: 18, 1: 25}
    assert (RULES.min_age, RULES.max_age, RULES.min_years_before_work, RULES.certificate_wait_years) == (8, 65, 8, 5)


def test_ruleset_round_trips_through_json_and_ignores_unknown_keys():
    rules = RuleSet.from_dict({"max_age": 60, "years_required": {"3": 15}, "exceptional_waives_rules": False,
                               "not_a_rule": 1})
    assert rules.years_required == {5: 0, 4: 10, 3: 15, 1: 25}
    assert RuleSet.from_dict(json.loads(json.dumps(rules.to_dict()))) == rules
    assert dataclasses.replace(rules, max_age=65) != rules


def test_ruleset_rejects_unknown_education():
    with pytest.raises(ValueError):
        RuleSet.from_dict({"grade2_min_education": "phd"})


def test_reference_tables_agree():
    assert set(EDUCATION_NAMES) == set(EDUCATION_LEVELS)
    assert set(GRADE_NAMES) == {0, 1, 2, 3, 4, 5}
    assert FILE_KINDS == ("id_card_photo", "personal_photo", "education_proof", "grade_certificate")
