"""The gateway's URLs for what the services hand out as data (a file is a reference: kind,
hash, size; never a URL). Services know no gateway paths; the API and the pages add them
here, in one place."""
from __future__ import annotations

from services.application.schemas import STAMPED_PHOTO


def applicant_file(kind: str) -> str:
    return f"/api/v1/me/application/files/{kind}"


def admin_file(application_id: str, kind: str) -> str:
    return f"/api/v1/admin/applications/{application_id}/files/{kind}"


def material(application_id: str, kind: str) -> str:
    return f"/api/v1/admin/reviews/{application_id}/files/{kind}"


def _with_urls(files: dict | None, url) -> dict:
    return {kind: {**meta, "url": url(kind)} for kind, meta in (files or {}).items() if meta}


def form_for_applicant(form: dict) -> dict:
    """The application form as the applicant's API and pages show it: each file with its URL;
    the 添加身份证号 copy apart as ``stamped_photo``."""
    files = _with_urls(form.get("files"), applicant_file)
    out = {**form, "files": {k: v for k, v in files.items() if k != STAMPED_PHOTO}}
    out["stamped_photo"] = files.get(STAMPED_PHOTO)
    return out


def case_for_admin(case: dict) -> dict:
    """A review case with the URLs an administrator fetches its files and materials from."""
    app_id = case["application_id"]
    snapshot = dict(case.get("snapshot") or {})
    files = _with_urls(snapshot.get("files"), lambda kind: admin_file(app_id, kind))
    snapshot["files"] = {k: v for k, v in files.items() if k != STAMPED_PHOTO}
    snapshot["stamped_photo"] = files.get(STAMPED_PHOTO)
    return {**case, "snapshot": snapshot,
            "materials": _with_urls(case.get("materials"), lambda kind: material(app_id, kind))}
