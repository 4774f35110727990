"""On a really full data disk (a small tmpfs filled to the last byte): saving answers 507 and
leaves nothing, yet a parent can still sign in and delete, and the studio recovers without a
restart once there is room again."""

from __future__ import annotations

import errno
import os
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.serve.conftest import PASSWORD, Api, TestClient, drawing_png

DISK_MB = 24  # size of the small disk the data folder lives on


def _mount(path: Path) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_MB}m", "tmpfs", str(path)], capture_output=True)
    return done.returncode == 0


@pytest.fixture
def small_disk(tmp_path):
    disk = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    if not _mount(disk):
        pytest.skip("needs root and tmpfs mounts to make a really full disk")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def fill(folder: Path) -> Path:
    """Write a file until the disk has no byte left; returns it."""
    filler = folder / "filler.bin"
    with open(filler, "wb", buffering=0) as f:
        for size in (1 << 16, 4096, 512, 1):  # down to the last byte
            try:
                while True:
                    f.write(bytes(size))
            except OSError as e:
                assert e.errno == errno.ENOSPC
    return filler


def image_files(data: Path) -> list[Path]:
    files = data / "files"
    return sorted(p for p in files.rglob("*") if p.is_file()) if files.exists() else []


def test_full_disk_still_lets_a_parent_sign_in_and_delete(small_disk, pipelines, recognizer):
    from icanvas.serve.app import create_app
    from icanvas.serve.settings import Settings

    data = small_disk / "data"
    settings = Settings(data_dir=data, gen_window_ms=0, max_upload_bytes=2 * 2**20, max_upload_pixels=4_000_000,
                        model_path="", disk_reserve_mb=2)
    app = create_app(settings, pipelines=pipelines, recognizer=recognizer)
    with TestClient(app) as client:
        parent = Api(client)
        parent.register("full@example.com")
        child_id = parent.add_child("Ari")
        child = Api(TestClient(app))
        assert child.post("/api/auth/login", json={"email": "full@example.com", "password": PASSWORD}).status_code == 200
        child.enter(child_id)
        saved = [child.save(drawing=drawing_png(seed=i)) for i in range(2)]
        assert [r.status_code for r in saved] == [201, 201]
        assert (data / "reserve.bin").exists()
        before = image_files(data)

        filler = fill(small_disk)
        r = child.save(drawing=drawing_png(seed=9))
        assert r.status_code == 507, r.text
        assert "disk" in r.json()["detail"]["problem"]
        assert image_files(data) == before  # a failed save leaves no file behind

        grown_up = Api(TestClient(app))  # signs in on another device, on the full disk
        r = grown_up.post("/api/auth/login", json={"email": "full@example.com", "password": PASSWORD})
        assert r.status_code == 200, r.text
        first = saved[0].json()["creation"]["id"]
        assert grown_up.delete(f"/api/creations/{first}").status_code == 204
        assert grown_up.get(f"/api/creations/{first}/drawing.png").status_code == 404
        assert len(image_files(data)) < len(before)  # the deleted creation's files are gone
        assert grown_up.delete(f"/api/children/{child_id}").status_code == 204  # and a whole profile

        filler.unlink()  # the operator frees space: the studio works again without a restart
        other = grown_up.add_child("Bo")
        grown_up.enter(other)
        assert grown_up.save().status_code == 201
        assert (data / "reserve.bin").exists()  # the room is kept back again
