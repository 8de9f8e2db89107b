"""`python app.py` — the README's run command — starts, prints the login and serves."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_python_app_py_serves_and_prints_login(tmp_path):
    port = _free_port()
    env = {**os.environ, "QMS_DATA_DIR": str(tmp_path), "PORT": str(port), "HOST": "127.0.0.1", "QMS_DEMO": "1",
           "QMS_DEMO_SIZE": "small"}
    env.pop("DATABASE_URL", None)
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py")], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        body = None
        deadline = time.monotonic() + 120      # generous: CI machines are shared and busy
        while time.monotonic() < deadline and body is None and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=2) as res:
                    body = json.loads(res.read())
            except OSError:
                time.sleep(0.2)
        assert body and body["status"] == "ok", f"server did not answer (exit code {proc.poll()})"
        assert (tmp_path / "qms.sqlite3").exists()
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    assert f"http://127.0.0.1:{port}/" in out
    assert "admin login admin@example.com / " in out
    assert "Imported 13 QMS apps" in out and "Demo data / 演示数据" in out, out
