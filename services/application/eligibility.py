"""Eligibility of an application form (SPEC R-A4, R-A6): pure rules, standard library only.

The source is the applicant manual's 基本信息填报注意点 1–15. Every figure is counted in whole
years against the exam year: age = exam year − birth year; years since the certificate = exam
year − 现等级取得时间; 工龄 = the 工作年限 entered (capped by rule 3).

``evaluate`` reports every rule, pass or fail, once and in a fixed order (``RULE_IDS``), so the
applicant sees before submitting which rules hold (R-A6); 提交 needs ``failed(...)`` to be empty.
A failure's message starts with the field it is about and ``field`` names that API field.

Conventions:
- "required" names every missing * field at once, every value outside its set, and a route
  the grade does not offer (a same-grade application leaves its route to R-A4.10).
- A rule whose own inputs are missing or invalid cannot be said to hold: it fails with
  "请先填写…"/"请先选择…" naming the missing field.
- A rule that does not apply to the form passes with a message saying so (不适用).
- Grades are integers, 5 the lowest (五级) and 1 the highest (一级); 0 is 未定级.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, fields

from .schemas import (  # noqa: F401 - the labels' one source; re-exported for the rules
    EDUCATION_LEVELS,
    EDUCATION_NAMES,
    EDUCATION_RANK,
    FILE_KINDS,
    FILE_NAMES,
    GRADE_NAMES,
    GRADE_ROUTES,
    GRADE_TITLES,
    ROUTE_NAMES,
    ROUTES,
)

FIELD_LABELS = {
    "unit_id": "单位信息", "gender": "性别", "birth_month": "出生年月", "target_grade": "申报岗位等级",
    "education": "文化程度", "work_start": "参加工作时间", "service_years": "工作年限",
    "current_grade": "现岗位等级", "current_trade": "现岗位工种", "grade_obtained_year": "现等级取得时间",
    "target_trade": "申报岗位工种", "route": "申报途径", "exceptional": "破格",
    "exceptional_reason": "破格情况", "prohibited": "是否存在禁止申报的情形", "pledge": "本人承诺",
}
_CHOSEN_FIELDS = {"unit_id", "education", "current_grade", "current_trade", "target_trade", "route",
                  "prohibited", "pledge"}
# The fields the manual marks * that the applicant fills in (the read-only ones come from registration).
REQUIRED_FIELDS = ("unit_id", "education", "work_start", "service_years", "current_grade", "target_trade",
                   "route", "prohibited", "pledge")
WAIVED_MESSAGE = "破格申报，由审核人员审核相关材料"
_NOT_HIGHER = "申报岗位等级不高于现岗位等级，不适用（见同级别不同工种规则）"


def _default_years_required() -> dict[int, int]:
    return {5: 0, 4: 10, 3: 18, 1: 25}


@dataclass(frozen=True)
class RuleSet:
    """The figures of one exam year: data, not code. Defaults are the manual's."""

    min_age: int = 8
    max_age: int = 65
    min_years_before_work: int = 8          # 参加工作时间 more than this many years after birth
    years_required: dict[int, int] = field(default_factory=_default_years_required)  # grade -> 工龄
    certificate_wait_years: int = 5
    grade2_min_education: str = "senior_high"
    grade2_relaxed_education: str = "junior_high"
    grade2_relaxed_age_men: int = 50
    grade2_relaxed_age_women: int = 45
    exceptional_waives_rules: bool = True    # 破格 waives rules 5–6 (our reading of the manual)
    exceptional_reason_min_chars: int = 10   # 一级 破格: the account of the grounds

    def __post_init__(self):
        """Refuses figures that make no sense; the message is for the province (Chinese)."""
        for name, low, high in (("min_age", 0, 100), ("max_age", 1, 120), ("min_years_before_work", 0, 30),
                                ("certificate_wait_years", 0, 30), ("grade2_relaxed_age_men", 0, 120),
                                ("grade2_relaxed_age_women", 0, 120), ("exceptional_reason_min_chars", 0, 2000)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValueError(f"{name} 应为{low}至{high}之间的整数")
        if self.max_age <= self.min_age:
            raise ValueError("年龄上限应大于年龄下限")
        if not isinstance(self.exceptional_waives_rules, bool):
            raise ValueError("exceptional_waives_rules 应为 true 或 false")
        if set(self.years_required) != {5, 4, 3, 1} or not all(
                isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 60 for v in self.years_required.values()):
            raise ValueError("years_required 应为五级、四级、三级、一级（5、4、3、1）的工龄，0至60之间的整数")
        for name in ("grade2_min_education", "grade2_relaxed_education"):
            if getattr(self, name) not in EDUCATION_RANK:
                raise ValueError(f"{name} 应为文化程度代码之一：{'、'.join(EDUCATION_LEVELS)}")

    @classmethod
    def from_dict(cls, d: dict | None) -> RuleSet:
        """Unknown keys are ignored; ``years_required`` is merged over the defaults (keys may be
        strings, as after a JSON round trip)."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in (d or {}).items() if k in known}
        if "years_required" in values:
            given = values["years_required"]
            if not isinstance(given, dict):
                raise ValueError("years_required 应为 {等级: 工龄} 对象")
            try:
                given = {int(grade): years for grade, years in given.items()}
            except (TypeError, ValueError):
                raise ValueError("years_required 的等级应为 5、4、3、1") from None
            values["years_required"] = {**_default_years_required(), **given}
        return cls(**values)

    def merged(self, changes: dict | None) -> RuleSet:
        """These figures with some changed; ``years_required`` merges grade by grade."""
        current = self.to_dict()
        changes = dict(changes or {})
        if isinstance(changes.get("years_required"), dict):
            changes["years_required"] = {**current["years_required"],
                                         **{str(k): v for k, v in changes["years_required"].items()}}
        return RuleSet.from_dict({**current, **changes})

    def to_dict(self) -> dict:
        d = asdict(self)
        d["years_required"] = {str(grade): years for grade, years in sorted(self.years_required.items())}
        return d


@dataclass(frozen=True)
class Catalogue:
    """Trade reference data."""

    names: dict[str, str]                                          # trade code -> name
    mapping: dict[str, tuple[str, ...]] = field(default_factory=dict)  # old code -> allowed new codes
    driver_code: str | None = None                                 # the code of 汽车驾驶员


@dataclass(frozen=True)
class Form:
    """The saved draft, as the application service holds it."""

    exam_year: int
    gender: str                      # "M" | "F"
    birth_month: str                 # "YYYY-MM"
    target_grade: int                # 5..1, fixed at registration
    unit_id: str | None = None
    education: str | None = None
    work_start: str | None = None    # "YYYY-MM"
    service_years: int | None = None
    current_grade: int | None = None  # 0 = 未定级, else 5..1; None = not chosen
    current_trade: str | None = None
    grade_obtained_year: int | None = None
    target_trade: str | None = None
    route: str | None = None         # "years" | "certificate"
    exceptional: bool = False        # 破格
    frontline: bool = False          # 一线 (recorded only, waives nothing)
    exceptional_reason: str = ""
    prohibited: bool | None = None   # 是否存在禁止申报的情形; None = not answered
    pledge: bool = False
    files: frozenset[str] = frozenset()  # kinds uploaded


@dataclass(frozen=True)
class RuleResult:
    rule: str           # "required", "R-A4.1" … "R-A4.13"
    title: str          # short Chinese name of the rule
    passed: bool
    message: str        # Chinese; a failure starts with the field's name
    field: str | None   # the API field a failure is about (a file kind for uploads)


# --- public helpers ------------------------------------------------------------------------

def max_service_years(exam_year: int, work_start: str) -> int:
    """Rule 3: 工作年限 ≤ exam year − work-start year + 1."""
    start = _parse_month(work_start)
    if start is None:
        raise ValueError(f"work_start must be YYYY-MM, got {work_start!r}")
    return exam_year - start[0] + 1


def allowed_routes(target_grade: int, current_grade: int | None, target_trade: str | None,
                   current_trade: str | None) -> tuple[str, ...]:
    """The routes the form offers. Same grade: 按岗位等级证书 only (rule 10); same grade and
    same trade, or below the current grade: none."""
    if current_grade in (None, 0) or current_grade > target_grade:
        return GRADE_ROUTES.get(target_grade, ())
    if current_grade < target_grade:
        return ()
    if target_trade is not None and target_trade == current_trade:
        return ()
    return ("certificate",)


def allowed_target_trades(form: Form, catalogue: Catalogue) -> tuple[str, ...] | None:
    """Rule 8: None when 申报岗位工种 is a free choice, else the new trades mapped from the current
    trade (empty while the current trade is not yet given)."""
    if _free_trade_reason(form, catalogue) is not None:
        return None
    return tuple(catalogue.mapping.get(form.current_trade or "", ()))


def choices(form: Form, catalogue: Catalogue) -> dict:
    """What the form offers for the choices made so far, so that the page never repeats a
    rule: the routes, the target trades (None: free choice), the 工作年限 maximum, the
    uploads required and which fields the rules make required."""
    allowed = allowed_target_trades(form, catalogue)
    note = None
    if allowed is not None:
        current = catalogue.names.get(form.current_trade or "", form.current_trade)
        if not form.current_trade:
            note = "申报岗位工种须从现岗位工种对应的新工种中选择，请先选择现岗位工种"
        else:
            names = "、".join(catalogue.names.get(code, code) for code in allowed)
            note = f"申报岗位工种只能从现岗位工种（{current}）对应的新工种中选择：{names}"
    required_files = _required_files(_Facts(form, RuleSet(), catalogue))
    start = _parse_month(form.work_start)
    return {
        "routes": list(allowed_routes(form.target_grade, form.current_grade, form.target_trade,
                                      form.current_trade)),
        "target_trades": None if allowed is None else list(allowed),
        "target_trade_note": note,
        "service_years_max": form.exam_year - start[0] + 1 if start else None,
        "required_files": list(required_files),
        "current_trade_required": form.current_grade != 0,
        "grade_obtained_year_required": "grade_certificate" in required_files and form.current_grade != 0,
    }


def evaluate(form: Form, rules: RuleSet, catalogue: Catalogue) -> list[RuleResult]:
    """Every rule, in the order of ``RULE_IDS``, pass or fail."""
    facts = _Facts(form, rules, catalogue)
    return [RuleResult(rule, title, *check(facts)) for rule, title, check in _RULES]


def failed(results: Iterable[RuleResult]) -> list[RuleResult]:
    return [r for r in results if not r.passed]


# --- facts derived once per evaluation --------------------------------------------------------

_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")

_Outcome = tuple[bool, str, str | None]


def _parse_month(value: object) -> tuple[int, int] | None:
    match = _MONTH.fullmatch(value) if isinstance(value, str) else None
    return (int(match[1]), int(match[2])) if match else None


def _text(value: object) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


@dataclass(frozen=True)
class _Facts:
    form: Form
    rules: RuleSet
    catalogue: Catalogue

    @property
    def birth(self) -> tuple[int, int] | None:
        return _parse_month(self.form.birth_month)

    @property
    def work(self) -> tuple[int, int] | None:
        return _parse_month(self.form.work_start)

    @property
    def age(self) -> int | None:
        return None if self.birth is None else self.form.exam_year - self.birth[0]

    @property
    def target_title(self) -> str:
        return GRADE_TITLES.get(self.form.target_grade, f"{self.form.target_grade}级")

    @property
    def relation(self) -> str:
        """The target against the current grade: new (未定级), up, same, down or unknown."""
        current, target = self.form.current_grade, self.form.target_grade
        if current not in GRADE_NAMES:
            return "unknown"
        if current == 0:
            return "new"
        return "up" if current > target else "same" if current == target else "down"

    @property
    def same_grade_other_trade(self) -> bool:
        trade = _text(self.form.target_trade)
        return self.relation == "same" and trade is not None and trade != _text(self.form.current_trade)

    @property
    def waived(self) -> bool:
        return self.form.exceptional and self.rules.exceptional_waives_rules

    def trade_name(self, code: str | None) -> str:
        return self.catalogue.names.get(code or "", code or "")


def _ok(message: str) -> _Outcome:
    return True, message, None


def _fail(field_name: str, message: str, label: str | None = None) -> _Outcome:
    return False, f"{label or FIELD_LABELS[field_name]}：{message}", field_name


def _pending(field_name: str) -> _Outcome:
    verb = "选择" if field_name in _CHOSEN_FIELDS else "填写"
    return False, f"请先{verb}{FIELD_LABELS[field_name]}", field_name


# --- required ------------------------------------------------------------------------------

def _is_missing(form: Form, name: str) -> bool:
    value = getattr(form, name)
    if name == "pledge":
        return value is not True
    if isinstance(value, str):
        return _text(value) is None
    return value is None


def _invalid_values(f: _Facts) -> list[tuple[str, str]]:
    """(message, field) for each value outside its set."""
    form, problems = f.form, []
    if form.gender not in ("M", "F"):
        problems.append(("性别：取值无效", "gender"))
    if f.birth is None:
        problems.append((f"出生年月：格式应为YYYY-MM，当前为“{form.birth_month}”", "birth_month"))
    if form.target_grade not in GRADE_ROUTES:
        problems.append((f"申报岗位等级：取值无效（{form.target_grade}）", "target_grade"))
    if _text(form.education) and form.education not in EDUCATION_RANK:
        problems.append((f"文化程度：无效的取值“{form.education}”", "education"))
    if _text(form.work_start) and f.work is None:
        problems.append((f"参加工作时间：格式应为YYYY-MM，当前为“{form.work_start}”", "work_start"))
    if form.current_grade is not None and form.current_grade not in GRADE_NAMES:
        problems.append((f"现岗位等级：取值无效（{form.current_grade}）", "current_grade"))
    if _text(form.route) and form.route not in ROUTES:
        problems.append((f"申报途径：无效的取值“{form.route}”", "route"))
    elif form.route in ROUTES and f.relation not in ("same", "down") and form.target_grade in GRADE_ROUTES:
        offered = allowed_routes(form.target_grade, form.current_grade, form.target_trade, form.current_trade)
        if form.route not in offered:
            names = "或".join(ROUTE_NAMES[r] for r in offered)
            problems.append((f"申报途径：申报{f.target_title}只能{names}", "route"))
    return problems


def _check_required(f: _Facts) -> _Outcome:
    missing = [name for name in REQUIRED_FIELDS if _is_missing(f.form, name)]
    problems = []
    if missing:
        labels = "、".join(FIELD_LABELS[name] for name in missing)
        problems.append((f"以下必填项未填写：{labels}", missing[0]))
    problems += _invalid_values(f)
    if not problems:
        return _ok("带*号的必填项均已填写")
    return False, "；".join(message for message, _ in problems), problems[0][1]


# --- rules 1–4: the person and the current post --------------------------------------------

def _check_age(f: _Facts) -> _Outcome:
    low, high, age = f.rules.min_age, f.rules.max_age, f.age
    if age is None:
        return _pending("birth_month")
    if low <= age <= high:
        return _ok(f"年龄{age}岁，在{low}—{high}岁之间")
    return _fail("birth_month", f"年龄限制在{low}—{high}岁，按报考年份计算当前为{age}岁")


def _check_work_start(f: _Facts) -> _Outcome:
    if f.work is None:
        return _pending("work_start")
    if f.birth is None:
        return _pending("birth_month")
    minimum, gap = f.rules.min_years_before_work, f.work[0] - f.birth[0]
    if f.work < f.birth:
        return _fail("work_start", "不能早于出生年月")
    if f.work[0] > f.form.exam_year:
        return _fail("work_start", f"不能晚于报考年份（{f.form.exam_year}年）")
    if gap <= minimum:
        return _fail("work_start", f"须在出生{minimum}年以后（限制大于{minimum}年），当前相差{gap}年")
    return _ok(f"参加工作时间距出生{gap}年，大于{minimum}年")


def _check_service_years(f: _Facts) -> _Outcome:
    years = f.form.service_years
    if years is None:
        return _pending("service_years")
    if f.work is None:
        return _pending("work_start")
    maximum = max_service_years(f.form.exam_year, f.form.work_start)
    if years < 0:
        return _fail("service_years", f"不能为负数，当前为{years}年")
    if years > maximum:
        return _fail("service_years",
                     f"最大值={f.form.exam_year}−{f.work[0]}+1={maximum}年，只允许往下修改，当前为{years}年")
    return _ok(f"工作年限{years}年，不超过最大值{maximum}年")


def _check_current_trade(f: _Facts) -> _Outcome:
    grade, trade = f.form.current_grade, _text(f.form.current_trade)
    if grade not in GRADE_NAMES:
        return _pending("current_grade")
    if trade is not None and trade not in f.catalogue.names:
        return _fail("current_trade", f"未知的工种代码“{trade}”")
    if grade == 0:
        return _ok("现岗位等级为未定级，现岗位工种可不填")
    if trade is None:
        return _fail("current_trade", f"现岗位等级为{GRADE_NAMES[grade]}时为必填项（仅未定级时可不填）")
    return _ok(f"现岗位工种：{f.trade_name(trade)}")


# --- rules 5–7: 工龄, certificate, education --------------------------------------------------

def _years_rule_applies(f: _Facts) -> bool | None:
    """一级 always; 五级/四级/三级 by years; None while the route is not chosen."""
    target, route = f.form.target_grade, f.form.route
    if target == 1:
        return True
    if target not in (5, 4, 3):
        return False
    return None if route not in ROUTES else route == "years"


def _check_years_of_service(f: _Facts) -> _Outcome:
    applies = _years_rule_applies(f)
    if applies is None:
        return _pending("route")
    if not applies:
        how = f"（{ROUTE_NAMES['certificate']}）" if f.form.target_grade != 2 else ""
        return _ok(f"申报{f.target_title}{how}不适用工龄限制")
    if f.waived:
        return _ok(WAIVED_MESSAGE)
    needed = f.rules.years_required.get(f.form.target_grade, 0)
    how = "" if f.form.target_grade == 1 else f"（{ROUTE_NAMES['years']}）"
    if needed <= 0:
        return _ok(f"申报{f.target_title}{how}不限工龄")
    years = f.form.service_years
    if years is None:
        return _pending("service_years")
    if years < needed:
        return _fail("service_years", f"申报{f.target_title}{how}需工龄≥{needed}年，当前为{years}年")
    return _ok(f"工龄{years}年，满足申报{f.target_title}{how}工龄≥{needed}年的要求")


def _certificate_rule_applies(f: _Facts) -> bool | None:
    """二级 and 一级 always; 四级/三级 by certificate; None while the route is not chosen."""
    target, route = f.form.target_grade, f.form.route
    if target in (2, 1):
        return True
    if target not in (4, 3):
        return False
    return None if route not in ROUTES else route == "certificate"


def _check_certificate(f: _Facts) -> _Outcome:
    if f.same_grade_other_trade:
        return _ok("同级别不同工种，不适用")
    if f.relation in ("same", "down"):
        return _ok(_NOT_HIGHER)
    applies = _certificate_rule_applies(f)
    if applies is None:
        return _pending("route")
    if not applies:
        how = "" if f.form.target_grade == 5 else f"（{ROUTE_NAMES['years']}）"
        return _ok(f"申报{f.target_title}{how}不适用岗位等级证书要求")
    if f.waived:
        return _ok(WAIVED_MESSAGE)
    current, needed = f.form.current_grade, f.form.target_grade + 1
    if current not in GRADE_NAMES:
        return _pending("current_grade")
    if current != needed:
        return _fail("current_grade", f"申报{f.target_title}（{ROUTE_NAMES['certificate']}）须现岗位等级为"
                                      f"{GRADE_TITLES[needed]}，当前为{GRADE_NAMES[current]}")
    return _check_certificate_year(f)


def _check_certificate_year(f: _Facts) -> _Outcome:
    """Current grade is the one below the target: 报考年份 − 现等级取得时间 ≥ the wait."""
    obtained, exam_year, wait = f.form.grade_obtained_year, f.form.exam_year, f.rules.certificate_wait_years
    if obtained is None:
        return _pending("grade_obtained_year")
    if obtained > exam_year:
        return _fail("grade_obtained_year", f"不能晚于报考年份（{exam_year}年）")
    earliest = None if f.birth is None else f.birth[0] + f.rules.min_age
    if earliest is not None and obtained < earliest:
        return _fail("grade_obtained_year", f"不能早于{earliest}年（出生{f.rules.min_age}年以后）")
    elapsed = exam_year - obtained
    if elapsed < wait:
        return _fail("grade_obtained_year", f"报考年份−现等级取得时间须≥{wait}年，当前为"
                                            f"{exam_year}−{obtained}={elapsed}年")
    return _ok(f"现岗位等级{GRADE_NAMES[f.form.current_grade]}，报考年份−现等级取得时间={elapsed}年"
               f"（≥{wait}年），满足申报{f.target_title}的要求")


def _grade2_minimum(f: _Facts) -> tuple[str, str]:
    """The least education for 二级 and the reason."""
    rules, age, gender = f.rules, f.age, f.form.gender
    if age is not None and gender == "M" and age >= rules.grade2_relaxed_age_men:
        return rules.grade2_relaxed_education, f"男性年龄≥{rules.grade2_relaxed_age_men}岁"
    if age is not None and gender == "F" and age >= rules.grade2_relaxed_age_women:
        return rules.grade2_relaxed_education, f"女性年龄≥{rules.grade2_relaxed_age_women}岁"
    return rules.grade2_min_education, (
        f"中专、技校、职高视同高中；男性年龄≥{rules.grade2_relaxed_age_men}岁、"
        f"女性年龄≥{rules.grade2_relaxed_age_women}岁为≥{EDUCATION_NAMES[rules.grade2_relaxed_education]}")


def _check_education(f: _Facts) -> _Outcome:
    if f.form.target_grade != 2:
        return _ok("仅适用于申报二级（技师），不适用")
    education = f.form.education
    if education not in EDUCATION_RANK:
        return _pending("education")
    minimum, why = _grade2_minimum(f)
    have, need = EDUCATION_NAMES[education], EDUCATION_NAMES[minimum]
    if EDUCATION_RANK[education] >= EDUCATION_RANK[minimum]:
        return _ok(f"文化程度{have}，满足申报二级（技师）学历≥{need}的要求")
    return _fail("education", f"申报二级（技师）（{ROUTE_NAMES['certificate']}）学历须≥{need}"
                              f"（{why}），当前为{have}")


# --- rule 8: 申报岗位工种 --------------------------------------------------------------------

def _free_trade_reason(form: Form, catalogue: Catalogue) -> str | None:
    """Why 申报岗位工种 is not restricted (manual, 申报岗位工种要求), or None when it is."""
    target, current_trade = form.target_grade, _text(form.current_trade)
    if target == 5:
        return f"申报岗位等级为{GRADE_TITLES[5]}"
    if form.current_grade == 0:
        return "现岗位等级为未定级"
    if target in (4, 3) and form.route == "years":
        return f"申报岗位等级为{GRADE_TITLES[target]}（{ROUTE_NAMES['years']}）"
    if current_trade is not None and not catalogue.mapping.get(current_trade):
        return "现岗位工种没有对应的新工种"
    if current_trade is not None and current_trade == catalogue.driver_code and target != 1:
        return "汽车驾驶员非报考一级"
    return None


def _check_target_trade(f: _Facts) -> _Outcome:
    trade = _text(f.form.target_trade)
    if trade is None:
        return _pending("target_trade")
    if trade not in f.catalogue.names:
        return _fail("target_trade", f"未知的工种代码“{trade}”")
    if f.same_grade_other_trade:
        return _ok("同级别不同工种，不适用")
    if f.relation in ("same", "down"):
        return _ok(_NOT_HIGHER)
    if f.relation == "unknown":
        return _pending("current_grade")
    reason = _free_trade_reason(f.form, f.catalogue)
    if reason is not None:
        return _ok(f"{reason}，申报岗位工种不做限制")
    if _text(f.form.current_trade) is None:
        return _pending("current_trade")
    allowed = allowed_target_trades(f.form, f.catalogue) or ()
    current = f.trade_name(f.form.current_trade)
    if trade in allowed:
        return _ok(f"申报岗位工种{f.trade_name(trade)}是现岗位工种{current}对应的新工种")
    if f.form.target_grade in (4, 3) and f.form.route not in ROUTES:
        return _pending("route")
    choices = "、".join(f.trade_name(code) for code in allowed)
    return _fail("target_trade", f"只能从现岗位工种（{current}）对应的新工种中选择：{choices}，"
                                 f"当前为{f.trade_name(trade)}")


# --- rules 9–13 ------------------------------------------------------------------------------

def _check_exceptional(f: _Facts) -> _Outcome:
    form, rules = f.form, f.rules
    frontline = "；一线已记录，供审核人员参考" if form.frontline else ""
    if not form.exceptional:
        return _ok(f"未勾选破格{frontline}")
    if form.target_grade == 1:
        written, minimum = len(form.exceptional_reason.strip()), rules.exceptional_reason_min_chars
        if written < minimum:
            return _fail("exceptional_reason", f"一级破格人员须根据实际情况填写破格情况（不少于{minimum}字），"
                                               f"当前为{written}字")
        statement = "一级破格人员已根据实际情况填写破格情况"
    else:
        statement = "二到五级破格人员根据政策要求直接上报"
    waiver = "，由审核人员审核相关材料" if rules.exceptional_waives_rules else "；本年度破格不免除工龄和岗位等级证书要求"
    return _ok(f"{statement}{waiver}{frontline}")


def _check_same_grade(f: _Facts) -> _Outcome:
    relation, form = f.relation, f.form
    if relation == "unknown":
        return _pending("current_grade")
    if relation in ("new", "up"):
        return _ok("申报岗位等级高于现岗位等级，不适用")
    current = GRADE_TITLES[form.current_grade]
    if relation == "down":
        return _fail("current_grade", f"现为{current}，不能申报较低的{f.target_title}")
    if _text(form.target_trade) is None:
        return _pending("target_trade")
    if not f.same_grade_other_trade:
        return _fail("target_trade", f"已取得该工种该等级，无需申报（现岗位等级为{current}）")
    if form.route != "certificate":
        return _fail("route", f"同级别不同工种只能{ROUTE_NAMES['certificate']}")
    return _ok(f"同级别不同工种，{ROUTE_NAMES['certificate']}（须上传现岗位等级证书）")


def _check_grade1_materials(f: _Facts) -> _Outcome:
    if f.form.target_grade != 1:
        return _ok("仅适用于申报一级（高级技师），不适用")
    return _ok("申报一级，工资审核表和考核优秀（优秀党员）材料由上级审核员上传，不需申报人员上传")


def _check_prohibited(f: _Facts) -> _Outcome:
    if f.form.prohibited is None:
        return _pending("prohibited")
    if f.form.prohibited:
        return _fail("prohibited", "存在禁止申报的情形，不能提交")
    return _ok("不存在禁止申报的情形")


def _required_files(f: _Facts) -> tuple[str, ...]:
    by_certificate = f.form.route == "certificate" or f.form.target_grade in (2, 1) or f.same_grade_other_trade
    return FILE_KINDS if by_certificate else FILE_KINDS[:3]


def _check_uploads(f: _Facts) -> _Outcome:
    needed = _required_files(f)
    missing = [kind for kind in needed if kind not in f.form.files]
    if missing:
        names = "、".join(FILE_NAMES[kind] for kind in missing)
        return _fail(missing[0], f"请上传{names}", label="资料上传")
    return _ok("已上传" + "、".join(FILE_NAMES[kind] for kind in needed))


_RULES: tuple[tuple[str, str, Callable[[_Facts], _Outcome]], ...] = (
    ("required", "必填项", _check_required),
    ("R-A4.1", "年龄限制", _check_age),
    ("R-A4.2", "参加工作时间", _check_work_start),
    ("R-A4.3", "工作年限", _check_service_years),
    ("R-A4.4", "现岗位工种", _check_current_trade),
    ("R-A4.5", "工龄限制", _check_years_of_service),
    ("R-A4.6", "现岗位等级及取得时间", _check_certificate),
    ("R-A4.7", "学历要求", _check_education),
    ("R-A4.8", "申报岗位工种要求", _check_target_trade),
    ("R-A4.9", "破格人员", _check_exceptional),
    ("R-A4.10", "同级别不同工种", _check_same_grade),
    ("R-A4.11", "一级申报材料", _check_grade1_materials),
    ("R-A4.12", "禁止申报的情形", _check_prohibited),
    ("R-A4.13", "资料上传", _check_uploads),
)
RULE_IDS = tuple(rule for rule, _, _ in _RULES)
