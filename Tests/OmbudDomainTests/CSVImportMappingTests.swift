import Foundation
import OmbudDomain
import Testing

struct CSVImportMappingTests {
    /// Reads `text` through the stream in chunks of `size` bytes.
    func rows(_ text: String, chunk size: Int) throws -> [(line: Int, fields: [String])] {
        var bytes = Array(text.utf8)[...]
        var stream = CSVStream { () -> [UInt8]? in
            guard !bytes.isEmpty else { return nil }
            defer { bytes = bytes.dropFirst(size) }
            return Array(bytes.prefix(size))
        }
        var out: [(line: Int, fields: [String])] = []
        while let row = try stream.nextRow() { out.append(row) }
        return out
    }

    @Test func streamReadsTheSameRowsWhateverTheChunkSize() throws {
        let text = "\u{FEFF}id,text,n\r\n1,\"multi\r\nline, \"\"quoted\"\"\",2\n\n2,plain 12\" pipe,\r3,,\n4,last,"
        for size in [1, 2, 3, 5, 7, 64, 4096] {
            let parsed = try rows(text, chunk: size)
            #expect(parsed.map(\.fields) == [["id", "text", "n"], ["1", "multi\r\nline, \"quoted\"", "2"], ["2", "plain 12\" pipe", ""],
                                            ["3", "", ""], ["4", "last", ""]], "chunk \(size)")
            #expect(parsed.map(\.line) == [1, 2, 5, 6, 7], "chunk \(size)")
        }
        #expect(throws: CSVError.unterminatedQuote(line: 2)) { try rows("a\n\"open", chunk: 3) }
    }

    @Test func datePatternsAndISOReadLikeTheirSources() throws {
        let boston = try DatePattern("MM/dd/yyyy hh:mm:ss a")
        #expect(boston.parse("03/01/2015 12:05:09 AM") == DateParts(day: CivilDate(iso: "2015-03-01")!, seconds: 5 * 60 + 9, offset: nil))
        #expect(boston.parse("03/01/2015 12:05:09 PM")?.seconds == Double(12 * 3600 + 5 * 60 + 9))
        #expect(boston.parse("03/01/2015 01:00:00 pm")?.seconds == Double(13 * 3600))
        #expect(boston.parse("13/01/2015 01:00:00 PM") == nil)
        #expect(boston.parse("03/01/2015") == nil)
        let russian = try DatePattern("dd.MM.yyyy H:mm")
        #expect(russian.parse("07.12.2026 9:30")?.day == CivilDate(iso: "2026-12-07"))
        #expect(try DatePattern("yyyy-MM-dd'T'HH:mm:ss.SSS").parse("2026-12-07T09:30:00.250")?.seconds == 9 * 3600 + 30 * 60 + 0.25)
        #expect(throws: ValidationError.self) { try DatePattern("dd MMM yyyy") }
        #expect(throws: ValidationError.self) { try DatePattern("HH:mm") }
        #expect(throws: ValidationError.self) { try DatePattern("dd.MM.yy") }   // two-digit years would refuse every row
        #expect(DatePattern.iso("2015-03-01")?.seconds == 0)
        #expect(DatePattern.iso("2015-03-01T10:00:00Z")?.offset == 0)
        #expect(DatePattern.iso("2015-03-01 10:00:00.5+03:00") == DateParts(day: CivilDate(iso: "2015-03-01")!, seconds: 36_000.5, offset: 10_800))
        #expect(DatePattern.iso("2015-02-30") == nil && DatePattern.iso("yesterday") == nil)
        // Local times become moments in the mapping's zone, summer time included.
        let newYork = try #require(TimeZone(identifier: "America/New_York"))
        let winter = try #require(boston.parse("01/15/2015 10:00:00 AM")).moment(in: newYork)
        let summer = try #require(boston.parse("07/15/2015 10:00:00 AM")).moment(in: newYork)
        #expect(winter == ISO8601DateFormatter().date(from: "2015-01-15T15:00:00Z"))
        #expect(summer == ISO8601DateFormatter().date(from: "2015-07-15T14:00:00Z"))
    }

    let bostonMapping = """
        {"source": "boston311", "timezone": "America/New_York", "dateFormats": ["MM/dd/yyyy hh:mm:ss a"],
         "fields": {"externalId": "CASE_ENQUIRY_ID", "receivedAt": "OPEN_DT", "controlDate": "TARGET_DT", "closedAt": "CLOSED_DT",
                    "category": "TYPE", "executor": "Department", "district": "neighborhood", "address": "Location",
                    "lat": "LATITUDE", "lon": "LONGITUDE", "channel": "Source", "text": "CASE_TITLE", "status": "CASE_STATUS"},
         "values": {"status": {"Closed": "closed", "*": "in-progress"},
                    "channel": {"Self Service": "web", "Citizens Connect App": "web", "Constituent Call": "phone",
                                "Twitter": "social", "*": "other"}}}
        """

    func terminal(_ status: String) -> Bool? { ["closed": true, "in-progress": false, "registered": false][status] }
    func known(_ field: String, _ value: String) -> Bool {
        switch field {
        case "status": terminal(value) != nil
        case "channel": AppealChannel(rawValue: value) != nil
        default: AppealKind(rawValue: value) != nil
        }
    }

    @Test func mappingReadsBostonRowsAndRefusesBadOnes() throws {
        let mapping = try CSVMapping(json: Data(bostonMapping.utf8), known: known)
        let header = ["CASE_ENQUIRY_ID", "OPEN_DT", "TARGET_DT", "CLOSED_DT", "CASE_STATUS", "CASE_TITLE", "TYPE", "Department",
                      "Location", "neighborhood", "LATITUDE", "LONGITUDE", "Source"]
        #expect(mapping.missingColumns(header: header).isEmpty)
        #expect(mapping.missingColumns(header: Array(header.dropLast())) == ["Source"])
        let columns = mapping.columns(header: header)
        let closed = ["101001", "01/02/2015 08:00:00 AM", "01/05/2015 08:00:00 AM", "01/03/2015 08:00:00 PM", "Closed", "Pothole",
                      "Request for Pothole Repair", "PWDx", "INTERSECTION A & B", "Roxbury", "42.3", "-71.1", "Citizens Connect App"]
        let appeal = try mapping.appeal(closed, columns: columns, terminal: terminal).get()
        #expect(appeal.status == "closed" && appeal.channel == "web" && appeal.kind == "statement")
        #expect(appeal.controlDate == CivilDate(iso: "2015-01-05") && appeal.closedAt != nil && appeal.lat == 42.3)
        #expect(appeal.receivedAt == ISO8601DateFormatter().date(from: "2015-01-02T13:00:00Z"))
        var open = closed
        open[4] = "Open"; open[3] = ""; open[12] = "Employee Generated"
        let openAppeal = try mapping.appeal(open, columns: columns, terminal: terminal).get()
        #expect(openAppeal.status == "in-progress" && openAppeal.channel == "other" && openAppeal.closedAt == nil)
        func refusal(_ change: (inout [String]) -> Void) -> String? {
            var row = closed
            change(&row)
            guard case let .failure(error) = mapping.appeal(row, columns: columns, terminal: terminal) else { return nil }
            return error.field
        }
        #expect(refusal { $0[0] = " " } == "externalId")
        #expect(refusal { $0[1] = "yesterday" } == "receivedAt")
        #expect(refusal { $0[3] = "" } == "closedAt")             // closed without a closing time
        #expect(refusal { $0[3] = "01/01/2015 08:00:00 AM" } == "closedAt")
        #expect(refusal { $0[10] = "north" } == "lat")
        #expect(refusal { $0[2] = "soon" } == "controlDate")
        // A mapping without a default refuses a value it does not know.
        let strict = try CSVMapping(json: Data(#"{"source": "x", "fields": {"externalId": "id", "receivedAt": "at", "channel": "c"}, "values": {"channel": {"Phone": "phone"}}}"#.utf8), known: known)
        let strictColumns = strict.columns(header: ["id", "at", "c"])
        #expect(try strict.appeal(["1", "2015-01-01", "Phone"], columns: strictColumns, terminal: terminal).get().channel == "phone")
        guard case let .failure(error) = strict.appeal(["1", "2015-01-01", "Fax"], columns: strictColumns, terminal: terminal) else {
            Issue.record("an unmapped value was taken"); return
        }
        #expect(error.field == "channel" && error.reason.contains("Fax"))
    }

    @Test func mappingFileErrorsNameTheSetting() {
        func field(_ json: String) -> String? {
            do { _ = try CSVMapping(json: Data(json.utf8), known: known); return nil } catch { return error.field }
        }
        #expect(field("[]") == "mapping")
        #expect(field(#"{"fields": {"externalId": "a", "receivedAt": "b"}}"#) == "source")
        #expect(field(#"{"source": "s", "fields": {"externalId": "a"}}"#) == "fields.receivedAt")
        #expect(field(#"{"source": "s", "fields": {"externalId": "a", "receivedAt": "b", "colour": "c"}}"#) == "fields.colour")
        #expect(field(#"{"source": "s", "timezone": "Mars/Olympus", "fields": {"externalId": "a", "receivedAt": "b"}}"#) == "timezone")
        #expect(field(#"{"source": "s", "dateFormats": ["HH:mm"], "fields": {"externalId": "a", "receivedAt": "b"}}"#) == "dateFormats[0]")
        #expect(field(#"{"source": "s", "fields": {"externalId": "a", "receivedAt": "b"}, "values": {"status": {"Done": "finished"}}}"#) == "values.status.Done")
        #expect(CSVMapping.code(source: "Boston 311", value: "Pothole") == CSVMapping.code(source: "Boston 311", value: "Pothole"))
        #expect(CSVMapping.code(source: "Boston 311", value: "Pothole").hasPrefix("boston311."))
        #expect(CSVMapping.code(source: "Бостон", value: nil) == "import")
    }
}
