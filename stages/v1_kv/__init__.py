"""Stage v1: an in-memory key/value server over HTTP, and its client.

* :mod:`stages.v1_kv.store` is the pure data structure (no I/O).
* :mod:`stages.v1_kv.server` exposes it over HTTP with aiohttp.
* :mod:`stages.v1_kv.client` is a typed async client for that API.
* :mod:`stages.v1_kv.cli` is the command line (``ddb v1 server``, ``ddb kv ...``).
"""
