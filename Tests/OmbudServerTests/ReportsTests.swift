import Fluent
import Foundation
import OmbudDomain
import Testing
import Vapor
import VaporTesting
import SQLKit
import ZIPFoundation
@testable import OmbudServer

extension OmbudServerSuite {
    @Suite struct ReportsTests {
        func person(_ ctx: TestContext, _ login: String, role: String, unit: String, email: String? = nil) async throws -> Browser {
            _ = try await Accounts.addUser(login: login, password: "password-\(login)", roles: [role], fullName: login, unitCodes: [unit],
                                           store: ctx.app.store, now: Date())
            if let email {
                let user = try #require(try await User.query(on: ctx.app.db).filter(\.$login == login).first())
                user.email = email
                try await user.save(on: ctx.app.db)
            }
            let browser = Browser(ctx.app)
            #expect(try await browser.signIn(login, "password-\(login)").status == .seeOther)
            return browser
        }

        @Test func theBuilderShowsSavesSharesAndKeepsOthersOut() async throws {
            try await withOmbud { ctx, _ in
                for office in ["hq", "hq", "city"] {
                    _ = try await AccessTests().appeal(ctx, office: office)
                }
                let boss = try await person(ctx, "boss", role: "supervisor", unit: "hq")
                // Shown unsaved: the table of the reader's scope.
                #expect(try await boss.send(.GET, "/reports?lang=en&dimension1=office&measures[]=count&measures[]=open&period=all&show=1").status == .ok)
                #expect(boss.html.contains("<table class=\"report-table\"") && boss.html.contains("Appeals"))
                #expect(boss.html.contains("<td class=\"num\"><bdi>3</bdi></td>"))
                // Saved from the form, shared with analysts; a fault is named on the page and nothing is saved.
                let token = try #require(boss.csrf)
                let bad = try await boss.send(.POST, "/reports?lang=en", pairs: [("_csrf", token), ("name", "Offices"), ("dimension1", "colour"),
                                                                               ("measures[]", "count"), ("period", "all")])
                #expect(bad.status == .unprocessableEntity && boss.html.contains("field-error"))
                #expect(try await ReportRecord.query(on: ctx.app.db).count() == 0)
                let saved = try await boss.send(.POST, "/reports", pairs: [("_csrf", token), ("name", "По приёмным"), ("dimension1", "office"),
                                                                         ("measures[]", "count"), ("measures[]", "overdue"), ("period", "all"),
                                                                         ("chart", "bar"), ("sharedWith[]", "analyst")])
                #expect(saved.status == .seeOther)
                let location = try #require(saved.headers.first(name: .location))
                #expect(try await boss.send(.GET, location + "?lang=ru").status == .ok)
                #expect(boss.html.contains("По приёмным") && boss.html.contains("class=\"bars\"") && boss.html.contains("Удалить"))
                let id = try #require(location.split(separator: "/").last.map(String.init))
                let record = try #require(try await ReportRecord.find(UUID(uuidString: id), on: ctx.app.db))
                #expect(try record.definition().sharedWith == ["analyst"] && record.definition().measures == "count,overdue")
                // A fault while changing it shows the report and its form again, with the fault named; nothing changes.
                let wrong = try await boss.send(.POST, location + "?lang=en", pairs: [("_csrf", boss.csrf ?? ""), ("name", "Renamed"),
                                                                                    ("dimension1", "office"), ("measures[]", "count"),
                                                                                    ("office", "nowhere")])
                #expect(wrong.status == .unprocessableEntity && boss.html.contains("field-error") && boss.html.contains("name=\"dimension1\""))
                #expect(try await ReportRecord.find(UUID(uuidString: id), on: ctx.app.db)?.name == "По приёмным")

                // An analyst it is shared with opens it in their own scope, and may not change it; another supervisor
                // does not see it at all; a reception specialist has no reports.
                let analyst = try await person(ctx, "analyst", role: "analyst", unit: "city")
                #expect(try await analyst.send(.GET, location).status == .ok)
                #expect(analyst.html.contains("По приёмным") && !analyst.html.contains("Удалить"))
                #expect(try await analyst.send(.POST, location + "/delete", form: ["_csrf": analyst.csrf ?? ""]).status == .forbidden)
                let other = try await person(ctx, "other", role: "supervisor", unit: "police")
                #expect(try await other.send(.GET, location).status == .notFound)
                try await other.send(.GET, "/reports")
                #expect(!other.html.contains("По приёмным"))
                let clerk = try await person(ctx, "clerk", role: "reception", unit: "hq")
                #expect(try await clerk.send(.GET, "/reports").status == .forbidden)

                // The owner deletes it.
                #expect(try await boss.send(.POST, location + "/delete", form: ["_csrf": boss.csrf ?? ""]).status == .seeOther)
                #expect(try await ReportRecord.find(UUID(uuidString: id), on: ctx.app.db) == nil)
            }
        }

        @Test func aScheduledReportIsQueuedOnceWhenItsMomentComes() async throws {
            // Thursday 2026-11-19 in Moscow; the weekly mail is due on Monday 23rd at 07:00.
            let start = CivilDate(iso: "2026-11-19")!.start(in: TimeZone(identifier: "Europe/Moscow")!).addingTimeInterval(12 * 3600 + 0.123_456_7)
            try await withOmbud(now: start, settings: { s in
                s.smtp = SMTPSettings(host: "127.0.0.1", port: 9, security: .none, from: try! MailAddress("ombud@example.org"))
            }) { ctx, clock in
                _ = try await person(ctx, "boss", role: "supervisor", unit: "hq", email: "boss@example.org")
                _ = try await person(ctx, "mute", role: "supervisor", unit: "hq")
                let headers = try await ctx.user("owner", roles: ["supervisor"], units: ["hq"])
                var created: ReportView?
                let definition = ReportDefinition(name: "Неделя", groupBy: "channel", measures: "count", period: .previousWeek,
                                                  sharedWith: ["supervisor"], schedule: ReportSchedule(every: .week, recipients: ["boss"]))
                try await ctx.send(.POST, "/api/v1/reports", headers, body: String(decoding: try JSONEncoder().encode(definition), as: UTF8.self)) { res in
                    #expect(res.status == .created, "\(res.body.string)")
                    created = try res.content.decode(ReportView.self)
                }
                let report = try #require(created)
                let monday = CivilDate(iso: "2026-11-23")!.start(in: TimeZone(identifier: "Europe/Moscow")!).addingTimeInterval(7 * 3600)
                #expect(report.nextRunAt.map { abs($0.timeIntervalSince(monday)) < 0.001 } == true)
                // A filter naming a unit that does not exist is refused at once, not at every run.
                var nowhere = definition
                nowhere.filters = ["office": "nowhere"]
                try await ctx.send(.POST, "/api/v1/reports", headers, body: String(decoding: try JSONEncoder().encode(nowhere), as: UTF8.self)) { res in
                    #expect(res.status == .unprocessableEntity)
                    let body = try res.content.decode(APIErrorMiddleware.Body.self)
                    #expect(body.field == "filters.office")
                }
                // A recipient without an e-mail is refused, named.
                var silent = definition
                silent.schedule = ReportSchedule(every: .week, recipients: ["mute"])
                try await ctx.send(.PUT, "/api/v1/reports/\(report.id)", headers, body: String(decoding: try JSONEncoder().encode(silent), as: UTF8.self)) { res in
                    #expect(res.status == .unprocessableEntity)
                    let body = try res.content.decode(APIErrorMiddleware.Body.self)
                    #expect(body.field == "schedule.recipients")
                }

                let worker = Worker(app: ctx.app, name: "test")
                func queued() async throws -> Int { try await JobRecord.query(on: ctx.app.db).filter(\.$kind == ReportMail.kind).count() }
                try await worker.runOnce()
                #expect(try await queued() == 0)
                clock.now = monday.addingTimeInterval(60.000_001)
                try await worker.runOnce()
                #expect(try await queued() == 1)
                try await worker.runOnce()
                #expect(try await queued() == 1, "the moment moved on: the report is not sent twice")
                let record = try #require(try await ReportRecord.find(report.id, on: ctx.app.db))
                #expect(record.nextRunAt.map { abs($0.timeIntervalSince(monday.addingTimeInterval(7 * 86_400))) < 0.001 } == true)
                #expect(record.lastRunAt != nil)
            }
        }

        @Test func theStatutorySummaryCountsTheQuarterByChannelSectionResultAndDeadline() async throws {
            // 2026-11-18 in Moscow: the fourth quarter.
            try await withOmbud { ctx, _ in
                var ids: [UUID] = []
                for office in ["hq", "hq", "city"] { ids.append(try await AccessTests().appeal(ctx, office: office).id) }
                let sql = ctx.app.db as! any SQLDatabase
                try await sql.update("questions").set("result", to: SQLBind("explained")).where("appeal_id", .equal, SQLBind(ids[0])).run()
                try await sql.update("questions").set("result", to: SQLBind("supported")).where("appeal_id", .equal, SQLBind(ids[1])).run()
                try await sql.update("appeals").set("status", to: SQLBind("answered")).set("closed_at", to: SQLBind(Date(timeIntervalSince1970: 1_795_000_000)))
                    .where("id", .equal, SQLBind(ids[0])).run()
                let boss = try await person(ctx, "boss", role: "supervisor", unit: "hq")
                // Results count questions: an appeal of another office explained in two questions of the same section.
                let topic = try #require(try await sql.raw("SELECT topic_code FROM questions WHERE appeal_id = \(bind: ids[0])").first()?
                    .decode(column: "topic_code", as: String.self))
                var twice = basicAppeal
                twice["officeCode"] = AnyEncodable("city")
                twice["questions"] = AnyEncodable([QuestionInput(topicCode: topic, text: "Свет"), QuestionInput(topicCode: topic, text: "Лампа")])
                let pair = try await ctx.createAppeal(twice).id
                try await sql.update("questions").set("result", to: SQLBind("explained")).where("appeal_id", .equal, SQLBind(pair)).run()
                #expect(try await boss.send(.GET, "/reports/statutory?quarter=2026-Q4&lang=en").status == .ok)
                // Every appeal is in one section: its row holds 1 + 2 explained questions, where appeals would be 2.
                let explained = try #require(boss.html.firstRange(of: "<th scope=\"col\">Explained</th>"))
                let before = boss.html[..<explained.lowerBound]
                let head = before[(before.range(of: "<thead><tr>", options: .backwards)?.upperBound ?? before.startIndex)...]
                let column = head.components(separatedBy: "<th scope=\"col\">").count - 2 // after the section's own header
                let row = boss.html[explained.upperBound...].components(separatedBy: "<tr><th scope=\"row\">").dropFirst().first ?? ""
                let cells = row.components(separatedBy: "</tr>")[0].components(separatedBy: "<bdi>").dropFirst().map { String($0.prefix { $0 != "<" }) }
                #expect(cells.count > column && cells[column] == "3", "\(cells) at \(column)")
                let html = boss.html
                #expect(html.contains("Appeals received: 4") && html.contains("2026-10-01 — 2026-12-31"))
                #expect(html.contains("Economy") || html.contains("Экономика"))
                #expect(html.contains("<th scope=\"col\">Explained</th>"))
                // The previous quarter holds none of them; a supervisor elsewhere sees none; bad input is named.
                try await boss.send(.GET, "/reports/statutory?quarter=2026-Q3&lang=en")
                #expect(boss.html.contains("Appeals received: 0"))
                let cop = try await person(ctx, "cop", role: "supervisor", unit: "police")
                try await cop.send(.GET, "/reports/statutory?quarter=2026-Q4&lang=en")
                #expect(cop.html.contains("Appeals received: 0"))
                #expect(try await boss.send(.GET, "/reports/statutory?quarter=2026-Q9").status == .unprocessableEntity)
                // The workbook: the same figures as numbers.
                let res = try await boss.send(.GET, "/reports/statutory?quarter=2026-Q4&office=hq&format=xlsx&lang=en")
                #expect(res.status == .ok)
                let archive = try Archive(data: Data(buffer: res.body), accessMode: .read)
                var xml = Data()
                _ = try archive.extract(try #require(archive["xl/worksheets/sheet1.xml"])) { xml.append($0) }
                let sheet = String(decoding: xml, as: UTF8.self)
                #expect(sheet.contains("Appeals received</t></is></c><c r=\"B4\"><v>2</v>"), "\(sheet.prefix(2000))")
                #expect(sheet.contains(">Explained<") && sheet.contains(">on time<"))
            }
        }
    }
}
