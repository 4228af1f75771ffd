"""Stage v2: a registry service, so nodes find each other and forget the dead.

* :mod:`stages.v2_registry.registry` is the pure bookkeeping: entries, renewals, expiry.
* :mod:`stages.v2_registry.models` is what travels on the wire, validated.
* :mod:`stages.v2_registry.server` serves the registry over HTTP.
* :mod:`stages.v2_registry.client` is a typed async client for it.
* :mod:`stages.v2_registry.membership` is the node's side of it, as pure logic: when to
  heartbeat, how to back off, what the node believes about the cluster.
* :mod:`stages.v2_registry.node` is the v1 key/value server plus that membership.
* :mod:`stages.v2_registry.watch` turns looks at the registry into events (pure), for the
  demo's dashboard.

``ddb v2 demo`` runs a whole cluster from one command with the workbench's
:mod:`workbench.demo` (a supervisor of child processes and a live dashboard page).
"""
