"""What travels between nodes and the registry, as validated frozen dataclasses.

Each ``from_json`` raises :class:`InvalidMessage` with a sentence a person can
act on; the registry turns it into a ``400`` JSON error.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Any

NAME_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,64}")
NAME_RULE = "1 to 64 characters from A-Z, a-z, 0-9, '.', '_' and '-'"


class InvalidMessage(ValueError):
    """A message that is not what the protocol expects."""


def parse_json(text: str | bytes, what: str) -> Any:
    """``text`` as JSON, or :class:`InvalidMessage` saying what is wrong with it
    (``what`` names it: "the body", "the frame")."""
    try:
        return json.loads(text)
    except ValueError as exc:  # not JSON, or not UTF-8
        raise InvalidMessage(f"{what} is not valid JSON: {exc}") from None
    except RecursionError:  # [[[[... nested deeper than the parser's stack
        raise InvalidMessage(f"{what} is JSON nested too deeply") from None


def _object(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidMessage(f"expected a JSON object, got {type(data).__name__}")
    return data


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise InvalidMessage(f"'name' must be {NAME_RULE}; got {name!r}")
    return name


def check_port(port: Any, field: str = "port") -> int:
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise InvalidMessage(f"{field!r} must be a whole number from 1 to 65535; got {port!r}")
    return port


_LABEL = r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)"
HOST_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?")  # IPv4 addresses match it too
HOST_RULE = (
    "a host name (letters, digits, '-' and '_' in dot-separated labels, 253 characters at most) "
    "or an IP address (IPv6 without brackets)"
)


def check_host(host: Any) -> str:
    """A host name or an IP literal: something a URL can carry, and nothing else.

    ``1.2.3.4:5/x``, ``user@host`` or a NUL byte would make every client that
    builds a URL from the entry fail, so the registry never stores them.
    """
    if isinstance(host, str) and 1 <= len(host) <= 253:
        if HOST_NAME.fullmatch(host):
            return host
        if ":" in host and "%" not in host:  # IPv6; a zone ("%eth0") has no place in a URL
            with contextlib.suppress(ValueError):
                ipaddress.IPv6Address(host)
                return host
    shown = repr(host) if len(repr(host)) <= 80 else f"{repr(host)[:80]}..."
    raise InvalidMessage(f"'host' must be {HOST_RULE}; got {shown}")


# --8<-- [start:registration]
@dataclass(frozen=True)
class Registration:
    """``POST /nodes``: a node announcing itself (the first time) or renewing (every beat)."""

    name: str
    port: int
    host: str | None = None  # None: the registry uses the address the request came from

    @classmethod
    def from_json(cls, data: Any) -> Registration:
        body = _object(data)
        unknown = set(body) - {"name", "port", "host"}
        if unknown:
            raise InvalidMessage(f"unknown field(s): {', '.join(sorted(unknown))}")
        if "name" not in body or "port" not in body:
            raise InvalidMessage(
                'a registration needs "name" and "port", e.g. {"name": "n1", "port": 8050}'
            )
        host = body.get("host")
        return cls(
            name=check_name(body["name"]),
            port=check_port(body["port"]),
            host=None if host is None else check_host(host),
        )

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"name": self.name, "port": self.port}
        if self.host is not None:
            body["host"] = self.host
        return body


# --8<-- [end:registration]


@dataclass(frozen=True)
class NodeInfo:
    """One node as the registry reports it (``GET /nodes``)."""

    name: str
    host: str
    port: int
    last_seen_seconds_ago: float

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host  # an IPv6 address
        return f"http://{host}:{self.port}"

    @classmethod
    def from_json(cls, data: Any) -> NodeInfo:
        body = _object(data)
        try:
            age = float(body["last_seen_seconds_ago"])
            return cls(
                check_name(body["name"]), check_host(body["host"]), check_port(body["port"]), age
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidMessage(f"not a node entry: {body!r} ({exc})") from None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "host": self.host,
            "port": self.port,
            "url": self.url,
            "last_seen_seconds_ago": round(self.last_seen_seconds_ago, 3),
        }
