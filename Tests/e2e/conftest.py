import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
BIN = os.environ.get("OMBUD_BIN", str(ROOT / ".build" / "debug" / "ombud"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Ombud:
    """A real `ombud serve` process on a data folder (SQLite) or a PostgreSQL database."""

    def __init__(self, env):
        self.env = env
        self.port = free_port()
        self.proc = None
        self.token = None

    def cli(self, *args, stdin=None):
        out = subprocess.run([BIN, *args], env=self.env, input=stdin, capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stdout + out.stderr
        return out.stdout

    def start(self):
        self.proc = subprocess.Popen([BIN, "serve", "--hostname", "127.0.0.1", "--port", str(self.port)], env=self.env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=1)
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("ombud did not start")

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def request(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
                                     headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as res:
                return res.status, json.loads(res.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")


def reset_postgres(url):
    subprocess.run(["psql", url, "-q", "-c", "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public"], check=True,
                   capture_output=True)


@pytest.fixture(params=["sqlite", "postgres"])
def ombud(request):
    data = tempfile.mkdtemp(prefix="ombud-e2e-")
    env = {**os.environ, "OMBUD_DATA_DIR": data}
    env.pop("OMBUD_DATABASE_URL", None)
    if request.param == "postgres":
        url = os.environ.get("OMBUD_E2E_POSTGRES_URL")
        if not url:
            pytest.skip("OMBUD_E2E_POSTGRES_URL not set")
        reset_postgres(url)
        env["OMBUD_DATABASE_URL"] = url
    server = Ombud(env)
    server.cli("migrate")
    server.cli("users", "add", "e2e", "--role", "administrator", stdin="e2e-password\n")
    server.token = server.cli("tokens", "create", "e2e").split()[-1]
    yield server
    server.kill()
    shutil.rmtree(data, ignore_errors=True)
