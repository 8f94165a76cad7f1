"""Application's contract: RPC outputs and event payloads (the form arrives with issue 3)."""
from __future__ import annotations

from pydantic import BaseModel


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
