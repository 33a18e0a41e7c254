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


LOG_TAIL_LINES = 200


def log_tail(path, lines=LOG_TAIL_LINES):
    """The last `lines` lines of a log file ("" when there is none); reads at most the last 512 KB."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 512 * 1024))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


class Ombud:
    """A real `ombud serve` process on a data folder (SQLite) or a PostgreSQL database.

    The server's stdout and stderr go to `log_path` (`server.log` in the data folder unless given), appended across
    restarts; the tail of it is attached to the report of a failing test (see `pytest_runtest_makereport`)."""

    instances = []  # every server made in this session whose log may still matter to a failing test

    def __init__(self, env, log_path=None):
        self.env = env
        self.port = free_port()
        self.proc = None
        self.token = None
        if log_path is None:
            folder = env.get("OMBUD_DATA_DIR") or tempfile.mkdtemp(prefix="ombud-log-")
            log_path = os.path.join(folder, "server.log")
        self.log_path = str(log_path)
        Ombud.instances.append(self)

    def log_tail(self, lines=LOG_TAIL_LINES):
        return log_tail(self.log_path, lines)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def cli(self, *args, stdin=None):
        out = subprocess.run([BIN, *args], env=self.env, input=stdin, capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stdout + out.stderr
        return out.stdout

    def start(self):
        os.makedirs(os.path.dirname(self.log_path) or ".", exist_ok=True)
        with open(self.log_path, "ab") as log:
            log.write(f"==== ombud serve on 127.0.0.1:{self.port} ({time.strftime('%H:%M:%S')})\n".encode())
            log.flush()
            self.proc = subprocess.Popen([BIN, "serve", "--hostname", "127.0.0.1", "--port", str(self.port)], env=self.env,
                                         stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ombud serve exited with {self.proc.returncode} before answering /health; "
                                   f"the last lines of {self.log_path}:\n{self.log_tail()}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=1)
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"ombud did not start in 60 s; the last lines of {self.log_path}:\n{self.log_tail()}")

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def request(self, method, path, body=None, token=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
                                     headers={"Authorization": f"Bearer {token or self.token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as res:
                return res.status, json.loads(res.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing test's report carries the tail of the log of every server still around (its data folder not yet
    removed) that is running or wrote to its log during the test, so a crash reads as a crash and not as a time-out.
    The reports are kept on the item as `rep_setup`, `rep_call` and `rep_teardown` for fixtures to look at."""
    report = yield
    setattr(item, "rep_" + report.when, report)
    if report.when == "setup":
        item.ombud_since = call.start
    if report.failed:
        since = getattr(item, "ombud_since", call.start) - 1
        Ombud.instances[:] = [s for s in Ombud.instances if os.path.exists(s.log_path)]
        for server in Ombud.instances:
            if not server.alive() and os.path.getmtime(server.log_path) < since:
                continue  # a server of an earlier test, stopped before this one began
            state = "running" if server.alive() else (
                f"exited with {server.proc.returncode}" if server.proc is not None else "never started")
            report.sections.append((f"ombud serve log, port {server.port}, {state} ({server.log_path})",
                                    server.log_tail() or "(empty)"))
    return report


def reset_postgres(url):
    subprocess.run(["psql", url, "-q", "-c", "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public"], check=True,
                   capture_output=True)


def server_environment(database, prefix="ombud-e2e-"):
    """A fresh data folder and the environment of a server on it: SQLite in the folder, or (`database="postgres"`)
    the emptied database of OMBUD_E2E_POSTGRES_URL (the test is skipped without it)."""
    data = tempfile.mkdtemp(prefix=prefix)
    env = {**os.environ, "OMBUD_DATA_DIR": data}
    env.pop("OMBUD_DATABASE_URL", None)
    if database == "postgres":
        url = os.environ.get("OMBUD_E2E_POSTGRES_URL")
        if not url:
            shutil.rmtree(data, ignore_errors=True)
            pytest.skip("OMBUD_E2E_POSTGRES_URL not set")
        reset_postgres(url)
        env["OMBUD_DATABASE_URL"] = url
    return data, env


@pytest.fixture(params=["sqlite", "postgres"])
def ombud(request):
    data, env = server_environment(request.param)
    server = Ombud(env)
    server.cli("migrate")
    server.cli("users", "add", "e2e", "--role", "administrator", stdin="e2e-password\n")
    server.token = server.cli("tokens", "create", "e2e").split()[-1]
    yield server
    server.kill()
    keep_log_if_failed(request, server)
    shutil.rmtree(data, ignore_errors=True)


def keep_log_if_failed(request, server):
    """A failed test's whole server log is copied out of the data folder before the folder goes."""
    failed = any(getattr(getattr(request.node, "rep_" + phase, None), "failed", False) for phase in ("setup", "call"))
    if failed and os.path.exists(server.log_path):
        name = "".join(c if c.isalnum() or c in "-_." else "_" for c in request.node.name)
        kept = Path(tempfile.gettempdir()) / f"ombud-e2e-{name}-{server.port}.log"
        shutil.copyfile(server.log_path, kept)
        print(f"the whole log of ombud serve: {kept}")


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
