"""Can we tell? Client histories, and a checker that decides whether they are linearizable.

* :mod:`~workbench.history.events`: the history format (JSON Lines), checked line by line,
  and the pairing of calls with returns into operations.
* :mod:`~workbench.history.edn`: the same events read from Jepsen's EDN lines.
* :mod:`~workbench.history.register`: the model, one correct register per key.
* :mod:`~workbench.history.linear`: the search (Wing and Gong, Lowe, Porcupine).
* :mod:`~workbench.history.checker`: a whole history, split by key, and its verdict.
* :mod:`~workbench.history.cli`: ``ddb check``.

All of it is pure: no asyncio, no aiohttp, no clock (a deadline is a function passed in).
"""
