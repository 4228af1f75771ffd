"""What a write asks for, as plain data: a :class:`Put` or a :class:`Delete`.

A handler does not change the store itself; it builds a command and hands it to the
server's :class:`~stages.v1_kv.backend.KVBackend`. At v1 the command is applied at once
(:meth:`~stages.v1_kv.store.KVStore.apply`); a later stage can copy it to other nodes or
append it to a log first, which is why a command is a small frozen, hashable value with
no behaviour of its own. Like the store, this module does no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass


# --8<-- [start:commands]
@dataclass(frozen=True)
class Put:
    """Store ``value`` under ``key``, replacing what was there."""

    key: str
    value: bytes


@dataclass(frozen=True)
class Delete:
    """Remove ``key`` and its value."""

    key: str


Command = Put | Delete
"""Every kind of write there is."""


@dataclass(frozen=True)
class WriteResult:
    """What a write found: ``existed`` is True if the key was there before it.

    For a :class:`Put` that means replaced (``200``) rather than created (``201``);
    for a :class:`Delete`, found (``204``) rather than not found (``404``).
    """

    existed: bool


# --8<-- [end:commands]
