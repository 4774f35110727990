"""How the command line looks: consoles that fit a terminal's width and never cut or wrap in a
log or a pipe (a table keeps whole paths, a status line stays one line), and help without
type tags on every option."""

from __future__ import annotations

import sys

from rich.console import Console

PIPE_WIDTH = 4000  # columns when the output is not a terminal: wide enough that no line or table cell is cut


def console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else PIPE_WIDTH
    return Console(stderr=stderr, soft_wrap=True, width=width)


_METAVARS = {"str": "TEXT", "int": "INTEGER", "float": "NUMBER", "Path": "PATH", "bool": ""}  # option value kinds in help


def plain_metavars(command) -> None:
    """Help without type tags on the options: a flag shows none, an option its value's kind in
    capitals (PATH, INTEGER, TEXT), as command-line tools usually do (arguments keep typer's own)."""
    for param in getattr(command, "params", []):
        if getattr(param, "param_type_name", "") == "option" and param.metavar is None:
            kind = param.bare_type() if hasattr(param, "bare_type") else ""
            kind = kind[5:-1] if kind.startswith("list[") else kind  # a repeatable option: its one value
            param.metavar = "" if getattr(param, "is_flag", False) else _METAVARS.get(kind, kind.upper() or "VALUE")
    make_help = getattr(command, "get_help_option", None)
    if make_help is not None:  # --help is made when help is shown: it gets no tag either

        def help_option(ctx, _make=make_help):
            option = _make(ctx)
            if option is not None and option.metavar is None:
                option.metavar = ""
            return option

        command.get_help_option = help_option
    for sub in getattr(command, "commands", {}).values():
        plain_metavars(sub)
