"""The citizens' portal in a real browser (Debian's Chromium) against a real `ombud serve`: a citizen submits an appeal
with a photo, keeps the secret link, the staff answer it, and the citizen opens the link and rates the answer — in
Russian and in Persian; every portal page on a 375 px phone; text contrast; a body over the limit refused with 413."""
import os
import re
import shutil
import struct
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zlib

import pytest

from conftest import SHARED, Ombud
from test_browser import CONTRAST, page, shot  # noqa: F401  (the page fixture)
import test_browser


@pytest.fixture(scope="module")
def server():
    if not os.path.exists(test_browser.CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("no Chromium at " + test_browser.CHROMIUM)
        pytest.skip("no Chromium at " + test_browser.CHROMIUM)
    data = tempfile.mkdtemp(prefix="ombud-portal-")
    env = {**os.environ, "OMBUD_DATA_DIR": data, "OMBUD_ATTACHMENT_LIMIT_MB": "1"}
    env.pop("OMBUD_DATABASE_URL", None)
    ombud = Ombud(env)
    ombud.cli("migrate")
    ombud.cli("topics", "import", str(SHARED / "ru-appeals-classifier"))
    ombud.cli("open311", "services", "add", "lighting", "--topic", "0003.0009.0097.0690", "--name", "Уличное освещение")
    ombud.cli("users", "add", "admin", "--role", "administrator", stdin="admin-password\n")
    ombud.token = ombud.cli("tokens", "create", "admin").split()[-1]
    ombud.start()
    status, body = ombud.request("POST", "/api/v1/org-units", {"code": "roads", "name": "Дорожный отдел", "kind": "department"})
    assert status == 201, body
    yield ombud
    ombud.kill()
    shutil.rmtree(data, ignore_errors=True)


def png(path):
    """A real 8×8 PNG photo."""
    raw = b"".join(b"\x00" + b"\xc0\x40\x40" * 8 for _ in range(8))
    chunk = lambda kind, body: struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return path


def submit(page, tmp_path, lang, surname, text):
    page.goto(f"/portal/new?lang={lang}")
    assert page.locator("html").get_attribute("dir") == ("rtl" if lang == "fa" else "ltr")
    page.fill("#surname", surname)
    page.fill("#name", "Пётр")
    page.fill("#email", "petr@example.org")
    page.select_option("#service", "lighting")
    page.fill("#text", text)
    page.fill("#lat", "59.9386")
    page.fill("#lon", "30.3141")
    page.set_input_files("#files", str(png(tmp_path / "photo.png")))
    page.check("input[name=listed]")
    page.check("input[name=consent]")
    shot(page, f"portal-{lang}-form")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/portal/s/[A-Za-z0-9_-]{43}\?created=1"))
    link = page.locator(".secret bdi").inner_text()
    code = page.locator("h1 bdi").inner_text()
    assert re.fullmatch(r"\d{4}-\d{6}", code) and link.endswith(page.url.split("?")[0].split("/portal")[1])
    shot(page, f"portal-{lang}-created")
    return code, link


def answer(server, code, text):
    status, appeal = server.request("GET", f"/api/v1/appeals/by-code/{code}")
    assert status == 200, appeal
    for step in [{"to": "registered"}, {"to": "assigned", "unitCode": "roads"}, {"to": "in-progress"}, {"to": "answer-drafted"}]:
        status, body = server.request("POST", f"/api/v1/appeals/{appeal['id']}/transitions", step)
        assert status == 200, body
    question = appeal["questions"][0]["id"]
    status, body = server.request("PATCH", f"/api/v1/appeals/{appeal['id']}/questions/{question}",
                                  {"result": "supported-measures-taken", "answerText": text})
    assert status == 200, body
    for step in [{"to": "on-approval"}, {"to": "answered"}]:
        status, body = server.request("POST", f"/api/v1/appeals/{appeal['id']}/transitions", step)
        assert status == 200, body
    return appeal["id"]


@pytest.mark.parametrize("lang,solved,state", [("ru", "no", "in-progress"), ("fa", "yes", "feedback")])
def test_submit_with_a_photo_follow_the_secret_link_and_rate_the_answer(page, server, tmp_path, lang, solved, state):
    code, link = submit(page, tmp_path, lang, "Петров" if lang == "ru" else "Резаи", "Не горит фонарь у дома 5")
    status, appeal = server.request("GET", f"/api/v1/appeals/by-code/{code}")
    assert appeal["channel"] == "web" and appeal["status"] == "received"
    status, files = server.request("GET", f"/api/v1/appeals/{appeal['id']}/attachments")
    assert status == 200 and [f["contentType"] for f in files] == ["image/png"]

    appeal_id = answer(server, code, "Фонарь заменён 20 ноября")
    # The link alone opens the appeal: a fresh browser with no cookies.
    page.context.clear_cookies()
    page.goto(link.replace(f"http://127.0.0.1:{server.port}", "") + f"?lang={lang}")
    assert "Фонарь заменён 20 ноября" in page.inner_text("main")
    assert "Петров" not in page.content() and "petr@example.org" not in page.content()
    page.check("input[name=score][value='2']" if solved == "no" else "input[name=score][value='5']")
    page.check(f"input[name=solved][value={solved}]")
    page.fill("#comment", "Спасибо" if solved == "yes" else "Опять не горит")
    shot(page, f"portal-{lang}-rating")
    page.locator("form[action$='/rating'] button").click()
    page.wait_for_load_state()
    assert page.locator(".notice.good").count() == 1
    shot(page, f"portal-{lang}-rated")
    status, after = server.request("GET", f"/api/v1/appeals/{appeal_id}")
    assert after["status"] == state, after["status"]
    # A guessed link shows nothing.
    response = page.goto("/portal/s/" + "A" * 43)
    assert response.status == 404 and code not in page.content()


@pytest.mark.parametrize("page", [{"width": 375, "height": 812}], indirect=True)
def test_every_portal_page_fits_a_phone_in_both_directions(page, server, tmp_path):
    code, link = submit(page, tmp_path, "ru", "Сидоров", "Яма во дворе")
    for lang in ["ru", "fa"]:
        for path in ["/portal", "/portal/new", "/portal/appeals", link.split(str(server.port))[1]]:
            response = page.goto(path + f"?lang={lang}")
            assert response.status == 200, f"{path}: {response.status}"
            assert page.locator("html").get_attribute("dir") == ("rtl" if lang == "fa" else "ltr")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 375, f"{lang} {path} is {width}px wide"
            assert not page.evaluate(CONTRAST), f"{lang} {path}: low contrast"
            shot(page, f"portal-phone-{lang}-" + (path.strip("/").split("/")[-1][:12] or "home"))
    page.goto("/portal/appeals")
    assert code in page.content() and "Сидоров" not in page.content() and "Яма во дворе" not in page.content()


def test_a_body_over_the_limit_is_refused_with_413_and_nothing_is_stored(server):
    status, before = server.request("GET", "/api/v1/appeals?limit=100")
    boundary = uuid.uuid4().hex
    fields = {"surname": "Большов", "name": "Иван", "email": "big@example.org", "consent": "on", "text": "Большой файл"}
    body = b"".join(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n".encode() for k, v in fields.items())
    body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files[]\"; filename=\"big.png\"\r\n"
             "Content-Type: image/png\r\n\r\n").encode() + b"\x89PNG\r\n\x1a\n" + b"\0" * (3 * 1024 * 1024) + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(f"http://127.0.0.1:{server.port}/portal/new", data=body, method="POST",
                                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(req, timeout=30)
    assert refused.value.code == 413
    status, after = server.request("GET", "/api/v1/appeals?limit=100")
    assert len(after["items"]) == len(before["items"])


def test_the_secret_link_and_the_subscription_arrive_by_real_mail(ombud, smtp_plain):
    """Mail to citizens through a real SMTP server: the new appeal's link, and a subscription's confirmation."""
    ombud.cli("topics", "import", str(SHARED / "ru-appeals-classifier"))
    ombud.env.update(smtp_plain.env("none"))
    ombud.env["OMBUD_PUBLIC_URL"] = f"http://127.0.0.1:{ombud.port}"
    ombud.start()
    base = f"http://127.0.0.1:{ombud.port}"

    def post(path, fields):
        data = urllib.parse.urlencode(fields).encode()
        req = urllib.request.Request(base + path, data=data, method="POST", headers={"Content-Type": "application/x-www-form-urlencoded"})
        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(req, timeout=30) as res:
                return res.status, res.headers, res.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read().decode()

    status, headers, _ = post("/portal/new?lang=en", {"surname": "Smith", "name": "Anna", "email": "anna@example.org", "consent": "on",
                                                      "text": "The lamp at number 5 is out"})
    assert status == 303, status
    link = base + headers["Location"].split("?")[0]
    status, _, _ = post("/portal/subscriptions", {"email": "watcher@example.org", "lat": "59.94", "lon": "30.32", "radius": "800"})
    assert status == 200
    messages = smtp_plain.wait_for(2)
    by_to = {m["To"].addresses[0].addr_spec: m for m in messages}
    appeal_mail = by_to["anna@example.org"].get_content()
    assert re.search(r"\d{4}-\d{6}", by_to["anna@example.org"]["Subject"])
    # The mail carries a link of its own, made when it was sent (the one shown on the page is stored nowhere in clear);
    # both open the appeal.
    mailed = re.search(r"http://\S+/portal/s/[A-Za-z0-9_-]{43}", appeal_mail).group(0)
    assert mailed != link
    for opened in (link, mailed):
        with urllib.request.urlopen(opened, timeout=30) as res:
            assert res.status == 200 and "The lamp at number 5 is out" in res.read().decode()
    confirm = re.search(r"http://\S+/portal/subscriptions/[A-Za-z0-9_-]+", by_to["watcher@example.org"].get_content()).group(0)
    with urllib.request.urlopen(confirm, timeout=30) as res:  # opening the link alone confirms nothing
        assert res.status == 200
    assert post(confirm.replace(base, ""), {"action": "confirm"})[0] == 200


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
