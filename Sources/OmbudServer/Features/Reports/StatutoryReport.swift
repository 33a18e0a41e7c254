import Fluent
import Foundation
import OmbudDomain
import SQLKit
import Vapor

/// `/reports/statutory`: the quarterly summary of work with appeals that an organisation files (the «информация о
/// работе с обращениями граждан»): what was received, by channel and kind; by section of the classifier; the results
/// of consideration in the classifier's terms, section by section; and how the answers went — on time, late,
/// extended, redirected. For a period (a quarter by default, the previous one) and optionally one receiving unit,
/// within the reader's scope; as a printable page and as XLSX (`format=xlsx`).
struct StatutoryReportPages: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.grouped(PageGuard(), RememberLanguage()).grouped(Require(.statsRead)).get("reports", "statutory", use: page)
    }

    /// The results shown as columns, in the classifier's order; anything else (a custom result) follows.
    static let results = ["supported", "supported-measures-taken", "explained", "not-supported", "answered", "left-without-answer", "redirected", "in-work", ""]

    struct Figures {
        var from: CivilDate
        var to: CivilDate
        var total: StatsTally
        var channels: [StatsRowView]
        var kinds: [StatsRowView]
        var sections: [StatsRowView]
        /// Per section code: result → questions of that section with that result.
        var results: [String: [String: Int]]
        var sectionNames: [String: String]
        var resultKeys: [String]
    }

    static func figures(from: CivilDate, to: CivilDate, office: String?, req: Request) async throws -> Figures {
        var filters = AppealList.Filters()
        filters.receivedFrom = from.iso
        filters.receivedTo = to.iso
        filters.office = office
        func run(_ groupBy: [StatsDimension], _ measures: [StatsMeasure]) async throws -> (StatsQuery.Result, StatsTableView) {
            let spec = StatsSpec(groupBy: groupBy, measures: measures)
            let result = try await StatsQuery.asked(by: req, spec, filters).run(on: req)
            return (result, try await StatsTableView.make(result, spec: spec, req: req))
        }
        let (all, channels) = try await run([.channel], [.count, .closed, .overdue, .onTimeShare, .extended, .redirected])
        let (_, kinds) = try await run([.kind], [.count])
        let (_, sections) = try await run([.topic(level: 1)], [.count])
        // Results are counted per question, as the form asks: an appeal with two questions answered counts twice.
        let question = try await StatsQuery.asked(by: req, StatsSpec(groupBy: [], measures: [.count]), filters)
        let sql = req.store.sql
        var select = sql.select().column(SQLRaw("COALESCE(r.ancestor, q.topic_code)"), as: "section")
            .column(SQLRaw("COALESCE(q.result, '')"), as: "result").column(SQLRaw("COUNT(*)"), as: "n")
            .from("appeals").join(SQLRaw("questions q"), method: SQLJoinMethod.inner, on: SQLRaw("q.appeal_id = appeals.id"))
            .join(SQLQueryString("(\(StatsQuery.topicRollup(level: 1))) r"), method: SQLJoinMethod.left, on: SQLRaw("r.code = q.topic_code"))
        select = try await StatsQuery.filtered(select, filters, scope: question.scope, settings: req.settings,
                                               today: CivilDate.of(req.now, in: req.settings.timeZone), sql: sql)
        var results: [String: [String: Int]] = [:]
        var seen = Set<String>()
        for row in try await select.groupBy(SQLRaw("COALESCE(r.ancestor, q.topic_code)")).groupBy(SQLRaw("COALESCE(q.result, '')")).all() {
            let result = try row.decode(column: "result", as: String.self)
            seen.insert(result)
            results[try row.decode(column: "section", as: String.self), default: [:]][result, default: 0] += try row.decode(column: "n", as: Int.self)
        }
        var names: [String: String] = [:]
        for topic in try await TopicRecord.query(on: req.db).filter(\.$id ~~ Array(results.keys)).all() { names[topic.id ?? ""] = topic.name }
        let keys = Self.results.filter { $0.isEmpty ? seen.contains($0) : true } + seen.subtracting(Self.results).sorted()
        return Figures(from: from, to: to, total: all.total, channels: channels.rows, kinds: kinds.rows, sections: sections.rows,
                       results: results, sectionNames: names, resultKeys: keys)
    }

    /// The period asked for: `quarter=2026-Q3`, or `from`/`to`, or the previous quarter.
    static func period(_ req: Request) throws -> (CivilDate, CivilDate, String?) {
        let today = CivilDate.of(req.now, in: req.settings.timeZone)
        if let raw = req.query[String.self, at: "quarter"].nonBlank {
            let parts = raw.split(separator: "-Q")
            guard parts.count == 2, let year = Int(parts[0]), let quarter = Int(parts[1]), (1...4).contains(quarter), (1900...2999).contains(year),
                  let first = CivilDate(year: year, month: quarter * 3 - 2, day: 1),
                  let last = CivilDate(year: year, month: quarter * 3, day: CivilDate.daysIn(month: quarter * 3, year: year)) else {
                throw AppError.invalid(field: "quarter", reason: "expected YYYY-Qn")
            }
            return (first, last, raw)
        }
        func day(_ field: String) throws -> CivilDate? {
            guard let raw = req.query[String.self, at: field].nonBlank else { return nil }
            guard let day = CivilDate(iso: raw) else { throw AppError.invalid(field: field, reason: "expected YYYY-MM-DD") }
            return day
        }
        let from = try day("from"), to = try day("to")
        if let from, let to {
            guard from <= to else { throw AppError.invalid(field: "to", reason: "is before from") }
            return (from, to, nil)
        }
        let (first, last) = ReportPeriod.previousQuarter.days(today: today)
        guard let first, let last else { throw AppError.invalid(field: "quarter", reason: "expected YYYY-Qn") }
        return (first, last, "\(first.year)-Q\((first.month + 2) / 3)")
    }

    func page(req: Request) async throws -> Response {
        let office = req.query[String.self, at: "office"].nonBlank
        let today = CivilDate.of(req.now, in: req.settings.timeZone)
        var context: [String: Any?] = ["office": office]
        let figures: Figures
        let chosen: String?
        do {
            let (from, to, quarter) = try Self.period(req)
            chosen = quarter
            figures = try await Self.figures(from: from, to: to, office: office, req: req)
        } catch let error as AppError where error.field != nil {
            context["error"] = req.message(error)
            context["quarters"] = Self.quarters(today: today, chosen: nil, req: req)
            return req.page("statutory", context.present, status: error.status)
        }
        if let format = try ListExports.format(req) { return try await Self.download(figures, office: office, format: format, req: req) }
        let f = req.format
        func number(_ n: Int) -> String { f.number(String(n)) }
        func lines(_ rows: [StatsRowView], _ key: String) -> [[String: String]] {
            rows.map { ["name": $0.dimensions[key]?.name ?? "", "value": number(Int($0.measures["count"].flatMap { $0 } ?? 0))] }
        }
        context["quarters"] = Self.quarters(today: today, chosen: chosen, req: req)
        context["from"] = f.date(figures.from)
        context["to"] = f.date(figures.to)
        context["fromISO"] = figures.from.iso
        context["toISO"] = figures.to.iso
        context["received"] = number(figures.total.count)
        context["channels"] = lines(figures.channels, "channel")
        context["kinds"] = lines(figures.kinds, "kind")
        context["sections"] = lines(figures.sections, "topic")
        context["resultHeader"] = figures.resultKeys.map { $0.isEmpty ? req.text("statutory", "noResult") : req.catalogued("results", $0) }
        context["results"] = figures.sections.compactMap { row -> [String: Any]? in
            guard let code = row.dimensions["topic"]?.code else { return nil }
            let counts = figures.results[code] ?? [:]
            return ["name": figures.sectionNames[code] ?? row.dimensions["topic"]?.name ?? code,
                    "values": figures.resultKeys.map { number(counts[$0] ?? 0) }]
        }
        context["timeliness"] = Self.timeliness(figures, req: req).map { ["name": $0.0, "value": number($0.1)] }
        context["download"] = try req.actor.can(.export)
            ? "/reports/statutory?from=\(figures.from.iso)&to=\(figures.to.iso)" + (office.map { "&office=\($0.queryValue)" } ?? "") : nil
        return req.page("statutory", context.present)
    }

    static func timeliness(_ figures: Figures, req: Request) -> [(String, Int)] {
        [("answered", figures.total.closed), ("onTime", figures.total.closedOnTime), ("late", figures.total.closedLate),
         ("extended", figures.total.extended), ("redirected", figures.total.redirected), ("open", figures.total.open),
         ("openOverdue", figures.total.openOverdue)].map { (req.text("statutory", $0.0), $0.1) }
    }

    /// The last eight quarters to choose from, the chosen one marked.
    static func quarters(today: CivilDate, chosen: String?, req: Request) -> [[String: Any]] {
        var year = today.year, quarter = (today.month + 2) / 3
        var out: [[String: Any]] = []
        for _ in 0..<8 {
            let code = "\(year)-Q\(quarter)"
            out.append(["value": code, "label": req.text("stats", "quarter", ["year": year, "quarter": quarter]), "selected": code == chosen])
            quarter -= 1
            if quarter == 0 { quarter = 4; year -= 1 }
        }
        return out
    }

    /// The same summary as one sheet: a block per part, each with its own heading row.
    static func download(_ figures: Figures, office: String?, format: TableFormat, req: Request) async throws -> Response {
        let writer = try TableWriter(format: format, sheetName: req.text("statutory", "sheet"), header: [req.text("statutory", "title")],
                                     zone: req.settings.timeZone)
        try writer.append([.text(req.text("statutory", "period")), .date(figures.from), .date(figures.to)])
        if let office { try writer.append([.text(req.text("intake", "office")), .text(office)]) }
        try writer.append([.text(req.text("statutory", "received")), .number(Double(figures.total.count))])
        func block(_ title: String, _ rows: [StatsRowView], _ key: String) throws {
            try writer.append([])
            try writer.append([.text(title)])
            for row in rows {
                try writer.append([.text(row.dimensions[key]?.name ?? ""), .number(row.measures["count"].flatMap { $0 } ?? 0)])
            }
        }
        try block(req.text("statutory", "byChannel"), figures.channels, "channel")
        try block(req.text("statutory", "byKind"), figures.kinds, "kind")
        try block(req.text("statutory", "bySection"), figures.sections, "topic")
        try writer.append([])
        try writer.append([.text(req.text("statutory", "results"))] + figures.resultKeys.map {
            .text($0.isEmpty ? req.text("statutory", "noResult") : req.catalogued("results", $0))
        })
        for row in figures.sections {
            let code = row.dimensions["topic"]?.code ?? ""
            let counts = figures.results[code] ?? [:]
            try writer.append([.text(figures.sectionNames[code] ?? code)] + figures.resultKeys.map { .number(Double(counts[$0] ?? 0)) })
        }
        try writer.append([])
        try writer.append([.text(req.text("statutory", "timeliness"))])
        for (name, value) in timeliness(figures, req: req) { try writer.append([.text(name), .number(Double(value))]) }
        try await req.audit("stats.export", details: "statutory \(figures.from.iso)..\(figures.to.iso) \(office ?? "") \(format.rawValue)")
        return try await TableWriter.response(try writer.finish(), format: format,
                                              fileName: "ombud-statutory-\(figures.from.iso)-\(figures.to.iso).\(format.rawValue)", for: req)
    }
}
