"""Identity rules, table-driven, no broker and no database (R-I3, R-I5, R-I6, R-I7,
R-I10, R-I11, R-Y2)."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from deploy.seed import with_check_digit
from kit.errors import InvalidInput, Locked, RuleNotMet, TooManyRequests
from services.identity import domain

TODAY = date(2026, 11, 27)


# --- R-I3: GB 11643 ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "ok", "gender"),
    [
        ("11010519491231002X", True, "F"),          # the standard's own example, check digit X
        ("11010519491231002x", True, "F"),          # lower-case x accepted, normalised
        ("110105194912310021", False, None),        # wrong check digit
        (with_check_digit("41150219960728440"), True, "F"),  # 17th digit even: woman
        (with_check_digit("41150219960728441"), True, "M"),  # odd: man
        (with_check_digit("41010220000229001"), True, "M"),  # Feb 29 in a leap year (2000)
        (with_check_digit("41010219000229001"), False, None),  # 1900 is no leap year
        (with_check_digit("41010220230229001"), False, None),  # Feb 29 2023 does not exist
        (with_check_digit("41010219841332001"), False, None),  # month 13
        (with_check_digit("41010220270101001"), False, None),  # born in the future
        (with_check_digit("99010219850312001"), False, None),  # no province 99
        (with_check_digit("41000019850312001"), False, None),  # region 0000 below the province
        ("4101021985031200", False, None),            # 16 characters
        ("41010219850312001X1", False, None),         # 19 characters
        ("41010219850312X011", False, None),          # X not last
        ("", False, None),
    ],
)
def test_id_number(raw, ok, gender):
    if ok:
        info = domain.parse_id_number(raw, TODAY)
        assert info.gender == gender
        assert info.id_number == raw.upper()
    else:
        with pytest.raises(InvalidInput) as exc:
            domain.parse_id_number(raw, TODAY)
        assert exc.value.field == "id_number"


def test_id_number_born_today_is_accepted():
    raw = with_check_digit("41010220261127001")
    assert domain.parse_id_number(raw, TODAY).birth_date == TODAY


@pytest.mark.parametrize(
    ("birth_month", "ok"),
    [("2000-02", True), ("2000-03", False), ("2000-2", False), ("2000-13", False), ("", False)],
)
def test_birth_month_must_match_id(birth_month, ok):
    info = domain.parse_id_number(with_check_digit("41010220000229001"), TODAY)
    if ok:
        domain.check_birth_month(birth_month, info)
    else:
        with pytest.raises(InvalidInput) as exc:
            domain.check_birth_month(birth_month, info)
        assert exc.value.field == "birth_month"


# --- R-I6: passwords --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("password", "confirm", "field"),
    [
        ("abc12345", "abc12345", None),            # 8: the minimum
        ("a1" * 32, "a1" * 32, None),              # 64: the maximum
        ("abc1234", "abc1234", "password"),        # 7
        ("a1" * 32 + "x", "a1" * 32 + "x", "password"),  # 65
        ("abcdefgh", "abcdefgh", "password"),      # letters only
        ("12345678", "12345678", "password"),      # digits only
        ("abc12345", "abc12346", "password_confirm"),
        ("密码abc12345", "密码abc12345", None),      # other characters allowed besides
    ],
)
def test_password_policy(password, confirm, field):
    if field is None:
        assert domain.check_password(password, confirm) == password
    else:
        with pytest.raises(InvalidInput) as exc:
            domain.check_password(password, confirm)
        assert exc.value.field == field


@pytest.mark.parametrize(("phone", "ok"), [("13800000000", True), ("19912345678", True),
                                           ("12800000000", False), ("1380000000", False),
                                           ("138000000001", False), ("+8613800000000", False)])
def test_phone(phone, ok):
    if ok:
        assert domain.check_phone(phone) == phone
    else:
        with pytest.raises(InvalidInput):
            domain.check_phone(phone)


@pytest.mark.parametrize(("name", "ok"), [("张伟", True), ("买买提·艾力", True), ("买买提•艾力", True),
                                          ("张", False), ("Zhang Wei", False), ("张伟1", False)])
def test_name(name, ok):
    if ok:
        assert domain.check_name(name)
    else:
        with pytest.raises(InvalidInput):
            domain.check_name(name)


# --- R-Y2: windows, to the second -------------------------------------------------------
START = datetime(2026, 1, 8, 0, 0, 0, tzinfo=UTC)
END = datetime(2026, 12, 19, 3, 1, 31, tzinfo=UTC)
WINDOW = {"start": START.isoformat(), "end": END.isoformat()}


@pytest.mark.parametrize(
    ("now", "is_open"),
    [
        (START - timedelta(seconds=1), False),
        (START, True),
        (START + timedelta(microseconds=999_999), True),
        (END, True),
        (END + timedelta(microseconds=999_999), True),   # still the last second
        (END + timedelta(seconds=1), False),
    ],
)
def test_window_edges(now, is_open):
    assert domain.window_open(WINDOW, now) is is_open


def test_outside_window_message_names_the_window():
    cal = {"windows": {"registration": WINDOW}}
    with pytest.raises(RuleNotMet) as exc:
        domain.require_window(cal, "registration", END + timedelta(seconds=1))
    assert exc.value.code == "outside_registration_window"
    assert "当前不是注册时间" in exc.value.message and "2026年12月19日11时01分31秒" in exc.value.message
    with pytest.raises(RuleNotMet) as exc:
        domain.require_window({"windows": {}}, "registration", START)
    assert "尚未公布" in exc.value.message


# --- R-I5: SMS codes --------------------------------------------------------------------
T0 = datetime(2026, 3, 1, 9, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(("elapsed", "wait"), [(0, 60), (1, 59), (59, 1), (59.5, 1), (60, 0), (61, 0)])
def test_resend_throttle(elapsed, wait):
    assert domain.sms_wait_seconds(T0, T0 + timedelta(seconds=elapsed), 60) == wait


def test_throttle_and_daily_limit_raise_429():
    with pytest.raises(TooManyRequests) as exc:
        domain.require_can_send(T0, 0, T0 + timedelta(seconds=30), 60, 20)
    assert exc.value.details == {"retry_after": 30}
    with pytest.raises(TooManyRequests):
        domain.require_can_send(None, 20, T0, 60, 20)
    domain.require_can_send(None, 19, T0, 60, 20)


EXPIRES = T0 + timedelta(minutes=5)


@pytest.mark.parametrize(
    ("attempts", "used", "given", "now", "ok", "count", "text"),
    [
        (0, False, "h", T0, True, False, ""),
        (0, False, "h", EXPIRES - timedelta(seconds=1), True, False, ""),  # last valid second
        (0, False, "h", EXPIRES, False, False, "已过期"),                    # 5 minutes: expired
        (0, False, "x", T0, False, True, "还可尝试4次"),
        (3, False, "x", T0, False, True, "还可尝试1次"),
        (4, False, "x", T0, False, True, "请重新获取"),                       # the 5th wrong try
        (4, False, "h", T0, True, False, ""),                               # the 5th try, right
        (5, False, "h", T0, False, False, "次数过多"),                        # exhausted: even right fails
        (0, True, "h", T0, False, False, "请先获取"),                         # single use
    ],
)
def test_sms_code_check(attempts, used, given, now, ok, count, text):
    result = domain.check_sms_code("h", EXPIRES, attempts, used, given, now, 5)
    assert (result.ok, result.count_attempt) == (ok, count)
    assert text in result.message


def test_no_code_requested():
    assert not domain.check_sms_code(None, None, 0, False, "h", T0, 5).ok


# --- R-I7: lockout ----------------------------------------------------------------------
def test_lockout_after_five_failures_for_thirty_minutes():
    failures, locked = 0, None
    for _ in range(4):
        failures, locked = domain.after_failed_login(failures, locked, T0, 5, 30)
        assert locked is None
    failures, locked = domain.after_failed_login(failures, locked, T0, 5, 30)
    assert failures == 5 and locked == T0 + timedelta(minutes=30)
    with pytest.raises(Locked):
        domain.require_not_locked(locked, T0 + timedelta(minutes=30) - timedelta(seconds=1))
    domain.require_not_locked(locked, T0 + timedelta(minutes=30))  # over: may try again
    # a failure after the lock ran out starts a new count
    assert domain.after_failed_login(failures, locked, T0 + timedelta(minutes=31), 5, 30) == (1, None)


@pytest.mark.parametrize(("idle", "alive"), [(0, True), (29 * 60 + 59, True), (30 * 60, False)])
def test_session_idle_expiry(idle, alive):
    assert domain.session_alive(T0, T0 + timedelta(seconds=idle), 30) is alive


# --- R-I4: roster CSV -------------------------------------------------------------------
def test_roster_csv_reports_each_refused_row():
    good = with_check_digit("41010219850312001")
    data = (
        "身份证号,姓名\n"
        f"{good},张伟\n"
        "410102198503120019,李四\n"      # bad check digit
        f"{good},张伟\n"                  # duplicate in file
        f"{with_check_digit('41010219900101002')},X\n"
        "\n"
        f"{with_check_digit('41010219900101003')},王芳\n"
    ).encode("gb18030")
    rows, refused = domain.parse_roster(data, TODAY)
    assert [r.name for r in rows] == ["张伟", "王芳"]
    assert [(r["line"], r["reason"][:4]) for r in refused] == [(3, "身份证号"), (4, "与第2行"), (5, "请输入正")]
    assert all("*" in r["id_number"] for r in refused)


def test_roster_csv_needs_header():
    with pytest.raises(InvalidInput):
        domain.parse_roster(b"foo,bar\n1,2\n", TODAY)


def test_masks():
    assert domain.mask_id("411502199607284408") == "411502********4408"
    assert domain.mask_phone("15803880514") == "158****0514"
    assert domain.mask_name("李红") == "李*" and domain.mask_name("孔德明") == "孔**"


def test_a_service_keeps_the_newest_calendar_copy_by_version_whatever_the_clocks_say():
    from types import SimpleNamespace as Event

    from services.application.domain import is_older

    later_clock = {"version": 4, "updated_at": "2026-01-02T00:00:00+00:00"}      # stamped by a clock ahead
    assert not is_older(Event(version=5, updated_at="2026-01-01T00:00:00+00:00"), later_clock)
    assert is_older(Event(version=3, updated_at="2026-01-03T00:00:00+00:00"), later_clock)
    # copies from before versions: by updated_at
    kept = {"updated_at": "2026-01-01T00:00:00.000001+00:00"}
    assert is_older(Event(version=0, updated_at="2026-01-01T00:00:00+00:00"), kept)
    assert not is_older(Event(version=0, updated_at="2026-01-01T00:00:01+00:00"), kept)
    assert not is_older(Event(version=0, updated_at=None), kept) and not is_older(Event(version=1, updated_at="x"), {})
