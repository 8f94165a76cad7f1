"""The source address of a request (R-I7): the socket's peer, or, behind the proxies listed
in ``GONGKAO_TRUSTED_PROXIES``, the last address in ``X-Forwarded-For`` that is not one of
them. Login and SMS throttles and the login lock are per source."""
from __future__ import annotations

import ipaddress
from functools import lru_cache

import falcon

from kit.config import settings


@lru_cache(maxsize=8)
def networks(spec: str) -> tuple:
    """The addresses and CIDRs of a comma-separated setting (``GONGKAO_TRUSTED_PROXIES``,
    ``GONGKAO_METRICS_ALLOW``)."""
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


def is_among(address: str | None, nets: tuple) -> bool:
    """Whether ``address`` is loopback or in ``nets`` (an IPv4 address seen as IPv6,
    ``::ffff:10.0.0.5``, counts as itself)."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback or any(ip.version == net.version and ip in net for net in nets)


def source_of(req: falcon.Request) -> str:
    peer = (req.remote_addr or "").strip() or "unknown"
    nets = networks(settings().trusted_proxies)
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
