import Fluent
import Foundation
import OmbudDomain
import Testing
import Vapor
import VaporTesting
import ZIPFoundation
@testable import OmbudServer

extension OmbudServerSuite {
    @Suite struct ExportTests {
        /// The rows of a CSV download, without the byte order mark and split into fields (the tests' texts hold no commas).
        func csv(_ res: TestingHTTPResponse) -> [[String]] {
            #expect(res.status == .ok, "\(res.body.string)")
            #expect(res.headers.contentType?.subType == "csv")
            #expect(res.headers.first(name: .contentDisposition)?.contains("attachment") == true)
            let bytes = Array(res.body.readableBytesView)
            #expect(bytes.prefix(3) == [0xEF, 0xBB, 0xBF])
            return String(decoding: bytes.dropFirst(3), as: UTF8.self).split(separator: "\r\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        }

        func sheet(_ res: TestingHTTPResponse) throws -> String {
            #expect(res.status == .ok)
            let archive = try Archive(data: Data(buffer: res.body), accessMode: .read)
            var xml = Data()
            _ = try archive.extract(try #require(archive["xl/worksheets/sheet1.xml"])) { xml.append($0) }
            return String(decoding: xml, as: UTF8.self)
        }

        @Test func everyListDownloadsWithItsFiltersAndScope() async throws {
            try await withOmbud { ctx, _ in
                let hq = try await AccessTests().appeal(ctx, office: "hq")
                _ = try await AccessTests().appeal(ctx, office: "hq")
                let city = try await AccessTests().appeal(ctx, office: "city")
                try await ctx.post("/api/v1/appeals/\(hq.id)/promises", ["text": "Заменить лампу", "dueDate": "2099-01-10"]) { res in
                    #expect(res.status == .created, "\(res.body.string)")
                }

                // Appeals: every one, newest first, dates as dates, names in the reader's language.
                try await ctx.get("/api/v1/appeals?format=csv&lang=en") { res in
                    let rows = csv(res)
                    #expect(rows.first == ["Tracking code", "Received", "Status", "Channel", "Kind", "Control date", "Overdue", "District", "Text"])
                    #expect(rows.count == 4)
                    #expect(rows[1][0] == city.trackingCode)
                    #expect(rows.dropFirst().allSatisfy { $0[3] == "Visit" && $0[7] == "Центральный" && $0[8] == "Не горит фонарь во дворе" })
                    #expect(rows[1][1].wholeMatch(of: /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/) != nil)
                }
                try await ctx.get("/api/v1/appeals?format=csv&office=city") { res in
                    #expect(csv(res).dropFirst().map { $0[0] } == [city.trackingCode])
                }
                try await ctx.get("/api/v1/appeals?format=xlsx") { res in
                    let xml = try sheet(res)
                    #expect(xml.contains(hq.trackingCode) && xml.contains(city.trackingCode))
                    #expect(xml.contains("s=\"2\""))
                    #expect(res.headers.first(name: .contentDisposition)?.contains("ombud-appeals.xlsx") == true)
                }
                // Tasks and promises: the same rows as the JSON list.
                var openTasks = 0
                try await ctx.get("/api/v1/tasks?assignee=all") { res in openTasks = try res.content.decode(TaskPage.self).total }
                #expect(openTasks > 0)
                try await ctx.get("/api/v1/tasks?assignee=all&format=csv&lang=ru") { res in
                    let rows = csv(res)
                    #expect(rows.count == openTasks + 1)
                    #expect(rows.dropFirst().allSatisfy { $0[3] == "открыта" })
                }
                try await ctx.get("/api/v1/promises?format=csv") { res in
                    let rows = csv(res)
                    #expect(rows.count == 2)
                    #expect(rows[1][0] == hq.trackingCode && rows[1][1] == "Заменить лампу" && rows[1][2] == "2099-01-10")
                }
                // Applicants: for readers of personal data.
                try await ctx.get("/api/v1/applicants?format=csv&lang=en") { res in
                    let rows = csv(res)
                    #expect(rows.count == 4, "one card for each appeal: intake was not told they are the same person")
                    #expect(rows.dropFirst().allSatisfy { $0[0] == "Смирнова Ольга" && $0[1] == "Person" && $0[3] == "olga@example.ru" }, "\(rows)")
                }
                let audits = try await AuditRecord.query(on: ctx.app.db).filter(\.$action == "list.export").count()
                #expect(audits >= 6)

                // Bad input names its field; the JSON list is unchanged.
                try await ctx.get("/api/v1/appeals?format=pdf") { res in
                    #expect(res.status == .unprocessableEntity)
                    let body = try res.content.decode(APIErrorMiddleware.Body.self)
                    #expect(body.field == "format")
                }
                try await ctx.get("/api/v1/appeals?format=csv&status=lost") { res in
                    #expect(res.status == .unprocessableEntity)
                    let body = try res.content.decode(APIErrorMiddleware.Body.self)
                    #expect(body.field == "status")
                }
                try await ctx.get("/api/v1/appeals?limit=1") { res in
                    let page = try res.content.decode(AppealPage.self)
                    #expect(page.items.count == 1)
                }

                // Scope: a city supervisor downloads the city's appeal only; the police's sees none.
                let citySupervisor = try await ctx.user("citysup", roles: ["supervisor"], units: ["city"])
                try await ctx.send(.GET, "/api/v1/appeals?format=csv", citySupervisor) { res in
                    #expect(csv(res).dropFirst().map { $0[0] } == [city.trackingCode])
                }
                let police = try await ctx.user("policesup", roles: ["supervisor"], units: ["police"])
                try await ctx.send(.GET, "/api/v1/appeals?format=csv", police) { res in #expect(csv(res).count == 1) }
                try await ctx.send(.GET, "/api/v1/promises?format=csv", police) { res in #expect(csv(res).count == 1) }
                // Without `export` nothing is downloaded; without personal data no applicants are.
                let clerk = try await ctx.user("clerk", roles: ["reception"], units: ["hq"])
                try await ctx.send(.GET, "/api/v1/appeals?format=csv", clerk) { res in #expect(res.status == .forbidden) }
                let editor = try await ctx.user("editor", roles: ["editor"], units: ["hq"])
                try await ctx.send(.GET, "/api/v1/applicants?format=xlsx", editor) { res in #expect(res.status == .forbidden) }
                try await ctx.send(.GET, "/api/v1/appeals?format=csv", editor) { res in
                    let rows = csv(res)
                    #expect(rows.count == 4)
                    #expect(!res.body.string.contains("Смирнова"))
                }
            }
        }
    }
}
