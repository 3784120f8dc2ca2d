"""The client's IP address: the peer's, or what the proxies we trust say it is (TRUSTED_PROXIES)."""

from __future__ import annotations

import ipaddress

from flask import current_app, request

from config import IPNetwork

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
UNKNOWN_ADDRESS = "unknown"


def trusted_proxies() -> tuple[IPNetwork, ...]:
    """Return the current app's trusted proxy networks (parsed by config.load_settings)."""
    return current_app.config.get("TRUSTED_PROXIES") or ()


def parse_address(text: str | None) -> IPAddress | None:
    """Return the IP address text names (IPv4-mapped IPv6 as IPv4), or None."""
    try:
        address = ipaddress.ip_address((text or "").strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def client_address() -> str:
    """Return the client's IP: the peer's, or the nearest untrusted hop trusted proxies report."""
    peer = parse_address(request.remote_addr)
    if peer is None:
        return request.remote_addr or UNKNOWN_ADDRESS
    proxies = trusted_proxies()
    if not any(peer in network for network in proxies):
        return str(peer)
    hops = ",".join(request.headers.getlist("X-Forwarded-For")).split(",")
    nearest = peer
    for hop in reversed(hops):
        address = parse_address(hop)
        if address is None:
            # Our proxies never write garbage, so whoever did cannot be believed.
            return str(peer)
        if not any(address in network for network in proxies):
            return str(address)
        nearest = address
    return str(nearest)
