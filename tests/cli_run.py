"""Run the `icanvas` command in-process and capture what it prints."""

import sys

from icanvas.cli import main


def run_cli(monkeypatch, capsys, *args) -> tuple[int, str]:
    """(exit code, stdout + stderr) of `icanvas ARGS...`."""
    monkeypatch.setattr(sys, "argv", ["icanvas", *map(str, args)])
    try:
        main()
        code = 0
    except SystemExit as e:
        code = int(e.code or 0)
    captured = capsys.readouterr()
    return code, captured.out + captured.err
