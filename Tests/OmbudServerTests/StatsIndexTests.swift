import Fluent
import Foundation
import OmbudDomain
import SQLKit
import Testing
import Vapor
import VaporTesting
@testable import OmbudServer

extension OmbudServerSuite {
    /// The in-memory statistics (`StatsIndex`) against the database's count (`StatsQuery.run(db:)`), over varied appeals,
    /// every dimension, the list's filters and three scopes — before and after writes that only the change log tells
    /// the index about.
    @Suite struct StatsIndexTests {
        /// SplitMix64: the same appeals on every run, so a difference can be reproduced.
        struct Random {
            var state: UInt64
            mutating func next(_ bound: Int) -> Int {
                state &+= 0x9E37_79B9_7F4A_7C15
                var z = state
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                return Int((z ^ (z >> 31)) % UInt64(bound))
            }
            mutating func pick<T>(_ values: [T]) -> T { values[next(values.count)] }
        }

        struct Context {
            let ctx: TestContext
            let units: [String: UUID]
            let tester: UUID
        }

        /// Appeals through the API (one to three questions, or none), then their figures set directly in the tables:
        /// dates of closing and control, statuses, executors, results, redirects, extensions, ratings, points.
        func seed(_ ctx: TestContext, _ clock: MutableClock, random: inout Random, count: Int) async throws {
            let sql = ctx.app.db as! any SQLDatabase
            let topics = try await sql.raw("SELECT code FROM topics WHERE level = 4 ORDER BY code LIMIT 6").all().map { try $0.decode(column: "code", as: String.self) }
            let units = try await OrgUnit.query(on: ctx.app.db).all()
            let unitIDs = units.compactMap(\.id)
            let tester = try #require(try await User.query(on: ctx.app.db).filter(\.$login == "tester").first()?.id)
            for _ in 0..<count {
                var input = basicAppeal
                input["channel"] = AnyEncodable(random.pick(["phone", "e-mail", "web", "letter"]))
                input["kind"] = AnyEncodable(random.pick(["statement", "complaint", "proposal"]))
                input["officeCode"] = AnyEncodable(random.pick(["hq", "city", "roads", "police"]))
                let district = random.pick(["Невский", "Петроградский", "Кировский"])
                let point = random.next(5) == 0 ? nil : (59.9 + Double(random.next(100)) / 1000, 30.2 + Double(random.next(200)) / 1000)
                input["address"] = AnyEncodable(AddressInput(text: "ул. Мира, д. \(random.next(90) + 1)", lat: point?.0, lon: point?.1, district: district))
                input["questions"] = AnyEncodable((0..<random.next(4)).map { _ in QuestionInput(topicCode: random.pick(topics), text: "Вопрос") })
                let id = try await ctx.createAppeal(input).id
                clock.now = clock.now.addingTimeInterval(Double(random.next(86_400 * 3)) + 0.123_456_7)
                let received = try #require(try await Appeal.find(id, on: ctx.app.db)).receivedAt
                let closed = random.next(2) == 0 ? nil : received.addingTimeInterval(Double(random.next(86_400 * 40)) + 0.25)
                let today = CivilDate.of(clock.now, in: ctx.settings.timeZone)
                try await sql.update("appeals")
                    .set("closed_at", to: SQLBind(closed))
                    .set("status", to: SQLBind(closed == nil ? random.pick(["registered", "in-work"]) : "answered"))
                    .set("control_date", to: SQLBind(random.next(6) == 0 ? nil : today.adding(days: random.next(60) - 40).iso))
                    .set("under_control", to: SQLBind(random.next(5) != 0))
                    .set("extension_days", to: SQLBind(random.next(4) == 0 ? 30 : 0))
                    .set("redirected_to_unit_id", to: SQLBind(random.next(6) == 0 ? random.pick(unitIDs) : nil))
                    .where("id", .equal, SQLBind(id)).run()
                for question in try await sql.raw("SELECT id FROM questions WHERE appeal_id = \(bind: id)").all() {
                    try await sql.update("questions")
                        .set("executor_unit_id", to: SQLBind(random.next(4) == 0 ? nil : random.pick(unitIDs)))
                        .set("executor_user_id", to: SQLBind(random.next(3) == 0 ? tester : nil))
                        .set("result", to: SQLBind(random.next(3) == 0 ? nil : random.pick(["supported", "explained", "not-supported"])))
                        .where("id", .equal, SQLBind(try question.decode(column: "id", as: UUID.self))).run()
                }
                for _ in 0..<random.next(3) {
                    let rating = AppealRating()
                    rating.id = UUID()
                    rating.appealID = id
                    rating.score = random.next(5) + 1
                    rating.solved = rating.score >= 4
                    rating.source = "portal"
                    rating.at = clock.now.addingTimeInterval(Double(random.next(1000)))
                    try await rating.create(on: ctx.app.db)
                }
            }
        }

        /// The rows and total as comparable text, durations to a millionth of a day.
        func normalized(_ rows: [(codes: [String], tally: StatsTally)], _ total: StatsTally) -> [String] {
            func text(_ t: StatsTally) -> String {
                var t = t
                let days = t.daysToClose.map { String(format: "%.6f", $0) }.sorted()
                t.daysToClose = []
                return "\(t) \(days)"
            }
            return rows.map { "\($0.codes) \(text($0.tally))" }.sorted() + ["total \(text(total))"]
        }

        func compare(_ query: StatsQuery, _ ctx: TestContext, _ label: String) async throws {
            let counted = try await query.run(db: ctx.app.db)
            let facts = try #require(try await query.factsQuery(db: ctx.app.db))
            let held = try #require(await ctx.app.ombud.stats.run(facts, db: ctx.app.db))
            let expected = normalized(counted.rows.map { ($0.codes, $0.tally) }, counted.total)
            let found = normalized(held.rows.map { ($0.codes, $0.tally) }, held.total)
            #expect(found == expected, "\(label)")
        }

        func compareAll(_ ctx: TestContext, _ clock: MutableClock, scopes: [(AccessScope, UUID)]) async throws {
            let today = CivilDate.of(clock.now, in: ctx.settings.timeZone)
            let dimensions = StatsDimension.names.map { try? StatsDimension(parsing: $0) }.compactMap { $0 } + [.topic(level: 1), .topic(level: 2)]
            let specs = [[]] + dimensions.map { [$0] } + [[.executor, .month], [.topic(level: 1), .district], [.channel, .week], [.status, .assignee],
                                                          [.office, .result], [.topic(level: nil), .executor]]
            var filters: [(String, AppealList.Filters)] = [("none", AppealList.Filters())]
            func add(_ label: String, _ change: (inout AppealList.Filters) -> Void) {
                var f = AppealList.Filters()
                change(&f)
                filters.append((label, f))
            }
            let topic = try await (ctx.app.db as! any SQLDatabase).raw("SELECT code FROM topics WHERE level = 1 ORDER BY code LIMIT 1").first()?
                .decode(column: "code", as: String.self)
            add("status") { $0.status = "registered,answered" }
            add("channel") { $0.channel = "phone,web" }
            add("office") { $0.office = "city" }
            add("topic") { $0.topic = topic }
            add("topic, literally") { $0.topic = "000_" } // no wildcard: below no topic
            add("executor unit") { $0.executor = "roads" }
            add("executor user") { $0.executor = scopes[1].1.uuidString }
            add("overdue") { $0.overdue = true }
            add("not overdue") { $0.overdue = false }
            add("period") {
                $0.receivedFrom = today.adding(days: -20).iso
                $0.receivedTo = today.adding(days: -5).iso
            }
            add("box") { $0.bbox = "30.25,59.92,30.35,59.97" }
            let measures = StatsMeasure.allCases
            for (scopeIndex, (scope, user)) in scopes.enumerated() {
                for (label, filter) in filters {
                    // Every dimension with the whole scope; a sample of them in the narrower ones.
                    for (index, groupBy) in specs.enumerated() where scopeIndex == 0 || index % 3 == scopeIndex {
                        let query = StatsQuery(spec: StatsSpec(groupBy: groupBy, measures: measures), filters: filter, access: scope, user: user,
                                               settings: ctx.settings, now: clock.now)
                        try await compare(query, ctx, "scope \(scopeIndex), \(label), \(groupBy.map(\.description))")
                    }
                }
            }
        }

        @Test func indexCountsAsTheDatabaseBeforeAndAfterWrites() async throws {
            try await withOmbud { ctx, clock in
                var random = Random(state: 20_261_207)
                try await seed(ctx, clock, random: &random, count: 40)
                let units = Dictionary(uniqueKeysWithValues: try await OrgUnit.query(on: ctx.app.db).all().map { ($0.code, $0.id ?? UUID()) })
                let tester = try #require(try await User.query(on: ctx.app.db).filter(\.$login == "tester").first()?.id)
                let scopes: [(AccessScope, UUID)] = [
                    (.all, tester),
                    (.units(Set([units["city"], units["roads"]].compactMap { $0 }), includesRoot: false), tester),
                    (.units(Set([units["police"]].compactMap { $0 }), includesRoot: true), UUID()),
                ]
                try await compareAll(ctx, clock, scopes: scopes)

                // Writes the index hears of only through the log: new appeals, changed rows, a question gone, a rating.
                try await seed(ctx, clock, random: &random, count: 8)
                let sql = ctx.app.db as! any SQLDatabase
                try await sql.raw("UPDATE appeals SET status = 'answered', closed_at = received_at WHERE closed_at IS NULL AND channel = 'web'").run()
                try await sql.raw("UPDATE appeals SET district = NULL WHERE kind = 'proposal'").run()
                if let question = try await sql.raw("SELECT id FROM questions ORDER BY id LIMIT 1").first()?.decode(column: "id", as: UUID.self) {
                    try await sql.raw("DELETE FROM questions WHERE id = \(bind: question)").run()
                }
                clock.now = clock.now.addingTimeInterval(86_400 * 9) // overdue depends on today
                try await compareAll(ctx, clock, scopes: scopes)

                // Questions asked at once wait for one another's pulls and all finish (a waiter once spun on the actor).
                let asked = StatsQuery(spec: StatsSpec(groupBy: [.channel], measures: [.count]), filters: AppealList.Filters(), access: .all,
                                       user: tester, settings: ctx.settings, now: clock.now)
                let factsQuery = try #require(try await asked.factsQuery(db: ctx.app.db))
                let index = ctx.app.ombud.stats
                let db = ctx.app.db
                let finished = try await withThrowingTaskGroup(of: Int?.self) { group in
                    group.addTask {
                        try await withThrowingTaskGroup(of: Int.self) { runs in
                            for _ in 0..<8 {
                                runs.addTask {
                                    try await sql.raw("UPDATE appeals SET extension_days = extension_days WHERE channel = 'phone'").run()
                                    return await index.run(factsQuery, db: db)?.total.count ?? -1
                                }
                            }
                            return try await runs.reduce(0) { $0 + ($1 > 0 ? 1 : 0) }
                        }
                    }
                    group.addTask {
                        try await Task.sleep(nanoseconds: 30_000_000_000)
                        return nil
                    }
                    let first = try await group.next() ?? nil
                    group.cancelAll()
                    return first
                }
                #expect(finished == 8)

                // The grid and the map's extent from memory match the database's.
                let cells = try MapGrid(box: MapGrid.Box(minLon: 30.2, minLat: 59.9, maxLon: 30.4, maxLat: 60.0), meters: 1000)
                let question = StatsQuery(spec: StatsSpec(groupBy: [], measures: [.count]), filters: AppealList.Filters(), access: .all, user: tester,
                                          settings: ctx.settings, now: clock.now)
                let facts = try #require(try await question.factsQuery(db: ctx.app.db))
                let held = try #require(await ctx.app.ombud.stats.grid(facts, cells: cells, db: ctx.app.db))
                var expected: [String] = []
                for row in try await sql.raw("""
                    SELECT lat, lon FROM appeals WHERE lat >= 59.9 AND lat < 60.0 AND lon >= 30.2 AND lon < 30.4
                    """).all() {
                    let (y, x) = cells.cell(lat: try row.decode(column: "lat", as: Double.self), lon: try row.decode(column: "lon", as: Double.self))
                    expected.append("\(y),\(x)")
                }
                let counts = Dictionary(grouping: expected, by: { $0 }).mapValues(\.count)
                #expect(Dictionary(uniqueKeysWithValues: held.map { ("\($0.y),\($0.x)", $0.count) }) == counts)
                #expect(held.reduce(0) { $0 + $1.count } == expected.count && !expected.isEmpty)
            }
        }
    }
}
