"""distributed-db: a small distributed key/value database, built one stage at a time.

Each sub-package is one chapter of the story and builds on the one before it:

* ``stages.v1_kv``: an in-memory key/value server and its client.
* ``stages.v2_registry``: a registry; nodes register, heartbeat, and expire when silent.
* ``stages.v2_1_election``: Leader and Followers, by the Bully algorithm or by majority vote.

The tools that run, watch and judge every stage (the simulator, the network lab, the demo
and its dashboard, the process harness) live beside this package, in ``workbench``.
"""
