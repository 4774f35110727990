"""The command line's consoles: on a terminal they fit its width; in a log or a pipe nothing is
cut or wrapped (a table keeps whole paths, a status line stays one line)."""

from __future__ import annotations

import sys

from rich.console import Console

PIPE_WIDTH = 4000  # columns when the output is not a terminal: wide enough that no line or table cell is cut


def console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else PIPE_WIDTH
    return Console(stderr=stderr, soft_wrap=True, width=width)
