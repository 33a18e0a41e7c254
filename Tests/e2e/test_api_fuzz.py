"""Property-based tests of a real `ombud serve`, on SQLite and on PostgreSQL.

1. Schemathesis over EVERY operation of the OpenAPI document the server itself serves at /api/openapi.yaml, as an
   administrator, on a server seeded with units, applicants, appeals (with a question, tasks, a promise and a file),
   a role, a second user with a token and a calendar day; three cases in four name those seeded things in their path
   so that routes find something. Checks: no 5xx, responses (status code, content type, body) as the document says,
   and the process alive after every request. Fuzzing goes on after a finding; the test then fails with every
   distinct problem listed, each with a request (curl) that shows it and the server's log lines of that request.

   No operation is excluded. Nothing the fuzzer can generate locks the test out: the administrator's login (`e2e`)
   and the `administrator` role are never generated as path parameters (the seeded ones are `fuzz-victim` and
   `fuzz-role`), and token ids are UUIDs (the seeded one is fuzz-victim's token), so the test's own token is never
   revoked or narrowed. The test checks at the end that its token still works.

2. Hand-written Hypothesis properties over representative routes — POST /api/v1/appeals, POST .../transitions,
   PATCH /api/v1/applicants/{id}, GET /api/v1/appeals?q=…, the staff search page /search?q=… (signed in), the portal
   form POST /portal/new (and the status page it leads to), Open311 POST /open311/v2/requests.json and a calendar's
   year file (a raw XML or CSV body): blank, whitespace-only, NUL, over-long (100 KB) and wrong-typed values in each
   field (1–2 fields at a time, or left out) never get a 5xx or kill the process. Explicit examples pin the faults
   found so far.

A request that kills the server is a finding (schemathesis) or fails the example (properties) with the request as curl
and the server's log; the server is then started again on the same data so that the rest of the run still tests
something.

Bounds (both databases together about 4 minutes on 2 cores with the debug build, at most ~6):
OMBUD_FUZZ_MAX_EXAMPLES cases per operation in schemathesis' fuzzing phase (default 25; its examples and coverage
phases add a fixed number), OMBUD_FUZZ_PROPERTY_EXAMPLES examples per property (default 100); generation is
derandomized and nothing is shrunk, so a run is repeatable and its length bounded. OMBUD_FUZZ_FINDINGS=file.jsonl
appends schemathesis' findings and the statuses seen per operation to that file.
"""
import collections
import datetime
import itertools
import json
import os
import re
import shutil
import struct
import time
import urllib.parse
import zlib

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup, ServerError
from schemathesis.openapi.checks import JsonSchemaError
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                                status_code_conformance)

from conftest import SHARED, Ombud, server_environment

MAX_EXAMPLES = int(os.environ.get("OMBUD_FUZZ_MAX_EXAMPLES", "25"))
PROPERTY_EXAMPLES = int(os.environ.get("OMBUD_FUZZ_PROPERTY_EXAMPLES", "100"))
REQUEST_TIMEOUT = 30
LIGHTING_TOPIC = "0003.0009.0097.0690"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def png():
    raw = b"".join(b"\x00" + b"\xc0\x40\x40" * 8 for _ in range(8))
    chunk = lambda kind, body: struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def shortened(text, limit=300):
    return text if len(text) <= limit else text[:150] + f"…({len(text)} characters)…" + text[-100:]


def curl(method, url, headers=None, body=None):
    """A curl command line for a request (the bearer token left out, as `$TOKEN`; long values shortened)."""
    parts = ["curl", "-sS", "-X", method]
    for name, value in (headers or {}).items():
        if name.lower() == "authorization":
            value = "Bearer $TOKEN"
        parts += ["-H", f"{name}: {value}"]
    if body is not None:
        text = body.decode("utf-8", "backslashreplace") if isinstance(body, bytes) else body
        # control characters (NUL above all) shown as \xNN: such a body is sent with `printf '…' | curl --data-binary @-`
        parts += ["--data-binary", shortened(re.sub(r"[\x00-\x08\x0b-\x1f]", lambda m: f"\\x{ord(m.group()):02x}", text))]
    parts.append(shortened(url))
    def quote(part):
        if "$TOKEN" in part or "$SESSION" in part:
            return f'"{part}"'
        return part if re.fullmatch(r"[\w./:=-]+", part) else "'" + part.replace("'", "'\\''") + "'"
    return " ".join(quote(p) for p in parts)


class ServerDied(AssertionError):
    pass


class Fuzzed:
    """The seeded server of this module, restarted on the same data when a request kills it."""

    def __init__(self, server, data):
        self.server = server
        self.data = data
        self.base = f"http://127.0.0.1:{server.port}"
        self.auth = {"Authorization": f"Bearer {server.token}"}
        self.session = requests.Session()
        self.seeds = {}
        self.open311_key = None
        self.crashes = []
        self.findings = None
        self.aimed = collections.Counter()
        self.addresses = itertools.count(1)

    def ensure_running(self):
        if not self.server.alive():
            self.server.start()

    def log_size(self):
        return os.path.getsize(self.server.log_path)

    def log_since(self, offset):
        with open(self.server.log_path, "rb") as log:
            log.seek(offset)
            return log.read(200_000).decode("utf-8", "replace")

    def check_alive(self, what):
        """Fails (after starting the server again) when the server is gone; `what` describes the request."""
        if self.server.alive():
            return
        code = self.server.proc.returncode
        tail = self.server.log_tail(80)
        self.crashes.append(what)
        self.server.start()
        raise ServerDied(f"the server died (exit status {code}) on:\n{what}\n--- the end of its log:\n{tail}")

    def sign_in(self):
        """A browser session of the administrator, for the staff pages (they take no bearer token)."""
        self.browser = requests.Session()
        page = self.browser.get(self.base + "/login", timeout=REQUEST_TIMEOUT)
        csrf = re.search(r'name="_csrf" value="([^"]+)"', page.text).group(1)
        res = self.browser.post(self.base + "/login", data={"_csrf": csrf, "login": "e2e", "password": "e2e-password"},
                                allow_redirects=False, timeout=REQUEST_TIMEOUT)
        assert res.status_code == 303, res.text[:300]

    def send(self, method, path, *, headers=None, json_body=None, data=None, files=None, auth=True, browser=False):
        """One request (with the bearer token, or with `browser` the signed-in session); a dead server afterwards
        (or no answer at all) fails with the request as curl."""
        session = self.browser if browser else self.session
        headers = {**(self.auth if auth and not browser else {}), **(headers or {})}
        body = None
        if json_body is not None:
            body = json.dumps(json_body, ensure_ascii=True).encode()
            headers.setdefault("Content-Type", "application/json")
        elif data is not None:
            body = data if isinstance(data, (bytes, str)) else urllib.parse.urlencode(data, doseq=True)
            if isinstance(body, str):
                body = body.encode("utf-8", "surrogatepass")
            if files is None:
                headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        what = curl(method, self.base + path, {**headers, **({"Cookie": "ombud_session=$SESSION"} if browser else {})}, body)
        try:
            if files is not None:
                res = session.request(method, self.base + path, headers=headers, files=files, timeout=REQUEST_TIMEOUT)
            else:
                res = session.request(method, self.base + path, headers=headers, data=body, timeout=REQUEST_TIMEOUT,
                                      allow_redirects=False)
        except requests.RequestException as error:
            time.sleep(0.5)
            self.check_alive(what)
            raise AssertionError(f"no answer ({error}) to:\n{what}") from None
        self.check_alive(what)
        return res, what

    def api(self, method, path, body=None, expect=(200, 201)):
        res, what = self.send(method, path, json_body=body)
        assert res.status_code in expect, f"{what}\n-> {res.status_code} {res.text[:500]}"
        return res.json() if res.content else None


def seed(f):
    """Something for each kind of path parameter to find; returns the values by parameter."""
    today = datetime.date.today()
    for unit in [{"code": "roads", "name": "Дорожный отдел", "kind": "department"},
                 {"code": "district-1", "name": "Приёмная района", "kind": "reception"}]:
        f.api("POST", "/api/v1/org-units", unit)
    f.api("POST", "/api/v1/org-units/roads/officials", {"fullName": "Иванов Иван Иванович", "isHead": True})
    anna = f.api("POST", "/api/v1/applicants", {"surname": "Петрова", "name": "Анна", "phone": "+7 921 000 0001",
                                                "email": "anna@example.org", "postalAddress": "Санкт-Петербург, Невский пр., 1"})["applicant"]
    anya = f.api("POST", "/api/v1/applicants", {"surname": "Петрова", "name": "Аня", "phone": "+7 921 000 0001"})["applicant"]
    org = f.api("POST", "/api/v1/applicants", {"kind": "organisation", "organisationName": "ТСЖ Ромашка",
                                               "email": "tsg@example.org"})["applicant"]
    appeals = []
    for i, (channel, to) in enumerate([("phone", ["assigned", "in-progress"]), ("e-mail", []), ("web", None),
                                       ("letter", ["assigned", "in-progress", "answer-drafted"])]):
        body = {"channel": channel, "text": f"Не горит фонарь у дома {i + 1}, Невский проспект", "register": to is not None,
                "applicant": {"id": anna["id"]} if i != 2 else {"surname": "Сидоров", "name": "Пётр", "email": f"p{i}@example.org"},
                "questions": [{"topicCode": LIGHTING_TOPIC, "text": "Фонарь", "executorUnitCode": "roads"}],
                "address": {"text": "Невский пр., 1", "lat": 59.9386, "lon": 30.3141}, "officeCode": "district-1"}
        appeal = f.api("POST", "/api/v1/appeals", body)
        for state in to or []:
            appeal = f.api("POST", f"/api/v1/appeals/{appeal['id']}/transitions",
                           {"to": state, **({"unitCode": "roads"} if state == "assigned" else {})})
        appeals.append(appeal)
    main = appeals[0]
    promise = f.api("POST", f"/api/v1/appeals/{main['id']}/promises",
                    {"text": "Перезвоним после осмотра", "dueDate": (today + datetime.timedelta(days=10)).isoformat()})
    res, what = f.send("POST", f"/api/v1/appeals/{main['id']}/attachments", files={"file": ("фото.png", png(), "image/png")})
    assert res.status_code == 201, f"{what}\n-> {res.status_code} {res.text[:300]}"
    attachment = res.json()
    f.api("POST", f"/api/v1/appeals/{main['id']}/tasks", {"title": "Выехать на место", "dueDate": (today + datetime.timedelta(days=3)).isoformat()},
          expect=(201, 422))
    tasks = [t["id"] for a in appeals for t in f.api("GET", f"/api/v1/appeals/{a['id']}/tasks")]
    permissions = f.api("GET", "/api/v1/permissions")
    f.api("POST", "/api/v1/roles", {"key": "fuzz-role", "name": "Fuzz", "permissions": permissions[:2]})
    f.api("POST", "/api/v1/users", {"login": "fuzz-victim", "password": "victim-Passw0rd", "fullName": "Жертва Фаззера",
                                    "roles": ["executor"], "units": ["roads"]})
    victim_token = f.api("POST", "/api/v1/tokens", {"login": "fuzz-victim", "name": "victim"})
    f.api("POST", "/api/v1/calendars", {"key": "fuzz-cal", "name": "Fuzz calendar"})
    calendars = [c["key"] for c in f.api("GET", "/api/v1/calendars")]
    f.api("POST", "/api/v1/calendars/fuzz-cal/days", {"date": f"{today.year}-05-05", "kind": "non-working", "holiday": "Fuzz day"})
    jobs = [j["id"] for j in f.api("GET", "/api/v1/jobs")][:5]
    notifications = [n["id"] for n in f.api("GET", "/api/v1/notifications?user=*")["items"]][:5]
    assert all(a["questions"] for a in appeals)
    return {
        "appeal": [a["id"] for a in appeals],
        "trackingCode": [a["trackingCode"] for a in appeals],
        "question": [a["questions"][0]["id"] for a in appeals],
        "applicant": [anna["id"], anya["id"], org["id"]],
        "attachment": [attachment["id"]],
        "task": tasks,
        "promise": [promise["id"]],
        "token": [victim_token["id"]],
        "job": jobs,
        "notification": notifications,
        "unit": ["roads", "district-1"],
        "topic": [LIGHTING_TOPIC, "0003.0009", "0005.0005.0056.1154"],
        "role": ["fuzz-role"],
        "login": ["fuzz-victim"],
        "calendar": calendars,
        "date": [f"{today.year}-05-05"],
    }


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def fuzzed(request):
    data, env = server_environment(request.param, prefix="ombud-fuzz-")
    env["OMBUD_TRUST_FORWARDED_FOR"] = "1"  # each portal request comes from its own address: no 429 from the rate limit
    server = Ombud(env)
    f = Fuzzed(server, data)
    failures_before = request.session.testsfailed
    try:
        server.cli("migrate")
        server.cli("topics", "import", str(SHARED / "ru-appeals-classifier"))
        server.cli("open311", "services", "add", "lighting", "--topic", LIGHTING_TOPIC, "--name", "Уличное освещение")
        server.cli("users", "add", "e2e", "--role", "administrator", stdin="e2e-password\n")
        server.token = server.cli("tokens", "create", "e2e").split()[-1]
        f.auth = {"Authorization": f"Bearer {server.token}"}
        f.open311_key = server.cli("open311", "keys", "create", "fuzz app").split()[-1]
        server.start()
        f.seeds = seed(f)
        f.sign_in()
        yield f
    finally:
        server.kill()
        if f.crashes or request.session.testsfailed > failures_before:
            kept = data.rstrip("/") + ".log"
            if os.path.exists(server.log_path):
                shutil.copyfile(server.log_path, kept)
                print(f"the whole log of ombud serve ({request.param}): {kept}")
        shutil.rmtree(data, ignore_errors=True)


# --- 1. schemathesis over the whole OpenAPI document ---------------------------------------------------------------

def seeded_values(path, name, seeds):
    """The seeded values a path parameter may take on this path (none for one that names nothing seeded)."""
    if name == "id":
        kind = ("appeal" if path.startswith("/api/v1/appeals/") else "applicant" if path.startswith("/api/v1/applicants/")
                else "token" if path.startswith("/api/v1/tokens/") else "job" if path.startswith("/api/v1/jobs/") else None)
    elif name == "code":
        kind = ("trackingCode" if "/by-code/" in path else "topic" if path.startswith("/api/v1/topics/")
                else "unit" if path.startswith("/api/v1/org-units/") else None)
    elif name == "key":
        kind = "role" if path.startswith("/api/v1/roles/") else "calendar" if path.startswith("/api/v1/calendars/") else None
    else:
        kind = {"questionID": "question", "attachmentID": "attachment", "taskId": "task", "promiseId": "promise",
                "notificationId": "notification", "login": "login", "date": "date"}.get(name)
    return seeds.get(kind) or [] if kind else []


def normalised(text):
    """A log line or reason with ids, numbers and quoted values taken out, so that one fault reads the same each time."""
    text = re.sub(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}", "<uuid>", text)
    text = re.sub(r"\"[^\"]*\"|'[^']*'", "<value>", text)
    return re.sub(r"\d+", "<n>", text)[:300]


class Findings:
    """Every distinct problem schemathesis finds on one server: the first two requests of each, with the answer and
    the server's log lines of the request. Fuzzing goes on after a finding, so one run shows all of them."""

    def __init__(self):
        self.items = {}
        self.statuses = collections.Counter()

    def add(self, operation, kind, detail, request, status, answer, log):
        entry = self.items.setdefault((operation, kind, detail), {"count": 0, "examples": []})
        entry["count"] += 1
        if len(entry["examples"]) < 2:
            entry["examples"].append({"request": request, "status": status, "answer": answer[:1500], "log": log[-3000:]})

    def report(self):
        lines = []
        for (operation, kind, detail), entry in sorted(self.items.items()):
            lines.append(f"* {operation}: {kind}: {detail} ({entry['count']}×)")
            for ex in entry["examples"]:
                lines.append(f"    {ex['request']}\n    -> {ex['status']} {ex['answer'][:400]}")
                if ex["log"].strip():
                    lines.append("    log: " + ex["log"].strip()[-600:].replace("\n", "\n         "))
        return "\n".join(lines)

    def save(self, path, database):
        with open(path, "a", encoding="utf-8") as out:
            for (operation, kind, detail), entry in sorted(self.items.items()):
                out.write(json.dumps({"database": database, "operation": operation, "kind": kind, "detail": detail, **entry},
                                     ensure_ascii=False) + "\n")
            statuses = collections.defaultdict(dict)
            for (operation, status), n in sorted(self.statuses.items()):
                statuses[operation][status] = n
            out.write(json.dumps({"database": database, "statuses": statuses}) + "\n")


def describe(failure, status, log):
    """The kind of a schemathesis failure and what makes it distinct from others of its kind on the same operation."""
    kind = f"{failure.code} {failure.title}"
    if isinstance(failure, ServerError):
        errors = [line for line in log.splitlines() if "ERROR" in line or "rror:" in line or "atal" in line]
        return kind, f"{status} " + (normalised(errors[-1]) if errors else "(nothing in the log)")
    if isinstance(failure, JsonSchemaError):
        at = "/".join(str(p) for p in failure.instance_path if not isinstance(p, int))
        rule = "/".join(str(p) for p in failure.schema_path if not isinstance(p, int))
        return kind, f"{status} at /{at} ({rule}): {shortened(repr(failure.instance), 80)} {normalised(str(failure._raw_message))[:120]}"
    key = failure._unique_key
    return kind, str(status) if key in ("", str(status)) else f"{status} {key}"


@pytest.fixture
def api_schema(fuzzed):
    fuzzed.ensure_running()
    config = schemathesis.Config.from_dict({
        "request-timeout": REQUEST_TIMEOUT,
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "no-shrink": True, "database": "none",
                       "allow-x00": True},
    })
    return schemathesis.openapi.from_url(f"{fuzzed.base}/api/openapi.yaml", config=config, timeout=REQUEST_TIMEOUT)


schema = schemathesis.pytest.from_fixture("api_schema")


def aim_at_seeded_things(case, fuzzed):
    """Three cases in four of an operation with path parameters name seeded things (in turn), so that the body and
    query get past the 404 — in every phase, the coverage phase included; the fourth keeps what was generated."""
    path = case.operation.path
    seeded = {name: seeded_values(path, name, fuzzed.seeds) for name in (case.path_parameters or {})}
    if not any(seeded.values()):
        return
    n = fuzzed.aimed[path]
    fuzzed.aimed[path] += 1
    if n % 4 == 3:
        return
    case.path_parameters = {name: values[n // 4 % len(values)] if values else case.path_parameters[name]
                            for name, values in seeded.items()}


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
def every_case(case, fuzzed):
    """One generated request: its answer checked, every problem recorded (none raised, so fuzzing goes on)."""
    fuzzed.ensure_running()
    findings = fuzzed.findings
    aim_at_seeded_things(case, fuzzed)
    what = case.as_curl_command(headers={"Authorization": "Bearer $TOKEN"})
    mark = fuzzed.log_size()
    try:
        response = case.call(headers=fuzzed.auth, timeout=REQUEST_TIMEOUT)
    except requests.RequestException as error:
        time.sleep(0.5)
        alive = fuzzed.server.alive()
        log = fuzzed.log_since(mark)
        last = ([line for line in log.splitlines() if line.strip()] or ["(empty log)"])[-1]
        findings.add(case.operation.label, "no answer" if alive else "crash", normalised(str(error) if alive else last)[:160],
                     what, None, "", log)
        fuzzed.ensure_running()
        return
    findings.statuses[(case.operation.label, response.status_code)] += 1
    if not fuzzed.server.alive():
        log = fuzzed.log_since(mark)
        last = ([line for line in log.splitlines() if line.strip()] or ["(empty log)"])[-1]
        findings.add(case.operation.label, "crash after answering", normalised(last)[:160], what, response.status_code,
                     response.text, log)
        fuzzed.ensure_running()
        return
    try:
        case.validate_response(response, checks=CHECKS)
    except FailureGroup as group:
        log = fuzzed.log_since(mark)
        for failure in group.exceptions:
            kind, detail = describe(failure, response.status_code, log)
            findings.add(case.operation.label, kind, detail, what, response.status_code, response.text, log)


def test_every_operation_of_the_openapi_document(request, fuzzed):
    """Schemathesis over every operation (a subtest each); then the server is up, the test's own token still works,
    and no problem was found — all of them listed, each with a request that shows it."""
    fuzzed.findings = Findings()
    # The schemathesis-parametrized function is called from this plain test so that the checks below run after every
    # operation has been fuzzed (schemathesis has no "after all operations" hook of its own).
    every_case(request=request, fuzzed=fuzzed)
    if os.environ.get("OMBUD_FUZZ_FINDINGS"):
        fuzzed.findings.save(os.environ["OMBUD_FUZZ_FINDINGS"], request.node.callspec.params["fuzzed"])
    assert fuzzed.server.alive()
    me = fuzzed.api("GET", "/api/v1/me")
    assert me["login"] == "e2e" and "administrator" in me["roles"]
    if fuzzed.findings.items:
        pytest.fail(f"{len(fuzzed.findings.items)} distinct problems:\n" + fuzzed.findings.report(), pytrace=False)


# --- 2. hand-written properties: hostile values in each field ------------------------------------------------------

MISSING = object()
HOSTILE_TEXT = ["", " ", " \t\n\u00a0\u3000", "\u0000", "a\u0000b", "x", "x" * 100_000, "я" * 100_000,
                "\u202e\u0644\ufeff", "\ud83d\udca9" * 3, "'; DROP TABLE appeals; --", "%00", "{{name}}", "../../etc/passwd"]
HOSTILE_JSON = HOSTILE_TEXT + [0, -1, 1.5, 10 ** 20, True, False, None, [], {}, [""], ["\u0000"], {"a": "b"}, MISSING]
hostile_text = st.sampled_from(HOSTILE_TEXT)
hostile_json = st.sampled_from(HOSTILE_JSON)
PROPERTY_SETTINGS = settings(max_examples=PROPERTY_EXAMPLES, derandomize=True, database=None, deadline=None,
                             phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))


def mutated(base, changes):
    body = dict(base)
    for key, value in changes.items():
        if value is MISSING:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def changes_of(fields, values):
    return st.dictionaries(st.sampled_from(fields), values, min_size=1, max_size=2)


def assert_no_server_error(res, what, changes):
    shown = {k: shortened(repr(v), 80) if v is not MISSING else "(left out)" for k, v in changes.items()}
    assert res.status_code < 500, f"{res.status_code} with {shown} on:\n{what}\n-> {res.text[:500]}"


APPEAL = {"channel": "phone", "text": "Не горит фонарь во дворе", "kind": "statement", "form": "oral", "urgency": "follow-up",
          "replyChannel": "e-mail", "receivedAt": "2025-03-14T09:30:00Z",
          "applicant": {"surname": "Петрова", "name": "Анна", "phone": "+7 921 000 0002", "email": "anna2@example.org"},
          "coApplicants": [{"surname": "Иванов", "name": "Иван"}], "isCollective": True,
          "questions": [{"topicCode": LIGHTING_TOPIC, "text": "Фонарь", "executorUnitCode": "roads"}],
          "address": {"text": "Невский пр., 1", "lat": 59.9, "lon": 30.3, "district": "Центральный"},
          "officeCode": "district-1", "complainedUnitCode": None, "isDeputyInquiry": False, "repeatOf": None, "register": True}
NESTED = {"applicant.surname", "applicant.phone", "applicant.email", "questions[0].topicCode", "questions[0].text",
          "address.text", "address.lat", "address.district"}


def with_nested(base, changes):
    """`changes` with keys like `applicant.surname` or `questions[0].text` applied inside copies of the nested parts
    (a nested change is dropped when the same example replaced its container with something that is not one)."""
    body = json.loads(json.dumps(base))
    for key, value in sorted(changes.items(), key=lambda kv: "." in kv[0]):
        target, name = body, key
        if "." in key:
            head, name = key.split(".", 1)
            target = body.get(head[:-3]) if head.endswith("[0]") else body.get(head)
            if head.endswith("[0]"):
                target = target[0] if isinstance(target, list) and target else None
            if not isinstance(target, dict):
                continue
        if value is MISSING:
            target.pop(name, None)
        else:
            target[name] = value
    return body


@PROPERTY_SETTINGS
@given(changes=changes_of(sorted(set(APPEAL) | NESTED), hostile_json))
@example(changes={"text": "\u0000"})
@example(changes={"text": "a\u0000b"})
@example(changes={"applicant.surname": "\u0000"})
@example(changes={"text": " "})
def test_create_appeal_with_hostile_fields(fuzzed, changes):
    res, what = fuzzed.send("POST", "/api/v1/appeals", json_body=with_nested(APPEAL, changes))
    assert_no_server_error(res, what, changes)


TRANSITION = {"to": "redirected", "unitCode": "roads", "comment": "Передано", "reason": "Не наша компетенция",
              "article11Ground": "anonymous", "duplicateOf": None}


@PROPERTY_SETTINGS
@given(changes=changes_of(sorted(TRANSITION), hostile_json),
       target=st.sampled_from(["registered", "assigned", "merged", "left-without-answer", "returned", "withdrawn", "closed"]))
@example(changes={"to": "x", "unitCode": " "}, target="registered")
@example(changes={"unitCode": " "}, target="registered")
@example(changes={"unitCode": "\u0000"}, target="registered")
@example(changes={"reason": "\u0000"}, target="returned")
@example(changes={"duplicateOf": " "}, target="merged")
def test_transition_with_hostile_fields(fuzzed, changes, target):
    appeal = fuzzed.api("POST", "/api/v1/appeals", {"channel": "web", "text": "Яма на дороге", "register": True,
                                                   "questions": [{"topicCode": LIGHTING_TOPIC}]})
    body = mutated({**TRANSITION, "to": target}, changes)
    if body.get("duplicateOf") is None and body.get("to") == "merged":
        body["duplicateOf"] = fuzzed.seeds["trackingCode"][0]
    res, what = fuzzed.send("POST", f"/api/v1/appeals/{appeal['id']}/transitions", json_body=body)
    assert_no_server_error(res, what, changes)


APPLICANT = {"kind": "person", "surname": "Смирнова", "name": "Ольга", "patronymic": "Петровна", "organisationName": None,
             "phone": "+7 921 111 2233", "phones": ["+7 921 111 2233"], "email": "olga@example.org", "emails": ["olga@example.org"],
             "postalAddress": "Санкт-Петербург, ул. Садовая, 5", "socialStatus": "пенсионер", "territory": "Центральный",
             "audience": "жители", "socialLinks": ["https://vk.com/olga"], "contactSource": "phone"}


@PROPERTY_SETTINGS
@given(changes=changes_of(sorted(APPLICANT), hostile_json))
@example(changes={"surname": "\u0000"})
@example(changes={"phones": ["\u0000"]})
@example(changes={"surname": " ", "name": " "})
def test_update_applicant_with_hostile_fields(fuzzed, changes):
    applicant = fuzzed.api("POST", "/api/v1/applicants", {"surname": "Смирнова", "name": "Ольга"})["applicant"]
    res, what = fuzzed.send("PATCH", f"/api/v1/applicants/{applicant['id']}", json_body=mutated(APPLICANT, changes))
    assert_no_server_error(res, what, changes)


LIST_QUERY = {"q": "фонарь", "status": "registered", "channel": "phone", "office": "district-1", "executor": "roads",
              "topic": "0003.0009", "overdue": "false", "receivedFrom": "2020-01-01", "receivedTo": "2030-01-01",
              "limit": "10", "cursor": None}
HOSTILE_QUERY = HOSTILE_TEXT + ["abc", "-1", "0", "1e999", "99999999999999999999", "2025-02-30", "\u0000\u0000", MISSING]


def query_string(base, changes):
    params = {k: v for k, v in mutated(base, changes).items() if v is not None}
    return urllib.parse.urlencode(params, doseq=True, errors="surrogatepass")


# A request head over NIO's limit (about 80 KB) is dropped without an answer, before Ombud sees it: no worse than a 414.
HEAD_LIMIT = 80_000


def get_page(fuzzed, path, browser=False):
    if len(path) <= HEAD_LIMIT:
        return fuzzed.send("GET", path, browser=browser)
    try:
        return fuzzed.send("GET", path, browser=browser)
    except ServerDied:
        raise
    except AssertionError as error:
        assert "no answer" in str(error) and fuzzed.server.alive(), error
        return None, None


@PROPERTY_SETTINGS
@given(changes=changes_of(sorted(LIST_QUERY), st.sampled_from(HOSTILE_QUERY)))
@example(changes={"q": "\u0000"})
@example(changes={"q": " "})
@example(changes={"cursor": "\u0000"})
def test_list_appeals_with_hostile_query(fuzzed, changes):
    res, what = get_page(fuzzed, "/api/v1/appeals?" + query_string(LIST_QUERY, changes))
    if res is not None:
        assert_no_server_error(res, what, changes)


@PROPERTY_SETTINGS
@given(q=st.sampled_from(HOSTILE_QUERY), extra=st.sampled_from(["", "&q=второй", "&q[]=x", "&q[a]=x", "&page=-1", "&page=abc"]))
@example(q="\u0000", extra="")
def test_search_page_with_hostile_query(fuzzed, q, extra):
    query = urllib.parse.urlencode({"q": q}, errors="surrogatepass") if q is not MISSING else ""
    res, what = get_page(fuzzed, "/search?" + query + extra, browser=True)
    if res is not None:
        assert not res.headers.get("Location", "").startswith("/login"), "the session ended"
        assert_no_server_error(res, what, {"q": q, "extra": extra})


PORTAL = {"surname": "Кузнецов", "name": "Пётр", "patronymic": "Ильич", "email": "petr@example.org", "phone": "+7 921 555 0101",
          "postalAddress": "Санкт-Петербург, ул. Гороховая, 2", "consent": "on", "kind": "statement", "service": "lighting",
          "text": "Не горит фонарь у подъезда", "address": "ул. Гороховая, 2", "district": None, "lat": "59.93", "lon": "30.31",
          "listed": "on", "website": None}
HOSTILE_FORM = HOSTILE_TEXT + [["a", "b"], MISSING, "[]", "{}", "1e999", "nan", "inf", "-0"]


def form_body(base, changes):
    """URL-encoded form; a list value repeats the key, and a `key[]`/`key[a]` variant is added for it too."""
    pairs = []
    for key, value in mutated(base, changes).items():
        if value is None:
            continue
        if isinstance(value, list):
            pairs += [(key, v) for v in value] + [(key + "[]", value[0]), (key + "[a]", value[-1])]
        else:
            pairs.append((key, value))
    return urllib.parse.urlencode(pairs, errors="surrogatepass")


@PROPERTY_SETTINGS
@given(changes=changes_of(sorted(PORTAL), st.sampled_from(HOSTILE_FORM)))
@example(changes={"text": "\u0000"})
@example(changes={"surname": "\u0000"})
@example(changes={"lat": "nan", "lon": "nan"})
@example(changes={"surname": ["a", "b"]})
def test_portal_form_with_hostile_fields(fuzzed, changes):
    address = next(fuzzed.addresses)
    headers = {"X-Forwarded-For": f"10.{address >> 16 & 255}.{address >> 8 & 255}.{address & 255}"}
    res, what = fuzzed.send("POST", "/portal/new", headers=headers, data=form_body(PORTAL, changes), auth=False)
    assert_no_server_error(res, what, changes)
    if res.status_code == 303:  # the citizen's status page shows what was sent
        res, what = fuzzed.send("GET", res.headers["Location"], headers=headers, auth=False)
        assert_no_server_error(res, what, changes)


OPEN311 = {"service_code": "lighting", "lat": "59.9386", "long": "30.3141", "address_string": "Невский пр., 1",
           "address_id": "A-1", "description": "Не горит фонарь", "email": "reporter@example.org", "first_name": "Мария",
           "last_name": "Волкова", "phone": "+7 921 000 7777", "device_id": "dev-1", "account_id": "acc-1",
           "media_url": "https://example.org/photo.jpg", "attribute[kind]": None, "jurisdiction_id": None}


@PROPERTY_SETTINGS
@given(changes=changes_of(sorted(OPEN311), st.sampled_from(HOSTILE_FORM)))
@example(changes={"service_code": "\u0000"})
@example(changes={"description": "\u0000"})
@example(changes={"last_name": "\u0000"})
@example(changes={"lat": "nan", "long": "nan"})
def test_open311_post_request_with_hostile_fields(fuzzed, changes):
    body = form_body({**OPEN311, "api_key": fuzzed.open311_key}, changes)
    res, what = fuzzed.send("POST", "/open311/v2/requests.json", data=body, auth=False)
    assert_no_server_error(res, what, changes)


CALENDAR_XML = ('<?xml version="1.0" encoding="UTF-8"?><calendar year="{year}" lang="ru"><holidays>'
                '<holiday id="1" title="{title}"/></holidays><days><day d="01.01" t="1" h="1"/></days></calendar>')


@PROPERTY_SETTINGS
@given(title=hostile_text, year=st.sampled_from(["2031", "0", "99999", "", "x"]), solar=st.booleans())
@example(title="a\u0000b", year="2031", solar=False)
@example(title="a\u0000b", year="2031", solar=True)
def test_calendar_import_with_hostile_holiday_names(fuzzed, title, year, solar):
    """A year file is a raw body (XML, or holiday lines for a Solar Hijri calendar) that no JSON or form decoder sees."""
    if solar:
        fuzzed.api("POST", "/api/v1/calendars", {"key": "fuzz-jalali", "name": "Jalali", "system": "solar-hijri"}, expect=(201, 409))
        path, ctype, body = "/api/v1/calendars/fuzz-jalali/years", "text/csv", f"1404-01-0{len(year) % 9 + 1},{title}\n"
    else:
        path, ctype, body = "/api/v1/calendars/fuzz-cal/years", "application/xml", CALENDAR_XML.format(year=year, title=title)
    res, what = fuzzed.send("POST", path, headers={"Content-Type": ctype}, data=body.encode("utf-8", "surrogatepass"))
    assert_no_server_error(res, what, {"title": title, "year": year})
