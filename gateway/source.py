"""The source address of a request (R-I7): the socket's peer, or, behind the proxies listed
in ``GONGKAO_TRUSTED_PROXIES``, the last address in ``X-Forwarded-For`` that is not one of
them. Login and SMS throttles and the login lock are per source."""
from __future__ import annotations

import ipaddress
from functools import lru_cache

import falcon

from kit.config import settings


@lru_cache(maxsize=4)
def _trusted(spec: str) -> tuple:
    nets = []
    for item in (part.strip() for part in spec.split(",")):
        if item:
            nets.append(ipaddress.ip_network(item, strict=False))
    return tuple(nets)


def _is_trusted(address: str, nets: tuple) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in nets)


def source_of(req: falcon.Request) -> str:
    peer = (req.remote_addr or "").strip() or "unknown"
    nets = _trusted(settings().trusted_proxies)
    if not nets or not _is_trusted(peer, nets):
        return peer
    forwarded = [h.strip() for h in (req.get_header("X-Forwarded-For") or "").split(",") if h.strip()]
    for address in reversed(forwarded):
        if not _is_trusted(address, nets):
            try:
                return str(ipaddress.ip_address(address))
            except ValueError:
                return peer  # a made-up entry: the proxy's own peer is all we know
    return peer
