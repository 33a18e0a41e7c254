import Foundation
import OmbudDomain
import Testing

@Suite struct GeoReportTests {
    let now = W3CDateTime.parse("2026-11-22T12:00:00Z")!

    @Test func dateTimesNeedAZoneAndReadSecondsAndOffsets() {
        #expect(W3CDateTime.parse("1994-11-05T08:15:30-05:00") == W3CDateTime.parse("1994-11-05T13:15:30Z"))
        #expect(W3CDateTime.parse("2026-01-31T09:00+03:00") == W3CDateTime.parse("2026-01-31T06:00:00Z"))
        #expect(W3CDateTime.parse("2026-01-31T09:00:00.250Z")!.timeIntervalSince(W3CDateTime.parse("2026-01-31T09:00:00Z")!) == 0.25)
        for bad in ["2026-01-31", "2026-01-31T09:00:00", "2026-02-30T09:00:00Z", "2026-13-01T00:00:00Z", "yesterday", "2026-01-31T09:00:00+3"] {
            #expect(W3CDateTime.parse(bad) == nil, "\(bad)")
        }
        let moscow = TimeZone(identifier: "Europe/Moscow")!
        #expect(W3CDateTime.string(now, zone: moscow) == "2026-11-22T15:00:00+03:00")
        #expect(W3CDateTime.string(now, zone: TimeZone(secondsFromGMT: 0)!) == "2026-11-22T12:00:00Z")
        #expect(W3CDateTime.parse(W3CDateTime.string(now, zone: TimeZone(identifier: "Asia/Tehran")!)) == now)
        #expect(W3CDateTime.string(W3CDateTime.parse("1969-12-31T23:59:59Z")!, zone: TimeZone(secondsFromGMT: -9000)!) == "1969-12-31T21:29:59-02:30")
        #expect(W3CDateTime.string(W3CDateTime.parse("2026-03-20T20:30:00Z")!, zone: TimeZone(identifier: "Asia/Tehran")!) == "2026-03-21T00:00:00+03:30")
    }

    @Test func aRequestsQueryDefaultsToNinetyDaysAndRefusesMore() throws {
        let plain = try GeoRequestQuery.parse([:], now: now)
        #expect(plain.end == now && now.timeIntervalSince(plain.start) == 90 * 86_400)
        let span = try GeoRequestQuery.parse(["start_date": "2026-09-01T00:00:00Z", "end_date": "2026-11-01T00:00:00Z", "status": "open,CLOSED",
                                              "service_code": "a, b,"], now: now)
        #expect(span.statuses == [.open, .closed] && span.serviceCodes == ["a", "b"])
        #expect(throws: GeoReportError.self) { try GeoRequestQuery.parse(["start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"], now: now) }
        #expect(throws: GeoReportError.self) { try GeoRequestQuery.parse(["start_date": "2026-06-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"], now: now) }
        #expect(throws: GeoReportError.self) { try GeoRequestQuery.parse(["status": "pending"], now: now) }
        #expect(throws: GeoReportError.self) { try GeoRequestQuery.parse(["start_date": "2026-06-01"], now: now) }
        // Ids make the other filters moot, as the spec says: even a bad date is not looked at.
        let ids = try GeoRequestQuery.parse(["service_request_id": "2026-000001,2026-000002", "start_date": "x"], now: now)
        #expect(ids.ids == ["2026-000001", "2026-000002"])
    }

    @Test func aNewRequestNeedsAServiceALocationAndAShortPlainDescription() throws {
        let ok = try GeoNewRequest.parse([("service_code", "pothole"), ("lat", "59.93"), ("long", "30.31"), ("description", "<b>hole</b>"),
                                          ("attribute[depth]", "12"), ("attribute[kind][]", "a"), ("attribute[kind][]", "b"), ("email", "a@b.ru")])
        #expect(ok.lat == 59.93 && ok.lon == 30.31 && ok.description == "<b>hole</b>")
        #expect(ok.attributes == ["depth": ["12"], "kind": ["a", "b"]])
        #expect(try GeoNewRequest.parse([("service_code", "x"), ("address_id", "17")]).addressID == "17")
        func refusal(_ fields: [(String, String)]) -> String? {
            do { _ = try GeoNewRequest.parse(fields); return nil } catch { return error.description }
        }
        #expect(refusal([("lat", "1"), ("long", "2")]) == "service_code is required")
        #expect(refusal([("service_code", "x")])?.contains("location") == true)
        #expect(refusal([("service_code", "x"), ("lat", "91"), ("long", "2")])?.hasPrefix("lat") == true)
        #expect(refusal([("service_code", "x"), ("lat", "1")]) == "long is required")
        #expect(refusal([("service_code", "x"), ("address_string", "a"), ("description", String(repeating: "я", count: 4001))])?.hasPrefix("description") == true)
        #expect(refusal([("service_code", "x"), ("address_string", "a"), ("media_url", "javascript:alert(1)")])?.hasPrefix("media_url") == true)
        #expect(refusal([("service_code", "x"), ("address_string", "a"), ("email", "nobody")])?.hasPrefix("email") == true)
    }

    @Test func checklistsReadBackAndCheckTheAnswers() throws {
        let source = """
            # questions of the pothole topic
            depth | number | required | How deep is it, cm?
            where | singlevaluelist | optional | Where is it? | road=Roadway; walk=Pavement
            """
        let questions = try TopicChecklist.parse(source)
        #expect(questions.count == 2 && questions[1].values.map(\.key) == ["road", "walk"])
        #expect(try TopicChecklist.parse(TopicChecklist.source(questions)) == questions)
        #expect(try TopicChecklist.answer(questions, with: ["depth": ["12,5"], "where": ["walk"]]) == ["How deep is it, cm?: 12,5", "Where is it?: Pavement"])
        #expect(throws: GeoReportError.missing("attribute[depth]")) { try TopicChecklist.answer(questions, with: [:]) }
        #expect(throws: GeoReportError.self) { try TopicChecklist.answer(questions, with: ["depth": ["deep"]]) }
        #expect(throws: GeoReportError.self) { try TopicChecklist.answer(questions, with: ["depth": ["1"], "where": ["sky"]]) }
        #expect(throws: GeoReportError.self) { try TopicChecklist.answer(questions, with: ["depth": ["1"], "colour": ["red"]]) }
        #expect(throws: ValidationError.self) { try TopicChecklist.parse("x | number | required") }
        #expect(throws: ValidationError.self) { try TopicChecklist.parse("x | colour | required | Q") }
        #expect(throws: ValidationError.self) { try TopicChecklist.parse("x | singlevaluelist | required | Q") }
        #expect(throws: ValidationError.self) { try TopicChecklist.parse("x | text | optional | Q\nx | text | optional | R") }
    }

    @Test func aQuestionMayBeAskedOnSomeChannelsOnly() throws {
        let questions = try TopicChecklist.parse("""
            depth | number | required | How deep is it, cm?
            back | string | optional | When may we call back? | channels: phone, visit
            where | singlevaluelist | optional | Where is it? | road=Roadway; walk=Pavement | channels: web
            """)
        #expect(questions.map(\.channels) == [[], ["phone", "visit"], ["web"]] && questions[2].values.count == 2)
        #expect(try TopicChecklist.parse(TopicChecklist.source(questions)) == questions)
        #expect(questions.filter { $0.asked(on: "phone") }.map(\.code) == ["depth", "back"])
        #expect(GeoService(code: "pit", name: "Pit", description: nil, keywords: nil, group: nil, checklist: questions).attributes.map(\.code) == ["depth"])
        #expect(throws: ValidationError.self) { try TopicChecklist.parse("x | text | optional | Q | channels: pigeon") }
        #expect(throws: ValidationError.self) { try TopicChecklist.parse("x | text | optional | Q | channels:") }
        // A checklist kept before channels existed reads as asked everywhere.
        let old = try JSONDecoder().decode([ChecklistQuestion].self, from: Data(#"[{"code":"a","datatype":"text","required":true,"text":"Q","values":[]}]"#.utf8))
        #expect(old.first?.channels == [] && old.first?.asked(on: "sms") == true)
    }

    @Test func oneTreeWritesBothFormatsWithEverythingEscaped() {
        let node = GeoNode.list(item: "request", [.object([("service_request_id", .text("2026-000001")), ("description", .text("<b>\"a\" & 'b'</b>\n")),
                                                          ("lat", .double(59.5)), ("status_notes", .null), ("metadata", .bool(true))])])
        #expect(GeoFormat.json.render(node, root: "service_requests")
                == #"[{"service_request_id":"2026-000001","description":"\u003cb>\"a\" & 'b'\u003c/b>\n","lat":59.5,"status_notes":null,"metadata":true}]"#)
        #expect(GeoFormat.xml.render(node, root: "service_requests") == """
            <?xml version="1.0" encoding="utf-8"?>
            <service_requests><request><service_request_id>2026-000001</service_request_id><description>&lt;b&gt;&quot;a&quot; &amp; &apos;b&apos;&lt;/b&gt;
            </description><lat>59.5</lat><status_notes/><metadata>true</metadata></request></service_requests>
            """)
        #expect(GeoFormat.json.render(.text("a\u{1}\u{2028}b—ё"), root: "x") == #""a\u0001\u2028b—ё""#)
        #expect(GeoFormat.xml.render(.text("a\u{1}b\u{FFFE}—ё"), root: "x").hasSuffix("<x>ab—ё</x>"))
        #expect(GeoFormat.split("services.json")! == ("services", .json))
        #expect(GeoFormat.split("0001.0002.0003.xml")! == ("0001.0002.0003", .xml))
        #expect(GeoFormat.split("services") == nil && GeoFormat.split("services.html") == nil)
        #expect(GeoReportError(403, "api_key is required").node == .list(item: "error", [.object([("code", .int(403)), ("description", .text("api_key is required"))])]))
    }

    @Test func anOutsideAgencysUpdateNamesARequestAKnownStatusAndATime() throws {
        let ok = try GeoRequestUpdate.Posted.parse(["service_request_id": "2026-000001", "status": "fixed", "updated_datetime": "2026-11-20T10:00:00+03:00",
                                                    "description": "Patched", "update_id": "ext-1"])
        #expect(ok.status == "FIXED" && ok.externalID == "ext-1")
        #expect(GeoRequestUpdate.statuses[ok.status] == .closed)
        #expect(throws: GeoReportError.missing("status")) {
            try GeoRequestUpdate.Posted.parse(["service_request_id": "1", "updated_datetime": "2026-11-20T10:00:00Z", "description": "x"])
        }
        #expect(throws: GeoReportError.self) {
            try GeoRequestUpdate.Posted.parse(["service_request_id": "1", "status": "maybe", "updated_datetime": "2026-11-20T10:00:00Z", "description": "x"])
        }
    }
}
