"""Where the dev server serves the app: runserver's `addrport`, and the URL pushes are sent to.

Purely data: a bind address like 0.0.0.0 is not an address to send to, so pushes go to the
loopback address of the same family.
"""

from __future__ import annotations

import dataclasses
import re

from django.core.management.commands import runserver

DEFAULT_ADDR = runserver.Command.default_addr
DEFAULT_PORT = int(runserver.Command.default_port)
_ANY = {"0", "0.0.0.0", ""}  # "0" is runserver's shorthand for 0.0.0.0
_ANY_IPV6 = {"::", "0:0:0:0:0:0:0:0"}


@dataclasses.dataclass(frozen=True)
class Address:
    """The interface runserver binds to and its port (0 until a free one is picked)."""

    addr: str = DEFAULT_ADDR
    port: int = DEFAULT_PORT
    ipv6: bool = False

    @property
    def addrport(self) -> str:
        """The address as runserver's positional argument."""
        return f"[{self.addr}]:{self.port}" if self.ipv6 else f"{self.addr}:{self.port}"

    @property
    def push_host(self) -> str:
        """The host Cloud Tasks, Scheduler and Pub/Sub send to, as a URL writes it."""
        if self.ipv6:
            return "[::1]" if self.addr in _ANY_IPV6 else f"[{self.addr}]"
        return "127.0.0.1" if self.addr in _ANY else self.addr

    @property
    def url(self) -> str:
        return f"http://{self.push_host}:{self.port}"


def parse(addrport: str | None) -> Address:
    """runserver's `[addr:]port` (`8000`, `0.0.0.0:8000`, `[::1]:8000`, `localhost:8000`);
    raises ValueError with runserver's wording for anything else."""
    if not addrport:
        return Address()
    match = re.match(runserver.naiveip_re, addrport)
    if match is None:
        raise ValueError(f'"{addrport}" is not a valid port number or address:port pair.')
    addr, _, ipv6, _, port = match.groups()
    if int(port) > 65535:
        raise ValueError(f"{port} is not a valid port number.")
    if ipv6:
        return Address(addr[1:-1], int(port), ipv6=True)
    return Address(addr or DEFAULT_ADDR, int(port))
