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
* :mod:`~.readindex`: :class:`~.readindex.ReadIndexCore`, the core with linearizable reads
  that write nothing to the log (ReadIndex), and a restored commit index.
* :mod:`~.machine`: the state machine as HTTP serves it (bytes, "did the key exist?").

The node, which drives them with aiohttp (``ddb v3 node``, ``ddb v3 demo``):

* :mod:`~.driver`: :class:`~.driver.RaftDriver`, v2.1's driver subclassed: persist (in a
  thread), then send, then apply; proposals answered by index and term.
* :mod:`~.headers`: what a ``/kv`` request says beyond v1's API (``If-Match``, the client's
  id and sequence number, ``?consistency=stale``), and the headers of its answer.
* :mod:`~.backend`: :class:`~.backend.RaftKV`, v1's backend seam on the log.
* :mod:`~.node`: ``create_raft_app``; :mod:`~.cli`: the command line.
"""
