"""Where work units run: one after another in this process (``local``), or on Ray (``ray``: an
embedded single-host Ray, or a cluster joined by address). See docs/scaling.md.

Nothing here imports ray at import time: only :mod:`snnc.executors.ray_executor` does, on demand,
after :mod:`snnc.executors.ray_env` has set the loopback-only environment."""

EXECUTORS = ("local", "ray")
