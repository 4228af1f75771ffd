"""``python -m workbench.lab.probe URL...``: GET each URL, print one JSON line each.

The lab runs it *inside* a host's namespace (``ip netns exec``), since nothing outside the
lab can reach the lab's addresses: that is the point. It needs only the standard library,
so it starts quickly. Each line is ``{"url": ..., "body": ...}`` or ``{"url": ..., "error": ...}``.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from typing import Any

TIMEOUT = 1.0  # seconds: a host cut off by a partition does not answer


def fetch(url: str) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as resp:
            return {"url": url, "body": json.load(resp)}
    except (OSError, ValueError) as exc:
        return {"url": url, "error": str(getattr(exc, "reason", exc))}


def main(argv: list[str] | None = None) -> int:
    for url in sys.argv[1:] if argv is None else argv:
        print(json.dumps(fetch(url)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
