"""The ``snnc`` command line.

Commands live one per module in ``snnc/commands/<name>.py`` (each defines ``command``) and are
imported only when used, so ``snnc --help`` and light commands never import lava (nor torch).

Errors caused by user input are :class:`snnc.errors.SnncError` and print as one line
``snnc: error: ...`` with exit code 2; nothing else the user typed produces a traceback
(set ``SNNC_DEBUG=1`` to see one for internal errors).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys

import click

from snnc.errors import SnncError

#: command name -> (module, one-line help). Order is the order shown by ``snnc --help``.
COMMANDS: dict[str, tuple[str, str]] = {
    "train": ("snnc.commands.train", "Train a model (vanilla or ASA) and write model.pt."),
    "inspect": ("snnc.commands.inspect", "Print a model's graph: nodes, shapes, params, FLOPs."),
    "export": ("snnc.commands.export", "Write a checkpoint as a standard NIR file."),
    "compile": ("snnc.commands.compile", "Run compiler passes; write an artifact directory."),
    "simulate": ("snnc.commands.simulate", "Run a model or artifact; report spikes and energy."),
    "regress": ("snnc.commands.regress", "Compare spike counts with a golden file (CI)."),
    "experiment": ("snnc.commands.experiment", "Recompute the paper's attention tables (S1, S3, S7-S9)."),
}


def _available(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name, (mod, _) in COMMANDS.items() if _available(mod)]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS or not _available(COMMANDS[name][0]):
            return None
        return importlib.import_module(COMMANDS[name][0]).command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="snnc")
def cli() -> None:
    """snnc: compile spiking neural networks with attention (ASA-SNN) for neuromorphic hardware.

    \b
    Typical flow:
      snnc train --attention asa -o model.pt
      snnc compile model.pt --target lava -o build/
      snnc simulate build/ --report-energy --baseline vanilla.pt
      snnc regress build/ --golden tests/golden/model.json

    Run `snnc COMMAND --help` for each command's options.
    """


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"snnc: error: {message}", err=True)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script: one-line errors, no tracebacks for bad input."""
    try:
        cli.main(args=argv, prog_name="snnc", standalone_mode=False)
    except click.exceptions.Abort:
        _fail("aborted", 130)
    except click.exceptions.NoArgsIsHelpError as e:  # pragma: no cover - click >= 8.2
        click.echo(e.ctx.get_help() if e.ctx else str(e))
        sys.exit(2)
    except click.exceptions.ClickException as e:
        hint = ""
        ctx = getattr(e, "ctx", None)
        if ctx is not None:
            hint = f" (see `{ctx.command_path} --help`)"
        _fail(" ".join(f"{e.format_message()}{hint}".split()), e.exit_code)  # one line
    except SnncError as e:
        _fail(str(e), e.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except SystemExit:
        raise
    except Exception as e:  # noqa: BLE001 - last line of defence: never a traceback
        if os.environ.get("SNNC_DEBUG"):
            raise
        _fail(f"internal error: {type(e).__name__}: {e} (set SNNC_DEBUG=1 for a traceback)", 1)
    else:
        # standalone_mode=False returns the command's return value; honour integer exit codes
        pass


if __name__ == "__main__":  # pragma: no cover
    main()
