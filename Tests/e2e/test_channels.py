"""Appeals from Telegram, VK and SMS through a real `ombud serve`: the webhooks refuse a wrong secret and store nothing,
take a replayed message once and a second message of the same chat into the same appeal; the approved answer goes
back through a local stand-in for the Bot API, the VK API and the SMS gateway that speaks their wire format."""
import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from conftest import SHARED

TELEGRAM_TOKEN = "123456:e2e-bot-token"
TELEGRAM_SECRET = "e2e_telegram-Secret42"
VK_TOKEN = "vk1.a.e2e-community-token"
VK_GROUP = 218000111
VK_SECRET = "e2e-vk-secret-key"
VK_CONFIRMATION = "3f9c1a2b"
SMS_SECRET = "e2e-sms-shared-secret-0123456789"
TOPIC = "0003.0009.0097.0689"   # from the imported classifier, as in test_mail_in.py
UNIT = "roads"
REPLY_TIMEOUT = 30


def sign(body, secret=SMS_SECRET):
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class FakeNetworks:
    """The Bot API, the VK API and the SMS gateway on one local port, answering as the real ones do and keeping every
    request it gets: path, headers and the body as sent (raw) and as read (JSON or form fields)."""

    def __init__(self):
        self.requests = []
        self.lock = threading.Lock()
        self.ids = iter(range(9001, 10**6))
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, answer = fake.answer(self.path, dict(self.headers), raw)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, path, headers, raw):
        kind = headers.get("Content-Type", "")
        if kind.startswith("application/x-www-form-urlencoded"):
            body = {k: v[0] for k, v in urllib.parse.parse_qs(raw.decode(), keep_blank_values=True).items()}
        else:
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
        record = {"path": path, "headers": headers, "raw": raw, "body": body}
        with self.lock:
            self.requests.append(record)
            n = next(self.ids)
        if path.startswith("/bot"):
            if path != f"/bot{TELEGRAM_TOKEN}/sendMessage":
                return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
            return 200, {"ok": True, "result": {"message_id": n, "date": int(time.time()), "text": body["text"],
                                                "chat": {"id": body["chat_id"], "type": "private"},
                                                "from": {"id": 123456, "is_bot": True, "first_name": "Ombud"}}}
        if path.startswith("/method/"):
            if body.get("access_token") != VK_TOKEN:
                return 200, {"error": {"error_code": 5, "error_msg": "User authorization failed: invalid access_token"}}
            if path == "/method/messages.send":
                return 200, {"response": n}
            if path == "/method/wall.createComment":
                return 200, {"response": {"comment_id": n}}
            if path == "/method/users.get":
                names = {"300400500": ("Ирина", "Волкова"), "300400600": ("Пётр", "Соколов")}
                first, last = names.get(body.get("user_ids"), ("DELETED", ""))
                return 200, {"response": [{"id": int(body.get("user_ids", "0")), "first_name": first, "last_name": last,
                                           "can_access_closed": True, "is_closed": False}]}
            return 200, {"error": {"error_code": 3, "error_msg": "Unknown method passed"}}
        if path == "/sms/send":
            record["signature_ok"] = hmac.compare_digest(headers.get("X-Ombud-Signature", ""), sign(raw))
            return (200, {"id": f"gw-{n}"}) if record["signature_ok"] else (401, {"error": "bad signature"})
        return 404, {"error": "no such path"}

    def env(self):
        return {"OMBUD_TELEGRAM_TOKEN": TELEGRAM_TOKEN, "OMBUD_TELEGRAM_SECRET": TELEGRAM_SECRET, "OMBUD_TELEGRAM_API": self.url,
                "OMBUD_VK_TOKEN": VK_TOKEN, "OMBUD_VK_GROUP_ID": str(VK_GROUP), "OMBUD_VK_SECRET": VK_SECRET,
                "OMBUD_VK_CONFIRMATION": VK_CONFIRMATION, "OMBUD_VK_API": self.url,
                "OMBUD_SMS_SECRET": SMS_SECRET, "OMBUD_SMS_URL": self.url + "/sms/send"}

    def wait_for(self, path, ombud, appeal_id, containing, timeout=REPLY_TIMEOUT):
        """The first request to `path` whose text (`text` or VK's `message`) contains `containing`; on timeout, fails
        with what did arrive and the appeal's history."""
        def text(r):
            body = r["body"] if isinstance(r["body"], dict) else {}
            return str(body.get("text", "")) + str(body.get("message", ""))
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                found = [r for r in self.requests if r["path"] == path and containing in text(r)]
            if found:
                return found[0]
            time.sleep(0.2)
        _, history = ombud.request("GET", f"/api/v1/appeals/{appeal_id}/history")
        raise AssertionError(f"no request to {path} within {timeout} s; got {[r['path'] for r in self.requests]}; "
                             f"history: {[(h['action'], h.get('field'), h.get('comment')) for h in history or []]}")

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def post(ombud, path, payload, headers=None):
    """A webhook call as the network makes it: no bearer token. Returns status, content type and body text."""
    data = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{ombud.port}{path}", data=data, method="POST",
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            return res.status, res.headers.get("Content-Type", ""), res.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode()


def assert_ok(response):
    """What Telegram and VK expect of a webhook that took (or already had) an update: 200 and `ok`."""
    status, _, text = response
    assert (status, text) == (200, "ok"), response


def appeals(ombud, channel):
    status, page = ombud.request("GET", f"/api/v1/appeals?channel={channel}&limit=100")
    assert status == 200, page
    return page["items"]


def appeal_with(ombud, channel, text):
    """The one appeal of `channel` whose text begins with `text`, as its card."""
    found = [a for a in appeals(ombud, channel) if a["excerpt"].startswith(text)]
    assert len(found) == 1, (text, appeals(ombud, channel))
    status, card = ombud.request("GET", f"/api/v1/appeals/{found[0]['id']}")
    assert status == 200, card
    return card


def answer(ombud, appeal_id, text):
    """Registered, assigned, answered and approved through the JSON API: the worker then sends the answer."""
    def move(step):
        status, body = ombud.request("POST", f"/api/v1/appeals/{appeal_id}/transitions", step)
        assert status == 200, (step, body)

    status, body = ombud.request("POST", f"/api/v1/appeals/{appeal_id}/questions", {"topicCode": TOPIC})
    assert status == 201, body
    for step in [{"to": "registered"}, {"to": "assigned", "unitCode": UNIT}, {"to": "in-progress"}, {"to": "answer-drafted"}]:
        move(step)
    status, card = ombud.request("GET", f"/api/v1/appeals/{appeal_id}")
    question = card["questions"][0]["id"]
    status, body = ombud.request("PATCH", f"/api/v1/appeals/{appeal_id}/questions/{question}", {"result": "explained", "answerText": text})
    assert status == 200, body
    for step in [{"to": "on-approval"}, {"to": "answered"}]:
        move(step)


def telegram_update(update_id, message_id, text, user_id=700100200, chat_id=700100200):
    return {"update_id": update_id, "message": {
        "message_id": message_id, "date": int(time.time()), "text": text,
        "from": {"id": user_id, "is_bot": False, "first_name": "Анна", "last_name": "Петрова", "username": "anna_petrova", "language_code": "ru"},
        "chat": {"id": chat_id, "type": "private", "first_name": "Анна", "last_name": "Петрова", "username": "anna_petrova"}}}


def check_telegram(ombud, fake):
    hook = lambda body, secret=TELEGRAM_SECRET: post(ombud, "/channels/telegram", body, {"X-Telegram-Bot-Api-Secret-Token": secret})
    first = telegram_update(500001, 41, "Не горит фонарь у дома 12 на Садовой")
    # A wrong secret, or none: refused, nothing stored.
    assert hook(first, secret="not-the-secret")[0] == 403
    assert post(ombud, "/channels/telegram", first)[0] == 403
    assert appeals(ombud, "social") == []
    # A body past the webhook's 1 MB limit: 413, nothing stored.
    huge = telegram_update(500000, 40, "x" * 1_100_000)
    assert hook(huge)[0] == 413
    assert appeals(ombud, "social") == []
    # The update, then the same update again (Telegram's retry): one appeal.
    assert_ok(hook(first))
    assert_ok(hook(first))
    assert len(appeals(ombud, "social")) == 1
    # A second message in the chat joins the open appeal.
    assert_ok(hook(telegram_update(500002, 42, "Уточняю: фонарь напротив второго подъезда")))
    assert len(appeals(ombud, "social")) == 1
    card = appeal_with(ombud, "social", "Не горит фонарь у дома 12")
    assert card["channel"] == "social" and card["replyChannel"] == "social", card

    # The author is told the code at once, in the same chat.
    notice = fake.wait_for(f"/bot{TELEGRAM_TOKEN}/sendMessage", ombud, card["id"], card["trackingCode"])
    assert notice["body"]["chat_id"] == 700100200 and "зарегистрировано" in notice["body"]["text"], notice["body"]

    answer(ombud, card["id"], "Фонарь заменили 21 ноября.")
    sent = fake.wait_for(f"/bot{TELEGRAM_TOKEN}/sendMessage", ombud, card["id"], "Фонарь заменили 21 ноября.")
    assert sent["headers"]["Content-Type"].startswith("application/json")
    assert sent["body"]["chat_id"] == 700100200, sent["body"]
    assert "Фонарь заменили 21 ноября." in sent["body"]["text"], sent["body"]
    # In reply to the citizen's last message.
    assert sent["body"]["reply_parameters"] == {"message_id": 42, "allow_sending_without_reply": True}, sent["body"]


def vk_event(kind, obj, secret=VK_SECRET, group_id=VK_GROUP):
    return {"type": kind, "event_id": f"e2e-{kind}-{time.time_ns()}", "v": "5.199", "group_id": group_id, "secret": secret, "object": obj}


def check_vk(ombud, fake):
    hook = lambda body: post(ombud, "/channels/vk", body)
    # VK confirms the server first: the body is exactly the code (no JSON quotes, no newline).
    status, _, text = hook({"type": "confirmation", "group_id": VK_GROUP})
    assert (status, text) == (200, VK_CONFIRMATION), (status, text)
    before = len(appeals(ombud, "social"))
    message = {"message": {"id": 0, "date": int(time.time()), "peer_id": 300400500, "from_id": 300400500,
                           "text": "Во дворе дома 7 не вывезли мусор", "conversation_message_id": 17, "attachments": []},
               "client_info": {"button_actions": ["text"], "keyboard": True, "inline_keyboard": True, "carousel": True, "lang_id": 0}}
    # A wrong secret key, or another community: refused, nothing stored.
    assert hook(vk_event("message_new", message, secret="wrong"))[0] == 403
    assert hook(vk_event("message_new", message, group_id=VK_GROUP + 1))[0] == 403
    assert len(appeals(ombud, "social")) == before
    # A message to the community.
    assert_ok(hook(vk_event("message_new", message)))
    assert_ok(hook(vk_event("message_new", message)))   # delivered twice: taken once
    assert len(appeals(ombud, "social")) == before + 1
    card = appeal_with(ombud, "social", "Во дворе дома 7 не вывезли мусор")
    assert card["channel"] == "social" and card["replyChannel"] == "social", card
    answer(ombud, card["id"], "Мусор вывезли, график восстановлен.")
    sent = fake.wait_for("/method/messages.send", ombud, card["id"], "Мусор вывезли, график восстановлен.")
    # The Callback API names the author by number; users.get gave the card their name.
    status, card = ombud.request("GET", f"/api/v1/appeals/{card['id']}")
    assert card["applicant"]["fullName"] == "Волкова Ирина", card["applicant"]
    assert sent["headers"]["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert sent["body"]["peer_id"] == "300400500", sent["body"]
    assert "Мусор вывезли, график восстановлен." in sent["body"]["message"], sent["body"]
    assert sent["body"]["access_token"] == VK_TOKEN and sent["body"]["v"] and int(sent["body"]["random_id"]) > 0, sent["body"]

    # A comment on the community's wall: answered under the comment.
    comment = {"id": 8801, "from_id": 300400600, "date": int(time.time()), "text": "На остановке у поста сломана скамейка",
               "post_id": 512, "owner_id": -VK_GROUP, "parents_stack": [], "thread": {"count": 0}}
    assert_ok(hook(vk_event("wall_reply_new", comment)))
    assert len(appeals(ombud, "social")) == before + 2
    card = appeal_with(ombud, "social", "На остановке у поста сломана скамейка")
    assert card["channel"] == "social" and card["replyChannel"] == "social", card
    answer(ombud, card["id"], "Скамейку починили.")
    sent = fake.wait_for("/method/wall.createComment", ombud, card["id"], "Скамейку починили.")
    body = sent["body"]
    assert (body["owner_id"], body["post_id"], body["reply_to_comment"]) == (str(-VK_GROUP), "512", "8801"), body
    assert body["from_group"] and body["guid"] and body["access_token"] == VK_TOKEN, body
    assert "Скамейку починили." in body["message"], body


def check_sms(ombud, fake):
    def hook(message, signature=True):
        raw = json.dumps(message, ensure_ascii=False).encode()
        status, _, text = post(ombud, "/channels/sms", raw, {"X-Ombud-Signature": sign(raw)} if signature else {})
        return status, json.loads(text) if text else None

    sms = {"id": "gw-in-1", "from": "8 (921) 555-12-34", "text": "Нет горячей воды в доме 3 по Лесной", "time": "2026-11-20T10:00:00+03:00"}
    assert hook(sms, signature=False)[0] == 403
    raw = json.dumps(sms).encode()
    assert post(ombud, "/channels/sms", raw, {"X-Ombud-Signature": sign(raw, "another-secret-0123456789")})[0] == 403
    assert appeals(ombud, "sms") == []
    status, body = hook({**sms, "id": "gw-bad", "from": "не телефон"})
    assert status == 422 and body["field"] == "from", body
    status, created = hook(sms)
    assert status == 200 and created["status"] == "created" and created["trackingCode"], created
    status, again = hook(sms)   # the gateway's retry
    assert status == 200 and again["status"] == "duplicate", again
    status, added = hook({**sms, "id": "gw-in-2", "text": "Уточнение: с понедельника"})
    assert (status, added) == (200, {"status": "added", "trackingCode": created["trackingCode"]}), added
    assert len(appeals(ombud, "sms")) == 1
    status, card = ombud.request("GET", f"/api/v1/appeals/by-code/{created['trackingCode']}")
    assert card["channel"] == "sms" and card["replyChannel"] == "sms", card

    answer(ombud, card["id"], "Горячую воду дали 22 ноября.")
    sent = fake.wait_for("/sms/send", ombud, card["id"], "Горячую воду дали 22 ноября.")
    assert sent["signature_ok"], (sent["headers"], sent["raw"])
    assert sent["headers"]["Content-Type"].startswith("application/json")
    assert sent["body"]["to"] == "+79215551234" and sent["body"]["id"], sent["body"]
    assert "Горячую воду дали 22 ноября." in sent["body"]["text"], sent["body"]


def test_telegram_vk_and_sms_appeals_are_taken_once_and_answered_through_the_network(ombud):
    ombud.cli("topics", "import", str(SHARED / "ru-appeals-classifier"))
    fake = FakeNetworks()
    try:
        ombud.env.update(fake.env())
        ombud.start()
        status, body = ombud.request("POST", "/api/v1/org-units", {"code": UNIT, "name": "Дорожный отдел", "kind": "department"})
        assert status == 201, body
        check_telegram(ombud, fake)
        check_vk(ombud, fake)
        check_sms(ombud, fake)
        # Each new appeal's notice and each answer went out once, each VK author's name was asked once, nothing else.
        assert sorted(r["path"] for r in fake.requests) == sorted(
            [f"/bot{TELEGRAM_TOKEN}/sendMessage", "/method/messages.send", "/method/wall.createComment", "/sms/send"] * 2
            + ["/method/users.get"] * 2)
    finally:
        ombud.kill()
        fake.stop()
