"""Shared fixtures: synthetic photos and a prepared dataset, made fresh for the test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("ICANVAS_CACHE", str(Path(__file__).resolve().parent.parent / ".pytest_cache" / "icanvas"))


@pytest.fixture(scope="session")
def shapes_dir(tmp_path_factory) -> Path:
    from icanvas.demo import make_shapes

    return make_shapes(tmp_path_factory.mktemp("shapes"), count=12, size=80, seed=3)


@pytest.fixture(scope="session")
def prepared_dir(shapes_dir, tmp_path_factory) -> Path:
    from icanvas.data.prepare import PrepareOptions, prepare_dataset

    out = tmp_path_factory.mktemp("prepared")
    prepare_dataset(shapes_dir, out, PrepareOptions(size=32, val_fraction=0.25, kind="shape", data_terms="synthetic"), workers=1, progress=False)
    return out
