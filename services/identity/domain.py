"""Identity rules: pure functions, no I/O. Messages are what the person reads (Chinese)."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from kit.access import ROLES  # noqa: F401 - the roles are the access rule's
from kit.errors import InvalidInput, Locked, TooManyRequests
from kit.masks import mask_id, mask_name, mask_phone  # noqa: F401 - the one masking rule
from kit.tables import csv_lists
from kit.validation import check_text
from kit.vocabulary import GRADE_NAMES  # noqa: F401 - re-exported
from kit.windows import WINDOW_NAMES, at, format_cn, require_window, window_open  # noqa: F401 - re-exported

RESET_PASSWORD = "123"  # the manual: a reset or 补报 account logs in with 123, then must change it

# GB 11643-1999: the first two digits name a province-level division (GB/T 2260).
PROVINCE_PREFIXES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 "
    "50 51 52 53 54 61 62 63 64 65 71 81 82".split())
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$")
_PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
_NAME_RE = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0002ebef·]{2,30}$")


@dataclass(frozen=True)
class IdInfo:
    id_number: str
    birth_date: date
    gender: str  # "M" | "F"
    region_code: str

    @property
    def birth_month(self) -> str:
        return f"{self.birth_date.year:04d}-{self.birth_date.month:02d}"


def id_check_digit(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def parse_id_number(raw: str, today: date) -> IdInfo:
    """Validate an 18-character resident ID number (GB 11643): province-level region
    prefix, a real birth date not in the future, and the ISO 7064 MOD 11-2 check digit
    (``X`` for 10). The region is checked at province level only: IDs keep the code of the
    county where they were issued, and many such codes were abolished since, so a finer
    check would refuse real people."""
    value = (raw or "").strip().upper()
    field = "id_number"
    if not _ID_RE.match(value):
        raise InvalidInput("身份证号应为18位，前17位为数字，最后一位为数字或X", field=field)
    if value[:2] not in PROVINCE_PREFIXES or value[2:6] == "0000":
        raise InvalidInput("身份证号的地区码不正确", field=field)
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise InvalidInput("身份证号中的出生日期不正确", field=field) from None
    if born > today or born.year < 1900:
        raise InvalidInput("身份证号中的出生日期不正确", field=field)
    if id_check_digit(value[:17]) != value[17]:
        raise InvalidInput("身份证号校验位不正确，请核对", field=field)
    gender = "M" if int(value[16]) % 2 == 1 else "F"
    return IdInfo(value, born, gender, value[:6])


def check_birth_month(birth_month: str, info: IdInfo) -> None:
    m = _MONTH_RE.match((birth_month or "").strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise InvalidInput("出生年月格式应为 YYYY-MM", field="birth_month")
    if f"{m.group(1)}-{m.group(2)}" != info.birth_month:
        raise InvalidInput("出生年月与身份证号不一致", field="birth_month")


def normalize_name(name: str) -> str:
    text = unicodedata.normalize("NFKC", name or "").strip()
    return re.sub(r"[•・.．]", "·", text)


def check_name(name: str) -> str:
    value = normalize_name(name)
    if not _NAME_RE.match(value):
        raise InvalidInput("请输入正确的姓名（2至30个汉字，少数民族姓名可含“·”）", field="name")
    return value


def check_phone(phone: str) -> str:
    value = (phone or "").strip()
    if not _PHONE_RE.match(value):
        raise InvalidInput("请输入正确的11位手机号", field="phone")
    return value


def check_grade(grade) -> int:
    try:
        value = int(grade)
    except (TypeError, ValueError):
        value = 0
    if value not in GRADE_NAMES:
        raise InvalidInput("请选择申报等级（五级至一级）", field="declared_grade")
    return value


def check_password(password: str, confirm: str | None = None, field: str = "password") -> str:
    """R-I6: 8 to 64 characters, letters and digits combined."""
    value = password or ""
    check_text(value, field, "密码")
    if not 8 <= len(value) <= 64:
        raise InvalidInput("密码长度应为8至64位", field=field)
    if not re.search(r"[A-Za-z]", value) or not re.search(r"\d", value):
        raise InvalidInput("密码须为字母和数字的组合", field=field)
    if value == RESET_PASSWORD:
        raise InvalidInput("不能使用初始密码", field=field)
    if confirm is not None and confirm != value:
        raise InvalidInput("两次输入的密码不一致", field="password_confirm")
    return value


# --- windows: kit.windows (shared with the application service) ---------------------


# --- SMS codes (R-I5) ------------------------------------------------------------------
def sms_wait_seconds(last_sent_at: datetime | None, now: datetime, resend_seconds: int) -> int:
    """Seconds to wait before another code may be sent (0 = may send)."""
    if last_sent_at is None:
        return 0
    elapsed = max(0.0, (now - last_sent_at).total_seconds())  # a clock set back waits one period
    return 0 if elapsed >= resend_seconds else int(resend_seconds - elapsed + 0.999)


def require_can_send(last_sent_at, sent_today: int, now, resend_seconds: int, daily_limit: int) -> None:
    wait = sms_wait_seconds(last_sent_at, now, resend_seconds)
    if wait:
        raise TooManyRequests(f"验证码发送过于频繁，请{wait}秒后再试", code="sms_throttled",
                              field="phone", details={"retry_after": wait})
    if sent_today >= daily_limit:
        raise TooManyRequests("该手机号今日获取验证码次数已达上限，请明天再试", code="sms_daily_limit",
                              field="phone")


@dataclass(frozen=True)
class CodeCheck:
    ok: bool
    count_attempt: bool  # a wrong guess that must be recorded
    message: str = ""


def check_sms_code(stored_hash: str | None, expires_at: datetime | None, attempts: int,
                   used: bool, given_hash: str, now: datetime, max_attempts: int) -> CodeCheck:
    """The code is 6 digits, single use, valid until ``expires_at`` (exclusive), and
    allows ``max_attempts`` wrong tries before a new code is needed."""
    if stored_hash is None or used:
        return CodeCheck(False, False, "请先获取短信验证码")
    if attempts >= max_attempts:
        return CodeCheck(False, False, "验证码错误次数过多，请重新获取")
    if now >= expires_at:
        return CodeCheck(False, False, "验证码已过期，请重新获取")
    if given_hash != stored_hash:
        left = max_attempts - attempts - 1
        tail = f"，还可尝试{left}次" if left else "，请重新获取"
        return CodeCheck(False, True, f"验证码不正确{tail}")
    return CodeCheck(True, False)


def check_code_format(code: str) -> str:
    value = (code or "").strip()
    if not re.fullmatch(r"\d{6}", value):
        raise InvalidInput("请输入6位数字验证码", field="sms_code")
    return value


# --- login lockout and per-source throttles (R-I7) -------------------------------------
def require_not_locked(locked_until: datetime | None, now: datetime, sms_unlock: bool = False) -> None:
    """A source locked out of an account waits; an applicant may unlock it at once with an
    SMS code to the registered phone."""
    if locked_until is not None and now < locked_until:
        minutes = int((locked_until - now).total_seconds() // 60) + 1
        way = "，或通过手机短信验证码解锁" if sms_unlock else ""
        raise Locked(f"连续登录失败次数过多，该账号已对当前网络锁定，请{minutes}分钟后再试{way}", code="locked",
                     details={"retry_after": minutes * 60, "sms_unlock": sms_unlock})


def after_failed_login(failures: int, locked_until: datetime | None, now: datetime,
                       max_failures: int, lock_minutes: int) -> tuple[int, datetime | None]:
    """Returns the new (failures, locked_until). A lock that has run out starts a new count."""
    if locked_until is not None and now >= locked_until:
        failures = 0
    failures += 1
    if failures >= max_failures:
        return failures, now + timedelta(minutes=lock_minutes)
    return failures, None


THROTTLE_TEXT = {"login": "登录", "admin_login": "管理员登录", "sms": "获取短信验证码"}


def session_alive(last_seen_at: datetime, now: datetime, idle_minutes: int) -> bool:
    return now - last_seen_at < timedelta(minutes=idle_minutes)


# --- roster import (R-I4) --------------------------------------------------------------
@dataclass(frozen=True)
class RosterRow:
    line: int
    id_number: str
    name: str


def parse_roster(data: bytes, today: date) -> tuple[list[RosterRow], list[dict]]:
    """Rows to add, and rows refused with their reason (line numbers as a spreadsheet
    shows them, header = line 1)."""
    rows_in = csv_lists(data)
    header = [h.strip().lower() for h in next(rows_in, (1, []))[1]]
    aliases = {"id_number": {"id_number", "身份证号", "身份证号码"}, "name": {"name", "姓名"}}
    try:
        cols = {k: next(i for i, h in enumerate(header) if h in names) for k, names in aliases.items()}
    except StopIteration:
        raise InvalidInput("CSV 首行须为表头 id_number,name（或 身份证号,姓名）", field="file") from None
    rows: list[RosterRow] = []
    refused: list[dict] = []
    seen: dict[str, int] = {}
    for line, record in rows_in:
        if not any(cell.strip() for cell in record):
            continue
        raw_id = record[cols["id_number"]] if len(record) > cols["id_number"] else ""
        raw_name = record[cols["name"]] if len(record) > cols["name"] else ""
        try:
            info = parse_id_number(raw_id, today)
            name = check_name(raw_name)
        except InvalidInput as exc:
            refused.append({"line": line, "id_number": mask_id(raw_id.strip()), "reason": exc.message})
            continue
        if info.id_number in seen:
            refused.append({"line": line, "id_number": mask_id(info.id_number),
                            "reason": f"与第{seen[info.id_number]}行身份证号重复"})
            continue
        seen[info.id_number] = line
        rows.append(RosterRow(line, info.id_number, name))
    return rows, refused
