"""Nothing acknowledged to a client may be lost when the process is killed with SIGKILL right after the response."""
import concurrent.futures


def test_acknowledged_appeals_survive_sigkill(ombud):
    # setup
    ombud.start()

    def create(i):
        return ombud.request("POST", "/api/v1/appeals", {
            "channel": "hotline", "text": f"Обращение номер {i}: не вывезен мусор", "register": True,
            "applicant": {"surname": "Петрова", "name": f"Анна{i}", "phone": f"+7 921 000 {i:04d}"},
        })

    # act: concurrent clients; SIGKILL immediately after the last acknowledgement
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(create, range(120)))
    ombud.kill()

    # check: every 201 is there after a restart, with its tracking code
    acknowledged = {body["id"]: body["trackingCode"] for status, body in results if status == 201}
    assert len(acknowledged) == 120
    assert len(set(acknowledged.values())) == 120
    ombud.start()
    for appeal_id, code in acknowledged.items():
        status, body = ombud.request("GET", f"/api/v1/appeals/{appeal_id}")
        assert status == 200, body
        assert body["trackingCode"] == code
        assert body["status"] == "registered"


def test_a_killed_server_never_reuses_a_tracking_code(ombud):
    ombud.start()
    status, first = ombud.request("POST", "/api/v1/appeals", {"channel": "web", "text": "первое"})
    assert status == 201
    ombud.kill()
    ombud.start()
    status, second = ombud.request("POST", "/api/v1/appeals", {"channel": "web", "text": "второе"})
    assert status == 201
    year, number = first["trackingCode"].split("-")
    assert second["trackingCode"] == f"{year}-{int(number) + 1:06d}"


def test_bad_input_gets_4xx_with_field_and_changes_nothing(ombud):
    ombud.start()
    status, body = ombud.request("POST", "/api/v1/appeals", {"channel": "web"})
    assert status == 400 and body["field"] == "text"
    status, body = ombud.request("POST", "/api/v1/appeals", {"channel": "web", "text": "x", "questions": [{"topicCode": "nope"}]})
    assert status == 422 and body["field"] == "questions[0].topicCode"
    status, page = ombud.request("GET", "/api/v1/appeals")
    assert status == 200 and page["items"] == []
