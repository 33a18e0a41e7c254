"""Saved reports on the real binary: built and shared through the API, run within each reader's scope, and mailed
through a real SMTP server (aiosmtpd) as an XLSX attachment that openpyxl reads back with the same figures."""
import io

import pytest

openpyxl = pytest.importorskip("openpyxl")


def people(ombud):
    for code, name, kind in [("roads", "Дорожный отдел", "department"), ("parks", "Отдел парков", "department")]:
        status, body = ombud.request("POST", "/api/v1/org-units", {"code": code, "name": name, "kind": kind})
        assert status == 201, body
    for login, role, unit in [("chief", "supervisor", "roads"), ("parkchief", "supervisor", "parks")]:
        ombud.cli("users", "add", login, "--role", role, "--unit", unit, stdin=f"{login}-password\n")
        status, body = ombud.request("PATCH", f"/api/v1/users/{login}", {"email": f"{login}@example.org"})
        assert status == 200, body


def token(ombud, login):
    return ombud.cli("tokens", "create", login).split()[-1]


def test_a_shared_report_runs_in_each_readers_scope_and_is_mailed_as_xlsx(ombud, smtp_plain):
    ombud.env.update(smtp_plain.env("none"))
    ombud.start()
    people(ombud)
    for channel, office in [("phone", "roads"), ("phone", "roads"), ("e-mail", "roads"), ("phone", "parks")]:
        status, body = ombud.request("POST", "/api/v1/appeals", {"channel": channel, "text": "Яма на дороге у дома 5", "officeCode": office})
        assert status == 201, body
    chief = token(ombud, "chief")
    definition = {"name": "Каналы за месяц", "groupBy": "channel", "measures": "count,open", "filters": {}, "period": "30d",
                  "chart": "bar", "sharedWith": ["supervisor"], "schedule": {"every": "week", "recipients": ["chief", "parkchief"]}}

    # Bad input names the field.
    for change, field in [({"groupBy": "colour"}, "groupBy"), ({"period": "soon"}, "period"), ({"sharedWith": ["king"]}, "sharedWith"),
                          ({"schedule": {"every": "week", "recipients": ["nobody"]}}, "schedule.recipients")]:
        status, body = ombud.request("POST", "/api/v1/reports", {**definition, **change}, token=chief)
        assert status == 422 and body["field"] == field, (change, body)

    status, report = ombud.request("POST", "/api/v1/reports", definition, token=chief)
    assert status == 201, report
    assert report["definition"]["schedule"]["recipients"] == ["chief", "parkchief"] and report["nextRunAt"]

    # Each reader runs it within their own scope: the roads chief counts three, the parks chief one.
    status, run = ombud.request("GET", f"/api/v1/reports/{report['id']}/run", token=chief)
    assert status == 200, run
    assert run["table"]["total"]["measures"]["count"] == 3
    assert {r["dimensions"]["channel"]["code"]: r["measures"]["count"] for r in run["table"]["rows"]} == {"phone": 2, "e-mail": 1}
    parks = token(ombud, "parkchief")
    status, theirs = ombud.request("GET", f"/api/v1/reports/{report['id']}/run", token=parks)
    assert status == 200 and theirs["table"]["total"]["measures"]["count"] == 1
    # Only the owner changes or sends it.
    status, body = ombud.request("PUT", f"/api/v1/reports/{report['id']}", definition, token=parks)
    assert status == 403, body

    status, body = ombud.request("POST", f"/api/v1/reports/{report['id']}/send", {}, token=chief)
    assert status == 202 and body["queued"] == 2, body
    messages = {m["X-Sink-To"]: m for m in smtp_plain.wait_for(2)}
    assert set(messages) == {"chief@example.org", "parkchief@example.org"}
    for login, count in [("chief", 3), ("parkchief", 1)]:
        message = messages[f"{login}@example.org"]
        assert message["Subject"] == "Отчёт: Каналы за месяц"
        assert "Каналы за месяц" in message.get_body(preferencelist=("plain",)).get_content()
        [attachment] = list(message.iter_attachments())
        assert attachment.get_filename() == "Каналы_за_месяц.xlsx"
        assert attachment.get_content_type() == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        rows = list(openpyxl.load_workbook(io.BytesIO(attachment.get_content())).active.iter_rows(values_only=True))
        assert rows[0][:3] == ("Канал (код)", "Канал", "Обращений")
        assert rows[-1][1] == "Итого" and rows[-1][2] == count, rows

    status, body = ombud.request("DELETE", f"/api/v1/reports/{report['id']}", token=chief)
    assert status == 204
    status, body = ombud.request("GET", f"/api/v1/reports/{report['id']}", token=chief)
    assert status == 404
