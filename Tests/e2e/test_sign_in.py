"""Signing in through the real server with a browser's cookie handling: the login page, the session cookie, CSRF,
sign-out, and the login that a fresh `ombud demo` prints."""

import http.cookiejar
import re
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.parse
import urllib.request

from conftest import BIN, SHARED, Ombud


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect())
        self.html = ""

    def send(self, method, path, form=None, headers=None, body=None):
        data = urllib.parse.urlencode(form).encode() if form is not None else body
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers or {})
        if form is not None:
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            res = self.opener.open(req, timeout=30)
        except urllib.error.HTTPError as e:
            res = e
        self.html = res.read().decode()
        return res

    def csrf(self):
        return re.search(r'name="_csrf" value="([^"]+)"', self.html).group(1)

    def sign_in(self, login, password):
        self.send("GET", "/login")
        return self.send("POST", "/login", form={"_csrf": self.csrf(), "login": login, "password": password})


def test_sign_in_use_the_api_with_the_session_and_sign_out(ombud):
    ombud.start()
    browser = Browser(ombud.port)
    assert browser.sign_in("e2e", "wrong-password").status == 401
    assert "Неверный логин или пароль" in browser.html

    res = browser.sign_in("e2e", "e2e-password")
    assert res.status == 303 and res.headers["Location"] == "/"
    cookie = next(c for c in browser.jar if c.name == "ombud_session")
    assert cookie.has_nonstandard_attr("HttpOnly")
    assert browser.send("GET", "/").status == 200 and "e2e" in browser.html
    token = browser.csrf()

    appeal = b'{"channel":"phone","text":"E2E: noise at night"}'
    json_headers = {"Content-Type": "application/json"}
    assert browser.send("POST", "/api/v1/appeals", headers=json_headers, body=appeal).status == 403
    res = browser.send("POST", "/api/v1/appeals", headers={**json_headers, "X-CSRF-Token": token}, body=appeal)
    assert res.status == 201, browser.html

    assert browser.send("POST", "/logout", form={"_csrf": token}).status == 303
    assert browser.send("GET", "/api/v1/me").status == 401

    status, audit = ombud.request("GET", "/api/v1/audit?action=login.failed")
    assert status == 200 and [e["actor"] for e in audit["items"]] == ["e2e"]


def test_a_fresh_demo_prints_a_login_that_works():
    data = tempfile.mkdtemp(prefix="ombud-demo-")
    try:
        env = {"PATH": "/usr/bin:/bin", "OMBUD_DATA_DIR": data}
        out = subprocess.run([BIN, "demo", "--no-serve", "--data", str(SHARED)], env=env, capture_output=True, text=True,
                             timeout=600)
        assert out.returncode == 0, out.stdout + out.stderr
        match = re.search(r"login (\S+), password (\S+)", out.stdout)
        assert match, out.stdout
        server = Ombud(env)
        server.start()
        try:
            browser = Browser(server.port)
            assert browser.sign_in(match.group(1), match.group(2)).status == 303
            assert browser.send("GET", "/").status == 200
        finally:
            server.kill()
    finally:
        shutil.rmtree(data, ignore_errors=True)
