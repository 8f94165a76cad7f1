"""Create (or re-key) the first province administrator on a deployed system, on identity's
database (the operator's way: administrators are never created by an RPC any broker client
could send):

    GONGKAO_IDENTITY_DB_URL=... GONGKAO_ADMIN_PASSWORD=... python -m deploy.bootstrap [--year 2027]

Loads no demo data; with ``--year`` (and ``GONGKAO_AMQP_URI``) it also sets up the exam year
if none is current yet (windows closed until the province sets them)."""
from __future__ import annotations

import argparse
import os

from deploy.seed import PROVINCE_ADMIN
from services.identity.bootstrap import ensure_admin


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--year", type=int, default=None)
    args = parser.parse_args()
    password = os.environ.get("GONGKAO_ADMIN_PASSWORD")
    if not password:
        raise SystemExit("set GONGKAO_ADMIN_PASSWORD")
    ensure_admin(PROVINCE_ADMIN, password, "省评价中心管理员", "", "province", None, None)
    uri = os.environ.get("GONGKAO_AMQP_URI")
    if args.year and uri:
        from nameko.standalone.rpc import ClusterRpcProxy

        with ClusterRpcProxy({"AMQP_URI": uri}, timeout=30) as rpc:
            if rpc.identity.current_year() is None:
                token = rpc.identity.admin_login(PROVINCE_ADMIN, password)["token"]
                rpc.identity.put_year(rpc.identity.resolve_session(token), args.year, {"current": True})
                rpc.identity.logout(token)
    print(f"administrator {PROVINCE_ADMIN} is ready")


if __name__ == "__main__":
    main()
