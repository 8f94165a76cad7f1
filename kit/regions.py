"""Henan's administrative divisions (GB/T 2260, state 2024-12-31; see data/README in
shared/ for the source). Static reference data, read by any service."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

PROVINCE_CODE = "410000"  # 省直 units sit directly under the province


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    level: str  # province | city | county
    parent_code: str | None


@lru_cache(maxsize=1)
def all_regions() -> dict[str, Region]:
    text = resources.files("kit").joinpath("data/henan_regions.csv").read_text("utf-8")
    return {row["code"]: Region(row["code"], row["name"], row["level"], row["parent_code"] or None)
            for row in csv.DictReader(text.splitlines())}


def cities() -> list[Region]:
    """The 17 省辖市, 济源示范区 and 省直 (410000) — the choices of 省辖市、直辖区."""
    out = [r for r in all_regions().values() if r.level == "city"]
    out.sort(key=lambda r: r.code)
    return [Region(PROVINCE_CODE, "省直", "city", None), *out]


def city_codes() -> set[str]:
    return {r.code for r in cities()}


def city_name(code: str) -> str | None:
    return {r.code: r.name for r in cities()}.get(code)


def counties(city_code: str) -> list[Region]:
    return sorted((r for r in all_regions().values() if r.level == "county" and r.parent_code == city_code),
                  key=lambda r: r.code)


def county(code: str) -> Region | None:
    r = all_regions().get(code)
    return r if r and r.level == "county" else None
