"""A lab: the v2.1 cluster on a real network of Linux namespaces, to cut and heal (as root).

* :mod:`~stages.v2_1_election.lab.plan`: names, addresses and ``ip`` commands (pure).
* :mod:`~stages.v2_1_election.lab.netns`: runs ``ip``, finds and removes what exists.
* :mod:`~stages.v2_1_election.lab.lab`: build, start, partition, heal, each host's view.
* :mod:`~stages.v2_1_election.lab.probe`: asks a URL from inside a namespace.
* :mod:`~stages.v2_1_election.lab.cli`: ``ddb lab up|partition|heal|status|down``.
"""
