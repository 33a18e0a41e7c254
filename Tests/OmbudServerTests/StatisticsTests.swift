import Fluent
import Foundation
import OmbudDomain
import SQLKit
import Testing
import Vapor
import VaporTesting
import ZIPFoundation
@testable import OmbudServer

extension OmbudServerSuite {
    @Suite struct StatisticsTests {
        struct Table: Decodable {
            struct Value: Decodable, Equatable { var code: String; var name: String }
            struct Row: Decodable { var dimensions: [String: Value]; var measures: [String: Double?] }
            struct Total: Decodable { var measures: [String: Double?] }
            var groupBy: [String]
            var measures: [String]
            var rows: [Row]
            var total: Total
        }

        /// Four appeals: two by phone (one closed on time after 2 days, one open and overdue), one by e-mail closed
        /// late after 10 days with two questions in two topics, one by e-mail from another office, open.
        func seed(_ ctx: TestContext, _ clock: MutableClock) async throws -> [UUID] {
            var ids: [UUID] = []
            let plan: [(channel: String, district: String, topics: [String], office: String)] = [
                ("phone", "Петроградский", ["0005.0005.0056.1168"], "hq"),
                ("phone", "Петроградский", ["0005.0005.0056.1168"], "hq"),
                ("e-mail", "Невский", ["0005.0005.0056.1168", "0003.0009.0097.0688"], "hq"),
                ("e-mail", "Невский", ["0005.0005.0056.1168"], "city"),
            ]
            for item in plan {
                var input = basicAppeal
                input["channel"] = AnyEncodable(item.channel)
                input["officeCode"] = AnyEncodable(item.office)
                input["address"] = AnyEncodable(AddressInput(text: "ул. Мира, д. 1", lat: 59.95, lon: 30.31, district: item.district))
                input["questions"] = AnyEncodable(item.topics.map { QuestionInput(topicCode: $0, text: "Вопрос") })
                ids.append(try await ctx.createAppeal(input).id)
                clock.now = clock.now.addingTimeInterval(3600)
            }
            let sql = ctx.app.db as! any SQLDatabase
            let received = try await Appeal.query(on: ctx.app.db).sort(\.$receivedAt).all().map(\.receivedAt)
            func set(_ id: UUID, closedAfterDays days: Double?, control: String, rating: Int? = nil) async throws {
                try await sql.update("appeals").set("control_date", to: SQLBind(control)).set("under_control", to: SQLBind(days == nil))
                    .set("closed_at", to: SQLBind(days.map { received[0].addingTimeInterval($0 * 86_400) }))
                    .set("status", to: SQLBind(days == nil ? "registered" : "answered")).where("id", .equal, SQLBind(id)).run()
                if let rating {
                    let record = AppealRating()
                    record.id = UUID()
                    record.appealID = id
                    record.score = rating
                    record.solved = rating >= 4
                    record.source = "portal"
                    record.at = clock.now
                    try await record.create(on: ctx.app.db)
                }
            }
            let today = CivilDate.of(clock.now, in: ctx.settings.timeZone)
            try await set(ids[0], closedAfterDays: 2, control: today.adding(days: 20).iso, rating: 5)
            try await set(ids[1], closedAfterDays: nil, control: today.adding(days: -1).iso)
            try await set(ids[2], closedAfterDays: 10, control: today.adding(days: 3).iso, rating: 2)
            try await set(ids[3], closedAfterDays: nil, control: today.adding(days: 30).iso)
            return ids
        }

        func table(_ ctx: TestContext, _ query: String) async throws -> Table {
            var table: Table?
            try await ctx.get("/api/v1/stats?\(query)") { res in
                #expect(res.status == .ok, "\(res.body.string)")
                table = try res.content.decode(Table.self)
            }
            return try #require(table)
        }

        @Test func figuresAreCountedPerGroupAndTotalsCountAppealsOnce() async throws {
            try await withOmbud { ctx, clock in
                _ = try await seed(ctx, clock)
                let byChannel = try await table(ctx, "groupBy=channel&measures=count,open,closed,overdue,onTimeShare,medianDaysToClose,avgRating,satisfiedShare&lang=en")
                #expect(byChannel.groupBy == ["channel"])
                #expect(byChannel.rows.map { $0.dimensions["channel"] } == [.init(code: "e-mail", name: "E-mail"), .init(code: "phone", name: "Phone")]
                        || byChannel.rows.map { $0.dimensions["channel"]?.code } == ["e-mail", "phone"])
                let mail = try #require(byChannel.rows.first { $0.dimensions["channel"]?.code == "e-mail" })
                #expect(mail.measures["count"] == 2 && mail.measures["open"] == 1 && mail.measures["closed"] == 1)
                #expect(mail.measures["overdue"] == 1)            // closed after its control date
                #expect(mail.measures["onTimeShare"] == 0)
                #expect(mail.measures["avgRating"] == 2 && mail.measures["satisfiedShare"] == 0)
                let phone = try #require(byChannel.rows.first { $0.dimensions["channel"]?.code == "phone" })
                #expect(phone.measures["overdue"] == 1 && phone.measures["onTimeShare"] == 1) // one open past its date, one on time
                #expect(phone.measures["medianDaysToClose"] == 2)
                #expect(byChannel.total.measures["count"] == 4 && byChannel.total.measures["overdue"] == 2)
                #expect(byChannel.total.measures["avgRating"] == 3.5 && byChannel.total.measures["satisfiedShare"] == 0.5)
                // (10 - 2h offset…) the appeal closed after 10 days counted from the first one's receipt: 10 − 2/24 days.
                let expectedMedian = StatsTally.rounded(((2.0) + (10.0 - 2.0 / 24)) / 2, places: 2)
                #expect(byChannel.total.measures["medianDaysToClose"] == expectedMedian)

                // A question dimension puts an appeal in each of its topics, the total still counts appeals.
                let byTopic = try await table(ctx, "groupBy=topic:1&measures=count")
                #expect(Set(byTopic.rows.compactMap { $0.dimensions["topic"]?.code }) == ["0005", "0003"])
                #expect(byTopic.rows.first?.dimensions["topic"]?.code == "0005" && byTopic.rows.first?.measures["count"] == 4)
                #expect(byTopic.total.measures["count"] == 4)
                let leaf = try await table(ctx, "groupBy=topic,office&measures=count")
                #expect(leaf.rows.count == 3)
                #expect(leaf.rows.first?.dimensions["office"] == .init(code: "hq", name: "Приёмная HQ"))

                // Periods of the day of receipt, in the installation's time zone.
                let byMonth = try await table(ctx, "groupBy=month,district&measures=count&lang=ru")
                let month = StatsPeriod.code(.month, of: CivilDate.of(clock.now, in: ctx.settings.timeZone)) ?? ""
                #expect(byMonth.rows.allSatisfy { $0.dimensions["month"]?.code == month })
                #expect(byMonth.rows.map { $0.measures["count"] } == [2, 2])

                // Filters of the list apply.
                let filtered = try await table(ctx, "groupBy=status&channel=phone&from=2000-01-01")
                #expect(filtered.total.measures["count"] == 2)
            }
        }

        @Test func badInputNamesTheFieldAndOthersSeeNothing() async throws {
            try await withOmbud { ctx, clock in
                _ = try await seed(ctx, clock)
                for (query, field) in [("groupBy=colour", "groupBy"), ("groupBy=topic:7", "groupBy"), ("measures=speed", "measures"),
                                       ("from=yesterday", "from"), ("from=2026-02-01&to=2026-01-01", "to"), ("format=pdf", "format"),
                                       ("status=lost", "status")] {
                    try await ctx.get("/api/v1/stats?\(query)") { res in
                        #expect(res.status == .unprocessableEntity, "\(query)")
                        let body = try res.content.decode(APIErrorMiddleware.Body.self)
                        #expect(body.field == field, "\(query)")
                    }
                }
                try await ctx.get("/api/v1/stats/grid?bbox=1,2,3") { res in
                    #expect(res.status == .unprocessableEntity)
                    let body = try res.content.decode(APIErrorMiddleware.Body.self)
                    #expect(body.field == "bbox")
                }
                try await ctx.get("/api/v1/stats/grid?bbox=29,59,31,61&cell=10") { res in
                    let body = try res.content.decode(APIErrorMiddleware.Body.self)
                    #expect(body.field == "cell")
                }
                // A reception specialist has no statistics; an executor of the police sees none of these appeals.
                _ = try await Accounts.addUser(login: "clerk", password: "секрет-пароль", roles: ["reception"], fullName: "Clerk",
                                               unitCodes: ["city"], store: ctx.app.store, now: clock.now)
                let clerk = try await Accounts.createToken(login: "clerk", name: "t", store: ctx.app.store, now: clock.now)
                try await ctx.app.testing().test(.GET, "/api/v1/stats", headers: ["Authorization": "Bearer \(clerk)"]) { res in
                    #expect(res.status == .forbidden)
                }
                _ = try await Accounts.addUser(login: "chief", password: "секрет-пароль", roles: ["supervisor"], fullName: "Chief",
                                               unitCodes: ["police"], store: ctx.app.store, now: clock.now)
                let chief = try await Accounts.createToken(login: "chief", name: "t", store: ctx.app.store, now: clock.now)
                try await ctx.app.testing().test(.GET, "/api/v1/stats?groupBy=district", headers: ["Authorization": "Bearer \(chief)"]) { res in
                    let table = try res.content.decode(Table.self)
                    #expect(table.rows.isEmpty && table.total.measures["count"] == 0)
                }
                _ = try await Accounts.addUser(login: "citychief", password: "секрет-пароль", roles: ["supervisor"], fullName: "City",
                                               unitCodes: ["city"], store: ctx.app.store, now: clock.now)
                let cityChief = try await Accounts.createToken(login: "citychief", name: "t", store: ctx.app.store, now: clock.now)
                try await ctx.app.testing().test(.GET, "/api/v1/stats/grid?bbox=30,59,31,60&cell=1000", headers: ["Authorization": "Bearer \(cityChief)"]) { res in
                    let grid = try res.content.decode(StatsController.Grid.self)
                    #expect(grid.cells.map(\.count) == [1])
                }
            }
        }

        @Test func gridCountsPointsPerCell() async throws {
            try await withOmbud { ctx, clock in
                _ = try await seed(ctx, clock)
                try await ctx.get("/api/v1/stats/grid?bbox=30,59,31,60&cell=1000") { res in
                    #expect(res.status == .ok, "\(res.body.string)")
                    let grid = try res.content.decode(StatsController.Grid.self)
                    #expect(grid.cells.count == 1)
                    let cell = try #require(grid.cells.first)
                    #expect(cell.count == 4 && cell.overdue == 2)
                    #expect(abs(cell.lat - 59.95) < 0.01 && abs(cell.lon - 30.31) < 0.02)
                }
                try await ctx.get("/api/v1/stats/grid?bbox=30,59,31,60&cell=1000&channel=phone") { res in
                    let grid = try res.content.decode(StatsController.Grid.self)
                    #expect(grid.cells.map(\.count) == [2])
                }
            }
        }

        @Test func spreadsheetsCarryTheSameTable() async throws {
            try await withOmbud { ctx, clock in
                _ = try await seed(ctx, clock)
                try await ctx.get("/api/v1/stats?groupBy=channel&measures=count,onTimeShare&format=csv&lang=en") { res in
                    #expect(res.status == .ok)
                    #expect(res.headers.contentType?.subType == "csv")
                    let lines = res.body.string.dropFirst().split(separator: "\r\n").map(String.init) // without the byte order mark
                    #expect(lines.first == "Channel (code),Channel,Appeals,Share on time")
                    #expect(lines.contains("e-mail,E-mail,2,0"))
                    #expect(lines.last == ",Total,4,0.5")
                }
                try await ctx.get("/api/v1/stats?groupBy=channel&format=xlsx") { res in
                    #expect(res.status == .ok)
                    let archive = try Archive(data: Data(buffer: res.body), accessMode: .read)
                    let entry = try #require(archive["xl/worksheets/sheet1.xml"])
                    var xml = Data()
                    _ = try archive.extract(entry) { xml.append($0) }
                    let sheet = String(decoding: xml, as: UTF8.self)
                    #expect(sheet.contains("<t xml:space=\"preserve\">Телефон</t>"))
                    #expect(sheet.contains("<v>2</v>"))
                    #expect(archive["xl/workbook.xml"] != nil && archive["[Content_Types].xml"] != nil)
                }
            }
        }

        @Test func dashboardShowsTheScopeInEveryLanguageAndOnlyToManagers() async throws {
            try await withOmbud { ctx, clock in
                _ = try await seed(ctx, clock)
                for (login, role, unit) in [("boss", "supervisor", "hq"), ("cop", "supervisor", "police"), ("clerk", "reception", "hq")] {
                    _ = try await Accounts.addUser(login: login, password: "password-\(login)", roles: [role], fullName: "Сотрудник \(login)",
                                                   unitCodes: [unit], store: ctx.app.store, now: Date())
                }
                let boss = Browser(ctx.app)
                #expect(try await boss.signIn("boss", "password-boss").status == .seeOther)
                let page = try await boss.send(.GET, "/dashboard?days=30&lang=ru")
                #expect(page.status == .ok)
                #expect(boss.html.contains("Панель руководителя") && boss.html.contains("<svg class=\"chart\""))
                #expect(boss.html.contains("<b>4</b>"))                      // received in the period
                #expect(boss.html.contains("Петроградский") && boss.html.contains("Сейчас в сети"))
                try await boss.send(.GET, "/?lang=fa")
                #expect(boss.html.contains("داشبورد") && boss.html.contains("<b>۴</b>") && boss.html.contains("dir=\"rtl\""))
                // Another unit's supervisor counts none of them; a reception specialist has no dashboard.
                let cop = Browser(ctx.app)
                try await cop.signIn("cop", "password-cop")
                try await cop.send(.GET, "/dashboard?lang=ru")
                #expect(cop.html.contains("<b>0</b>") && !cop.html.contains("Петроградский"))
                let clerk = Browser(ctx.app)
                try await clerk.signIn("clerk", "password-clerk")
                #expect(try await clerk.send(.GET, "/dashboard").status == .forbidden)
                #expect(try await clerk.send(.GET, "/").status == .ok && !clerk.html.contains("<svg class=\"chart\""))
            }
        }

        @Test func mapDrawsTheScopeListsACellAndLetsItsTilesIn() async throws {
            try await withOmbud(settings: { $0.mapTiles = TileTemplate("https://{s}.tile.example.org/{z}/{x}/{y}.png") }) { ctx, clock in
                let ids = try await seed(ctx, clock) // every appeal at 59.95, 30.31
                let codes = try await Appeal.query(on: ctx.app.db).all().map(\.trackingCode)
                for (login, unit) in [("boss", "hq"), ("cop", "police")] {
                    _ = try await Accounts.addUser(login: login, password: "password-\(login)", roles: ["supervisor"], fullName: login,
                                                   unitCodes: [unit], store: ctx.app.store, now: Date())
                }
                let boss = Browser(ctx.app)
                #expect(try await boss.signIn("boss", "password-boss").status == .seeOther)
                let page = try await boss.send(.GET, "/map?lang=en")
                #expect(page.status == .ok)
                #expect(boss.html.contains("<svg class=\"map clusters\"") && boss.html.contains("4 appeals on the map, 2 of them overdue"))
                #expect(boss.html.contains("<circle class=\"some\"") == false && boss.html.contains("<circle class=\"many\""))
                #expect(boss.html.contains("https://a.tile.example.org/") || boss.html.contains("https://b.tile.example.org/") || boss.html.contains("https://c.tile.example.org/"))
                #expect(page.headers.first(name: "Content-Security-Policy")?.contains("img-src 'self' https://*.tile.example.org") == true)
                // A cell lists its appeals; filters apply to the map and the cell alike.
                try await boss.send(.GET, "/map?pick=30.3,59.9,30.4,60.0&lang=en")
                #expect(codes.allSatisfy { boss.html.contains($0) } && boss.html.contains("4 appeals in this cell"))
                try await boss.send(.GET, "/map?pick=30.3,59.9,30.4,60.0&status=registered&lang=en")
                #expect(boss.html.contains("2 appeals on the map"))
                try await boss.send(.GET, "/map?view=grid&overdue=true&lang=en")
                #expect(boss.html.contains("1 appeals on the map") && boss.html.contains("fill-opacity"))
                // Bad input shows on the page, named.
                #expect(try await boss.send(.GET, "/map?bbox=1,2&from=yesterday").status == .unprocessableEntity)
                #expect(boss.html.contains("field-error"))
                // Another unit's supervisor sees an empty map; the list API takes the same box.
                let cop = Browser(ctx.app)
                _ = try await cop.signIn("cop", "password-cop")
                try await cop.send(.GET, "/map?pick=30.3,59.9,30.4,60.0&lang=en")
                #expect(!cop.html.contains("<circle") && !codes.contains { cop.html.contains($0) } && cop.html.contains("0 appeals on the map"))
                try await ctx.get("/api/v1/appeals?bbox=30.3,59.9,30.4,60.0") { res in
                    let page = try res.content.decode(AppealPage.self)
                    #expect(Set(page.items.map(\.id)) == Set(ids))
                }
                try await ctx.get("/api/v1/appeals?bbox=30.32,59.9,30.4,60.0") { res in
                    let page = try res.content.decode(AppealPage.self)
                    #expect(page.items.isEmpty)
                }
                try await ctx.get("/api/v1/appeals?bbox=30.4,59.9,30.3,60.0") { res in
                    #expect(res.status == .unprocessableEntity)
                    let body = try res.content.decode(APIErrorMiddleware.Body.self)
                    #expect(body.field == "bbox")
                }
            }
        }

        @Test func questionFiltersChooseTheQuestionsAndAppealsWithoutQuestionsStillCount() async throws {
            try await withOmbud { ctx, clock in
                _ = try await seed(ctx, clock)
                var bare = basicAppeal
                bare["questions"] = AnyEncodable([QuestionInput]())
                _ = try await ctx.createAppeal(bare)
                // Grouped by topic, the appeal without questions is in the "not set" group and the groups add up.
                let byTopic = try await table(ctx, "groupBy=topic:1&lang=en")
                #expect(byTopic.rows.first { $0.dimensions["topic"]?.code == "" }?.dimensions["topic"]?.name == "Not specified")
                #expect(byTopic.total.measures["count"] == 5)
                // A topic filter counts only the questions below it, not the other questions of the same appeals.
                let filtered = try await table(ctx, "groupBy=topic:1&topic=0003")
                #expect(filtered.rows.map { $0.dimensions["topic"]?.code } == ["0003"] && filtered.total.measures["count"] == 1)
                // Full-text words filter the grid as they filter the table.
                try await ctx.get("/api/v1/stats/grid?bbox=30,59,31,60&cell=1000&q=\("трамвай".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)") { res in
                    let grid = try res.content.decode(StatsController.Grid.self)
                    #expect(grid.cells.isEmpty)
                }
                // No dimension: the total only.
                let total = try await table(ctx, "measures=count")
                #expect(total.rows.isEmpty && total.total.measures["count"] == 5)
                // A value with a line break inside (CRLF) is quoted in CSV, and a negative number is not taken for a formula.
                #expect(CSVField.escape("a\r\nb") == "\"a\r\nb\"" && CSVField.escape("-71.05") == "-71.05" && CSVField.escape("=1+1") == "'=1+1")
            }
        }
    }
}
