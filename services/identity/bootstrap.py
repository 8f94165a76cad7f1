"""Administrators created outside the RPC surface: the first province administrator of a
deployment and the demo reviewers of the local run. It runs where identity's database is
reachable (``GONGKAO_IDENTITY_DB_URL``), as an operator's command, never as an RPC that any
broker client could call:

    python -m services.identity.bootstrap admin          # password from GONGKAO_ADMIN_PASSWORD
"""
from __future__ import annotations

import argparse
import os

import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from kit import clock
from kit.access import ROLES
from kit.config import settings
from kit.db import make_engine

from . import domain
from .models import Admin, LoginLock
from .passwords import hash_password, verify_password


def ensure_admin(username: str, password: str, name: str, phone: str, role: str, scope_code: str | None,
                 scope_city: str | None, url: str | None = None) -> dict:
    """Creates or re-keys an administrator who may log in at once (no forced change)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role}")
    domain.check_password(password)
    engine = make_engine(url or settings().db_url("identity"))
    try:
        with sessionmaker(engine)() as s, s.begin():
            admin = s.scalars(sa.select(Admin).where(Admin.username == username).with_for_update()).first()
            if admin is None:
                admin = Admin(username=username, created_at=clock.now(), created_by="system")
                s.add(admin)
            admin.name, admin.phone, admin.role = name, phone, role
            admin.scope_code, admin.scope_city = scope_code, scope_city
            if not admin.password_hash or not verify_password(admin.password_hash, password):
                admin.password_hash = hash_password(password)
            admin.must_change_password = False
            s.flush()
            s.execute(sa.delete(LoginLock).where(LoginLock.kind == "admin", LoginLock.principal_id == admin.id))
            return {"username": admin.username, "role": admin.role, "scope_code": admin.scope_code}
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description="create or re-key the province administrator")
    parser.add_argument("username", nargs="?", default="admin")
    parser.add_argument("--name", default="省评价中心管理员")
    parser.add_argument("--phone", default="")
    args = parser.parse_args()
    password = os.environ.get("GONGKAO_ADMIN_PASSWORD")
    if not password:
        raise SystemExit("set GONGKAO_ADMIN_PASSWORD (the password is never taken from the command line)")
    ensure_admin(args.username, password, args.name, args.phone, "province", None, None)
    print(f"administrator {args.username} is ready")


if __name__ == "__main__":
    main()
