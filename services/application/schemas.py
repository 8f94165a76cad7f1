"""Application's contract: RPC outputs and event payloads (the form arrives with issue 3)."""
from __future__ import annotations

from pydantic import BaseModel

from .eligibility import EDUCATION_LEVELS, FILE_KINDS  # noqa: F401 - part of the contract


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
