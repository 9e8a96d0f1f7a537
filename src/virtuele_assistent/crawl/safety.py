"""SSRF protection: the crawler connects only to public addresses, unless the operator allow-lists.

The check sits in the network layer: every TCP connection (first request, each redirect, every
keep-alive reconnect) resolves the host itself, refuses private, loopback, link-local, multicast,
reserved and unspecified addresses, and connects to exactly the address it checked, so a DNS
answer that changes between check and connect (DNS rebinding) cannot slip through.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import typing
from collections.abc import Iterable
from urllib.parse import urlsplit

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class BlockedAddress(httpx.TransportError):
    """The host resolves to an address the crawler may not reach."""


class AddressGuard:
    def __init__(self, allow: Iterable[str] = ()) -> None:
        self.allowed_hosts: set[str] = set()
        self.allowed_networks: list[IPNetwork] = []
        for entry in allow:
            entry = entry.strip().lower()
            if not entry:
                continue
            try:
                self.allowed_networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self.allowed_hosts.add(entry)

    def address_allowed(self, address: IPAddress) -> bool:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if any(address in network for network in self.allowed_networks):
            return True
        return address.is_global and not address.is_multicast

    async def resolve(self, host: str, port: int) -> list[str]:
        """The addresses of ``host`` that may be connected to; raises BlockedAddress otherwise."""
        host = host.strip("[]")
        try:
            addresses = [ipaddress.ip_address(host)]
        except ValueError:
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(
                    host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
                )
            except socket.gaierror as error:
                raise httpx.ConnectError(f"host '{host}' niet gevonden ({error.strerror})") from None
            addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
        if host.lower() in self.allowed_hosts:
            return [str(a) for a in addresses]
        refused = [a for a in addresses if not self.address_allowed(a)]
        if refused or not addresses:
            raise BlockedAddress(
                f"adres {refused[0] if refused else host} van '{host}' is niet openbaar "
                "(zet het in VA_CRAWL_ALLOW_HOSTS om het toe te staan)"
            )
        return [str(a) for a in addresses]


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, guard: AddressGuard) -> None:
        self.guard = guard
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self.guard.resolve(host, port)
        last: Exception | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                last = error
        assert last is not None
        raise last

    async def connect_unix_socket(
        self, *args: typing.Any, **kwargs: typing.Any
    ) -> httpcore.AsyncNetworkStream:
        raise BlockedAddress("unix sockets zijn niet toegestaan")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport with the connection pool on the guarded network backend."""

    def __init__(self, guard: AddressGuard, limits: httpx.Limits) -> None:
        super().__init__(trust_env=False, limits=limits)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_GuardedBackend(guard),
        )


async def unreachable_hosts(allow: Iterable[str], urls: Iterable[str]) -> dict[str, str]:
    """The hosts of these URLs the crawler could not fetch from here: "private" (a private, loopback
    or link-local address that ``allow`` does not allow) or "unknown" (the name does not resolve)."""
    guard = AddressGuard(allow)
    found: dict[str, str] = {}
    for host, port in dict.fromkeys((p.hostname or "", p.port or 443) for p in map(urlsplit, urls)):
        try:
            await guard.resolve(host, port)
        except BlockedAddress:
            found[host] = "private"
        except httpx.ConnectError:
            found[host] = "unknown"
    return found
