"""Every Open311 GeoReport v2 answer of a real server, in both formats, checked against the published JSON Schemas
(../shared/open311/, draft 4) and the spec's rules: XML turned into the same shapes must equal the JSON."""
import json
import re
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from conftest import ROOT

SCHEMAS = ROOT.parent / "shared" / "open311"
CLASSIFIER = ROOT.parent / "shared" / "data" / "ru-appeals-classifier"
W3C = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")

formats = FormatChecker()


@formats.checks("date-time")
def w3c_date_time(value):
    return not isinstance(value, str) or bool(W3C.match(value))


@formats.checks("uri")
def uri_or_empty(value):
    return not isinstance(value, str) or value == "" or bool(urllib.parse.urlparse(value).scheme)


def schema(name):
    return json.loads((SCHEMAS / name).read_text())


REGISTRY = Registry().with_resources(
    [(name, Resource(contents=schema(name), specification=DRAFT4)) for name in
     ["services.json", "service.json", "service-definition.json", "requests.json", "request.json", "swagger.json"]])


def validate(instance, name, pointer=None):
    root = schema(name)
    target = root if pointer is None else {"$ref": f"{name}#{pointer}"}
    Draft4Validator(target, registry=REGISTRY, format_checker=formats).validate(instance)


def no_nulls(value):
    if isinstance(value, dict):
        return {k: no_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [no_nulls(v) for v in value]
    return value


LISTS = {"services", "service_requests", "attributes", "values", "errors", "endpoints", "formats", "service_request_updates"}
BOOLS = {"metadata", "variable", "required"}
NUMBERS = {"lat", "long"}


def from_xml(text):
    """The spec's Spark convention backwards: wrappers to lists, leaves to typed values, empty elements to null."""
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?>'), text[:80]

    def convert(element, parent=None):
        children = list(element)
        if element.tag in LISTS:
            return [convert(c, element.tag) for c in children]
        if children:
            return {c.tag: convert(c, element.tag) for c in children}
        text = element.text
        if text is None:
            return "" if element.tag == "media_url" else None
        if element.tag in BOOLS:
            assert text in ("true", "false"), text
            return text == "true"
        if element.tag in NUMBERS:
            return float(text)
        if element.tag == "order" or (element.tag == "code" and parent == "error"):
            return int(text)
        return text

    root = ET.fromstring(text.encode())
    return convert(root)


class Client:
    def __init__(self, server):
        self.base = f"http://127.0.0.1:{server.port}/open311/v2"

    def call(self, method, path, form=None):
        data = urllib.parse.urlencode(form, doseq=True).encode() if form is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/x-www-form-urlencoded"} if data else {})
        try:
            with urllib.request.urlopen(req, timeout=30) as res:
                return res.status, res.headers.get("Content-Type"), res.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Content-Type"), e.read().decode()

    def both(self, method, path, form=None, status=200):
        """The same call in JSON and XML: both with the status and type the spec asks, the same content."""
        results = []
        for fmt, ctype in (("json", "application/json; charset=utf-8"), ("xml", "text/xml; charset=utf-8")):
            got, got_type, body = self.call(method, path.replace("{fmt}", fmt), form)
            assert got == status, f"{method} {path} {fmt}: {got} {body}"
            assert got_type == ctype
            results.append(json.loads(body) if fmt == "json" else from_xml(body))
        return results


def errors_ok(value, code):
    assert isinstance(value, list) and value, value
    for error in value:
        assert set(error) == {"code", "description"} and error["code"] == code and isinstance(error["description"], str), error


@pytest.fixture
def geo(ombud):
    ombud.cli("topics", "import", str(CLASSIFIER / "classifier.csv"))
    ombud.cli("open311", "services", "add", "lighting", "--topic", "0003.0009.0097.0690", "--name", "Уличное освещение",
              "--group", "Благоустройство", "--checklist",
              "lamps | number | required | Сколько фонарей не горит?\nwhen | singlevaluelist | optional | Когда? | night=Ночью; always=Всегда")
    ombud.cli("open311", "services", "add", "roads", "--topic", "0003.0009.0099.0742")
    key = ombud.cli("open311", "keys", "create", "e2e app").split()[-1]
    ombud.start()
    return Client(ombud), key


def test_every_answer_follows_the_published_schemas_in_both_formats(geo, ombud):
    client, key = geo
    # discovery
    for discovery in client.both("GET", "/discovery.{fmt}"):
        assert discovery["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
        assert set(discovery["endpoints"][0]["formats"]) == {"text/xml", "application/json"}
        assert W3C.match(discovery["changeset"])
    # services and a definition
    services_json, services_xml = client.both("GET", "/services.{fmt}")
    assert services_json == services_xml and len(services_json) == 2
    validate(services_json, "services.json")
    for service in services_json:
        validate(no_nulls(service), "swagger.json", "/definitions/Service")
    definition_json, definition_xml = client.both("GET", "/services/lighting.{fmt}")
    assert definition_json == definition_xml
    validate(definition_json, "service-definition.json")
    assert [a["code"] for a in definition_json["attributes"]] == ["lamps", "when"]

    # post in both formats; each answer is a RequestResponse
    posted = []
    for fmt in ("json", "xml"):
        status, _, body = client.call("POST", f"/requests.{fmt}", {
            "api_key": key, "service_code": "lighting", "lat": "59.93412", "long": "30.30161", "attribute[lamps]": "2",
            "attribute[when]": "night", "description": "<script>alert('x')</script> Темно", "first_name": "Анна",
            "email": "anna@example.org", "media_url": "https://example.org/photo.jpg"})
        assert status == 201, body
        reply = json.loads(body) if fmt == "json" else from_xml(body)
        assert isinstance(reply, list) and len(reply) == 1
        validate(no_nulls(reply[0]), "swagger.json", "/definitions/RequestResponse")
        # Created at once: the id, and no token (the spec gives one only when there is no id yet).
        assert isinstance(reply[0]["service_request_id"], str) and "token" not in reply[0]
        posted.append(reply[0])
    status, _, body = client.call("POST", "/requests.json", {"api_key": key, "service_code": "roads", "address_string": "Невский пр., 1"})
    assert status == 201, body
    posted.append(json.loads(body)[0])


    # the list, one request by both paths, with filters
    listed_json, listed_xml = client.both("GET", "/requests.{fmt}")
    assert listed_json == listed_xml
    validate(listed_json, "requests.json")
    assert {r["service_request_id"] for r in listed_json} == {p["service_request_id"] for p in posted}
    first = posted[0]["service_request_id"]
    for path in (f"/requests/{first}.{{fmt}}", f"/request/{first}.{{fmt}}"):
        one_json, one_xml = client.both("GET", path)
        assert one_json == one_xml
        validate(one_json, "requests.json")
        request = one_json[0]
        assert request["status"] == "open" and request["service_code"] == "lighting"
        # HTML in the description is kept as text, exactly as sent.
        assert request["description"].startswith("<script>alert('x')</script> Темно")
        # The point reads back as the client sent it (it published it); the portal's own appeals show their cell's centre.
        assert request["lat"] == 59.93412 and request["long"] == 30.30161
    ids = ",".join(p["service_request_id"] for p in posted[:2])
    assert len(client.both("GET", f"/requests.{{fmt}}?service_request_id={ids}")[0]) == 2
    assert [r["service_code"] for r in client.both("GET", "/requests.{fmt}?service_code=roads")[0]] == ["roads"]
    assert client.both("GET", "/requests.{fmt}?status=closed")[0] == []

    # updates: an outside agency posts progress, and it reads back with ours
    for fmt in ("json", "xml"):
        status, _, body = client.call("POST", f"/servicerequestupdates.{fmt}", {
            "api_key": key, "service_request_id": first, "status": "IN_PROGRESS", "update_id": f"ext-{fmt}",
            "updated_datetime": "2026-11-20T10:00:00+03:00", "description": "Бригада выехала"})
        assert status == 201, body
    updates_json, updates_xml = client.both("GET", "/servicerequestupdates.{fmt}")
    assert updates_json == updates_xml and len(updates_json) == 2
    for update in updates_json:
        assert update["service_request_id"] == first and update["status"] == "IN_PROGRESS" and W3C.match(update["updated_datetime"])


def test_bad_requests_get_the_spec_error_format_in_both_formats(geo, ombud):
    client, key = geo
    place = {"lat": "59.9", "long": "30.3", "attribute[lamps]": "1"}
    cases = [
        ("POST", "/requests.{fmt}", {"service_code": "lighting", **place}, 403),
        ("POST", "/requests.{fmt}", {"api_key": "o311_wrong", "service_code": "lighting", **place}, 403),
        ("POST", "/requests.{fmt}", {"api_key": key, **place}, 400),
        ("POST", "/requests.{fmt}", {"api_key": key, "service_code": "nope", **place}, 400),
        ("POST", "/requests.{fmt}", {"api_key": key, "service_code": "lighting", "attribute[lamps]": "1"}, 400),
        ("POST", "/requests.{fmt}", {"api_key": key, "service_code": "lighting", "description": "я" * 4001, **place}, 400),
        ("POST", "/requests.{fmt}", {"api_key": key, "service_code": "lighting", "lat": "59.9", "long": "30.3"}, 400),
        ("GET", "/requests.{fmt}?start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z", None, 400),
        ("GET", "/requests.{fmt}?status=maybe", None, 400),
        ("GET", "/requests/2099-000001.{fmt}", None, 404),
        ("GET", "/request/2099-000001.{fmt}", None, 404),
        ("GET", "/services/nope.{fmt}", None, 404),
        ("GET", "/tokens/nope.{fmt}", None, 404),
        ("GET", "/nothing.{fmt}", None, 404),
        ("POST", "/nothing.{fmt}", {"api_key": key}, 404),
        ("POST", "/requests.{fmt}", {"api_key": key, "service_code": "lighting", "description": "x" * 70000, **place}, 413),
        ("POST", "/servicerequestupdates.{fmt}", {"api_key": key, "service_request_id": "2099-000001", "status": "OPEN",
                                                  "updated_datetime": "2026-11-20T10:00:00Z", "description": "x"}, 404),
    ]
    for method, path, form, status in cases:
        for value in client.both(method, path, form, status=status):
            errors_ok(value, status)
    # A revoked key stops at once; nothing refused was stored.
    assert client.both("GET", "/requests.{fmt}")[0] == []
    client_id = ombud.cli("open311", "keys", "list").split()[0]
    ombud.cli("open311", "keys", "revoke", client_id)
    for value in client.both("POST", "/requests.{fmt}", {"api_key": key, "service_code": "lighting", **place}, status=403):
        errors_ok(value, 403)
