"""One progress bar over all work units (done / running / retried) on stderr, and the final line."""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager
from typing import Any


class UnitProgress(AbstractContextManager):
    """``with UnitProgress(title, total, reused) as bar: bar.update(done, running, retried)``.

    The bar is drawn only on a terminal; the final line (:meth:`RunSummary.line`) is always printed
    to stderr by :func:`snnc.executors.run.run_units`."""

    def __init__(self, title: str, total: int, reused: int = 0) -> None:
        self.title, self.total, self.reused = title, total, reused
        self._bar: Any = None
        self._task = None

    def __enter__(self) -> "UnitProgress":
        from rich.console import Console

        console = Console(stderr=True)
        if console.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(TextColumn("{task.description:<24}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("running {task.fields[running]}  retried {task.fields[retried]}"),
                                 TimeElapsedColumn(), console=console)
            self._bar.__enter__()
            self._task = self._bar.add_task(self.title, total=self.total, completed=self.reused, running=0,
                                            retried=0)
        return self

    def update(self, done: int, running: int, retried: int, stage: str | None = None) -> None:
        """``done``: units finished in this run (the reused ones are added)."""
        if self._bar is not None:
            desc = self.title if stage is None else f"{self.title}: {stage}"
            self._bar.update(self._task, completed=self.reused + done, running=running, retried=retried,
                             description=desc)

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
        sys.stderr.flush()
