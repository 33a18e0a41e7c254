import Foundation
import OmbudDomain
import Testing

struct ReportTests {
    let roles: Set<String> = ["supervisor", "analyst", "administrator"]

    @Test func periodsCountBackFromTheDayTheReportRuns() throws {
        let today = try #require(CivilDate(iso: "2026-12-07")) // a Monday
        func days(_ code: String) throws -> String {
            let (from, to) = try ReportPeriod(code: code).days(today: today)
            return "\(from?.iso ?? "-")..\(to?.iso ?? "-")"
        }
        #expect(try days("7d") == "2026-12-01..2026-12-07")
        #expect(try days("previous-week") == "2026-11-30..2026-12-06")
        #expect(try days("previous-month") == "2026-11-01..2026-11-30")
        #expect(try days("previous-quarter") == "2026-07-01..2026-09-30")
        #expect(try days("year-to-date") == "2026-01-01..2026-12-07")
        #expect(try days("all") == "-..-")
        #expect(try days("2026-03-01..2026-03-31") == "2026-03-01..2026-03-31")
        let january = try #require(CivilDate(iso: "2027-01-15"))
        #expect(ReportPeriod.previousMonth.days(today: january).from?.iso == "2026-12-01")
        #expect(ReportPeriod.previousQuarter.days(today: january).to?.iso == "2026-12-31")
        #expect(ReportPeriod.previousWeek.days(today: try #require(CivilDate(iso: "2026-12-13"))).from?.iso == "2026-11-30") // a Sunday
        for bad in ["0d", "yesterday", "2026-03-31..2026-03-01", "9999d"] {
            #expect(throws: ValidationError.self) { try ReportPeriod(code: bad) }
        }
        for period in ReportPeriod.presets { #expect(try ReportPeriod(code: period.code) == period) }
    }

    @Test func schedulesFallOnMondaysAndFirstsAtSeven() throws {
        let zone = try #require(TimeZone(identifier: "Europe/Moscow"))
        let iso = ISO8601DateFormatter()
        let monday = try #require(iso.date(from: "2026-12-07T05:00:00Z")) // 08:00 in Moscow, after seven
        let weekly = ReportSchedule(every: .week, recipients: [])
        #expect(iso.string(from: weekly.next(after: monday, zone: zone)) == "2026-12-14T04:00:00Z")
        let early = try #require(iso.date(from: "2026-12-07T03:59:59Z"))
        #expect(iso.string(from: weekly.next(after: early, zone: zone)) == "2026-12-07T04:00:00Z")
        let monthly = ReportSchedule(every: .month, recipients: [])
        #expect(iso.string(from: monthly.next(after: monday, zone: zone)) == "2027-01-01T04:00:00Z")
        #expect(iso.string(from: monthly.next(after: try #require(iso.date(from: "2027-01-31T12:00:00Z")), zone: zone)) == "2027-02-01T04:00:00Z")
    }

    @Test func definitionsAreCheckedAndNameTheField() throws {
        var report = ReportDefinition(name: "  Просрочки по районам ", groupBy: "district, month", measures: "count,overdue",
                                      filters: ["status": "registered", "channel": " "], sharedWith: ["analyst", "analyst"],
                                      schedule: ReportSchedule(every: .month, recipients: ["boss", " boss", ""]))
        let valid = try report.validated(roles: roles)
        #expect(valid.name == "Просрочки по районам" && valid.groupBy == "district,month" && valid.filters == ["status": "registered"])
        #expect(valid.sharedWith == ["analyst"] && valid.schedule?.recipients == ["boss"])
        let cases: [(ReportDefinition, String)] = [
            ({ var r = report; r.name = " "; return r }(), "name"),
            ({ var r = report; r.groupBy = "colour"; return r }(), "groupBy"),
            ({ var r = report; r.measures = "speed"; return r }(), "measures"),
            ({ var r = report; r.filters = ["colour": "red"]; return r }(), "filters.colour"),
            ({ var r = report; r.filters = ["overdue": "maybe"]; return r }(), "filters.overdue"),
            ({ var r = report; r.filters = ["bbox": "1,2"]; return r }(), "filters.bbox"),
            ({ var r = report; r.sharedWith = ["king"]; return r }(), "sharedWith"),
        ]
        for (bad, field) in cases {
            do { _ = try bad.validated(roles: roles); Issue.record("\(field) passed") } catch { #expect(error.field == field) }
        }
        report.period = .between(try #require(CivilDate(iso: "2026-01-01")), try #require(CivilDate(iso: "2026-03-31")))
        let json = try JSONEncoder().encode(report)
        #expect(String(decoding: json, as: UTF8.self).contains("\"period\":\"2026-01-01..2026-03-31\""))
        #expect(try JSONDecoder().decode(ReportDefinition.self, from: json) == report)
    }

    @Test func aMailWithAnAttachmentIsMultipart() throws {
        var message = MailMessage(from: try MailAddress("ombud@example.org"), to: try MailAddress("chief@example.org"),
                                  subject: "Отчёт", text: "Во вложении", messageID: "r1@ombud", date: Date(timeIntervalSince1970: 0))
        let data = Data((0..<300).map { UInt8($0 % 256) })
        message.attachments = [MailAttachment(name: "Каналы \"x\".xlsx", mediaType: "application/vnd.ms-excel", data: data),
                               MailAttachment(name: "plain.csv", mediaType: "text/csv", data: Data("a,b".utf8))]
        let raw = message.rendered()
        #expect(raw.unicodeScalars.allSatisfy { $0.isASCII } && !raw.split(separator: "\r\n").contains { $0.count > 998 })
        #expect(raw.contains("Content-Type: multipart/mixed; boundary=\"=_ombud_r1ombud\"\r\n"))
        #expect(raw.components(separatedBy: "--=_ombud_r1ombud\r\n").count == 4 && raw.hasSuffix("--=_ombud_r1ombud--\r\n"))
        #expect(raw.contains("Content-Disposition: attachment; filename*=UTF-8''%D0%9A%D0%B0%D0%BD%D0%B0%D0%BB%D1%8B%20x.xlsx\r\n"))
        #expect(raw.contains("Content-Disposition: attachment; filename=\"plain.csv\"\r\n"))
        let part = try #require(raw.components(separatedBy: "filename*=UTF-8''%D0%9A%D0%B0%D0%BD%D0%B0%D0%BB%D1%8B%20x.xlsx\r\n\r\n").last)
        let encoded = part.components(separatedBy: "\r\n--")[0].replacingOccurrences(of: "\r\n", with: "")
        #expect(Data(base64Encoded: encoded) == data)
    }
}
