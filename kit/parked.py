"""Events a handler could not apply after its retries wait in the service's
``parked_events`` table. This command lists them and replays them once the cause is fixed:

    python -m kit.parked identity              # list
    python -m kit.parked identity --replay 12  # publish event 12 again (or --replay all)

A replay delivers the original envelope again to the queue of the handler that parked it
(nameko's ``evt-<source>-<event type>--<service>.<handler>``) and to no one else; the
handler's inbox still makes a repeated replay harmless."""
from __future__ import annotations

import argparse
import sys

import sqlalchemy as sa
from nameko.amqp.publish import Publisher

from kit import clock
from kit.config import SERVICES, settings
from kit.db import add_messaging_tables, make_engine


def _table(engine: sa.Engine) -> sa.Table:
    metadata = sa.MetaData()
    add_messaging_tables(metadata)
    return metadata.tables["parked_events"]


def list_parked(service: str, url: str | None = None) -> list[dict]:
    engine = make_engine(url or settings().db_url(service))
    parked = _table(engine)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(parked).order_by(parked.c.id)).mappings().all()
    engine.dispose()
    return [dict(r) for r in rows]


def replay(service: str, which: str, amqp_uri: str | None = None, url: str | None = None) -> int:
    uri = amqp_uri or settings().amqp_uri
    if not uri:
        raise SystemExit("GONGKAO_AMQP_URI is not set: replaying needs the broker")
    engine = make_engine(url or settings().db_url(service))
    parked = _table(engine)
    count = 0
    with engine.begin() as conn:
        q = sa.select(parked).where(parked.c.replayed_at.is_(None))
        if which != "all":
            q = q.where(parked.c.id == int(which))
        for row in conn.execute(q.with_for_update()).mappings().all():
            source = row["event_type"].split(".", 1)[0]
            queue = f"evt-{source}-{row['event_type']}--{service}.{row['handler']}"
            # the default exchange routes by queue name: only that handler gets it
            Publisher(uri).publish(row["envelope"], exchange=None, routing_key=queue, mandatory=True)
            conn.execute(parked.update().where(parked.c.id == row["id"]).values(replayed_at=clock.now()))
            count += 1
    engine.dispose()
    return count


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("service", choices=SERVICES)
    ap.add_argument("--replay", metavar="ID|all")
    args = ap.parse_args(argv)
    if args.replay:
        print(f"replayed {replay(args.service, args.replay)} event(s)")
        return
    for r in list_parked(args.service):
        state = f"replayed {r['replayed_at']:%Y-%m-%d %H:%M}" if r["replayed_at"] else "waiting"
        print(f"{r['id']:>6}  {r['parked_at']:%Y-%m-%d %H:%M:%S}  {r['handler']:<28} {r['event_type']:<32} "
              f"{state}  {r['error'][:80]}")


if __name__ == "__main__":
    main(sys.argv[1:])
