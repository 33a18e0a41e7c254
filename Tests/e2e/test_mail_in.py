"""`ombud mail-in` on a corpus of real-world-shaped e-mails, built with Python's own email package: every message
either lands (a new appeal, or a reply added to its appeal) or is kept in quarantine with a reason and a non-zero exit."""
import base64
import subprocess
from email.header import Header
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr
from pathlib import Path

from conftest import BIN

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==")


def simple(subject, body, sender=("Анна Иванова", "anna@example.org"), charset="utf-8", cte=None, msgid=None, extra=None):
    m = MIMEText(body, "plain", charset)
    if cte == "8bit":
        m.replace_header("Content-Transfer-Encoding", "8bit")
        m.set_payload(body.encode(charset))
    if sender:
        m["From"] = formataddr((str(Header(sender[0], charset)), sender[1])) if sender[0] else sender[1]
    m["To"] = "appeals@city.example"
    m["Subject"] = Header(subject, charset)
    if msgid:
        m["Message-ID"] = msgid
    for k, v in (extra or {}).items():
        m[k] = v
    return m.as_bytes()


def corpus():
    mails = []
    # Plain UTF-8, base64 and quoted-printable.
    mails.append(("utf8", simple("Яма на дороге", "Во дворе дома 5 яма глубиной 20 см."), "lands"))
    m = EmailMessage(); m["From"] = "petr@example.org"; m["Subject"] = "Освещение"; m.set_content("Не горит фонарь у подъезда", cte="quoted-printable")
    mails.append(("utf8-qp", m.as_bytes(), "lands"))
    m = EmailMessage(); m["From"] = "olga@example.org"; m["Subject"] = "Мусор"; m.set_content("Контейнеры переполнены третий день", cte="base64")
    mails.append(("utf8-b64", m.as_bytes(), "lands"))
    # KOI8-R and Windows-1251, encoded and raw 8-bit.
    mails.append(("koi8", simple("Жалоба на шум", "Соседи шумят по ночам.", charset="koi8-r"), "lands"))
    mails.append(("koi8-8bit", simple("Подъезд", "В подъезде грязно.", charset="koi8-r", cte="8bit"), "lands"))
    mails.append(("cp1251", simple("Отопление", "В квартире холодно, +15.", charset="windows-1251"), "lands"))
    mails.append(("cp1251-8bit", simple("Лифт", "Лифт не работает неделю.", charset="windows-1251", cte="8bit"), "lands"))
    # multipart/alternative and HTML-only.
    alt = MIMEMultipart("alternative"); alt["From"] = "ivan@example.org"; alt["Subject"] = Header("Дерево", "utf-8")
    alt.attach(MIMEText("Упало дерево на детской площадке", "plain", "utf-8")); alt.attach(MIMEText("<p>Упало <b>дерево</b></p>", "html", "utf-8"))
    mails.append(("alternative", alt.as_bytes(), "lands"))
    html = MIMEText("<html><body><p>Сломана&nbsp;скамейка</p><script>x()</script></body></html>", "html", "utf-8")
    html["From"] = "nina@example.org"; html["Subject"] = "Скамейка"
    mails.append(("html-only", html.as_bytes(), "lands"))
    # Attachments: a photo, a PDF, a file with a Cyrillic name (RFC 2231), nested mixed + alternative.
    m = EmailMessage(); m["From"] = "foto@example.org"; m["Subject"] = "Фото ямы"; m.set_content("Фото во вложении")
    m.add_attachment(PNG, maintype="image", subtype="png", filename="яма.png")
    mails.append(("attachment", m.as_bytes(), "lands"))
    m = EmailMessage(); m["From"] = "doc@example.org"; m["Subject"] = "Заявление"; m.set_content("Прошу рассмотреть")
    m.add_attachment(b"%PDF-1.4\n%test\n", maintype="application", subtype="pdf", filename="заявление.pdf")
    mails.append(("pdf", m.as_bytes(), "lands"))
    m = EmailMessage(); m["From"] = "nested@example.org"; m["Subject"] = "Вложенное"; m.set_content("Текст")
    m.add_alternative("<p>Текст</p>", subtype="html"); m.add_attachment(PNG, maintype="image", subtype="png", filename="a.png")
    mails.append(("nested", m.as_bytes(), "lands"))
    # Forwarded message.
    inner = EmailMessage(); inner["From"] = "citizen@example.org"; inner["Subject"] = "жалоба"; inner.set_content("Шумят соседи")
    m = EmailMessage(); m["From"] = "clerk@example.org"; m["Subject"] = "Fwd: жалоба"; m.set_content("Пересылаю")
    m.add_attachment(inner)
    mails.append(("forwarded", m.as_bytes(), "lands"))
    # Headers: a huge subject, a display name in koi8-r, encoded words split, no subject, unknown charset in a header.
    mails.append(("huge-subject", simple("Очень длинная тема " * 200, "Текст"), "lands"))
    mails.append(("koi8-name", simple("Тема", "Текст", sender=("Пётр Сидоров", "ps@example.org"), charset="koi8-r"), "lands"))
    mails.append(("no-subject", b"From: quiet@example.org\r\nMessage-ID: <nosubj@example.org>\r\n\r\nTolko tekst\r\n", "lands"))
    mails.append(("odd-charset-header", b"From: x@example.org\r\nSubject: =?x-unknown?B?0K/QvNCw?=\r\n\r\nbody\r\n", "lands"))
    mails.append(("bare-lf", b"From: lf@example.org\nSubject: LF only\n\nUnix line ends\n", "lands"))
    mails.append(("no-charset-8bit-utf8", "From: u@example.org\r\nSubject: test\r\n\r\nТекст без charset\r\n".encode(), "lands"))
    mails.append(("no-charset-8bit-cp1251", b"From: w@example.org\r\nSubject: test\r\n\r\n" + "Текст в 1251".encode("cp1251") + b"\r\n", "lands"))
    # Threading: the same message twice; replies by subject code and by References.
    first = simple("Первое", "Первое письмо", msgid="<thread-1@example.org>")
    mails.append(("thread-first", first, "lands"))
    mails.append(("thread-duplicate", first, "lands"))
    mails.append(("reply-by-subject", lambda code: simple(f"Re: [{code}] Первое", "Дополнение", msgid="<thread-2@example.org>"), "reply"))
    mails.append(("reply-by-references", lambda code: simple("Re: Первое", "Ещё дополнение", msgid="<thread-3@example.org>",
                                                             extra={"References": f"<appeal-{code}.abc@ombud.example>"}), "reply"))
    # Automatic mail: never an appeal.
    mails.append(("auto-replied", simple("Out of office", "I am away", extra={"Auto-Submitted": "auto-replied"}), "lands"))
    mails.append(("precedence-bulk", simple("Newsletter", "News", extra={"Precedence": "bulk"}), "lands"))
    mails.append(("bounce", simple("Undelivered", "Bounce", extra={"Return-Path": "<>"}), "lands"))
    # Broken: no From, no headers, multipart without boundary, boundary never found, empty, binary junk.
    mails.append(("no-from", simple("Без отправителя", "Текст", sender=None), "quarantine"))
    mails.append(("no-headers", b"just some text\r\nwithout headers\r\n", "quarantine"))
    mails.append(("no-boundary", b"From: a@example.org\r\nContent-Type: multipart/mixed\r\n\r\nbody\r\n", "quarantine"))
    mails.append(("lost-boundary", b"From: a@example.org\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\nno parts here\r\n", "quarantine"))
    mails.append(("empty", b"", "quarantine"))
    mails.append(("junk", bytes(range(256)) * 4, "quarantine"))
    return mails


def mail_in(ombud, data, *args):
    return subprocess.run([BIN, "mail-in", *args], env=ombud.env, input=data, capture_output=True, timeout=120)


def test_a_corpus_of_real_world_mail_lands_or_is_quarantined_with_a_reason(ombud):
    mails = corpus()
    assert len(mails) >= 30
    quarantine = Path(ombud.env["OMBUD_DATA_DIR"]) / "mail" / "quarantine"
    code = None
    for name, data, expected in mails:
        if callable(data):
            data = data(code)
        out = mail_in(ombud, data)
        text = (out.stdout + out.stderr).decode(errors="replace")
        if expected == "quarantine":
            assert out.returncode != 0, f"{name} was taken: {text}"
            assert "quarantined" in text, f"{name}: {text}"
            reasons = list(quarantine.glob("*.reason"))
            assert reasons and all(r.with_suffix(".eml").exists() for r in reasons), name
        else:
            assert out.returncode == 0, f"{name}: {text}"
            assert any(w in text for w in ("new appeal", "added to appeal", "already received", "automatic mail")), f"{name}: {text}"
            if expected == "reply":
                assert f"added to appeal {code}" in text, f"{name}: {text}"
        if name == "thread-first":
            code = text.split("new appeal ")[1].split()[0]
        if name == "thread-duplicate":
            assert f"already received (appeal {code})" in text, text
        if name in ("auto-replied", "precedence-bulk", "bounce"):
            assert "automatic mail" in text, f"{name}: {text}"

    status, page = ombud_request(ombud, "/api/v1/appeals?channel=e-mail&limit=100")
    texts = {a.get("text") or a.get("excerpt") for a in page["items"]}
    for expected in ["Жалоба на шум\n\nСоседи шумят по ночам.", "Лифт\n\nЛифт не работает неделю.", "Отопление\n\nВ квартире холодно, +15.",
                     "Скамейка\n\nСломана скамейка", "test\n\nТекст в 1251"]:
        assert any(t.startswith(expected) for t in texts), (expected, texts)


def ombud_request(ombud, path):
    ombud.start()
    try:
        return ombud.request("GET", path)
    finally:
        ombud.kill()


def test_a_maildir_is_taken_message_by_message(ombud, tmp_path):
    maildir = tmp_path / "Maildir"
    (maildir / "new").mkdir(parents=True)
    (maildir / "new" / "1.eml").write_bytes(simple("Первое", "Текст один", msgid="<md-1@example.org>"))
    (maildir / "new" / "2.eml").write_bytes(simple("Второе", "Текст два", msgid="<md-2@example.org>"))
    (maildir / "new" / "3.eml").write_bytes(b"not a message")
    out = mail_in(ombud, b"", "--maildir", str(maildir))
    text = (out.stdout + out.stderr).decode()
    assert out.returncode != 0 and "1 message(s) quarantined" in text, text
    assert text.count("new appeal") == 2
    assert not list((maildir / "new").iterdir()) and len(list((maildir / "cur").iterdir())) == 3
    # Taken again (a crash before the move): nothing lands twice.
    for f in (maildir / "cur").iterdir():
        if f.name.startswith(("1", "2")):
            f.rename(maildir / "new" / f.name.split(":")[0])
    out = mail_in(ombud, b"", "--maildir", str(maildir))
    assert out.returncode == 0 and out.stdout.decode().count("already received") == 2, out.stdout.decode()


def test_the_approved_answer_goes_back_by_mail_and_the_citizens_reply_joins_the_appeal(ombud, smtp_plain):
    ombud.cli("topics", "import", str(Path(__file__).resolve().parents[3] / "shared" / "data" / "ru-appeals-classifier"))
    ombud.env.update(smtp_plain.env("none"))
    # The citizen writes; the gateway makes the appeal (reply channel: e-mail).
    out = mail_in(ombud, simple("Яма у дома 5", "Яма глубиной 20 см", msgid="<citizen-1@example.org>"))
    assert out.returncode == 0, out.stderr.decode()
    code = out.stdout.decode().split("new appeal ")[1].split()[0]
    ombud.start()
    status, body = ombud.request("POST", "/api/v1/org-units", {"code": "roads", "name": "Дорожный отдел", "kind": "department"})
    assert status == 201, body
    status, appeal = ombud.request("GET", f"/api/v1/appeals/by-code/{code}")
    assert appeal["channel"] == "e-mail" and appeal["replyChannel"] == "e-mail", appeal
    status, body = ombud.request("POST", f"/api/v1/appeals/{appeal['id']}/questions", {"topicCode": "0003.0009.0097.0689", "text": "Яма"})
    assert status in (200, 201), body
    for step in [{"to": "registered"}, {"to": "assigned", "unitCode": "roads"}, {"to": "in-progress"}, {"to": "answer-drafted"}]:
        status, body = ombud.request("POST", f"/api/v1/appeals/{appeal['id']}/transitions", step)
        assert status == 200, body
    status, current = ombud.request("GET", f"/api/v1/appeals/{appeal['id']}")
    question = current["questions"][0]["id"]
    status, body = ombud.request("PATCH", f"/api/v1/appeals/{appeal['id']}/questions/{question}",
                                 {"result": "supported-measures-taken", "answerText": "Яму заделали 20 ноября."})
    assert status == 200, body
    for step in [{"to": "on-approval"}, {"to": "answered"}]:
        status, body = ombud.request("POST", f"/api/v1/appeals/{appeal['id']}/transitions", step)
        assert status == 200, body
    # The answer arrives by mail, in the thread of the citizen's message.
    answer = [m for m in smtp_plain.wait_for(1) if m["To"].addresses[0].addr_spec == "anna@example.org"][0]
    assert f"[{code}]" in answer["Subject"]
    assert answer["Message-ID"].startswith(f"<appeal-{code}.") and answer["In-Reply-To"] == "<citizen-1@example.org>"
    assert "Яму заделали 20 ноября." in answer.get_content()
    # The citizen answers the answer: it joins the same appeal, by the thread alone.
    reply = simple("Re: спасибо", "Спасибо, всё сделано", msgid="<citizen-2@example.org>", extra={"In-Reply-To": answer["Message-ID"]})
    out = mail_in(ombud, reply)
    assert out.returncode == 0 and f"added to appeal {code}" in out.stdout.decode(), out.stdout.decode() + out.stderr.decode()
