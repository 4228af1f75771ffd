"""Stage v3.0: Raft's replicated log, as a pure state machine on v2.1's majority vote.

* :mod:`~.messages`: log entries and the messages that carry them (AppendEntries and its
  reply with a conflict hint, a RequestVote that names the candidate's log).
* :mod:`~.raft`: :class:`~.raft.RaftCore`, v2.1's
  :class:`~stages.v2_1_election.quorum.QuorumElector` with a log plugged into its hooks.
* :mod:`~.kv`: the key/value state machine that applies committed entries.
* :mod:`~.storage`: the seam to a disk (:class:`~.storage.LogStorage`), and one in memory.
* :mod:`~.records`: the write-ahead log's records as bytes (length, CRC-32, JSON), pure.
* :mod:`~.wal`: :class:`~.wal.WriteAheadLog`, the :class:`~.storage.LogStorage` on disk.
* :mod:`~.wal_cli`: ``wal DATA_DIR``, a read-only look at a node's log, record by record.
"""
