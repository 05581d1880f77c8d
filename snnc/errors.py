"""User-facing errors.

Every problem caused by the user's input (a bad file, flag, shape or value) is raised as
:class:`SnncError`. The CLI prints it as one line ``snnc: error: <message>`` and exits non-zero,
without a traceback. Messages name the file or flag and the problem.
"""

from __future__ import annotations


class SnncError(Exception):
    """An error in the user's input; printed as one line by the CLI (exit code 2)."""

    exit_code = 2


class UnsupportedNodeError(SnncError):
    """A graph holds a node kind that the requested compiler stage or backend cannot execute."""


class VerifyError(SnncError):
    """The IR violates an invariant (edges, shapes, parameter shapes); names the node (and pass)."""
