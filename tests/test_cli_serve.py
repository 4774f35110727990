"""`icanvas serve` on a port another program holds: a clear message and exit 2, nothing created."""

import socket

from tests.cli_run import run_cli as run


def test_serve_on_a_busy_port_says_so_before_creating_anything(monkeypatch, capsys, tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        data = tmp_path / "studio"
        code, text = run(monkeypatch, capsys, "serve", "--port", str(port), "--data-dir", data)
    assert code == 2 and "Traceback" not in text
    assert f"Port {port} on 127.0.0.1 is already in use" in text and f"--port {port + 1}" in text
    assert not data.exists()  # no database was created or migrated
