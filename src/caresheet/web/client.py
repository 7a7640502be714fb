"""Who is calling: the client's address, as the rate limit and the audit log must see it.

Behind a reverse proxy every request comes from the proxy, and the client's address is in
``X-Forwarded-For``. Each proxy *appends* the address it saw, so only the right-hand end of
that header is written by machines we trust; anything to the left of it is whatever the
client sent. ``client_ip`` therefore walks the chain from the right (the socket's peer first)
and stops at the first address that is not a trusted proxy.

``CARESHEET_TRUSTED_PROXIES`` says who is trusted, read once when the app starts:

- a comma-separated list of addresses and networks (``10.0.0.5, 10.1.0.0/16, ::1``): any hop
  in them is a proxy; or
- a number of hops (``1``: one proxy in front of the app, whose addresses may change, as in a
  cloud load balancer): that many hops from the right are proxies, whoever they are.

Unset, no one is trusted and ``X-Forwarded-For`` is ignored. ``X-Forwarded-Proto`` (so links
and cookies know the client used https) is taken from a trusted peer only (``ForwardedScheme``);
``caresheet serve`` turns uvicorn's own handling of both headers off, so this is the one rule.
The old ``CARESHEET_TRUST_PROXY=true`` is read as one hop, with a warning: it used to take the
*leftmost* entry, which the client controls.
"""

from __future__ import annotations

import ipaddress
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from fastapi import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from caresheet import config
from caresheet.errors import BadInputError

TRUSTED_PROXIES_ENV = "CARESHEET_TRUSTED_PROXIES"
DEPRECATED_ENV = "CARESHEET_TRUST_PROXY"
UNKNOWN = "unknown"
MAX_HOPS = 32  # more entries than this in one header is not a real chain of proxies

log = logging.getLogger("caresheet.web")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class TrustedProxies:
    """The hops whose word about the client we take: by network, or a count from the right."""

    networks: tuple[Network, ...] = ()
    hops: int = 0

    @classmethod
    def parse(cls, text: str) -> TrustedProxies:
        """``"10.0.0.0/8, 192.0.2.7"`` or ``"2"``; BadInputError names an entry it cannot read."""
        value = text.strip()
        if not value:
            return cls()
        if value.isdigit():
            return cls(hops=min(int(value), MAX_HOPS))
        networks = []
        for entry in (e.strip() for e in value.split(",")):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                raise BadInputError(
                    f"{TRUSTED_PROXIES_ENV}: {entry[:60]!r} is not an address or network; "
                    "write e.g. 10.0.0.5, 10.1.0.0/16 (or a number of proxy hops, e.g. 1)"
                ) from None
        return cls(networks=tuple(networks))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TrustedProxies:
        e = os.environ if env is None else env
        given = e.get(TRUSTED_PROXIES_ENV, "")
        if not given.strip() and config.is_true(e.get(DEPRECATED_ENV)):
            log.warning("%s is deprecated: set %s to your proxies' addresses (read as 1 hop)",
                        DEPRECATED_ENV, TRUSTED_PROXIES_ENV)
            return cls(hops=1)
        return cls.parse(given)

    def _trusted(self, hop: int, address: Address) -> bool:
        """Whether the hop ``hop`` places from the right (0 = the peer) is one of ours."""
        if self.hops:
            return hop < self.hops
        return any(address in network for network in self.networks)

    def peer_trusted(self, peer: str | None) -> bool:
        """Whether the socket's peer is one of our proxies."""
        address = parse_address(peer) if peer else None
        return address is not None and self._trusted(0, address)

    def client(self, peer: str | None, forwarded_for: Sequence[str]) -> str:
        """The right-most address in ``forwarded_for + [peer]`` that is not a trusted proxy."""
        if not peer:
            return UNKNOWN
        nearest = parse_address(peer)
        if nearest is None:  # not an IP socket (a test transport, a Unix socket)
            return peer[:64]
        entries = [e for header in forwarded_for for e in header.split(",")][-MAX_HOPS:]
        chain: list[Address | None] = [nearest, *(parse_address(e) for e in reversed(entries))]
        last = nearest
        for hop, address in enumerate(chain):
            if address is None:  # a proxy passed on something that is not an address
                return str(last)
            if not self._trusted(hop, address):
                return str(address)
            last = address
        return str(last)  # every hop is a proxy: the left-most is as far as anyone can tell


def parse_address(text: str) -> Address | None:
    """An address from a header entry: ``192.0.2.1``, ``192.0.2.1:443``, ``[2001:db8::1]:80``."""
    entry = text.strip().strip('"')
    if entry.startswith("["):
        entry = entry[1:].partition("]")[0]
    elif entry.count(":") == 1:
        entry = entry.partition(":")[0]
    try:
        address = ipaddress.ip_address(entry)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def client_ip(request: Request) -> str:
    """The caller's address, behind the proxies the app was started to trust."""
    app = request.scope.get("app")
    proxies = getattr(getattr(app, "state", None), "trusted_proxies", None)
    if not isinstance(proxies, TrustedProxies):
        proxies = TrustedProxies.from_env()
    peer = request.client.host if request.client else None
    return proxies.client(peer, request.headers.getlist("x-forwarded-for"))


class ForwardedScheme:
    """ASGI middleware: the scheme the client used, from ``X-Forwarded-Proto`` of a trusted
    proxy only (a link or a Secure cookie must not depend on what a client claims)."""

    def __init__(self, app: ASGIApp, proxies: TrustedProxies) -> None:
        self.app = app
        self.proxies = proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            peer = scope.get("client")
            if self.proxies.peer_trusted(peer[0] if peer else None):
                for name, value in scope.get("headers", []):
                    if name == b"x-forwarded-proto":
                        proto = value.decode("latin-1").split(",")[-1].strip().lower()
                        if proto in {"http", "https"}:
                            scope = {**scope, "scheme": proto}
                        break
        await self.app(scope, receive, send)
