"""Notifications by e-mail through a real SMTP server (aiosmtpd), and several worker processes sharing one queue."""
import os
import socket
import subprocess
import threading
import time

import pytest

from conftest import BIN, Ombud, reset_postgres


def setup_people(ombud, emails):
    status, body = ombud.request("POST", "/api/v1/org-units", {"code": "roads", "name": "Дорожный отдел", "kind": "department"})
    assert status == 201, body
    for login, address in emails.items():
        ombud.cli("users", "add", login, "--role", "executor", "--unit", "roads", stdin=f"{login}-password\n")
        status, body = ombud.request("PATCH", f"/api/v1/users/{login}", {"email": address})
        assert status == 200 and body["email"] == address, body


def appeal(ombud):
    status, body = ombud.request("POST", "/api/v1/appeals", {"channel": "phone", "text": "Яма на дороге у дома 5", "officeCode": "roads"})
    assert status == 201, body
    return body


def notifications(ombud, login):
    status, body = ombud.request("GET", f"/api/v1/notifications?user={login}")
    assert status == 200, body
    return body["items"]


def test_notifications_are_mailed_over_starttls_with_a_login_and_a_refusal_is_kept(ombud, smtp_tls):
    ombud.env.update(smtp_tls.env("starttls"))
    ombud.start()
    setup_people(ombud, {"ivanov": "ivanov@example.org", "petrov": "refuse-petrov@example.org"})
    created = appeal(ombud)
    for login in ("ivanov", "petrov"):
        status, body = ombud.request("POST", f"/api/v1/appeals/{created['id']}/tasks",
                                     {"title": "Осмотреть яму", "assigneeLogin": login, "dueDate": "2099-01-10"})
        assert status == 201, body

    [message] = smtp_tls.wait_for(1)
    assert message["X-Sink-TLS"] == "yes"          # the server refuses mail without STARTTLS and AUTH: we did both
    assert message["X-Sink-To"] == "ivanov@example.org"
    assert message["Subject"] == f"Новая задача по обращению {created['trackingCode']}"
    assert message["From"].addresses[0].addr_spec == "ombud@example.org"
    assert message["Message-ID"].endswith("@example.org>")
    assert "Осмотреть яму" in message.get_content() and "10.01.2099" in message.get_content()

    deadline = time.time() + 30
    while time.time() < deadline:
        [sent] = notifications(ombud, "ivanov")
        [refused] = notifications(ombud, "petrov")
        if sent["email"] == "sent" and refused.get("emailError"):
            break
        time.sleep(0.3)
    assert sent["email"] == "sent" and sent["emailedAt"]
    # The refusal is kept and shown; the mail is retried with backoff (pending) until the attempts run out.
    assert refused["email"] == "pending" and "550" in refused["emailError"], refused
    assert refused["subject"] == sent["subject"]
    time.sleep(1)
    assert len(smtp_tls.messages()) == 1


@pytest.mark.skipif(not os.environ.get("OMBUD_E2E_POSTGRES_URL"), reason="OMBUD_E2E_POSTGRES_URL not set")
def test_two_worker_processes_send_every_mail_exactly_once(tmp_path, smtp_plain):
    url = os.environ["OMBUD_E2E_POSTGRES_URL"]
    reset_postgres(url)
    env = {**os.environ, "OMBUD_DATA_DIR": str(tmp_path / "data"), "OMBUD_DATABASE_URL": url, "OMBUD_WORKER": "off",
           **smtp_plain.env("none")}
    server = Ombud(env)
    server.cli("migrate")
    server.cli("users", "add", "e2e", "--role", "administrator", stdin="e2e-password\n")
    server.token = server.cli("tokens", "create", "e2e").split()[-1]
    server.start()  # the API only: its own worker is off
    workers = [subprocess.Popen([BIN, "worker", "--interval", "0.1"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
               for _ in range(2)]
    try:
        setup_people(server, {"ivanov": "ivanov@example.org"})
        count = 120
        appeals = [appeal(server) for _ in range(4)]
        for i in range(count):
            status, body = server.request("POST", f"/api/v1/appeals/{appeals[i % 4]['id']}/tasks",
                                          {"title": f"Задача {i}", "assigneeLogin": "ivanov"})
            assert status == 201, body
        messages = smtp_plain.wait_for(count, timeout=120)
        time.sleep(2)  # anything sent twice would arrive now
        messages = smtp_plain.messages()
        ids = [m["Message-ID"] for m in messages]
        assert len(messages) == count and len(set(ids)) == count
        titles = sorted(m.get_content().split("«")[1].split("»")[0] for m in messages)
        assert titles == sorted(f"Задача {i}" for i in range(count))

        status, jobs = server.request("GET", "/api/v1/jobs?kind=notification.mail&limit=1000")
        assert status == 200
        assert len(jobs) == count and all(j["status"] == "done" and j["attempts"] == 1 for j in jobs), jobs[:3]
        ran_by = {j["lockedBy"] for j in jobs}
        assert len(ran_by) == 2, ran_by  # both processes took part
        assert len(notifications(server, "ivanov")) == 50  # the API's page; every one sent:
        status, body = server.request("GET", "/api/v1/notifications?user=ivanov&email=sent&limit=500")
        assert len(body["items"]) == count
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            try:
                w.wait(timeout=10)
            except subprocess.TimeoutExpired:
                w.kill()
        server.kill()


class InjectingServer(threading.Thread):
    """A hostile mail server: it answers STARTTLS and, in the same packet, a forged reply in clear text — what a man in
    the middle would add (the CVE-2011-0411 class). The client must refuse to go on rather than read it after TLS."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.transcript = []

    def run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                f = conn.makefile("rb")
                conn.sendall(b"220 evil.example ESMTP\r\n")
                for line in f:
                    self.transcript.append(line.decode().strip())
                    if line.upper().startswith(b"EHLO"):
                        conn.sendall(b"250-evil.example\r\n250 STARTTLS\r\n")
                    elif line.upper().startswith(b"STARTTLS"):
                        conn.sendall(b"220 Go ahead\r\n250-evil.example\r\n250 AUTH PLAIN\r\n")
                    else:
                        conn.sendall(b"250 OK\r\n")

    def stop(self):
        self.sock.close()


def test_clear_text_injected_after_starttls_is_refused(ombud):
    server = InjectingServer()
    server.start()
    try:
        ombud.env.update({"OMBUD_SMTP_HOST": "127.0.0.1", "OMBUD_SMTP_PORT": str(server.port), "OMBUD_SMTP_SECURITY": "starttls",
                          "OMBUD_MAIL_FROM": "ombud@example.org", "OMBUD_SMTP_TIMEOUT": "5"})
        ombud.start()
        setup_people(ombud, {"ivanov": "ivanov@example.org"})
        created = appeal(ombud)
        status, body = ombud.request("POST", f"/api/v1/appeals/{created['id']}/tasks", {"title": "Осмотреть", "assigneeLogin": "ivanov"})
        assert status == 201, body
        deadline = time.time() + 30
        note = None
        while time.time() < deadline:
            [note] = notifications(ombud, "ivanov") or [None]
            if note and note.get("emailError"):
                break
            time.sleep(0.3)
        assert note and "clear text after the answer to STARTTLS" in note["emailError"], note
        assert note["email"] == "pending"
        assert not any(line.upper().startswith(("MAIL", "RCPT", "AUTH", "DATA")) for line in server.transcript), server.transcript
    finally:
        server.stop()
