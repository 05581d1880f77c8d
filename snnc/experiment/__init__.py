"""``snnc experiment``: the supplement's attention comparisons and ablations as one command.

:mod:`~snnc.experiment.variants` names the variants and the published numbers,
:mod:`~snnc.experiment.runner` trains, compiles and simulates each (resumable), and
:mod:`~snnc.experiment.report` writes ``docs/paper-tables.md`` with its figures.
"""
