import email
import email.policy
import json
import os
import shutil
import socket
import subprocess
import sys
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


class SMTPSink:
    """A real SMTP server (`python3 -m aiosmtpd`) that writes what it receives to a folder; with `tls`, it offers
    STARTTLS with a self-signed certificate and refuses mail from clients that do not switch to TLS."""

    def __init__(self, folder, tls, credentials=None):
        self.folder = Path(folder)
        self.credentials = credentials
        self.port = free_port()
        self.cert = None
        args = [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{self.port}", "-c", "smtp_sink.Sink"]
        if tls:
            self.cert = self.folder / "cert.pem"
            key = self.folder / "key.pem"
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(self.cert),
                            "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                           check=True, capture_output=True)
            args += ["--tlscert", str(self.cert), "--tlskey", str(key)]
        args += [str(self.folder / "mail")] + ([credentials] if credentials else [])
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
        self.proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("aiosmtpd exited: " + self.proc.stderr.read().decode())
                time.sleep(0.1)
        raise RuntimeError("aiosmtpd did not start")

    def env(self, security):
        env = {"OMBUD_SMTP_HOST": "127.0.0.1", "OMBUD_SMTP_PORT": str(self.port), "OMBUD_SMTP_SECURITY": security,
               "OMBUD_MAIL_FROM": "ombud@example.org", "OMBUD_SMTP_TIMEOUT": "10"}
        if self.cert:
            env["OMBUD_SMTP_CA_FILE"] = str(self.cert)
        if self.credentials:
            env["OMBUD_SMTP_USER"], env["OMBUD_SMTP_PASSWORD"] = self.credentials.split(":", 1)
        return env

    def messages(self):
        folder = self.folder / "mail"
        if not folder.exists():
            return []
        return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in sorted(folder.glob("*.eml"))]

    def wait_for(self, count, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if len(self.messages()) >= count:
                return self.messages()
            time.sleep(0.2)
        raise AssertionError(f"{len(self.messages())} of {count} messages arrived")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def smtp_tls(tmp_path):
    sink = SMTPSink(tmp_path, tls=True, credentials="ombud:mail-Passw0rd")
    yield sink
    sink.stop()


@pytest.fixture
def smtp_plain(tmp_path):
    sink = SMTPSink(tmp_path, tls=False)
    yield sink
    sink.stop()
