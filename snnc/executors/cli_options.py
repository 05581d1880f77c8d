"""The ``--executor {local,ray} [--address ADDR] [--workers N]`` options shared by the commands."""

from __future__ import annotations

from typing import Callable

import click

from snnc.executors import EXECUTORS


def executor_options(command: Callable) -> Callable:
    """Add ``executor``, ``address`` and ``workers`` parameters to a click command."""
    command = click.option("--workers", type=click.IntRange(min=1), default=None, metavar="N",
                           help="--executor ray: worker processes of the embedded Ray [default: all cores]; "
                                "with --address, the most units in flight at once.")(command)
    command = click.option("--address", default=None, metavar="auto|HOST:PORT|ray://HOST:PORT",
                           help="--executor ray: join this running Ray cluster instead of starting one "
                                "(docs/scaling.md).")(command)
    return click.option("--executor", type=click.Choice(EXECUTORS), default="local", show_default=True,
                        help="local: one work unit after another in this process; ray: units as Ray tasks, "
                             "retried on a lost worker, results identical to local.")(command)
