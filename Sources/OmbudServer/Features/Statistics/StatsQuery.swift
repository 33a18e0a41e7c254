import Fluent
import Foundation
import OmbudDomain
import SQLKit
import Vapor

/// The figures of `GET /api/v1/stats`, the dashboard and reports. `run(on:)` answers from the in-memory copy of the
/// appeals (`StatsIndex`) when it can; `run(db:)` is the database's count — one grouped query for the sums, and one more
/// for the days to close when a percentile is asked for, periods grouped by the local day of receipt and added up into
/// weeks, months, quarters and years here. Both apply the same rules; the tests hold them equal.
struct StatsQuery {
    var spec: StatsSpec
    var filters: AppealList.Filters
    var access: AccessScope
    var user: UUID
    var settings: Settings
    var now: Date

    var scope: (any SQLExpression)? { AccessSQL.condition(access, user: user) }

    /// The question as the request's actor asks it: within their scope, in the server's time zone, now.
    static func asked(by req: Request, _ spec: StatsSpec, _ filters: AppealList.Filters) async throws -> StatsQuery {
        StatsQuery(spec: spec, filters: filters, access: try await req.accessScope(), user: try req.actor.userID, settings: req.settings,
                   now: req.now)
    }

    /// From memory when the index is loaded and the question has no full-text `q`; from the database otherwise.
    func run(on req: Request) async throws -> Result {
        if await req.application.ombud.stats.isReady(req.db), let query = try await factsQuery(db: req.db),
           let answer = await req.application.ombud.stats.run(query, db: req.db) {
            return Result(rows: answer.rows.map { Row(codes: $0.codes, tally: $0.tally) }, total: answer.total)
        }
        return try await run(db: req.db)
    }

    /// The question in the index's terms, the list's filters checked as the list checks them; nil for a full-text `q`
    /// (the words are in the database's index only).
    func factsQuery(db: any Database) async throws -> StatsFacts.Query? {
        guard filters.q.nonBlank == nil, spec.groupBy.count <= 2 else { return nil }
        let sql = db as! any SQLDatabase
        let today = CivilDate.of(now, in: settings.timeZone)
        // The same checks and the same errors as the database's count.
        _ = try await AppealList.filtered(sql.select(), filters, scope: nil, settings: settings, today: today, db: db)
        let units = UnitLookup(db: db)
        var query = StatsFacts.Query(spec: spec, today: today, scope: access, user: user, statuses: AppealList.list(filters.status),
                                     channels: AppealList.list(filters.channel), office: try await units.id(filters.office, field: "office"),
                                     topic: filters.topic?.trimmingCharacters(in: .whitespaces).nonBlank, overdue: filters.overdue,
                                     from: filters.receivedFrom.flatMap(CivilDate.init(iso:)).map { $0.start(in: settings.timeZone) },
                                     to: filters.receivedTo.flatMap(CivilDate.init(iso:)).map { $0.adding(days: 1).start(in: settings.timeZone) })
        if let executor = filters.executor?.trimmingCharacters(in: .whitespaces).nonBlank {
            if let id = UUID(uuidString: executor) { query.executorUser = id } else { query.executorUnit = try await units.id(executor, field: "executor") }
        }
        if let raw = filters.bbox.nonBlank { query.box = try? MapGrid.Box(parsing: raw) }
        for case let .topic(level?) in spec.groupBy {
            for row in try await sql.raw(Self.topicRollup(level: level)).all() {
                query.rollup[try row.decode(column: "code", as: String.self)] = try row.decode(column: "ancestor", as: String.self)
            }
        }
        return query
    }

    struct Row {
        /// One code per dimension of `spec.groupBy` ("" where the appeal has none: no district, no executor).
        var codes: [String]
        var tally: StatsTally
    }

    struct Result {
        var rows: [Row]
        var total: StatsTally
    }

    func run(db: any Database) async throws -> Result {
        let sql = db as! any SQLDatabase
        let today = CivilDate.of(now, in: settings.timeZone)
        let offsets = try await Self.offsets(sql, zone: settings.timeZone, now: now)
        let receivedDay = Self.localDay("appeals.received_at", dialect: sql.dialect.name, zone: settings.timeZone, spans: offsets)
        let closedDay = Self.localDay("appeals.closed_at", dialect: sql.dialect.name, zone: settings.timeZone, spans: offsets)

        // Grouped by the local day where a period is asked for; added up into the period below.
        let keys: [SQLQueryString] = spec.groupBy.enumerated().map { index, dimension in
            switch dimension {
            case .topic, .executor, .assignee, .result: "qd.\(unsafeRaw: "d\(index)")"
            case .office: "appeals.office_id"
            case .district: "appeals.district"
            case .channel: "appeals.channel"
            case .status: "appeals.status"
            case .kind: "appeals.kind"
            case .day, .week, .month, .quarter, .year: receivedDay
            }
        }
        let sums = try await grouped(sql, keys: keys, today: today, closedDay: closedDay)
        var rows: [[String]: StatsTally] = [:]
        var total = StatsTally()
        for row in sums {
            rows[periodCodes(row.codes), default: StatsTally()] += row.tally
            total += row.tally
        }
        // Appeal-level groups add up to the total; a question dimension counts an appeal in several groups, so
        // the total is counted again, by appeal.
        if !questionDimensions.isEmpty {
            total = try await grouped(sql, keys: [], today: today, closedDay: closedDay).first?.tally ?? StatsTally()
        }
        if keys.isEmpty { rows = [:] } // no dimension: the total only
        var result = Result(rows: rows.map { Row(codes: $0.key, tally: $0.value) }, total: total)
        if spec.measures.contains(where: \.needsDurations) {
            try await addDurations(sql, keys: keys, to: &result, today: today)
        }
        return result
    }

    /// A day's code turned into the code of the asked period, ids in one case on both databases (as `uuidString`);
    /// other codes as they are.
    private func periodCodes(_ codes: [String]) -> [String] {
        zip(spec.groupBy, codes).map { dimension, code in
            if [.office, .executor, .assignee].contains(dimension) { return code.uppercased() }
            guard dimension.isPeriod, let day = CivilDate(iso: code) else { return code }
            return StatsPeriod.code(dimension, of: day) ?? code
        }
    }

    private var questionDimensions: [(Int, StatsDimension)] {
        spec.groupBy.enumerated().filter { $0.element.isQuestionLevel }.map { ($0.offset, $0.element) }
    }

    private var needsRatings: Bool { spec.measures.contains(.avgRating) || spec.measures.contains(.satisfiedShare) }

    /// `appeals` with the list's filters and the scope; with `questions`, joined to one row per appeal and distinct value
    /// of the question dimensions (an appeal counts once in each group its questions put it in); with `ratings`, to the
    /// appeal's latest rating.
    private func base(_ sql: any SQLDatabase, select: SQLSelectBuilder, questions: Bool, ratings: Bool, today: CivilDate) async throws -> SQLSelectBuilder {
        var query = select.from("appeals")
        if questions, !questionDimensions.isEmpty {
            var columns: [SQLQueryString] = []
            var rollup: SQLQueryString = ""
            for (index, dimension) in questionDimensions {
                let alias = SQLIdentifier("d\(index)")
                switch dimension {
                case .topic(nil): columns.append("q.topic_code AS \(alias)")
                case let .topic(level?):
                    columns.append("COALESCE(r.ancestor, q.topic_code) AS \(alias)")
                    rollup = " LEFT JOIN (\(Self.topicRollup(level: level))) r ON r.code = q.topic_code"
                case .executor: columns.append("COALESCE(\(Self.text("q.executor_unit_id", sql)), '') AS \(alias)")
                case .result: columns.append("COALESCE(q.result, '') AS \(alias)")
                default: columns.append("COALESCE(\(Self.text("q.executor_user_id", sql)), '') AS \(alias)")
                }
            }
            // The list's question filters choose the questions that count, not only the appeals: `topic=0005` grouped
            // by topic shows the topics below 0005, not the other questions of the same appeals.
            var conditions: [SQLQueryString] = []
            if let topic = filters.topic.nonBlank {
                conditions.append("(q.topic_code = \(bind: topic) OR q.topic_code LIKE \(bind: AppealList.below(topic)) ESCAPE '\\')")
            }
            if let executor = filters.executor.nonBlank {
                conditions.append(UUID(uuidString: executor).map { "q.executor_user_id = \(bind: $0)" }
                                  ?? "q.executor_unit_id IN (SELECT id FROM org_units WHERE code = \(bind: executor))")
            }
            let condition: SQLQueryString = conditions.isEmpty ? "" : " WHERE \(SQLList(conditions, separator: SQLRaw(" AND ")))"
            // A LEFT JOIN: an appeal without questions is in the "not set" group, so the groups add up to the total.
            query = query.join(SQLQueryString("(SELECT DISTINCT q.appeal_id, \(SQLList(columns)) FROM questions q\(rollup)\(condition)) qd"),
                               method: conditions.isEmpty ? SQLJoinMethod.left : SQLJoinMethod.inner, on: SQLRaw("qd.appeal_id = appeals.id"))
        }
        if ratings {
            query = query.join(SQLRaw("""
                (SELECT r.appeal_id, r.score FROM appeal_ratings r WHERE r.id = \
                (SELECT r2.id FROM appeal_ratings r2 WHERE r2.appeal_id = r.appeal_id ORDER BY r2.at DESC, r2.id DESC LIMIT 1)) lr
                """), method: SQLJoinMethod.left, on: SQLRaw("lr.appeal_id = appeals.id"))
        }
        return try await Self.filtered(query, filters, scope: scope, settings: settings, today: today, sql: sql)
    }

    /// The list's filters, the scope, and `q` as words only: the statistics show no personal data, so names and
    /// addresses do not select appeals either.
    static func filtered(_ query: SQLSelectBuilder, _ filters: AppealList.Filters, scope: (any SQLExpression)?, settings: Settings,
                         today: CivilDate, sql: any SQLDatabase) async throws -> SQLSelectBuilder {
        let query = try await AppealList.filtered(query, filters, scope: scope, settings: settings, today: today, db: sql as! any Database)
        guard let q = filters.q.nonBlank else { return query }
        guard let match = AppealSearch.match(q, dialect: sql.dialect.name, personal: false) else { return query.where(SQLRaw("1 = 0")) }
        return sql.dialect.name == "sqlite"
            ? query.where(SQLQueryString("appeals.rowid IN (SELECT rowid FROM appeal_search WHERE appeal_search MATCH \(bind: match))"))
            : query.where(SQLQueryString("appeals.search_vector @@ to_tsquery('simple', \(bind: match))"))
    }

    /// The sums per group of `keys` (none: the total, which counts appeals, not appeal-and-group pairs).
    private func grouped(_ sql: any SQLDatabase, keys: [SQLQueryString], today: CivilDate, closedDay: SQLQueryString) async throws -> [Row] {
        var select = sql.select()
        for (index, key) in keys.enumerated() { select = select.column(SQLQueryString("COALESCE(\(Self.text(key, sql)), '')"), as: "k\(index)") }
        // Only the sums the asked measures need: each costs an expression per appeal (the local day of closing most).
        let measures = Set(spec.measures)
        let sums: [(String, SQLQueryString, Bool)] = [
            ("open", "appeals.closed_at IS NULL", !measures.isDisjoint(with: [.open, .closed, .onTimeShare])),
            ("overdue", Self.overdueSQL(today: today, closedDay: closedDay), measures.contains(.overdue)),
            ("on_time", "appeals.closed_at IS NOT NULL AND NOT \(Self.closedLate(closedDay))", measures.contains(.onTimeShare)),
            ("extended", "appeals.extension_days > 0", measures.contains(.extended)),
            ("redirected", "appeals.redirected_to_unit_id IS NOT NULL", measures.contains(.redirected)),
        ]
        select = select.column(SQLRaw("COUNT(*)"), as: "n")
        for (name, condition, needed) in sums where needed {
            select = select.column(SQLQueryString("SUM(CASE WHEN \(condition) THEN 1 ELSE 0 END)"), as: name)
        }
        if needsRatings {
            select = select.column(SQLRaw("CAST(SUM(COALESCE(lr.score, 0)) AS BIGINT)"), as: "rating_sum")
                .column(SQLRaw("SUM(CASE WHEN lr.score IS NOT NULL THEN 1 ELSE 0 END)"), as: "rated")
                .column(SQLRaw("SUM(CASE WHEN lr.score >= \(StatsTally.satisfiedScore) THEN 1 ELSE 0 END)"), as: "satisfied")
        }
        var query = try await base(sql, select: select, questions: !keys.isEmpty, ratings: needsRatings, today: today)
        for index in keys.indices { query = query.groupBy(SQLIdentifier("k\(index)")) }
        return try await query.all().map { row in
            var tally = StatsTally()
            func sum(_ column: String) throws -> Int { row.contains(column: column) ? try row.decode(column: column, as: Int?.self) ?? 0 : 0 }
            tally.count = try row.decode(column: "n", as: Int.self)
            tally.open = try sum("open")
            tally.closed = tally.count - tally.open
            tally.overdue = try sum("overdue")
            tally.closedOnTime = try sum("on_time")
            tally.extended = try sum("extended")
            tally.redirected = try sum("redirected")
            if needsRatings {
                tally.ratingSum = try row.decode(column: "rating_sum", as: Int?.self) ?? 0
                tally.rated = try row.decode(column: "rated", as: Int?.self) ?? 0
                tally.satisfied = try row.decode(column: "satisfied", as: Int?.self) ?? 0
            }
            return Row(codes: try keys.indices.map { try row.decode(column: "k\($0)", as: String.self) }, tally: tally)
        }
    }

    /// The days from receipt to closing of every closed appeal, into its group and the total.
    private func addDurations(_ sql: any SQLDatabase, keys: [SQLQueryString], to result: inout Result, today: CivilDate) async throws {
        let seconds: SQLQueryString = sql.dialect.name == "sqlite"
            ? "(appeals.closed_at - appeals.received_at)"
            : "CAST(EXTRACT(EPOCH FROM (appeals.closed_at - appeals.received_at)) AS DOUBLE PRECISION)"
        func days(_ keys: [SQLQueryString], questions: Bool) async throws -> [(codes: [String], days: Double)] {
            var select = sql.select().column(seconds, as: "seconds")
            for (index, key) in keys.enumerated() { select = select.column(SQLQueryString("COALESCE(\(Self.text(key, sql)), '')"), as: "k\(index)") }
            return try await base(sql, select: select, questions: questions, ratings: false, today: today)
                .where(SQLRaw("appeals.closed_at IS NOT NULL")).all().map { row in
                    (periodCodes(try keys.indices.map { try row.decode(column: "k\($0)", as: String.self) }),
                     try row.decode(column: "seconds", as: Double.self) / 86_400)
                }
        }
        let grouped = try await days(keys, questions: true)
        let byGroup = Dictionary(grouping: grouped, by: \.codes).mapValues { $0.map(\.days) }
        for index in result.rows.indices { result.rows[index].tally.daysToClose = byGroup[result.rows[index].codes] ?? [] }
        result.total.daysToClose = questionDimensions.isEmpty ? grouped.map(\.days) : try await days([], questions: false).map(\.days)
    }

    /// The time zone's offsets over the appeals' span of receipt and closing, for SQLite (it has no named time zones;
    /// PostgreSQL converts by name and needs none).
    static func offsets(_ sql: any SQLDatabase, zone: TimeZone, now: Date) async throws -> [OffsetSpan] {
        guard sql.dialect.name == "sqlite" else { return [] }
        // From the first receipt (an indexed read) to now; an appeal is closed after its receipt, and the last span
        // has no end.
        let row = try await sql.select().column(SQLRaw("MIN(received_at)"), as: "first").column(SQLRaw("MAX(received_at)"), as: "last")
            .from("appeals").first()
        let first = try row?.decode(column: "first", as: Date?.self) ?? now
        let last = max(try row?.decode(column: "last", as: Date?.self) ?? now, now)
        return OffsetSpan.spans(zone, from: first.addingTimeInterval(-86_400), to: last.addingTimeInterval(86_400))
    }

    /// Overdue as the statistics count it: open past the control date, or closed after it.
    static func overdueSQL(today: CivilDate, closedDay: SQLQueryString) -> SQLQueryString {
        "((appeals.closed_at IS NULL AND \(AppealQueries.overdueSQL(today: today))) OR \(closedLate(closedDay)))"
    }

    static func closedLate(_ closedDay: SQLQueryString) -> SQLQueryString {
        "(appeals.closed_at IS NOT NULL AND appeals.control_date IS NOT NULL AND \(closedDay) > appeals.control_date)"
    }

    /// `column`'s local day as `YYYY-MM-DD`.
    static func localDay(_ column: String, dialect: String, zone: TimeZone, spans: [OffsetSpan]) -> SQLQueryString {
        guard dialect == "sqlite" else {
            return "to_char(\(unsafeRaw: column) AT TIME ZONE \(bind: zone.identifier), 'YYYY-MM-DD')"
        }
        guard spans.count > 1 else { return "date(\(unsafeRaw: column) + \(literal: spans.first?.seconds ?? 0), 'unixepoch')" }
        var offset: SQLQueryString = "CASE"
        for span in spans {
            if let until = span.until {
                offset = offset + " WHEN \(unsafeRaw: column) < \(literal: until.timeIntervalSince1970) THEN \(literal: span.seconds)"
            } else {
                offset = offset + " ELSE \(literal: span.seconds)"
            }
        }
        return "date(\(unsafeRaw: column) + (\(offset) END), 'unixepoch')"
    }

    /// A key as text, to group and compare codes alike on both databases.
    static func text(_ expression: SQLQueryString, _ sql: any SQLDatabase) -> SQLQueryString {
        sql.dialect.name == "sqlite" ? expression : "CAST(\(expression) AS TEXT)"
    }

    /// Each topic's ancestor at `level`, from the classifier's parent links (levels follow one another down a branch).
    /// A topic no deeper than `level`, or with no ancestor there, is not listed: it stands for itself.
    static func topicRollup(level: Int) -> SQLQueryString {
        """
        WITH RECURSIVE chain(code, ancestor, level) AS (\
        SELECT code, code, level FROM topics \
        UNION ALL SELECT chain.code, p.code, p.level FROM chain JOIN topics t ON t.code = chain.ancestor \
        JOIN topics p ON p.code = t.parent_code) \
        SELECT code, ancestor FROM chain WHERE level = \(literal: level)
        """
    }
}
