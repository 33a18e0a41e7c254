"""Statistics on the real binary: a synthetic Boston 311 export is imported with `ombud import csv`, and the figures of
/api/v1/stats are checked against a count made here, in Python, from the same file. The spreadsheets are read back
with openpyxl and converted by LibreOffice."""
import csv
import gzip
import io
import json
import math
import shutil
import statistics
import subprocess
import sys
import urllib.request
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from conftest import BIN, ROOT

sys.path.insert(0, str(ROOT / "bench" / "data"))
import boston311  # noqa: E402

MAPPING = ROOT / "bench" / "data" / "boston311.mapping.json"
SOURCE_ZONE = ZoneInfo("America/New_York")
OMBUD_ZONE = ZoneInfo("Europe/Moscow")  # the server's default OMBUD_TIMEZONE
ROWS = 1500
BAD = 5


def parse(text):
    return datetime.strptime(text, boston311.FMT).replace(tzinfo=SOURCE_ZONE) if text else None


def expected_appeals(path):
    """Each appeal as Ombud should hold it, computed independently from the CSV."""
    appeals = {}
    with gzip.open(path, "rt", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            try:
                received = parse(row["OPEN_DT"])
            except ValueError:
                continue
            closed = row["CASE_STATUS"] == "Closed"
            closed_at = parse(row["CLOSED_DT"]) if closed else None
            if closed and closed_at is None:
                continue
            target = parse(row["TARGET_DT"])
            appeals[row["CASE_ENQUIRY_ID"]] = {
                "received": received.astimezone(OMBUD_ZONE),
                "closed": closed_at.astimezone(OMBUD_ZONE) if closed_at else None,
                "control": target.date() if target else None,  # the source's local day
                "channel": {"Self Service": "web", "Citizens Connect App": "web", "Constituent Call": "phone",
                            "Twitter": "social"}.get(row["Source"], "other"),
                "district": row["neighborhood"],
                "type": row["TYPE"],
                "department": row["Department"],
            }
    return appeals


def overdue(a, today):
    if a["closed"] is None:
        # Open past the control date; without one, past the registration deadline (3 days under 59-FZ), as the list does.
        due = a["control"] or (a["received"].date() + timedelta(days=3))
        return due < today
    return a["control"] is not None and a["closed"].date() > a["control"]


def measures(group, today):
    closed = [a for a in group if a["closed"] is not None]
    days = sorted((a["closed"] - a["received"]).total_seconds() / 86400 for a in closed)
    on_time = [a for a in closed if not overdue(a, today)]
    out = {"count": len(group), "open": len(group) - len(closed), "closed": len(closed),
           "overdue": sum(1 for a in group if overdue(a, today)),
           "onTimeShare": round(len(on_time) / len(closed), 4) if closed else None}
    if days:
        # Linear interpolation between closest ranks, like the server (and numpy's default).
        def pct(p):
            rank = p * (len(days) - 1)
            low = math.floor(rank)
            high = min(low + 1, len(days) - 1)
            return days[low] + (days[high] - days[low]) * (rank - low)
        out["medianDaysToClose"] = round(pct(0.5), 2)
        out["p90DaysToClose"] = round(pct(0.9), 2)
    else:
        out["medianDaysToClose"] = out["p90DaysToClose"] = None
    return out


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    path = tmp_path_factory.mktemp("boston") / "boston311.csv.gz"
    with gzip.open(path, "wt", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(boston311.HEADER)
        writer.writerows(boston311.rows(ROWS, BAD))
    return path


def get(server, path, raw=False):
    req = urllib.request.Request(f"http://127.0.0.1:{server.port}{path}", headers={"Authorization": f"Bearer {server.token}"})
    try:
        with urllib.request.urlopen(req, timeout=60) as res:
            body = res.read()
            return res.status, (body if raw else json.loads(body)), res.headers
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null"), e.headers


def test_import_then_statistics_match_an_independent_count(ombud, export):
    out = subprocess.run([BIN, "import", "csv", str(export), "--mapping", str(MAPPING)], env=ombud.env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    expected = expected_appeals(export)
    assert f"Imported {len(expected)} appeals from {ROWS} rows" in out.stdout
    rejects = Path(str(export)[:-3] + ".rejects.csv")
    lines = rejects.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 + (ROWS - len(expected)) and all("," in line for line in lines)
    # A second run adds nothing, and says so.
    again = subprocess.run([BIN, "import", "csv", str(export), "--mapping", str(MAPPING)], env=ombud.env,
                           capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and f"Imported 0 appeals" in again.stdout and f"{len(expected)} were already imported" in again.stdout

    ombud.start()
    today = datetime.now(OMBUD_ZONE).date()
    appeals = list(expected.values())
    wanted = "count,open,closed,overdue,onTimeShare,medianDaysToClose,p90DaysToClose"

    status, table, _ = get(ombud, f"/api/v1/stats?groupBy=channel&measures={wanted}&lang=en")
    assert status == 200, table
    assert table["total"]["measures"] == measures(appeals, today)
    by_channel = {}
    for a in appeals:
        by_channel.setdefault(a["channel"], []).append(a)
    assert {r["dimensions"]["channel"]["code"]: r["measures"] for r in table["rows"]} == \
        {k: measures(v, today) for k, v in by_channel.items()}
    counts = [r["measures"]["count"] for r in table["rows"]]
    assert counts == sorted(counts, reverse=True)
    names = {r["dimensions"]["channel"]["code"]: r["dimensions"]["channel"]["name"] for r in table["rows"]}
    assert names["phone"] == "Phone" and all(names.values())

    # Two dimensions: the department (an org unit made by the import) by month of receipt in the server's time zone.
    status, table, _ = get(ombud, "/api/v1/stats?groupBy=executor,month&measures=count,overdue")
    assert status == 200, table
    groups = {}
    for a in appeals:
        groups.setdefault((a["department"], a["received"].strftime("%Y-%m")), []).append(a)
    got = {(r["dimensions"]["executor"]["name"], r["dimensions"]["month"]["code"]): r["measures"] for r in table["rows"]}
    assert got == {k: {"count": len(v), "overdue": sum(1 for a in v if overdue(a, today))} for k, v in groups.items()}
    assert all(r["dimensions"]["month"]["name"] for r in table["rows"])

    # Filters of the list apply, and a period.
    status, table, _ = get(ombud, "/api/v1/stats?groupBy=district&channel=phone&from=2016-01-01&to=2016-12-31")
    chosen = [a for a in appeals if a["channel"] == "phone" and date(2016, 1, 1) <= a["received"].date() <= date(2016, 12, 31)]
    assert table["total"]["measures"]["count"] == len(chosen)
    by_district = {}
    for a in chosen:
        by_district[a["district"]] = by_district.get(a["district"], 0) + 1
    assert {r["dimensions"]["district"]["code"]: r["measures"]["count"] for r in table["rows"]} == by_district

    # The grid: counts per cell add up to the appeals inside the box.
    status, grid, _ = get(ombud, "/api/v1/stats/grid?bbox=-71.2,42.2,-70.9,42.45&cell=2000")
    assert status == 200, grid
    assert sum(c["count"] for c in grid["cells"]) == len(appeals)
    assert all(-71.2 <= c["lon"] <= -70.9 and 42.2 <= c["lat"] <= 42.45 for c in grid["cells"])

    # Bad input names the field.
    for query, field in [("groupBy=colour", "groupBy"), ("measures=speed", "measures"), ("from=2016-13-01", "from")]:
        status, body, _ = get(ombud, f"/api/v1/stats?{query}")
        assert status == 422 and body["field"] == field, (query, body)

    # The appeals list downloads whole (past its 200-row pages) with its filters: the phone appeals of 2016.
    phone = [a for a in appeals if a["channel"] == "phone"]
    status, text, headers = get(ombud, "/api/v1/appeals?channel=phone&format=csv&lang=en", raw=True)
    assert status == 200 and headers["Content-Type"].startswith("text/csv") and text.startswith(b"\xef\xbb\xbf")
    listed = list(csv.DictReader(io.StringIO(text[3:].decode("utf-8"))))
    assert len(listed) == len(phone) > 200
    assert sorted(r["Received"] for r in listed) == sorted(a["received"].strftime("%Y-%m-%d %H:%M:%S") for a in phone)
    # The list marks open appeals past their deadline (a closed one is late, not overdue).
    assert sum(r["Overdue"] == "yes" for r in listed) == sum(a["closed"] is None and overdue(a, today) for a in phone)
    assert {r["Channel"] for r in listed} == {"Phone"}

    # The spreadsheet carries the same table: openpyxl reads numbers as numbers; LibreOffice converts it.
    openpyxl = pytest.importorskip("openpyxl")
    status, data, headers = get(ombud, f"/api/v1/stats?groupBy=channel&measures={wanted}&format=xlsx&lang=ru", raw=True)
    assert status == 200 and headers["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("Канал (код)", "Канал", "Обращений")
    body = {r[0]: r[2:] for r in rows[1:-1]}
    for code, group in by_channel.items():
        m = measures(group, today)
        assert body[code][0] == m["count"] and isinstance(body[code][0], (int, float))
    assert rows[-1][1] == "Итого" and rows[-1][2] == len(appeals)
    # The list's workbook: dates are dates, read back as such.
    status, data_list, _ = get(ombud, "/api/v1/appeals?channel=phone&format=xlsx", raw=True)
    listed_sheet = list(openpyxl.load_workbook(io.BytesIO(data_list)).active.iter_rows(values_only=True))
    assert len(listed_sheet) == len(phone) + 1 and all(isinstance(r[1], datetime) for r in listed_sheet[1:])
    status, text, _ = get(ombud, f"/api/v1/stats?groupBy=channel&format=csv&lang=en", raw=True)
    assert status == 200 and text.startswith(b"\xef\xbb\xbf") and b"Channel (code),Channel,Appeals" in text
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice:
        folder = Path(ombud.env["OMBUD_DATA_DIR"]) / "converted"
        folder.mkdir()
        xlsx = folder / "stats.xlsx"
        xlsx.write_bytes(data)
        done = subprocess.run([soffice, "--headless", "--convert-to", "csv", "--outdir", str(folder), str(xlsx)],
                              capture_output=True, text=True, timeout=180,
                              env={**ombud.env, "HOME": str(folder)})
        assert done.returncode == 0, done.stdout + done.stderr
        converted = list(csv.reader(io.StringIO((folder / "stats.csv").read_text(encoding="utf-8", errors="replace"))))
        assert converted[-1][2] == str(len(appeals))
    elif "CI" in __import__("os").environ:
        pytest.fail("LibreOffice is not installed")
