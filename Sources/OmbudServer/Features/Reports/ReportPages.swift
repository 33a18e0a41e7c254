import Fluent
import Foundation
import OmbudDomain
import Vapor

/// `/reports`: the report builder. Pick up to two dimensions, the measures, a period and filters, a chart; show it;
/// save it, share it with roles, have it mailed weekly or monthly. `/reports/{id}` runs a saved report for its reader
/// (their scope) with its chart, its table and its downloads; its owner edits, sends or deletes it there.
struct ReportPages: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let pages = routes.grouped(PageGuard(), RememberLanguage()).grouped(Require(.statsRead)).grouped("reports")
        pages.get(use: builder)
        pages.post(use: save)
        pages.get(":reportID", use: show)
        pages.post(":reportID", use: save)
        pages.post(":reportID", "delete", use: delete)
        pages.post(":reportID", "send", use: send)
    }

    /// The builder's fields, as the form sends them (and as the preview's address carries them).
    struct Form: Content {
        var name: String?
        var dimension1: String?
        var dimension2: String?
        var measures: [String]?
        var period: String?
        var status: String?
        var channel: String?
        var office: String?
        var topic: String?
        var overdue: String?
        /// Filters the form does not show, kept as they were saved (through the API).
        var executor: String?
        var q: String?
        var bbox: String?
        var chart: String?
        var sharedWith: [String]?
        var schedule: String?
        var recipients: String?

        init() {}

        init(_ d: ReportDefinition) {
            name = d.name
            let dimensions = d.groupBy.split(separator: ",").map(String.init)
            dimension1 = dimensions.first
            dimension2 = dimensions.count > 1 ? dimensions[1] : nil
            measures = d.measures.split(separator: ",").map(String.init)
            period = d.period.code
            status = d.filters["status"]
            channel = d.filters["channel"]
            office = d.filters["office"]
            topic = d.filters["topic"]
            overdue = d.filters["overdue"]
            executor = d.filters["executor"]
            q = d.filters["q"]
            bbox = d.filters["bbox"]
            chart = d.chart.rawValue
            sharedWith = d.sharedWith
            schedule = d.schedule?.every.rawValue
            recipients = d.schedule?.recipients.joined(separator: ", ")
        }

        /// The definition the form describes; its faults are named by the API's fields.
        func definition() throws -> ReportDefinition {
            let period: ReportPeriod
            do { period = try ReportPeriod(code: self.period.nonBlank ?? "30d") } catch { throw error.appError }
            let chart = ReportChart(rawValue: self.chart ?? "") ?? .bar
            var schedule: ReportSchedule?
            if let every = self.schedule.nonBlank {
                guard let every = ReportSchedule.Every(rawValue: every) else { throw AppError.invalid(field: "schedule", reason: "week or month") }
                schedule = ReportSchedule(every: every, recipients: (recipients ?? "").split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init))
            }
            var filters: [String: String] = [:]
            for (key, value) in [("status", status), ("channel", channel), ("office", office), ("topic", topic), ("overdue", overdue),
                                 ("executor", executor), ("q", q), ("bbox", bbox)] {
                if let value = value.nonBlank { filters[key] = value }
            }
            return ReportDefinition(name: name ?? "", groupBy: [dimension1, dimension2].compactMap(\.nonBlank).joined(separator: ","),
                                    measures: (measures ?? []).joined(separator: ","), filters: filters, period: period, chart: chart,
                                    sharedWith: sharedWith ?? [], schedule: schedule)
        }
    }

    func builder(req: Request) async throws -> Response {
        let form = (try? req.query.decode(Form.self)) ?? Form()
        return try await Self.builderPage(req, form: form, show: req.query[String.self, at: "show"] != nil)
    }

    /// The builder with the form filled in; with `show`, the question run unsaved for this reader below it.
    static func builderPage(_ req: Request, form: Form, show: Bool) async throws -> Response {
        var context = try await Self.context(req, form: form, action: "/reports")
        guard show else { return req.page("reports", context.present) }
        do {
            var definition = try form.definition()
            if definition.name.trimmed().isEmpty { definition.name = req.text("reports", "untitled") }
            definition = try await Reports.validated(definition, req: req)
            context["result"] = try await Self.result(try await Reports.figures(definition, req: req), chart: definition.chart, req: req)
            return req.page("reports", context.present)
        } catch let error as AppError where error.field != nil {
            context["errors"] = [error.field ?? "report": req.message(error)]
            return req.page("reports", Self.withErrors(context), status: error.status)
        }
    }

    /// Saves the form as a new report or over the one of the address; "Show" only runs it.
    func save(req: Request) async throws -> Response {
        let form = try req.content.decode(Form.self)
        if (try? req.content.get(String.self, at: "show")) != nil { return try await Self.builderPage(req, form: form, show: true) }
        let existing = req.parameters.get("reportID") == nil ? nil : try await Reports.find(req, owned: true)
        do {
            let record = try await Reports.save(try await Reports.validated(try form.definition(), req: req), into: existing, req: req)
            return req.redirect(to: "/reports/\(try record.requireID())", redirectType: .normal)
        } catch let error as AppError where error.field != nil {
            let errors = [error.field ?? "report": req.message(error)]
            if let existing { return try await Self.reportPage(req, existing, form: form, errors: errors, status: error.status) }
            var context = try await Self.context(req, form: form, action: "/reports")
            context["errors"] = errors
            return req.page("reports", Self.withErrors(context), status: error.status)
        }
    }

    func show(req: Request) async throws -> Response {
        let record = try await Reports.find(req)
        return try await Self.reportPage(req, record, form: Form(try record.definition()), errors: [:], status: .ok)
    }

    /// A saved report run for the reader, and for its owner the form to change it (with what was wrong in the last
    /// try). A report that no longer runs (a unit renamed since) still shows its form, with the reason.
    static func reportPage(_ req: Request, _ record: ReportRecord, form: Form, errors: [String: String], status: HTTPResponseStatus) async throws -> Response {
        let definition = try record.definition()
        let id = try record.requireID()
        var context = try await Self.context(req, form: form, action: "/reports/\(id)")
        var errors = errors
        do {
            context["result"] = try await Self.result(try await Reports.figures(definition, req: req), chart: definition.chart, req: req)
        } catch let error as AppError where error.field != nil {
            errors[error.field ?? "report"] = req.message(error)
        }
        let view = try await Reports.view(record, req: req)
        context["report"] = [
            "id": id.uuidString, "name": record.name, "owner": view.owner, "mine": view.mine,
            "next": record.nextRunAt.map(req.format.dateTime), "last": record.lastRunAt.map(req.format.dateTime),
            "canExport": try req.actor.can(.export), "notice": req.query[String.self, at: "sent"].map { _ in req.text("reports", "sent") },
            "editOpen": !errors.isEmpty,
        ].present
        context["errors"] = errors
        return req.page("report", Self.withErrors(context), status: status)
    }

    func delete(req: Request) async throws -> Response {
        try await Reports.delete(try await Reports.find(req, owned: true), req: req)
        return req.redirect(to: "/reports", redirectType: .normal)
    }

    func send(req: Request) async throws -> Response {
        let record = try await Reports.find(req, owned: true)
        _ = try await Reports.send(record, req: req)
        return req.redirect(to: "/reports/\(try record.requireID())?sent=1", redirectType: .normal)
    }

    /// The builder's choices and the saved reports, with the form filled in.
    static func context(_ req: Request, form: Form, action: String) async throws -> [String: Any?] {
        let dimensions = ["topic:1", "topic:2", "topic:3", "topic"] + StatsDimension.names.filter { $0 != "topic" }
        func dimensionName(_ code: String) -> String {
            let parts = code.split(separator: ":")
            guard parts.count == 2, let level = Int(parts[1]) else { return req.text("statsDimensions", code) }
            return req.text("reports", "topicLevel", ["n": level])
        }
        func options(_ selected: String?) -> [[String: Any]] {
            dimensions.map { ["value": $0, "label": dimensionName($0), "selected": $0 == selected] }
        }
        let measures = Set(form.measures ?? ["count"])
        let roles = try await req.store.references.current(db: req.db).roles
        let shared = Set(form.sharedWith ?? [])
        let saved = try await Reports.views(try await Reports.visible(req), req: req)
        let f = req.format
        let measureChoices: [[String: Any]] = StatsMeasure.allCases.map {
            ["value": $0.rawValue, "label": req.text("statsMeasures", $0.rawValue), "checked": measures.contains($0.rawValue)]
        }
        let periods: [[String: Any]] = ReportPeriod.presets.map {
            ["value": $0.code, "label": req.text("reports", "period-\($0.code)"), "selected": $0.code == (form.period ?? "30d")]
        }
        // A period saved through the API that the list does not offer (`14d`, fixed days) stays chosen.
        var customPeriod: String?
        if let raw = form.period, let period = try? ReportPeriod(code: raw), !ReportPeriod.presets.contains(period) { customPeriod = period.code }
        let statuses: [[String: Any]] = AppealTransitions.workflow.states.map {
            ["value": $0.key, "label": req.text("states", $0.key), "selected": $0.key == form.status]
        }
        let channels: [[String: Any]] = AppealChannel.allCases.map {
            ["value": $0.rawValue, "label": req.text("channels", $0.rawValue), "selected": $0.rawValue == form.channel]
        }
        let charts: [[String: Any]] = ReportChart.allCases.map {
            ["value": $0.rawValue, "label": req.text("reports", "chart-\($0.rawValue)"), "checked": $0.rawValue == (form.chart ?? "bar")]
        }
        let roleChoices: [[String: Any]] = roles.keys.sorted().map {
            ["value": $0, "label": req.catalogued("roles", $0), "checked": shared.contains($0)]
        }
        let schedules: [[String: Any]] = [("", "never"), ("week", "every-week"), ("month", "every-month")].map { value, key in
            ["value": value, "label": req.text("reports", key), "selected": value == (form.schedule ?? "")]
        }
        let formContext: [String: Any?] = [
            "name": form.name ?? "", "dimension1": options(form.dimension1 ?? "channel"), "dimension2": options(form.dimension2),
            "measures": measureChoices, "periods": periods, "customPeriod": customPeriod, "statuses": statuses, "channels": channels,
            "office": form.office ?? "", "topic": form.topic ?? "", "charts": charts,
            "overdue": [("", "any"), ("true", "onlyOverdue"), ("false", "notOverdue")].map { value, key in
                ["value": value, "label": req.text(key == "onlyOverdue" ? "worklist" : "reports", key == "any" ? "anyOverdue" : key),
                 "selected": value == (form.overdue ?? "")]
            },
            "hidden": [("executor", form.executor), ("q", form.q), ("bbox", form.bbox)].compactMap { name, value in
                value.nonBlank.map { ["name": name, "value": $0] }
            },
            "roles": roleChoices, "schedules": schedules, "recipients": form.recipients ?? "",
        ]
        return [
            "action": action,
            "saved": saved.map { r -> [String: Any] in
                let item: [String: Any?] = [
                    "id": r.id.uuidString, "name": r.name, "owner": r.owner, "mine": r.mine,
                    "schedule": r.definition.schedule.map { req.text("reports", "every-\($0.every.rawValue)") }, "next": r.nextRunAt.map(f.dateTime),
                ]
                return item.present
            },
            "hasSaved": !saved.isEmpty,
            "form": formContext.present,
        ]
    }

    /// Field errors where the template shows them: one per field, the rest at the top.
    static func withErrors(_ context: [String: Any?]) -> [String: Any] {
        var context = context
        let errors = context["errors"] as? [String: String] ?? [:]
        context["errorList"] = errors.sorted { $0.key < $1.key }.map { ["field": $0.key, "message": $0.value] }
        return context.present
    }

    /// The run as the page shows it: the chart of the first measure over the only dimension, and the whole table.
    static func result(_ run: (from: String?, to: String?, table: StatsTableView), chart: ReportChart, req: Request) async throws -> [String: Any] {
        let table = run.table
        let f = req.format
        let measures = table.measures.compactMap(StatsMeasure.init(rawValue:))
        func shown(_ value: Double?, _ measure: StatsMeasure) -> String {
            guard let value else { return "—" }
            switch measure {
            case .onTimeShare, .satisfiedShare: return f.percent(value)
            case .medianDaysToClose, .p90DaysToClose, .avgRating: return f.decimal(value)
            default: return f.number(StatsTally.rounded(value, places: 0).formatted(.number.grouping(.never)))
            }
        }
        let keys = table.keys
        var result: [String: Any] = [
            "period": Reports.periodText(from: run.from, to: run.to, req: req),
            "header": keys.map { req.text("statsDimensions", $0) } + table.measures.map { req.text("statsMeasures", $0) },
            "rows": table.rows.map { row in
                ["cells": keys.map { row.dimensions[$0]?.name ?? "" }, "figures": measures.map { shown(row.measures[$0.rawValue].flatMap { $0 }, $0) }]
            },
            "total": ["label": req.text("stats", "total"), "pad": Array(repeating: "", count: max(keys.count - 1, 0)),
                      "figures": measures.map { shown(table.total.measures[$0.rawValue].flatMap { $0 }, $0) }],
            "hasDimensions": !keys.isEmpty,
        ]
        // A chart needs one dimension; periods run left to right in time, other values largest first.
        guard chart != .table, keys.count == 1, let first = measures.first else { return result }
        let dimension = try StatsDimension(parsing: table.groupBy[0])
        let rows = dimension.isPeriod ? table.rows.sorted { ($0.dimensions[keys[0]]?.code ?? "") < ($1.dimensions[keys[0]]?.code ?? "") }
            : Array(table.rows.prefix(20))
        let values = rows.map { $0.measures[first.rawValue].flatMap { $0 } ?? 0 }
        let most = max(values.max() ?? 0, first == .onTimeShare || first == .satisfiedShare ? 1 : 0, 1e-9)
        let rtl = req.language == .fa
        result["chartTitle"] = req.text("statsMeasures", first.rawValue)
        if chart == .line || dimension.isPeriod {
            // A line labels each of a few points; columns label every n-th, about five in all.
            let bars = zip(rows, values).map { row, value in
                let name = row.dimensions[keys[0]]?.name ?? ""
                return SVGChart.Bar(label: chart == .line && rows.count > 6 ? "" : name, value: chart == .line ? value / most : value,
                                    title: "\(shown(value, first)) — \(name)")
            }
            result["svg"] = chart == .line ? SVGChart.line(bars, rightToLeft: rtl)
                : SVGChart.columns(bars, labelEvery: max((rows.count + 4) / 5, 1), rightToLeft: rtl)
        } else {
            result["hasBars"] = true
            result["bars"] = zip(rows, values).map { row, value in
                ["name": row.dimensions[keys[0]]?.name ?? "", "width": Int((value / most * 100).rounded()), "value": shown(value, first)]
            }
        }
        return result
    }
}
