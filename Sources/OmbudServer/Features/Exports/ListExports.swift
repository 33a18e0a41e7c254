import Fluent
import Foundation
import OmbudDomain
import Vapor

/// Every list downloaded as CSV or XLSX (`?format=csv|xlsx` on the list's own address, with its own filters): the same
/// rows the reader sees page by page, all of them, written to a file on disk as they are read and then streamed.
/// Downloading needs the `export` permission and is recorded in the audit log.
enum ListExports {
    /// The format asked for, or nil for the list's JSON page.
    static func format(_ req: Request) throws -> TableFormat? {
        let format = try TableFormat.parse(req.query[String.self, at: "format"])
        guard format != .json else { return nil }
        guard try req.actor.can(.export) else { throw AppError.forbidden(reason: "this needs the permission export") }
        return format
    }

    /// Writes the table `fill` produces and sends it as `ombud-<list>.<format>`.
    private static func respond(_ req: Request, list: String, format: TableFormat, columns: [String],
                                fill: (TableWriter) async throws -> Void) async throws -> Response {
        let writer = try TableWriter(format: format, sheetName: req.text("exports", list),
                                     header: columns.map { req.text("exports", $0) }, zone: req.settings.timeZone)
        let url: URL
        do {
            try await fill(writer)
            url = try writer.finish()
        } catch {
            writer.discard()
            throw error
        }
        try await req.audit("list.export", details: "\(list) \(format.rawValue) \(req.url.query ?? "")")
        return try await TableWriter.response(url, format: format, fileName: "ombud-\(list).\(format.rawValue)", for: req)
    }

    private static func yesNo(_ value: Bool, _ req: Request) -> Cell { .text(req.text("exports", value ? "yes" : "no")) }

    private static func day(_ iso: String?) -> Cell { iso.flatMap(CivilDate.init(iso:)).map(Cell.date) ?? .empty }

    private static func text(_ value: String?) -> Cell { value.nonBlank.map(Cell.text) ?? .empty }

    static func appeals(_ req: Request, _ filters: AppealList.Filters, format: TableFormat) async throws -> Response {
        let scope = try await req.appealCondition()
        let personal = try req.actor.can(.personalData)
        let columns = ["trackingCode", "receivedAt", "status", "channel", "kind", "controlDate", "overdue", "district", "text"]
        return try await respond(req, list: "appeals", format: format, columns: columns) { writer in
            var f = filters
            f.limit = 200
            f.cursor = nil
            repeat {
                let page = try await AppealList.page(f, scope: scope, personal: personal, hidden: req.hiddenMark, settings: req.settings,
                                                     db: req.db, now: req.now, excerpt: AppealList.wholeText)
                for item in page.items {
                    try writer.append([.text(item.trackingCode), .moment(item.receivedAt), .text(req.catalogued("states", item.status)),
                                       .text(req.catalogued("channels", item.channel)), .text(req.catalogued("kinds", item.kind)),
                                       day(item.controlDate), yesNo(item.overdue, req), text(item.district), .text(item.excerpt)])
                }
                f.cursor = page.nextCursor
            } while f.cursor != nil
        }
    }

    static func tasks(_ req: Request, _ filters: TasksController.Filters, format: TableFormat) async throws -> Response {
        let columns = ["trackingCode", "task", "stage", "taskStatus", "assigneeUnit", "assignee", "dueAt", "overdue", "enteredAt", "closedAt"]
        return try await respond(req, list: "tasks", format: format, columns: columns) { writer in
            try await pages(limit: 500) { offset, limit in
                let page = try await TasksController.page(filters, req: req, paging: Paging(exporting: limit, from: offset))
                for task in page.items {
                    try writer.append([.text(task.trackingCode), .text(task.title), task.state.map { .text(req.catalogued("states", $0)) } ?? .empty,
                                       .text(req.catalogued("taskStatus", task.status)), text(task.assigneeUnitCode), text(task.assigneeName),
                                       task.dueAt.map(Cell.moment) ?? .empty, yesNo(task.overdue, req), .moment(task.enteredAt),
                                       task.closedAt.map(Cell.moment) ?? .empty])
                }
                return page.items.count
            }
        }
    }

    static func promises(_ req: Request, _ filters: PromisesController.Filters, format: TableFormat) async throws -> Response {
        let columns = ["trackingCode", "promise", "dueDate", "promiseStatus", "responsible", "responsibleUnit", "overdue", "createdAt", "settledAt"]
        return try await respond(req, list: "promises", format: format, columns: columns) { writer in
            try await pages(limit: 500) { offset, limit in
                let page = try await PromisesController.page(filters, req: req, paging: Paging(exporting: limit, from: offset))
                for promise in page.items {
                    try writer.append([.text(promise.trackingCode), .text(promise.text), day(promise.dueDate),
                                       .text(req.catalogued("promiseStatus", promise.status)), text(promise.responsibleName),
                                       text(promise.responsibleUnitCode), yesNo(promise.overdue, req), .moment(promise.createdAt),
                                       promise.settledAt.map(Cell.moment) ?? .empty])
                }
                return page.items.count
            }
        }
    }

    /// The applicants whose cards the reader may see (those `q` finds, when given), for roles with personal data only.
    static func applicants(_ req: Request, q: String?, format: TableFormat) async throws -> Response {
        guard try req.actor.can(.personalData) else { throw AppError.forbidden(reason: "this needs the permission personal-data") }
        let access = try await req.applicantAccess()
        let columns = ["fullName", "applicantKind", "phones", "emails", "postalAddress", "publicityConsent", "createdAt"]
        return try await respond(req, list: "applicants", format: format, columns: columns) { writer in
            func write(_ applicants: [Applicant]) throws {
                for a in applicants {
                    try writer.append([.text(a.fullName), .text(req.catalogued("applicantKinds", a.kind)), .text(a.phones.joined(separator: ", ")),
                                       .text(a.emails.joined(separator: ", ")), text(a.postalAddress), yesNo(a.publicityConsent, req),
                                       .moment(a.createdAt)])
                }
            }
            if let q {
                try write(try await ApplicantSearch.find(q, limit: 10_000, access: access, db: req.db))
                return
            }
            // Every card not merged into another, in id order, a thousand at a time.
            var after: UUID?
            while true {
                var query = Applicant.query(on: req.db).filter(\.$mergedIntoID == nil)
                if let condition = access.condition { query = query.filter(.sql(condition)) }
                if let after { query = query.filter(\.$id > after) }
                let batch = try await query.sort(\.$id).limit(1000).all()
                try write(batch)
                guard batch.count == 1000, let last = batch.last?.id else { return }
                after = last
            }
        }
    }

    /// Calls `page(offset, limit)` until a page comes back short.
    private static func pages(limit: Int, _ page: (Int, Int) async throws -> Int) async throws {
        var offset = 0
        while true {
            let count = try await page(offset, limit)
            guard count == limit else { return }
            offset += limit
        }
    }
}

extension Paging {
    /// Pages of an export, which walks past the offset an API caller may ask for.
    init(exporting limit: Int, from offset: Int) {
        self.limit = limit
        self.offset = offset
    }
}
