"""Issue 18, each user's day in a real browser (Debian's Chromium) against a real `ombud serve`, in Russian and Persian,
at desktop and 375 px: the reception specialist registers a visitor and prints the slip with its PIN; the citizen
follows the appeal on the portal by code + PIN (and by phone); the office assigns it to a unit and a person from
lists; the executor and the approver answer; the responder makes the call-back from the worklist and sends an
unsatisfied appeal back; a journalist's menu holds only what they may open; an imported address register fills the
district and the point as the operator types. Screenshots go to Tests/e2e/artifacts/."""
import os
import re
import shutil
import tempfile
import urllib.parse
import urllib.request

import pytest

from conftest import SHARED, Ombud
from test_browser import CHROMIUM, ARTIFACTS, sync_api, sign_in

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}
PASSWORD = "day-password-1"


@pytest.fixture(scope="module")
def server():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("no Chromium at " + CHROMIUM)
        pytest.skip("no Chromium at " + CHROMIUM)
    data = tempfile.mkdtemp(prefix="ombud-day-")
    env = {**os.environ, "OMBUD_DATA_DIR": data}
    env.pop("OMBUD_DATABASE_URL", None)
    ombud = Ombud(env)
    ombud.cli("migrate")
    ombud.cli("topics", "import", str(SHARED / "ru-appeals-classifier"))
    ombud.cli("users", "add", "admin", "--role", "administrator", stdin="admin-password\n")
    ombud.token = ombud.cli("tokens", "create", "admin").split()[-1]
    # The address register, as an administrator loads it: the building gets its district and point.
    register = os.path.join(data, "addresses.csv")
    with open(register, "w", encoding="utf-8") as f:
        f.write("street,house,district,lat,lon\nул. Малая Балканская,60,Фрунзенский,59.8301,30.3902\nНевский пр.,1,Центральный,nonsense,30.31\n")
    out = ombud.cli("addresses", "import", register)
    assert "Imported 1 buildings; 1 rows refused" in out and "line 3: lat" in out, out
    ombud.start()
    for code, name, kind, parent in [("hq", "Штаб", "hq", None), ("desk", "Приёмная № 1", "reception", "hq"),
                                     ("roads", "Дорожный отдел", "department", "hq"), ("media", "Пресс-служба", "department", "hq")]:
        status, body = ombud.request("POST", "/api/v1/org-units", {"code": code, "name": name, "kind": kind, "parentCode": parent})
        assert status == 201, body
    for login, roles, unit, name in [("desk", "reception,responder", "desk", "Анна Приёмова"), ("worker", "executor", "roads", "Пётр Дорожкин"),
                                     ("head", "approver", "roads", "Иван Начальников"), ("press", "journalist", "media", "Жанна Пресс")]:
        ombud.cli("users", "add", login, "--role", roles, "--unit", unit, "--name", name, stdin=PASSWORD + "\n")
    yield ombud
    ombud.kill()
    shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
def browser(server):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield lambda viewport: chromium.new_context(viewport=viewport, locale="ru-RU",
                                                    base_url=f"http://127.0.0.1:{server.port}").new_page()
        chromium.close()


def shot(page, name):
    page.screenshot(path=str(ARTIFACTS / f"day-{name}.png"), full_page=True)
    # Nothing is wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"] + 1, name


def act(page, to, **fields):
    form = page.locator(f'form[data-to="{to}"]')
    for name, value in fields.items():
        field = form.locator(f'[name="{name}"]')
        if field.evaluate("e => e.tagName") == "SELECT":
            if name == "executorUserId":
                field.select_option(label=value)  # a person by their name
            else:
                field.select_option(value)
        else:
            field.fill(value)
    form.locator("button").click()
    page.wait_for_load_state()
    assert page.locator("#status").get_attribute("data-state") == to, page.locator("#error").all_inner_texts()


def register_visitor(page, surname, phone, text, topic):
    page.goto("/appeals/new")
    page.locator("#channel").select_option("visit")
    page.locator("#surname").fill(surname)
    page.locator("#phone").fill(phone)
    page.locator("#text").fill(text)
    page.locator("#topicCode").fill(topic)
    # Nowhere to send the answer yet: the form says so while the visitor is there; an e-mail clears it.
    assert page.locator("#no-reply-warning").is_visible()
    page.locator("#email").fill("visitor@example.org")
    assert not page.locator("#no-reply-warning").is_visible()
    # The address register: the building's district and point as soon as the address is typed.
    page.locator("#address").fill("Малая Балканская улица, дом 60")
    page.locator("#address").dispatch_event("change")
    sync_api.expect(page.locator("#district")).to_have_value("Фрунзенский")
    assert page.locator("#point").input_value().startswith("59.830100")
    page.locator("#submit").click()
    page.wait_for_url(re.compile(r"/appeals/\d{4}-\d{6}"))
    return re.search(r"/appeals/(\d{4}-\d{6})", page.url).group(1)


@pytest.mark.parametrize("lang,viewport", [("ru", DESKTOP), ("fa", PHONE)])
def test_the_operators_day_from_the_slip_to_the_call_back(server, browser, lang, viewport):
    size = "desktop" if viewport is DESKTOP else "375"
    tag = f"{lang}-{size}"
    desk = browser(viewport)
    sign_in(desk, lang=lang, login="desk", password=PASSWORD)
    phone = "+7 921 700-00-0" + ("1" if lang == "ru" else "2")
    # Another topic in each run: the same topic at the same building would be offered as a repeat of the first.
    topic = "0003.0009.0097.0689" if lang == "ru" else "0003.0009.0099.0742"
    code = register_visitor(desk, "Балканов", phone, "Во дворе яма, машины не проезжают", topic)
    shot(desk, f"{tag}-card")

    # The slip: the portal's address and a PIN.
    desk.goto(f"/appeals/{code}/slip")
    pin = desk.locator(".slip-pin").inner_text().strip()
    assert re.fullmatch(r"\d{6}", pin), pin
    assert desk.locator(f'a[href$="/portal/track?code={code}"]').count() == 1
    shot(desk, f"{tag}-slip")

    # The citizen at home: the code and the PIN, then the phone written another way; a wrong PIN shows nothing.
    citizen = browser(viewport)
    citizen.goto(f"/portal/track?lang={lang}")
    citizen.locator("#code").fill(code)
    citizen.locator("#pin").fill(pin)
    citizen.locator("button[type=submit]").click()
    citizen.wait_for_load_state()
    assert code in citizen.content() and "Во дворе яма" in citizen.content()
    shot(citizen, f"{tag}-portal-track")
    other = "8 (921) 700 00 0" + phone[-1]
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/portal/track?code={code}&contact={urllib.parse.quote(other)}") as res:
        assert res.status == 200
    citizen.goto(f"/portal/track?code={code}&pin={'000000' if pin != '000000' else '111111'}")
    assert "Во дворе яма" not in citizen.content() and citizen.locator("#track-error").count() == 1

    # The office assigns it to a unit and a person picked from lists.
    desk.goto(f"/appeals/{code}")
    act(desk, "assigned", unitCode="roads", executorUserId="Пётр Дорожкин")
    shot(desk, f"{tag}-assigned")

    # The executor's worklist says what the appeal is about; the answer goes for approval.
    worker = browser(viewport)
    sign_in(worker, lang=lang, login="worker", password=PASSWORD)
    worker.goto("/tasks")
    row = worker.locator("tr", has=worker.locator(f'a[href="/appeals/{code}"]'))
    assert "Фрунзенский" in row.inner_text() and "Во дворе яма" in row.inner_text()
    shot(worker, f"{tag}-worklist")
    worker.goto(f"/appeals/{code}")
    act(worker, "in-progress")
    act(worker, "answer-drafted")
    worker.locator("select[name=result]").select_option("supported-measures-taken")
    worker.locator("textarea[name=answerText]").fill("Яму заделают до пятницы")
    worker.locator("#questions button").click()
    worker.wait_for_load_state()
    act(worker, "on-approval")
    head = browser(viewport)
    sign_in(head, lang=lang, login="head", password=PASSWORD)
    head.goto(f"/appeals/{code}")
    act(head, "answered")

    # The responder's call-backs: the appeal is there; not satisfied sends it back with the reason.
    desk.goto("/tasks?view=feedback")
    assert desk.locator(f'a[href="/appeals/{code}"]').count() >= 1
    shot(desk, f"{tag}-call-backs")
    desk.goto(f"/appeals/{code}")
    desk.locator('#call-back input[value="no"]').check()
    desk.locator("#call-back-comment").fill("яма осталась")
    desk.locator("#call-back button").click()
    desk.wait_for_load_state()
    assert desk.locator("#status").get_attribute("data-state") == "in-progress"
    history = desk.locator("#history").inner_text()
    expected = "обратный звонок: заявитель не удовлетворён" if lang == "ru" else "تماس پیگیری: متقاضی راضی نیست"
    assert expected in history and "яма осталась" in history, history
    # Names, not codes: the topic and the people, never a topic code alone or a result key.
    assert "supported-measures-taken" not in desk.locator("main").inner_text()
    shot(desk, f"{tag}-card-after-call")

    # The API: the appeal is back in work, so no call-back can be recorded on it now; bad input names its field.
    status, appeal = server.request("GET", f"/api/v1/appeals/by-code/{code}")
    assert status == 200, appeal
    status, body = server.request("POST", f"/api/v1/appeals/{appeal['id']}/feedback", {"satisfied": True})
    assert status == 409 and body["error"] == "no-call-back", body
    status, body = server.request("POST", f"/api/v1/appeals/{appeal['id']}/feedback", {"comment": "?"})
    assert status == 422 and body["field"] == "satisfied", body


@pytest.mark.parametrize("lang,viewport", [("ru", PHONE), ("fa", DESKTOP)])
def test_a_journalists_menu_holds_only_what_they_may_open(server, browser, lang, viewport):
    page = browser(viewport)
    sign_in(page, lang=lang, login="press", password=PASSWORD)
    page.goto("/tasks")
    header = page.locator("header").inner_html()
    assert 'href="/appeals/new"' not in header and 'href="/admin"' not in header, header
    for link in page.locator("header a[href^='/']").all():
        href = link.get_attribute("href")
        if href.startswith("/?") or href == "/":
            continue
        response = page.request.get(href)
        assert response.status == 200, href
    shot(page, f"{lang}-journalist-menu")
