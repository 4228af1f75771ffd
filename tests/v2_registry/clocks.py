"""A clock the registry's HTTP tests move by hand (``create_registry_app(clock=...)``)."""

from __future__ import annotations


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now
