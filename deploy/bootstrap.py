"""Create (or re-key) the first province administrator on a deployed system:

    GONGKAO_AMQP_URI=... GONGKAO_ADMIN_PASSWORD=... python -m deploy.bootstrap [--year 2027]

Loads no demo data; sets up the exam year only if none is current yet (windows closed
until the province sets them)."""
from __future__ import annotations

import argparse
import os

from nameko.standalone.rpc import ClusterRpcProxy

from deploy.seed import PROVINCE_ADMIN


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--year", type=int, default=None)
    args = parser.parse_args()
    password = os.environ.get("GONGKAO_ADMIN_PASSWORD")
    uri = os.environ.get("GONGKAO_AMQP_URI")
    if not password or not uri:
        raise SystemExit("set GONGKAO_AMQP_URI and GONGKAO_ADMIN_PASSWORD")
    with ClusterRpcProxy({"AMQP_URI": uri}, timeout=30) as rpc:
        rpc.identity.ensure_admin(PROVINCE_ADMIN, password, "省评价中心管理员", "", "province", None, None)
        if args.year and rpc.identity.current_year() is None:
            token = rpc.identity.admin_login(PROVINCE_ADMIN, password)["token"]
            rpc.identity.put_year(rpc.identity.resolve_session(token), args.year, {"current": True})
            rpc.identity.logout(token)
    print(f"administrator {PROVINCE_ADMIN} is ready")


if __name__ == "__main__":
    main()
