"""A lab: a cluster of real nodes (v2.1's or v3's) on a network of Linux namespaces (as root).

* :mod:`~workbench.lab.plan`: names, addresses and ``ip`` commands (pure).
* :mod:`~workbench.lab.netns`: runs ``ip``, finds and removes what exists.
* :mod:`~workbench.lab.lab`: build, start, partition, heal, each host's view.
* :mod:`~workbench.lab.probe`: asks a URL from inside a namespace.
* :mod:`~workbench.lab.cli`: ``ddb lab up|partition|heal|status|down``.
"""
