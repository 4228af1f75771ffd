"""The demo: a supervisor that starts a registry and nodes as child processes, and a dashboard
page that shows them and acts on them (start, kill, pause, resume, add a node).

:mod:`workbench.demo.run` is ``ddb v2 demo`` and ``ddb v2.1 demo``; each stage describes what the
dashboard shows of it with a :class:`~workbench.demo.dashboard.Stage`
(:mod:`workbench.demo.election` for v2.1).
"""
