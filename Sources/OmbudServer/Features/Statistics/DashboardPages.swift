import Fluent
import Foundation
import OmbudDomain
import SQLKit
import Vapor

/// `/dashboard`: the home page of supervisors, analysts and heads. The period's intake by day and channel, what is
/// open and overdue in each unit now, the on-time share week by week, the top topics and districts, satisfaction,
/// each person's work and who is online — all within the reader's scope, from the statistics' queries.
struct DashboardPages: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.grouped(PageGuard(), RememberLanguage()).get("dashboard", use: dashboard)
    }

    static let periods = [7, 30, 90, 365]

    func dashboard(req: Request) async throws -> Response {
        let actor = try req.actor
        guard actor.can(.statsRead) else { throw AppError.forbidden(reason: "this needs the permission stats.read") }
        let days = req.query[Int.self, at: "days"].flatMap { Self.periods.contains($0) ? $0 : nil } ?? 30
        let zone = req.settings.timeZone
        let today = CivilDate.of(req.now, in: zone)
        let first = today.adding(days: 1 - days)
        let scope = try await req.appealCondition()
        var period = AppealList.Filters()
        period.receivedFrom = first.iso
        period.receivedTo = today.iso
        func run(_ groupBy: [StatsDimension], _ measures: [StatsMeasure], _ filters: AppealList.Filters) async throws -> StatsTableView {
            let spec = StatsSpec(groupBy: groupBy, measures: measures)
            let result = try await StatsQuery.asked(by: req, spec, filters).run(on: req)
            return try await StatsTableView.make(result, spec: spec, req: req)
        }
        let language = req.language
        let f = req.format

        // Intake by day, every day of the period shown (a day without appeals is a zero, not a gap).
        let byDay = try await run([.day], [.count, .onTimeShare, .avgRating, .satisfiedShare, .overdue], period)
        let counts = Dictionary(uniqueKeysWithValues: byDay.rows.compactMap { row in
            row.dimensions["day"].map { ($0.code, row.measures["count"].flatMap { $0 } ?? 0) }
        })
        let everyDay = (0..<days).map { first.adding(days: $0) }
        let labelEvery = max(1, days / 8)
        let intake = SVGChart.columns(everyDay.map { day in
            let count = counts[day.iso] ?? 0
            return SVGChart.Bar(label: f.shortDay(day), value: count, title: "\(f.number(String(Int(count)))) — \(f.date(day))",
                                highlight: day == today)
        }, labelEvery: labelEvery, rightToLeft: language == .fa)

        let channels = try await run([.channel], [.count], period)
        let topics = try await run([.topic(level: 3)], [.count, .overdue], period)
        let districts = try await run([.district], [.count, .overdue], period)

        // Units now: what is open, and what of it is past its date.
        var open = AppealList.Filters()
        open.status = AppealTransitions.workflow.states.filter { !$0.terminal }.map(\.key).joined(separator: ",")
        let openByUnit = try await run([.executor], [.open], open)
        var late = open
        late.overdue = true
        let overdueByUnit = try await run([.executor], [.count], late)
        let overdueCounts = Dictionary(overdueByUnit.rows.compactMap { row in row.dimensions["executor"].map { ($0.code, row.measures["count"].flatMap { $0 } ?? 0) } },
                                       uniquingKeysWith: { a, _ in a })

        // On time, week by week over the last twelve weeks (of closing appeals received then).
        var weeks = AppealList.Filters()
        weeks.receivedFrom = today.adding(days: -7 * 12 + 1).iso
        weeks.receivedTo = today.iso
        let weekly = try await run([.week], [.onTimeShare, .closed], weeks).rows
            .sorted { ($0.dimensions["week"]?.code ?? "") < ($1.dimensions["week"]?.code ?? "") }
        let trend = SVGChart.line(weekly.map { row in
            let share = row.measures["onTimeShare"].flatMap { $0 } ?? 0
            let code = row.dimensions["week"]?.code ?? ""
            return SVGChart.Bar(label: f.number(String(code.split(separator: "W").last ?? "")), value: share,
                                title: "\(f.percent(share)) — \(row.dimensions["week"]?.name ?? code)")
        }, rightToLeft: language == .fa)

        let staff = try await run([.assignee], [.count, .closed, .overdue, .onTimeShare, .avgRating], period)
        let registered = try await Self.registeredBy(since: first.start(in: zone), scope: scope, db: req.db)
        let online = try await Self.online(req: req)

        func bars(_ table: StatsTableView, _ key: String, limit: Int = 10) -> [[String: Any]] {
            let top = table.rows.prefix(limit)
            let maximum = max(top.compactMap { $0.measures["count"].flatMap { $0 } }.max() ?? 1, 1)
            return top.map { row in
                let count = row.measures["count"].flatMap { $0 } ?? 0
                let overdue = row.measures["overdue"].flatMap { $0 } ?? 0
                // Official classifier codes help; the made-up codes of local topics do not.
                let code = row.dimensions[key]?.code ?? ""
                return ["name": row.dimensions[key]?.name ?? "", "code": key == "topic" && Classifier.isOfficialCode(code) ? code : "",
                        "count": f.number(String(Int(count))), "width": Int((count / maximum * 100).rounded()),
                        "overdue": overdue > 0 ? f.number(String(Int(overdue))) : ""] as [String: Any]
            }
        }
        let total = byDay.total.measures
        func value(_ key: String) -> Double? { total[key].flatMap { $0 } }
        let context: [String: Any] = [
            "periods": Self.periods.map { ["days": $0, "label": req.text("dashboard", "days\($0)"), "current": $0 == days] },
            "from": f.date(first), "to": f.date(today),
            "received": f.number(String(Int(value("count") ?? 0))),
            "overdue": f.number(String(Int(value("overdue") ?? 0))),
            "onTime": value("onTimeShare").map(f.percent) ?? "—",
            "rating": value("avgRating").map { f.decimal($0) } ?? "—",
            "satisfied": value("satisfiedShare").map(f.percent) ?? "—",
            "intake": intake,
            "trend": weekly.isEmpty ? "" : trend,
            "channels": bars(channels, "channel"),
            "topics": bars(topics, "topic"),
            "districts": bars(districts, "district"),
            "units": openByUnit.rows.prefix(15).map { row in
                let code = row.dimensions["executor"]?.code ?? ""
                return ["name": row.dimensions["executor"]?.name ?? "", "open": f.number(String(Int(row.measures["open"].flatMap { $0 } ?? 0))),
                        "overdue": f.number(String(Int(overdueCounts[code] ?? 0))), "late": (overdueCounts[code] ?? 0) > 0] as [String: Any]
            },
            "staff": staff.rows.filter { $0.dimensions["assignee"]?.code != "" }.prefix(30).map { row in
                let m = row.measures
                return ["login": row.dimensions["assignee"]?.code ?? "", "name": row.dimensions["assignee"]?.name ?? "",
                        "registered": f.number(String(registered[row.dimensions["assignee"]?.code ?? ""] ?? 0)),
                        "count": f.number(String(Int(m["count"].flatMap { $0 } ?? 0))),
                        "answered": f.number(String(Int(m["closed"].flatMap { $0 } ?? 0))),
                        "overdue": f.number(String(Int(m["overdue"].flatMap { $0 } ?? 0))),
                        "onTime": m["onTimeShare"].flatMap { $0 }.map(f.percent) ?? "—",
                        "rating": m["avgRating"].flatMap { $0 }.map { f.decimal($0) } ?? "—"] as [String: Any]
            },
            "online": online,
        ]
        return req.page("dashboard", context)
    }

    /// Appeals registered by each person (by login) since `since`, of those in the reader's scope.
    static func registeredBy(since: Date, scope: (any SQLExpression)?, db: any Database) async throws -> [String: Int] {
        let sql = db as! any SQLDatabase
        var query = sql.select().column(SQLColumn("login", table: "u")).column(SQLRaw("COUNT(*)"), as: "n")
            .from(SQLAlias(SQLIdentifier("history"), as: SQLIdentifier("h")))
            .join(SQLAlias(SQLIdentifier("users"), as: SQLIdentifier("u")), method: SQLJoinMethod.inner,
                  on: SQLColumn("actor_id", table: "h"), .equal, SQLColumn("id", table: "u"))
            .join(SQLIdentifier("appeals"), method: SQLJoinMethod.inner, on: SQLColumn("appeal_id", table: "h"), .equal, SQLColumn("id", table: "appeals"))
            .where(SQLColumn("field", table: "h"), .equal, SQLBind("status"))
            .where(SQLColumn("to_value", table: "h"), .equal, SQLBind("registered"))
            .where(SQLColumn("at", table: "h"), .greaterThanOrEqual, SQLBind(since))
        if let scope { query = query.where(scope) }
        return Dictionary(try await query.groupBy(SQLColumn("login", table: "u")).all().map {
            (try $0.decode(column: "login", as: String.self), try $0.decode(column: "n", as: Int.self))
        }, uniquingKeysWith: +)
    }

    /// Staff seen in the last five minutes: of the reader's units and those below them (everyone with `scope.all`).
    static func online(req: Request) async throws -> [[String: Any]] {
        let since = req.now.addingTimeInterval(-300)
        let users = try await User.query(on: req.db).filter(\.$lastSeenAt >= since).filter(\.$isActive == true).sort(\.$fullName).all()
        let scope = try await req.accessScope()
        let f = req.format
        return users.filter { user in
            switch scope {
            case .all: true
            case let .units(visible, _): !Set(user.unitIDs).isDisjoint(with: visible)
            }
        }.map { ["name": $0.fullName, "login": $0.login, "seen": $0.lastSeenAt.map { f.dateTime($0) } ?? ""] }
    }
}
