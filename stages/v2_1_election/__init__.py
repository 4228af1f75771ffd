"""Stage v2.1: Leader and Followers, chosen by the Bully algorithm with a generation clock.

* :mod:`stages.v2_1_election.messages` is what nodes say to each other, validated.
* :mod:`stages.v2_1_election.bully` is the election as a pure state machine: time and
  randomness are passed in, and every verb returns the messages to send.
* :mod:`stages.v2_1_election.node` is the v2 node plus an election driven by aiohttp.
* :mod:`stages.v2_1_election.client` reads a node's view of the election.
* :mod:`stages.v2_1_election.sim` runs the same core in a deterministic simulator.
* :mod:`stages.v2_1_election.dashboard` and :mod:`stages.v2_1_election.watch` show the
  election on the demo's dashboard.
"""
