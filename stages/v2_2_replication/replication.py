"""The rules of v2.2's replication, as plain functions: no asyncio, no aiohttp, no clock.

The rule is deliberately small, and not enough (the page says why): a follower takes a
write from the node it believes leads, at that node's term or a newer one, and applies it
at once; nothing orders two writes, nothing is ever retried, and nothing waits for a
majority.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from stages.v2_2_replication.messages import Replicate


# --8<-- [start:refusal]
def refusal(message: Replicate, name: str, leader: str | None, term: int) -> str | None:
    """Why node ``name``, which believes ``leader`` leads at ``term``, refuses ``message``;
    None if it takes it."""
    if leader == name:
        return f"{name} leads at term {term} itself; it takes writes from clients, not peers"
    if leader is None:
        return f"{name} knows no leader at term {term}"
    if message.sender != leader:
        return f"{message.sender} does not lead; {name} follows {leader} at term {term}"
    if message.term < term:
        return f"{message.sender}'s term {message.term} is older than {name}'s term {term}"
    return None


# --8<-- [end:refusal]


# --8<-- [start:digest]
def digest(items: Mapping[str, bytes]) -> str:
    """A short hash of a whole store: two replicas with the same keys and values agree."""
    hashed = hashlib.sha256()
    for key in sorted(items):
        encoded = key.encode("utf-8")
        hashed.update(len(encoded).to_bytes(8, "big") + encoded)
        hashed.update(len(items[key]).to_bytes(8, "big") + items[key])
    return hashed.hexdigest()[:16]


# --8<-- [end:digest]
