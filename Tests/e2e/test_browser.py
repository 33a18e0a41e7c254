"""The staff interface in a real browser (Playwright driving Debian's Chromium) against a real `ombud serve` on a fresh
database: sign in, register an appeal by keyboard only, find it in the worklist, move it through registration →
assignment → answer → feedback and read the history; the same in Persian (right to left, Solar Hijri dates); the
intake on a 375×812 phone screen. Every test leaves screenshots under Tests/e2e/artifacts/."""
import os
import re
import shutil
import struct
import tempfile
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conftest import SHARED, Ombud

# On CI a missing browser or Playwright is a failure, not a skip.
if os.environ.get("CI"):
    import playwright.sync_api as sync_api
else:
    sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = os.environ.get("OMBUD_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("OMBUD_ARTIFACTS", Path(__file__).parent / "artifacts"))
PERSIAN_DATE = re.compile(r"[۰-۹]{4}/[۰-۹]{2}/[۰-۹]{2}")


class TileServer:
    """A tile server on 127.0.0.1 for the map's base layer: every /tiles/z/x/y.png is a plain 256×256 PNG, counted."""

    def __init__(self):
        raw = b"".join(b"\x00" + bytes([0xDD, 0xE6, 0xD0]) * 256 for _ in range(256))
        chunk = lambda kind, data: struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 256, 256, 8, 2, 0, 0, 0)) + \
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
        tiles = self
        self.hits = 0

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                ok = re.fullmatch(r"/tiles/\d+/\d+/\d+\.png", self.path) is not None
                tiles.hits += ok
                self.send_response(200 if ok else 404)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(png) if ok else 0))
                self.end_headers()
                if ok:
                    self.wfile.write(png)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.template = f"http://127.0.0.1:{self.httpd.server_port}/tiles/{{z}}/{{x}}/{{y}}.png"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def server():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("no Chromium at " + CHROMIUM)
        pytest.skip("no Chromium at " + CHROMIUM)
    data = tempfile.mkdtemp(prefix="ombud-browser-")
    tiles = TileServer()
    env = {**os.environ, "OMBUD_DATA_DIR": data, "OMBUD_MAP_TILES": tiles.template}
    env.pop("OMBUD_DATABASE_URL", None)
    ombud = Ombud(env)
    ombud.tiles = tiles
    ombud.cli("migrate")
    ombud.cli("topics", "import", str(SHARED / "ru-appeals-classifier"))
    ombud.cli("users", "add", "admin", "--role", "administrator", stdin="admin-password\n")
    ombud.token = ombud.cli("tokens", "create", "admin").split()[-1]
    ombud.start()
    for code, name, kind, parent in [("city", "Администрация", "body", None), ("roads", "Дорожный отдел", "department", "city")]:
        status, body = ombud.request("POST", "/api/v1/org-units", {"code": code, "name": name, "kind": kind, "parentCode": parent})
        assert status == 201, body
    ombud.cli("users", "add", "operator", "--role", "reception,executor,approver,responder", "--unit", "city", "--name", "Анна Операторова",
              stdin="operator-password\n")
    yield ombud
    ombud.kill()
    tiles.stop()
    shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
def page(server, request):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        viewport = getattr(request, "param", {"width": 1280, "height": 900})
        context = browser.new_context(viewport=viewport, locale="ru-RU", base_url=f"http://127.0.0.1:{server.port}")
        page = context.new_page()
        page.shots = []
        yield page
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-last.png"), full_page=True)
        browser.close()


def shot(page, name):
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page, lang=None, login="operator", password="operator-password"):
    page.goto("/login" + (f"?lang={lang}" if lang else ""))
    page.focus("#login")
    page.keyboard.type(login)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/$"))


def tab_to(page, element_id, most=12):
    """Presses Tab until the focus is on `element_id` (the form's own order, nothing clicked)."""
    for _ in range(most):
        if page.evaluate("document.activeElement.id") == element_id:
            return
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == element_id, f"Tab never reached #{element_id}"


def register_by_keyboard(page, surname, text, phone=None):
    # Each caller their own phone: the same phone would find (and choose) the card made before.
    phone = phone or "+7 921 555-" + "".join(str(ord(c) % 10) for c in surname[:4]).ljust(4, "0")
    page.goto("/appeals/new")
    assert page.evaluate("document.activeElement.id") == "channel"  # the form starts where the operator types
    tab_to(page, "surname", most=3)
    page.keyboard.type(surname)
    page.keyboard.press("Tab")
    page.keyboard.type("Пётр")
    tab_to(page, "phone", most=2)
    page.keyboard.type(phone)
    tab_to(page, "text")
    page.keyboard.type(text)
    tab_to(page, "topicCode", most=4)
    page.keyboard.type("0003.0009.0097.0689")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/appeals/\d{4}-\d{6}"))
    return re.search(r"/appeals/(\d{4}-\d{6})", page.url).group(1)


def act(page, to, **fields):
    form = page.locator(f'form[data-to="{to}"]')
    for name, value in fields.items():
        field = form.locator(f'[name="{name}"]')
        # Units and people are picked from lists; other fields are typed.
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    form.locator("button").click()
    page.wait_for_load_state()
    assert page.locator("#status").get_attribute("data-state") == to, page.locator("#error").all_inner_texts()


def walk_to_feedback(page, code, prefix):
    act(page, "assigned", unitCode="roads")
    act(page, "in-progress")
    act(page, "answer-drafted")
    page.locator("select[name=result]").select_option("explained")
    page.locator("textarea[name=answerText]").fill("Яму заделают до 1 июня")
    page.locator("#questions button").click()
    page.wait_for_load_state()
    act(page, "on-approval")
    act(page, "answered")
    act(page, "feedback")
    shot(page, f"{prefix}-card-feedback")
    history = page.locator("ol.timeline").inner_text()
    return history


def test_register_find_and_answer_in_russian(page):
    sign_in(page)
    code = register_by_keyboard(page, "Иванов", "Яма на дороге у дома 5")
    shot(page, "ru-card-new")
    assert page.locator("#status").get_attribute("data-state") == "registered"
    assert page.locator("html").get_attribute("dir") == "ltr"
    page.goto("/tasks?view=unit")
    shot(page, "ru-worklist")
    page.locator(f'a[href="/appeals/{code}"]').first.click()
    page.wait_for_url(f"**/appeals/{code}")
    history = walk_to_feedback(page, code, "ru")
    for state in ["Зарегистрировано", "Назначено", "В работе", "Подготовлен ответ", "На согласовании", "Дан ответ", "Обратная связь"]:
        assert state in history, state
    assert "Яму заделают до 1 июня" in page.content()


def test_the_same_in_persian(page):
    sign_in(page, lang="fa")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("html").get_attribute("lang") == "fa"
    code = register_by_keyboard(page, "Рзаев", "چراغ خیابان خاموش است")
    assert page.locator("html").get_attribute("dir") == "rtl"
    received = page.locator("#received").inner_text()
    assert PERSIAN_DATE.search(received), received  # a Solar Hijri date in Persian digits
    assert page.locator(".code").first.inner_text() == code  # the code stays in Latin digits, isolated left to right
    shot(page, "fa-card-new")
    history = walk_to_feedback(page, code, "fa")
    for state in ["ثبت‌شده", "ارجاع‌شده", "در حال رسیدگی", "پاسخ داده شد", "بازخورد"]:
        assert state in history, state


@pytest.mark.parametrize("page", [{"width": 375, "height": 812}], indirect=True)
def test_intake_on_a_phone(page):
    sign_in(page)
    page.goto("/appeals/new")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the form is {width}px wide on a 375px screen"
    shot(page, "phone-intake")
    code = register_by_keyboard(page, "Сидоров", "Не вывозят мусор")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    shot(page, "phone-card")
    assert code in page.content()


def test_the_callers_card_topics_and_questions_as_the_operator_types(page, server):
    status, body = server.request("POST", "/api/v1/appeals", {
        "channel": "phone", "text": "Не горит фонарь во дворе", "officeCode": "city",
        "applicant": {"surname": "Кузнецова", "name": "Мария", "phone": "+7 911 222-33-44"}})
    assert status == 201, body
    known = body["applicant"]["id"]
    sign_in(page)
    page.goto("/appeals/new")
    # The same phone written another way finds the card, with its open appeal.
    page.locator("#phone").type("8 911 222 33 44")
    match = page.locator(f'#applicant-matches input[value="{known}"]')
    match.wait_for()
    assert body["trackingCode"] in page.locator("#applicant-matches").inner_text()
    match.check()  # one click: the same person
    page.locator("#text").fill("Фонарь так и не починили, и яма у подъезда")
    # A topic by words, picked from the list the script shows; then a second question.
    page.locator("#topicQuery").type("уличное освещение")
    page.locator('#topic-results input[value="0003.0009.0097.0690"]').click()  # fills the question, then the list goes
    assert page.locator("#topicCode").input_value() == "0003.0009.0097.0690"
    page.locator("#add-question").click()
    page.locator("#topicCode-1").fill("0003.0009.0097.0689")
    page.locator("#topicCode-1-text").fill("Яма у подъезда")
    page.locator("#files").set_input_files([{"name": "фото.png", "mimeType": "image/png",
                                             "buffer": bytes.fromhex("89504e470d0a1a0a") + bytes(64)}])
    shot(page, "intake-helpers")
    page.locator("#submit").click()
    page.wait_for_url(re.compile(r"/appeals/\d{4}-\d{6}"))
    content = page.content()
    assert "Кузнецова Мария" in content and "0003.0009.0097.0690" in content and "0003.0009.0097.0689" in content
    assert page.locator("#attachments img").count() == 1
    shot(page, "intake-helpers-card")
    # The caller's card now holds both appeals.
    page.locator(f'a[href="/applicants/{known}"]').first.click()
    page.wait_for_url(f"**/applicants/{known}")
    assert page.locator("#appeals li").count() == 2
    # Search finds the new appeal by another form of a word and marks it.
    page.goto("/search?q=" + "фонари")
    assert page.locator("mark").first.inner_text().lower().startswith("фонар")
    shot(page, "search")


@pytest.mark.parametrize("page", [{"width": 375, "height": 812}], indirect=True)
def test_every_page_fits_a_phone_in_both_directions(page, server):
    status, body = server.request("POST", "/api/v1/appeals", {
        "channel": "visit", "text": "Протекает крыша", "officeCode": "city", "applicant": {"surname": "Орлов", "name": "Ян"}})
    assert status == 201, body
    pages = ["/", "/appeals/new", f"/appeals/{body['trackingCode']}", f"/appeals/{body['trackingCode']}/slip",
             f"/applicants/{body['applicant']['id']}", "/search?q=крыша"] + [f"/tasks?view={v}" for v in
             ["mine", "unit", "registration", "approval", "feedback", "overdue", "promises", "all"]] + [
             "/admin", "/admin/units", "/admin/units/city", "/admin/users", "/admin/topics?q=освещение", "/admin/calendars", "/admin/workflow",
             "/admin/channels", "/dashboard", "/map", "/map?view=grid",
             "/account/password"]
    for lang in ["ru", "fa"]:
        page.context.clear_cookies()
        sign_in(page, lang=lang, login="admin", password="admin-password")
        for path in pages:
            response = page.goto(path)
            assert response.status == 200, f"{path}: {response.status}"
            assert page.locator("html").get_attribute("dir") == ("rtl" if lang == "fa" else "ltr")
            # The page itself never scrolls sideways; wide content (tables, the diagram) scrolls inside its own box.
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 375, f"{lang} {path} is {width}px wide"
            shot(page, f"phone-{lang}-" + (path.strip("/").replace("/", "-").replace("?", "-").replace("=", "-") or "home"))


def test_dashboard_and_map_at_desktop_and_phone_widths(page, server, tmp_path):
    """The managers' dashboard and map over a few thousand appeals of the last four months (a synthetic Boston 311
    export loaded with `ombud import csv`): figures, the SVG charts, the map's clusters over tiles from a local tile
    server, its hotspot grid and a cell's appeals, in Russian and Persian, at 1280 and 375 px."""
    import csv
    import sys
    from conftest import BIN, ROOT
    import subprocess
    sys.path.insert(0, str(ROOT / "bench" / "data"))
    import boston311
    from datetime import datetime, timedelta
    export = tmp_path / "recent.csv"
    with open(export, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(boston311.HEADER)
        writer.writerows(boston311.rows(3000, 0, start=datetime.now() - timedelta(days=120), years=120 / 365, first_id=555000000000))
    out = subprocess.run([BIN, "import", "csv", str(export), "--mapping", str(ROOT / "bench" / "data" / "boston311.mapping.json")],
                         env=server.env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and "Imported 3000 appeals" in out.stdout, out.stdout + out.stderr
    for lang, width in [("ru", 1280), ("fa", 1280), ("ru", 375), ("fa", 375)]:
        page.set_viewport_size({"width": width, "height": 900})
        page.context.clear_cookies()
        sign_in(page, lang=lang, login="admin", password="admin-password")
        response = page.goto("/dashboard?days=90")
        assert response.status == 200
        assert page.locator("svg.chart rect").count() == 90  # a bar for every day of the period, empty days too
        received = page.locator(".figure b").first.inner_text()
        assert received not in ("0", "۰"), received
        if lang == "fa":
            assert re.search(r"[۰-۹]", received) and page.locator("html").get_attribute("dir") == "rtl"
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        shot(page, f"dashboard-{lang}-{width}")

        hits = server.tiles.hits
        response = page.goto("/map")
        assert response.status == 200
        clusters = page.locator("svg.map a")
        assert clusters.count() > 0 and page.locator("svg.map circle").count() == clusters.count()
        total = page.locator("#map-total").inner_text()
        assert ("3000" if lang == "ru" else "۳۰۰۰") in total, total
        # The base layer comes from the tile server the installation names, which the page's policy lets in.
        page.wait_for_load_state("networkidle")
        assert page.locator("svg.map image").count() > 0 and server.tiles.hits > hits
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        shot(page, f"map-{lang}-{width}")
        # A click on the biggest cluster lists its appeals under the map.
        page.locator("svg.map a").first.click()
        page.wait_for_url(re.compile(r"pick="))
        assert page.locator("#picked li").count() > 0
        assert page.locator("svg.map .current").count() == 1
        shot(page, f"map-cell-{lang}-{width}")
        page.locator("#picked a", has_text=re.compile("^(Приблизить сюда|بزرگ‌نمایی همین‌جا)$")).click()
        page.wait_for_url(re.compile(r"bbox="))
        assert page.locator("svg.map a").count() > 0
        page.goto("/map?view=grid&overdue=true")
        assert page.locator("svg.map rect:not(.ground)").count() > 0
        shot(page, f"map-grid-{lang}-{width}")


CONTRAST = """() => {
  // WCAG 2.1 contrast of every visible text against the background it sits on (the first opaque one up the tree).
  const parse = c => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null; const p = m[1].split(",").map(Number);
                       return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
                     return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const background = el => { for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor);
                               if (c && c.a > 0.9) return c; } return {r: 255, g: 255, b: 255, a: 1}; };
  const low = [];
  for (const el of document.querySelectorAll("body *")) {
    const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.getClientRects().length || getComputedStyle(el).visibility === "hidden") continue;
    const fg = parse(getComputedStyle(el).color), bg = background(el);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    const size = parseFloat(getComputedStyle(el).fontSize), bold = parseInt(getComputedStyle(el).fontWeight) >= 700;
    const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < needed) low.push(el.tagName + "." + el.className + " '" + el.textContent.trim().slice(0, 30) + "' " + ratio.toFixed(2));
  }
  return low;
}"""


def test_text_contrast_meets_wcag_aa(page, server):
    sign_in(page, login="admin", password="admin-password")
    for path in ["/", "/appeals/new", "/tasks?view=all", "/search?q=крыша", "/admin/workflow", "/admin/users"]:
        page.goto(path)
        low = page.evaluate(CONTRAST)
        assert not low, f"{path}: {low[:5]}"


def test_report_builder_and_statutory_summary_at_desktop_and_phone_widths(page, server):
    """A supervisor's report built, shown, saved and opened in the browser; the quarterly summary printable; both in
    Russian and Persian at 1280 and 375 px."""
    from datetime import date, timedelta
    for channel in ["phone", "phone", "e-mail"]:
        status, body = server.request("POST", "/api/v1/appeals", {"channel": channel, "text": "Не вывозят мусор", "officeCode": "city"})
        assert status == 201, body
    # What the pages must show, as the statistics API counts it (other tests of this module add appeals too).
    today = date.today()
    status, week = server.request("GET", f"/api/v1/stats?groupBy=channel&office=city&from={today - timedelta(days=6)}")
    assert status == 200, week
    quarter_start = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    status, quarter = server.request("GET", f"/api/v1/stats?office=city&from={quarter_start}")
    received = quarter["total"]["measures"]["count"]
    for lang, width in [("ru", 1280), ("fa", 375)]:
        page.set_viewport_size({"width": width, "height": 900})
        page.context.clear_cookies()
        sign_in(page, lang=lang, login="admin", password="admin-password")
        page.goto("/reports")
        page.select_option("#r-d1", "channel")
        page.select_option("#r-period", "7d")
        page.fill("#r-office", "city")
        page.check("input[name='measures[]'][value='open']")
        page.click("button[name=show]")
        page.wait_for_selector("#result")
        assert "_csrf" not in page.url
        rows = page.locator(".report-table tbody tr")
        assert rows.count() == len(week["rows"]) >= 2
        assert page.locator("table.bars tr").count() == len(week["rows"])
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        shot(page, f"reports-shown-{lang}-{width}")
        name = "Каналы" if lang == "ru" else "کانال‌ها"
        page.fill("#r-name", name)
        page.check("input[name='sharedWith[]'][value='analyst']")
        page.click("#builder button:not([name=show])[type=submit]")
        page.wait_for_url(re.compile(r"/reports/[0-9A-Fa-f-]{36}$"))
        assert page.locator("h1").inner_text() == name
        assert page.locator(".report-table tbody tr").count() == len(week["rows"])
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        shot(page, f"reports-saved-{lang}-{width}")
        page.goto("/reports")
        assert page.locator(".results li", has_text=name).count() == 1

        response = page.goto("/reports/statutory")
        assert response.status == 200
        page.select_option("#s-quarter", index=0)  # the current quarter, which holds today's appeals
        page.fill("#s-office", "city")
        page.click("form.card button[type=submit]")
        heading = page.locator("h2").first.inner_text()
        digits = heading.split()[-1].translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789"))
        assert digits == str(received), heading
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        shot(page, f"statutory-{lang}-{width}")
        page.emulate_media(media="print")
        shot(page, f"statutory-print-{lang}-{width}")
        page.emulate_media(media="screen")
