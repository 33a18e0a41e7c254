import Fluent
import Foundation
import OmbudDomain
import Vapor

/// The worklist page: my tasks, my unit's, the overdue ones — the same queries as `GET /api/v1/tasks`.
struct TaskPages: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.grouped(PageGuard(), RememberLanguage()).grouped(Require(.appealsRead)).get("tasks", use: worklist)
    }

    func worklist(req: Request) async throws -> Response {
        let view = req.query[String.self, at: "view"] ?? "mine"
        var filters = TasksController.Filters()
        switch view {
        case "unit": filters.assignee = "unit"
        case "overdue":
            filters.assignee = "unit"
            filters.overdue = true
        case "all": filters.assignee = "all"
        default: filters.assignee = "mine"
        }
        filters.limit = 50
        let page = try await TasksController.page(filters, req: req)
        let f = req.format
        return req.page("tasks", [
            "tabs": ["mine", "unit", "overdue", "all"].map { ["key": $0, "label": req.text("worklist", $0), "current": $0 == view] },
            "count": req.text("worklist", "count", ["n": page.total]),
            "rows": page.items.map { t in [
                "code": t.trackingCode, "title": t.title, "state": t.state.map { req.text("states", $0) } ?? "",
                "due": t.dueAt.map(f.due) ?? "", "overdue": t.overdue, "assignee": t.assigneeName ?? t.assigneeUnitCode ?? "",
            ] },
        ])
    }
}
