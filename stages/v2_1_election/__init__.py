"""Stage v2.1: Leader and Followers, chosen by the Bully algorithm with a generation clock,
or by majority vote (Raft's election, with PreVote and CheckQuorum) of named voters.

* :mod:`stages.v2_1_election.core` is the seam: the ``Elector`` protocol every algorithm
  implements, and the node and the simulator drive, and the ``Ready`` a core hands out
  (the hard state to persist, then the messages); :mod:`~stages.v2_1_election.algorithms`
  lists the algorithms by name.
* :mod:`stages.v2_1_election.messages` is what nodes say to each other, validated, parsed
  by each algorithm's own message types.
* :mod:`stages.v2_1_election.bully` and :mod:`stages.v2_1_election.quorum` are the two
  elections as pure state machines: time and randomness are passed in, and every verb
  returns the messages to send; their settings are in ``bully_config`` and
  ``quorum_config``, majority vote's state and its hooks for a log in ``quorum_state``;
  :mod:`stages.v2_1_election.majority` counts a majority of the voters, by name.
* :mod:`stages.v2_1_election.node` is the v2 node plus an election, driven by an
  ``ElectionDriver`` (persist, send, tick) that a later stage subclasses;
  :mod:`stages.v2_1_election.routes` is what it answers on ``/cluster/*``.
* :mod:`stages.v2_1_election.client` reads a node's view of the election.
* :mod:`stages.v2_1_election.watch` turns nodes' views into the events the demo's dashboard
  shows.

The tools that drive this stage live in the workbench, outside the chapter:
:mod:`workbench.sim` runs the same cores in a deterministic simulator, :mod:`workbench.lab`
runs real nodes in network namespaces, and :mod:`workbench.demo.election` shows the election
on the demo's dashboard.
"""
