"""Stage v2.2: simple replication, as the original project's version 2.2.0 did it.

Writes go through the leader, which applies them and copies them to every follower;
reads are answered by any node from its own store; a node that joins copies the leader's
whole store once. It works on the happy path, and is neither fault-tolerant nor
transactional: ``ddb workload --check`` and the tests in ``tests/v2_2_replication`` show how.

* :mod:`~stages.v2_2_replication.messages`: ``Replicate`` (a v2.1 message) and ``Snapshot``.
* :mod:`~stages.v2_2_replication.replication`: the pure rules (whom a follower believes,
  a store's digest).
* :mod:`~stages.v2_2_replication.backend`: ``ReplicatedKV``, v1's backend seam: redirect,
  or apply and copy.
* :mod:`~stages.v2_2_replication.node`: v2.1's node with that backend, a driver subclass
  (the ``replicate`` message, the catch-up) and the routes.
"""
