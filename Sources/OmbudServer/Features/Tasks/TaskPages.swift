import Fluent
import Foundation
import OmbudDomain
import Vapor

/// The worklists (cartables): my tasks, my unit's, awaiting registration, awaiting approval, call-backs, overdue,
/// promises due, everything — each with filters, sorting, a count, pages, and one move for several appeals at once.
/// The same queries as `GET /api/v1/tasks` and `GET /api/v1/promises`; a plain GET form, so a list can be bookmarked.
struct TaskPages: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let pages = routes.grouped(PageGuard(), RememberLanguage())
        pages.grouped(Require(.appealsRead)).get("tasks", use: worklist)
        pages.grouped(Require(.appealsTransition)).post("tasks", "bulk", use: bulk)
    }

    static let pageSize = 50

    /// The list's own filters, under what the user chose in the form.
    static func filters(_ list: Worklist, from query: TasksController.Filters) -> TasksController.Filters {
        var f = query
        f.limit = pageSize
        f.assignee = list.assignee.rawValue
        if let state = list.state { f.state = state }
        // The tab counts what the appeal list's overdue filter counts: appeals past their deadline, by their stage task.
        if list.overdueOnly { f.appealOverdue = true }
        return f
    }

    func worklist(req: Request) async throws -> Response {
        try await Self.render(req)
    }

    func bulk(req: Request) async throws -> Response {
        do {
            let report = try await BulkTransitions.run(req: req)
            let refused = report.results.filter { !$0.ok }.map { r in
                "\(r.trackingCode ?? r.appeal): " + req.message(code: r.error ?? "", field: r.field, detail: r.reason ?? "")
            }
            return try await Self.render(req, notice: req.text("worklist", "bulkDone", ["n": report.done]), refused: refused)
        } catch let error as AppError {
            return try await Self.render(req, errors: [error.field ?? "bulk": req.message(error)], status: error.status)
        }
    }

    static func render(_ req: Request, notice: String? = nil, refused: [String] = [], errors: [String: String] = [:],
                       status: HTTPResponseStatus = .ok) async throws -> Response {
        let list = req.query[String.self, at: "view"].flatMap(Worklist.init(rawValue:)) ?? .mine
        let chosen = (try? req.query.decode(TasksController.Filters.self)) ?? TasksController.Filters()
        var errors = errors
        var rows: [[String: Any]] = []
        var total = 0
        var export: String?
        let f = req.format
        let offset = max(0, chosen.offset ?? 0)
        do {
            if list.listsPromises {
                let today = CivilDate.of(req.now, in: req.settings.timeZone)
                let filters = PromisesController.Filters(status: "given,in-work", dueTo: Worklist.promisesDue(today: today).iso,
                                                         limit: pageSize, offset: offset)
                let page = try await PromisesController.page(filters, req: req)
                total = page.total
                export = "/api/v1/promises?" + (try URLEncodedFormEncoder().encode(filters))
                rows = page.items.map { p in
                    ["code": p.trackingCode, "title": p.text, "state": req.text("promiseStatus", p.status),
                     "due": CivilDate(iso: p.dueDate).map { f.date($0) } ?? p.dueDate, "overdue": p.overdue,
                     "assignee": p.responsibleName ?? p.responsibleUnitCode ?? ""]
                }
            } else {
                var filters = filters(list, from: chosen)
                filters.offset = offset
                let page = try await TasksController.page(filters, req: req)
                total = page.total
                export = "/api/v1/tasks?" + (try URLEncodedFormEncoder().encode(filters))
                let details = try await WorklistDetails.load(Array(Set(page.items.map(\.appealId))), req: req)
                let unitNames = try await UnitLookup(db: req.db).names(codes: page.items.compactMap(\.assigneeUnitCode))
                rows = page.items.map { t in
                    let d = details[t.appealId]
                    let days: String? = d?.daysLeft.map { $0 >= 0 ? req.text("card", "daysLeft", ["n": $0]) : req.text("card", "overdue", ["n": -$0]) }
                    let row: [String: Any?] = [
                        "code": t.trackingCode, "title": t.title, "state": t.state.map { req.text("states", $0) } ?? "",
                        "due": t.dueAt.map(f.due) ?? "", "overdue": t.overdue,
                        "assignee": t.assigneeName ?? t.assigneeUnitCode.map { unitNames[$0] ?? $0 } ?? "",
                        "topic": d?.topic, "district": d?.district, "applicant": d?.applicant, "excerpt": d?.excerpt.nonEmpty,
                        "daysLeft": days, "late": (d?.daysLeft ?? 0) < 0,
                    ]
                    return row.present
                }
            }
        } catch let error as AppError where error.field != nil {
            errors[error.field ?? "bulk"] = req.message(error)
        }
        let actor = try req.actor
        let workflow = AppealTransitions.workflow
        let targets = Set(workflow.transitions.filter { !$0.roles.isDisjoint(with: actor.roles) }.map(\.to))
        let query = req.url.query.map { "?" + $0 } ?? ""
        func link(offset: Int) -> String {
            var items = URLComponents(string: req.url.string)?.queryItems?.filter { $0.name != "offset" } ?? []
            items.append(URLQueryItem(name: "offset", value: String(offset)))
            var components = URLComponents()
            components.queryItems = items
            return "/tasks" + (components.string ?? "")
        }
        func field(_ key: String, _ value: String?) -> [String: Any] { ["value": value ?? "", "error": errors[key]].present }
        let context: [String: Any?] = [
            "heading": list == .mine ? req.text("nav", "tasks") : req.text("worklist", "title") + " · " + req.text("worklist", list.rawValue),
            "tabs": Worklist.allCases.map { ["key": $0.rawValue, "label": req.text("worklist", $0.rawValue), "current": $0 == list] },
            "view": list.rawValue, "isPromises": list.listsPromises, "query": query,
            "count": req.text("worklist", "count", ["n": total]),
            "export": actor.can(.export) ? export : nil,
            "rows": rows, "hasRows": !rows.isEmpty,
            "previous": offset > 0 ? link(offset: max(0, offset - pageSize)) : nil,
            "next": offset + pageSize < total ? link(offset: offset + pageSize) : nil,
            "filters": [
                "topic": field("topic", chosen.topic), "office": field("office", chosen.office), "executor": field("executor", chosen.executor),
                "dueFrom": field("dueFrom", chosen.dueFrom), "dueTo": field("dueTo", chosen.dueTo),
                "overdue": chosen.overdue == true, "waiting": chosen.sort == "waiting",
                "channels": AppealChannel.allCases.map { ["value": $0.rawValue, "label": req.text("channels", $0.rawValue), "selected": $0.rawValue == chosen.channel] },
                "states": workflow.openStates.map { ["value": $0, "label": req.text("states", $0), "selected": $0 == chosen.state] },
                "stateError": errors["state"], "channelError": errors["channel"],
            ].present,
            "filtersOpen": !errors.isEmpty || [chosen.state, chosen.topic, chosen.channel, chosen.office, chosen.executor, chosen.dueFrom,
                                                chosen.dueTo].contains { $0.nonBlank != nil } || chosen.overdue == true || chosen.sort == "waiting",
            "canBulk": actor.can(.appealsTransition) && !list.listsPromises && !rows.isEmpty,
            "targets": workflow.states.map(\.key).filter(targets.contains).map { ["value": $0, "label": req.actionLabel(from: nil, to: $0)] },
            "notice": notice, "refused": refused, "hasRefused": !refused.isEmpty,
            "bulkError": errors["appeals"] ?? errors["to"] ?? errors["unitCode"] ?? errors["bulk"],
        ]
        return req.page("tasks", context.present, status: errors.isEmpty ? status : .unprocessableEntity)
    }
}
