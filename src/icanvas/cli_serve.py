"""``icanvas serve``: start the drawing studio (registered in :mod:`icanvas.cli`).

Kept apart from ``cli.py`` so neither file grows past a readable size; errors are raised as
typed errors and printed by :func:`icanvas.cli.main` like every other command's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from icanvas.cli_console import console

out = console()


def serve(
    host: Annotated[Optional[str], typer.Option(help="Interface to listen on (default 127.0.0.1 or ICANVAS_HOST).")] = None,
    port: Annotated[Optional[int], typer.Option(help="TCP port (default 8000 or ICANVAS_PORT).")] = None,
    data_dir: Annotated[Optional[Path], typer.Option(help="Folder for the database and images (default ~/.local/share/icanvas or ICANVAS_DATA_DIR).")] = None,
    workers: Annotated[Optional[int], typer.Option(min=1, max=64, help="Server processes on this machine (default 1 or ICANVAS_WORKERS). "
                                                   "More than one share the database and the data folder: use PostgreSQL (ICANVAS_DATABASE_URL).")] = None,
    reload: Annotated[bool, typer.Option("--reload/--no-reload", help="Restart when the code changes (development only).")] = False,
) -> None:
    """Start the drawing studio web app: open the printed address in a browser.

    Example: `icanvas serve --port 8000 --data-dir ~/icanvas-data`

    Other settings come from ICANVAS_* environment variables, e.g. ICANVAS_DATABASE_URL, ICANVAS_MODEL_PATH.
    """
    import os

    import uvicorn
    from pydantic import ValidationError

    from icanvas.errors import ConfigError
    from icanvas.serve.settings import Settings

    given = {"host": host, "port": port, "workers": workers, "data_dir": data_dir.expanduser().resolve() if data_dir else None}
    try:
        settings = Settings(**{k: v for k, v in given.items() if v is not None})
    except ValidationError as e:
        first = e.errors()[0]
        raise ConfigError(f"Bad studio setting {'.'.join(map(str, first['loc']))}: {first['msg']}.",
                          "Check the option or the ICANVAS_* environment variable.") from e
    from icanvas.serve.http import check_port_free, show_studio_log

    show_studio_log()

    check_port_free(settings.host, settings.port)  # before the data folder is created or migrated
    shown = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    out.print(f"iCanvas studio: http://{shown}:{settings.port}  (data in {settings.data_dir}; Ctrl+C stops)")
    if reload or settings.workers > 1:  # each process builds the app itself, so the settings travel as environment variables
        os.environ.update(ICANVAS_HOST=settings.host, ICANVAS_PORT=str(settings.port), ICANVAS_DATA_DIR=str(settings.data_dir))
        factory = "icanvas.serve.app:app_from_environment"
        if reload:
            uvicorn.run(factory, factory=True, host=settings.host, port=settings.port, reload=True)
            return
        from icanvas.serve.db import make_engine, migrate
        from icanvas.serve.http import uvicorn_options

        migrate(make_engine(settings.db_url))  # once, before the processes start
        if settings.db_url.startswith("sqlite"):
            out.print(f"{settings.workers} processes share one SQLite file: fine for a classroom; for a school, use PostgreSQL (ICANVAS_DATABASE_URL).")
        uvicorn.run(factory, factory=True, workers=settings.workers, **uvicorn_options(settings, processes=True))
        return
    from icanvas.serve.app import create_app
    from icanvas.serve.http import tune_malloc, uvicorn_options

    tune_malloc()
    uvicorn.run(create_app(settings), **uvicorn_options(settings))
