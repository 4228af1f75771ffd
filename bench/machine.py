"""What the figures were measured on, and how busy the machine was meanwhile."""

from __future__ import annotations

import os
import platform
import subprocess
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def tool_version(argv: list[str]) -> str | None:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return None
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0] if text else None


def stamp() -> dict[str, Any]:
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": os.cpu_count(),
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "aiohttp": version("aiohttp"),
        "os": f"{platform.system()} {platform.release()}",
        "wrk": tool_version(["wrk", "--version"]),
        "etcd": tool_version(["etcd", "--version"]),
    }


class Busy:
    """The whole machine's CPU use over a stretch of time (all processes, ours included)."""

    def __init__(self) -> None:
        self.start = self._sample()
        self.began = time.monotonic()

    @staticmethod
    def _sample() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + fields[4]  # idle and iowait
        return sum(fields), idle

    def share(self) -> float:
        """Busy share of all cores since this object was made, 0 to 1."""
        total, idle = self._sample()
        d_total, d_idle = total - self.start[0], idle - self.start[1]
        return 1 - d_idle / d_total if d_total else 0.0


def load_average() -> float:
    return os.getloadavg()[0]
