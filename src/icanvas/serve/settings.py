"""Studio settings, read from the environment (prefix ``ICANVAS_``) or passed in by code.

Example: ``ICANVAS_DATA_DIR=/srv/icanvas ICANVAS_PORT=9000 icanvas serve``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DB_FILE = "icanvas.db"  # SQLite file inside data_dir when no database_url is given
FILES_DIR = "files"  # folder inside data_dir that holds the content-addressed images


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "icanvas"


class Settings(BaseSettings):
    """Everything the studio server can be told; each field maps to ``ICANVAS_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="ICANVAS_", extra="ignore", frozen=True)

    data_dir: Path = Field(default_factory=_default_data_dir)  # holds icanvas.db and files/
    database_url: str = ""  # SQLAlchemy URL; "" = SQLite file data_dir/icanvas.db
    host: str = "127.0.0.1"  # interface `icanvas serve` listens on
    port: int = Field(8000, ge=1, le=65535)  # TCP port `icanvas serve` listens on
    workers: int = Field(1, ge=1, le=64)  # server processes `icanvas serve` starts on this machine (more than 1: use PostgreSQL)
    secure_cookies: bool = False  # mark cookies Secure even on plain HTTP (behind an HTTPS proxy)
    max_upload_bytes: int = Field(8 * 2**20, ge=1024)  # largest accepted image file, bytes
    max_upload_pixels: int = Field(16_000_000, ge=1024)  # largest accepted image, width * height
    gen_workers: int = Field(2, ge=1, le=64)  # generation worker threads: while one runs the model, another prepares its batch
    gen_helpers: int = Field(2, ge=1, le=64)  # threads that decode and encode a batch's images side by side (about one per core)
    gen_max_batch: int = Field(8, ge=1, le=256)  # most drawings generated in one model call
    gen_window_ms: float = Field(25.0, ge=0)  # how long a worker waits to fill a batch, ms
    gen_max_queue: int = Field(64, ge=1)  # waiting generation requests before answering 503
    portrait_max_waiting: int = Field(4, ge=0)  # photo -> character requests waiting for a worker before answering 503
    photo_minutes: float = Field(10.0, gt=0, le=60)  # a grown-up's uploaded photo is forgotten this long after its last use, min
    photo_max_kept: int = Field(32, ge=1)  # uploaded photos held in memory at once (each at most 1024 px, ~3 MB)
    model_path: str = ""  # extra folders of model folders, os.pathsep-separated (as ICANVAS_MODEL_PATH)
    model_backend: Literal["auto", "int8", "onnx", "torch"] = "auto"  # generator runtime; auto = onnxruntime when installed; int8 = onnxruntime with 8-bit models (faster, pictures a little different)
    session_days: float = Field(30.0, gt=0)  # how long a login lasts, days
    max_connections: int = Field(500, ge=1)  # open connections at once; a request beyond them answers 503
    header_timeout_s: float = Field(10.0, gt=0)  # time a client has to send a request's headers, s
    body_timeout_s: float = Field(60.0, gt=0)  # time a client has to send a request's body after its headers, s
    disk_reserve_mb: int = Field(16, ge=0)  # room kept on the data disk for signing in and deleting when it fills, MB; 0 = none
    trusted_proxies: str = ""  # comma-separated addresses whose X-Forwarded-For is believed; "" = none

    @property
    def db_url(self) -> str:
        """The database URL actually used."""
        return self.database_url or f"sqlite:///{self.data_dir / DB_FILE}"

    @property
    def files_dir(self) -> Path:
        return self.data_dir / FILES_DIR

    @property
    def model_dirs(self) -> list[Path]:
        return [Path(p) for p in self.model_path.split(os.pathsep) if p]
