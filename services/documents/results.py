"""Documents' entrypoints for after the exam (R-D3, R-D4, R-D5): pass lines, the score import
and its report, 考核结果 inside the results window, results statistics and their Excel,
earlier years' assessment records, the electronic certificate with its verification code,
and the public check of that code. Mixed into ``DocumentsService`` (service.py), whose
``db``, ``files`` and helpers it uses; the rules are in domain.py."""
from __future__ import annotations

import secrets
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from kit import access, clock, regions, throttle
from kit.access import Principal
from kit.config import settings
from kit.entrypoints import rpc
from kit.errors import Conflict, Forbidden, NotFound
from kit.files import generates, uploads
from kit.masks import mask_id, mask_name
from kit.tables import sheet_dicts, xlsx_file
from kit.validation import check_year, parse
from kit.windows import at, next_change, window_open

from . import domain
from .models import Candidate, Certificate, HistoryRecord, PassLine, Score, Seat, source_counters
from .schemas import (
    ASSESSMENT_KIND,
    EDUCATION_NAMES,
    GENDER_NAMES,
    GRADE_NAMES,
    RESULT_NAMES,
    SCORE_LIST_COLUMNS,
    CertificateBasic,
    CertificateCheck,
    CertificateIssued,
    CertificateOut,
    HistoryImportReport,
    PassLines,
    Record,
    Result,
    ResultsPublished,
    ResultsQuery,
    ResultsStats,
    ScoreImportReport,
    ScoresQuery,
)

PROVINCE = ("province",)
CERTIFICATE_LAYOUT = "certificate"
SHEET_MAX_BYTES = 2 * 1024 * 1024
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"      # no 0/O, 1/I: read aloud and typed by hand
CODE_LENGTH = 16


def _scores(row: Score) -> dict[str, Decimal]:
    return {"职业道德": row.ethics, "职业能力": row.ability, "岗位技能": row.skill}


class ResultsEntrypoints:
    # --- pass lines --------------------------------------------------------------------------
    def _lines(self, s: Session, year: int) -> tuple[dict[str, int], int]:
        row = s.get(PassLine, year)
        default = PassLines()
        return (dict(row.subjects), row.total) if row else (default.subjects, default.total)

    @rpc
    def get_pass_lines(self, principal: dict, year: int) -> dict:
        access.require(principal, "admin")
        with self.db.tx() as s:
            subjects, total = self._lines(s, check_year(year))
        return PassLines(subjects=subjects, total=total).model_dump()

    @rpc
    def put_pass_lines(self, principal: dict, year: int, body: dict) -> dict:
        """合格线 of the year; every result whose 合格 changes with them is announced again."""
        who = access.require(principal, "admin", roles=PROVINCE)
        year = check_year(year)
        lines = parse(PassLines, body or {})
        with self.db.tx() as s:
            self.db.lock(s, f"documents.scores:{year}")
            before_subjects, before_total = self._lines(s, year)
            row = s.get(PassLine, year)
            if row is None:
                s.add(PassLine(year=year, subjects=lines.subjects, total=lines.total, updated_at=clock.now()))
            else:
                row.subjects, row.total, row.updated_at = lines.subjects, lines.total, clock.now()
            changed = []
            for score, c in s.execute(sa.select(Score, Candidate).join(Candidate).where(Score.year == year)):
                was = domain.passed(_scores(score), before_subjects, before_total)
                now = domain.passed(_scores(score), lines.subjects, lines.total)
                if was != now:
                    score.revision += 1
                    changed.append(self._published(score, c, lines.subjects, lines.total))
            self.db.emit_many(s, changed)
            self._audit(s, who, "pass_lines.set", str(year), {"subjects": before_subjects, "total": before_total},
                        {**lines.model_dump(), "results_changed": len(changed)})
        return lines.model_dump()

    @staticmethod
    def _published(score: Score, c: Candidate, subjects: dict, total: int) -> ResultsPublished:
        result = "pass" if domain.passed(_scores(score), subjects, total) else "fail"
        return ResultsPublished(application_id=c.application_id, year=c.year, id_number=c.id_number, result=result,
                                revision=score.revision)

    # --- the score import ----------------------------------------------------------------------
    def _province_only(self, principal: dict, args: dict) -> Principal:
        return access.require(principal, "admin", roles=PROVINCE)

    @uploads("scores_sheet", max_bytes=SHEET_MAX_BYTES, precheck="_province_only")
    def import_scores(self, principal: dict, args: dict, data: bytes) -> dict:
        """Scores by ticket number (CSV or Excel: ticket_no/准考证号, 职业道德, 职业能力, 岗位技能).
        Good rows are imported, the others refused with why; importing a ticket again
        replaces its scores and the report says what changed. 合格 is computed, never read."""
        who = self._province_only(principal, args)
        rows, refused = domain.scores_from_sheet(sheet_dicts(data, domain.SCORE_COLUMNS, domain.SCORE_REQUIRED))
        imported, unchanged, replaced = 0, 0, []
        now = clock.now()
        with self.db.tx() as s:
            seats: dict[str, Seat] = {}
            tickets = [r["ticket_no"] for r in rows]
            for start in range(0, len(tickets), 1000):
                for seat in s.scalars(sa.select(Seat).where(Seat.ticket_no.in_(tickets[start:start + 1000]))):
                    seats[seat.ticket_no] = seat
            for year in sorted({seat.year for seat in seats.values()}):
                self.db.lock(s, f"documents.scores:{year}")
            lines = {year: self._lines(s, year) for year in {seat.year for seat in seats.values()}}
            existing = {x.ticket_no: x for x in s.scalars(sa.select(Score).where(
                Score.application_id.in_([seat.application_id for seat in seats.values()])))} if seats else {}
            published = []
            for r in rows:
                seat = seats.get(r["ticket_no"])
                if seat is None:
                    refused.append({"line": r["line"], "ticket_no": r["ticket_no"], "reason": "准考证号不存在"})
                    continue
                new = r["scores"]
                old = existing.get(r["ticket_no"])
                if old is not None:
                    if _scores(old) == new:
                        unchanged += 1
                        continue
                    replaced.append({"line": r["line"], "ticket_no": r["ticket_no"],
                                            "before": {k: float(v) for k, v in _scores(old).items()},
                                            "after": {k: float(v) for k, v in new.items()}})
                    old.ethics, old.ability, old.skill = new["职业道德"], new["职业能力"], new["岗位技能"]
                    old.revision += 1
                    old.imported_at, old.imported_by = now, who.username or ""
                    score = old
                else:
                    score = Score(application_id=seat.application_id, year=seat.year, ticket_no=seat.ticket_no,
                                  ethics=new["职业道德"], ability=new["职业能力"], skill=new["岗位技能"], revision=1,
                                  imported_at=now, imported_by=who.username or "")
                    s.add(score)
                    existing[seat.ticket_no] = score
                imported += 1
                c = s.get(Candidate, seat.application_id)
                published.append(self._published(score, c, *lines[seat.year]))
            s.flush()
            self.db.emit_many(s, published)
            report = ScoreImportReport(imported=imported, unchanged=unchanged, replaced=replaced,
                                       refused=sorted(refused, key=lambda x: x["line"]))
            self._audit(s, who, "scores.import", None, None, {
                "imported": imported, "unchanged": unchanged, "refused": len(report.refused),
                "replaced": replaced[:200]})
        return report.model_dump()

    # --- 考核结果 (R-D3) ------------------------------------------------------------------------
    @rpc
    def my_result(self, principal: dict) -> dict:
        """Only inside the results window: 合格, or 不合格 with the table of scores and lines."""
        who = access.require(principal, "applicant")
        with self.db.read() as s:                      # a read of the rush: no transaction
            c = self._candidate(s, who)
            windows = (self._calendar(s, who.year).get("windows") or {})
            seat = s.get(Seat, c.application_id) if c else None
            score = s.get(Score, c.application_id) if c else None
            now = clock.now()
            reason = domain.result_reason(window_open(windows.get("results"), now), seat is not None,
                                          score is not None)
            # the results window opening or closing turns it by the clock alone (issue 12)
            fresh = next_change({"windows": {"results": windows.get("results")}}, now)
            if reason:
                return Result(available=False, reason=reason, fresh_until=fresh).model_dump(mode="json")
            subjects, total = self._lines(s, c.year)
            values = _scores(score)
            result = "pass" if domain.passed(values, subjects, total) else "fail"
            return Result(available=True, result=result, result_name=RESULT_NAMES[result], name=c.name,
                          id_number=c.id_number, ticket_no=seat.ticket_no, scores=domain.result_rows(values, subjects),
                          total=float(sum(values.values())), total_line=float(total),
                          fresh_until=fresh).model_dump(mode="json")

    @rpc
    def results_stats(self, principal: dict, year: int, query: dict | None = None) -> dict:
        """Who sat (has scores) and who passed, by city, grade or trade (a city administrator:
        their own city)."""
        who = access.require(principal, "admin", roles=("province", "city"))
        year = check_year(year)
        q = parse(ResultsQuery, query or {})
        with self.db.tx() as s:
            return self._stats(s, who, year, q.by).model_dump()

    @staticmethod
    def _passing(subjects: dict, total: int):
        """合格 (domain.passed) as an SQL condition on scores: every subject at its line, the total at its."""
        return sa.and_(Score.ethics >= subjects["职业道德"], Score.ability >= subjects["职业能力"],
                       Score.skill >= subjects["岗位技能"], Score.ethics + Score.ability + Score.skill >= total)

    def _stats(self, s: Session, who: Principal, year: int, by: str) -> ResultsStats:
        subjects, total = self._lines(s, year)
        key = {"city": Candidate.city_code, "grade": Candidate.target_grade, "trade": Candidate.trade_name}[by]
        ok = self._passing(subjects, total)
        query = (sa.select(key, sa.func.count(), sa.func.sum(sa.case((ok, 1), else_=0)))
                 .select_from(Score).join(Candidate, Candidate.application_id == Score.application_id)
                 .where(Score.year == year, access.scope_clause(who, city=Candidate.city_code))
                 .group_by(key).order_by(key))
        rows = []
        for value, sat, passed in s.execute(query):
            label = {"city": lambda v: regions.city_name(v) or v, "grade": lambda v: GRADE_NAMES.get(v, str(v)),
                     "trade": lambda v: v}[by](value)
            rows.append({"key": str(value), "label": label, "sat": sat, "passed": int(passed or 0),
                         "rate": round(int(passed or 0) / sat, 4) if sat else 0.0})
        sat, passed = sum(r["sat"] for r in rows), sum(r["passed"] for r in rows)
        return ResultsStats(year=year, by=by, rows=rows,
                            total={"sat": sat, "passed": passed, "rate": round(passed / sat, 4) if sat else 0.0})

    @rpc
    def results_export(self, principal: dict, year: int, query: dict | None = None) -> dict:
        access.require(principal, "admin", roles=("province", "city"))
        q = parse(ResultsQuery, query or {})
        return self.files.generated_ticket("results_xlsx", {"year": check_year(year), "by": q.by}, principal,
                                           filename=f"考核结果统计_{year}.xlsx",
                                           content_type="application/vnd.openxmlformats-officedocument."
                                                        "spreadsheetml.sheet")

    @generates("results_xlsx")
    def make_results_xlsx(self, principal: dict, args: dict):
        who = access.require(principal, "admin", roles=("province", "city"))
        with self.db.tx() as s:
            stats = self._stats(s, who, check_year(args.get("year")), parse(ResultsQuery, {"by": args.get("by")}).by)
        title = {"city": "省辖市", "grade": "等级", "trade": "工种"}[stats.by]
        return xlsx_file("考核结果统计", [title, "参考人数", "合格人数", "合格率"], [
            *([r["label"], r["sat"], r["passed"], f"{r['rate'] * 100:.1f}%"] for r in stats.rows),
            ["合计", stats.total["sat"], stats.total["passed"], f"{stats.total['rate'] * 100:.1f}%"]])

    # --- the results list (issue 14) --------------------------------------------------------------
    def _scores_caller(self, principal: dict, q: ScoresQuery) -> Principal:
        who = access.require(principal, "admin", roles=("province", "city"))
        if q.city_code and not who.in_scope(q.city_code):
            raise Forbidden("只能导出本市的考核成绩", code="out_of_scope")
        return who

    @rpc
    def scores_export(self, principal: dict, year: int, query: dict | None = None) -> dict:
        """考核成绩名单 as Excel: a ticket to the file, made when it is fetched."""
        q = parse(ScoresQuery, query or {})
        self._scores_caller(principal, q)
        year = check_year(year)
        return self.files.generated_ticket("scores_xlsx", {"year": year, **q.model_dump()}, principal,
                                           filename=f"考核成绩名单_{year}.xlsx",
                                           content_type="application/vnd.openxmlformats-officedocument."
                                                        "spreadsheetml.sheet")

    @generates("scores_xlsx")
    def make_scores_xlsx(self, principal: dict, args: dict):
        """Every candidate with scores in the caller's scope, by city and ticket number, 合格
        computed with the year's lines in SQL as the statistics count it; read 500 at a time
        and written row by row."""
        year = check_year(args.get("year"))
        q = parse(ScoresQuery, {k: args.get(k) for k in ScoresQuery.model_fields})
        who = self._scores_caller(principal, q)
        cities = {c.code: c.name for c in regions.cities()}
        with self.db.tx() as s:
            subjects, total = self._lines(s, year)
            ok = self._passing(subjects, total)
            query = (sa.select(Score, Candidate, ok.label("ok"))
                     .join(Candidate, Candidate.application_id == Score.application_id)
                     .where(Score.year == year, access.scope_clause(who, city=Candidate.city_code)))
            if q.city_code:
                query = query.where(Candidate.city_code == q.city_code)
            if q.grade is not None:
                query = query.where(Candidate.target_grade == q.grade)
            if q.result is not None:
                query = query.where(ok if q.result == "pass" else ~ok)
            rows = s.execute(query.order_by(Candidate.city_code, Score.ticket_no).execution_options(yield_per=500))
            return xlsx_file("考核成绩", SCORE_LIST_COLUMNS, (
                [score.ticket_no, c.name, mask_id(c.id_number), cities.get(c.city_code, c.city_code), c.unit_name,
                 GRADE_NAMES.get(c.target_grade, ""), c.trade_name, float(score.ethics), float(score.ability),
                 float(score.skill), float(score.ethics + score.ability + score.skill),
                 RESULT_NAMES["pass" if passed else "fail"]] for score, c, passed in rows))

    # --- assessment history (R-D4) ----------------------------------------------------------------
    @uploads("history_csv", max_bytes=SHEET_MAX_BYTES, precheck="_province_only")
    def import_history(self, principal: dict, args: dict, data: bytes) -> dict:
        """Earlier years' records (CSV or Excel); a record imported again is replaced."""
        who = self._province_only(principal, args)
        good, refused = domain.history_from_sheet(
            sheet_dicts(data, domain.HISTORY_COLUMNS, domain.HISTORY_REQUIRED), clock.local_now().year)
        now = clock.now()
        with self.db.tx() as s:
            for r in good:
                row = s.scalars(sa.select(HistoryRecord).where(
                    HistoryRecord.id_number == r["id_number"], HistoryRecord.year == r["year"],
                    HistoryRecord.kind == r["kind"], HistoryRecord.trade == r["trade"],
                    HistoryRecord.grade == r["grade"])).first()
                if row is None:
                    s.add(HistoryRecord(**r, imported_at=now))
                else:
                    row.obtained_at, row.result, row.imported_at = r["obtained_at"], r["result"], now
            self._audit(s, who, "history.import", None, None, {"imported": len(good), "refused": len(refused)})
        return HistoryImportReport(imported=len(good), refused=refused[:500]).model_dump()

    def _records(self, s: Session, c: Candidate) -> list[dict]:
        """Every year's record of the person: results this system holds, and imported ones
        (a year and grade the system holds itself is not repeated from an import)."""
        records = []
        for score, other in s.execute(sa.select(Score, Candidate).join(Candidate).where(
                Candidate.id_number == c.id_number, ~Candidate.withdrawn)):
            subjects, total = self._lines(s, other.year)
            ok = domain.passed(_scores(score), subjects, total)
            records.append(domain.record(other.year, ASSESSMENT_KIND, other.trade_name, other.target_grade,
                                         self._obtained(s, other.year) if ok else None, "pass" if ok else "fail"))
        held = {(r["year"], r["grade"]) for r in records}
        for h in s.scalars(sa.select(HistoryRecord).where(HistoryRecord.id_number == c.id_number)):
            if (h.year, h.grade) not in held:
                records.append(domain.record(h.year, h.kind, h.trade, h.grade, h.obtained_at, h.result))
        return sorted(records, key=lambda r: (r["year"], -r["grade"]))

    def _obtained(self, s: Session, year: int) -> date:
        """取得证书时间 of a year's pass: the day its results were opened (the results window)."""
        start = ((self._calendar(s, year).get("windows") or {}).get("results") or {}).get("start")
        return (at(start) if start else clock.now()).astimezone(clock.CST).date()

    # --- the electronic certificate (R-D4, R-D5) --------------------------------------------------
    def _certificate(self, s: Session, c: Candidate | None) -> tuple[Certificate, dict]:
        """The certificate of a passing applicant while printing is on (409 not_open
        otherwise), created with its verification code on first use; and what it shows."""
        if c is None or not (self._calendar(s, c.year).get("switches") or {}).get("certificate_printing"):
            raise Conflict("管理员开通电子证书打印后方可下载", code="not_open")
        score = s.get(Score, c.application_id)
        subjects, total = self._lines(s, c.year)
        if score is None or not domain.passed(_scores(score), subjects, total):
            raise Conflict("考核合格后方可下载电子证书", code="not_open")
        cert = s.get(Certificate, c.application_id)
        if cert is None:
            cert = Certificate(application_id=c.application_id, year=c.year, issued_at=clock.now(),
                               code="".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)))
            s.add(cert)
            s.flush()
            self.db.emit(s, CertificateIssued(application_id=c.application_id, year=c.year, id_number=c.id_number,
                                              verification_code=cert.code, issued_at=cert.issued_at))
        basic = CertificateBasic(name=c.name, gender=GENDER_NAMES.get(c.gender, c.gender),
                                 education=EDUCATION_NAMES.get(c.education, c.education or ""),
                                 id_number=c.id_number, work_start=c.work_start or "", service_years=c.service_years,
                                 unit=c.unit_name)
        url = f"{settings().public_url.rstrip('/')}/verify/{cert.code}"
        out = CertificateOut(verification_code=cert.code, verify_url=url, issued_at=cert.issued_at, basic=basic,
                             records=[Record(**r) for r in self._records(s, c)])
        return cert, out.model_dump(mode="json")

    @rpc
    def my_certificate(self, principal: dict) -> dict:
        who = access.require(principal, "applicant")
        with self.db.tx() as s:
            return self._certificate(s, self._candidate(s, who))[1]

    def _certificate_pdf(self, application_id: str) -> dict:
        with self.db.tx() as s:
            c = s.get(Candidate, application_id)
            cert, out = self._certificate(s, c)
            data = domain.certificate_data(cert.code, out["verify_url"], cert.issued_at.astimezone(clock.CST).date(),
                                           out["basic"], out["records"])
            wanted = self._wanted(s, c, "certificate", CERTIFICATE_LAYOUT, data, out["verify_url"])
        return self._made(wanted)

    @rpc
    def my_certificate_pdf(self, principal: dict) -> dict:
        who = access.require(principal, "applicant")
        with self.db.tx() as s:
            c = self._candidate(s, who)
            application_id = c.application_id if c else None
            if c is None:
                raise Conflict("考核合格后方可下载电子证书", code="not_open")
        ref = self._certificate_pdf(application_id)
        return self.files.download_ticket(ref, filename=f"电子证书_{who.name}.pdf", disposition="attachment")

    @rpc
    def check_certificate(self, code: str, source: str | None = None) -> dict:
        """Anyone may check a code (R-D5): what confirms it, masked; unknown codes are 404.
        Counted per source address (a 429 past the limit): codes cannot be walked through."""
        now = clock.now()
        with self.db.tx() as s:
            count = throttle.hit(s, source_counters, source, "verify", now)
        throttle.require_under(count, settings().source_verify_per_10min, "核验证书", now)
        value = str(code or "").strip().upper()
        if len(value) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in value):
            raise NotFound("没有找到该证书，请核对验证码")
        with self.db.tx() as s:
            row = s.execute(sa.select(Certificate, Candidate).join(Candidate).where(Certificate.code == value)).first()
            if row is None:
                raise NotFound("没有找到该证书，请核对验证码")
            cert, c = row
            return CertificateCheck(valid=not c.withdrawn, name=mask_name(c.name), id_number=mask_id(c.id_number),
                                    grade=GRADE_NAMES.get(c.target_grade, ""), trade=c.trade_name, year=c.year,
                                    issued_at=cert.issued_at).model_dump(mode="json")

    def _passing_ids(self, s: Session, year: int, city_code: str | None) -> list[str]:
        subjects, total = self._lines(s, year)
        q = sa.select(Score, Candidate).join(Candidate).where(Score.year == year, ~Candidate.withdrawn)
        if city_code:
            q = q.where(Candidate.city_code == city_code)
        return [c.application_id for score, c in s.execute(q.order_by(Score.ticket_no))
                if domain.passed(_scores(score), subjects, total)]

