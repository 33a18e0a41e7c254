import Fluent
import Foundation
import OmbudDomain
import Vapor

struct ReportView: Content {
    var id: UUID
    var name: String
    var owner: String
    /// Whether the caller owns it (and so may change, delete or send it).
    var mine: Bool
    var definition: ReportDefinition
    var nextRunAt: Date?
    var lastRunAt: Date?
    var createdAt: Date
    var updatedAt: Date
}

/// A report as run for its reader: the days it covered and the table, within the reader's scope.
struct ReportRunView: Content {
    var report: ReportView
    var from: String?
    var to: String?
    var table: StatsTableView
}

/// `/api/v1/reports`: saved statistics questions. Anyone with `stats.read` saves their own and opens those shared
/// with one of their roles; only the owner changes, deletes or sends one. A report always runs within the scope of
/// whoever runs it (or receives it by mail), so sharing a report never shares figures outside a reader's units.
struct ReportsController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let reports = routes.grouped("reports").grouped(Require(.statsRead))
        reports.get(use: list)
        reports.post(use: create)
        reports.get(":reportID", use: show)
        reports.put(":reportID", use: update)
        reports.delete(":reportID", use: delete)
        reports.get(":reportID", "run", use: run)
        reports.post(":reportID", "send", use: send)
    }

    func list(req: Request) async throws -> [ReportView] {
        try await Reports.views(try await Reports.visible(req), req: req)
    }

    func create(req: Request) async throws -> Response {
        let record = try await Reports.save(try await Reports.validated(try Reports.decode(req), req: req), into: nil, req: req)
        let response = try await Reports.view(record, req: req).encodeResponse(status: .created, for: req)
        response.headers.replaceOrAdd(name: .location, value: "/api/v1/reports/\(try record.requireID())")
        return response
    }

    func show(req: Request) async throws -> ReportView {
        try await Reports.view(try await Reports.find(req), req: req)
    }

    func update(req: Request) async throws -> ReportView {
        let record = try await Reports.find(req, owned: true)
        return try await Reports.view(try await Reports.save(try await Reports.validated(try Reports.decode(req), req: req), into: record, req: req), req: req)
    }

    func delete(req: Request) async throws -> HTTPStatus {
        try await Reports.delete(try await Reports.find(req, owned: true), req: req)
        return .noContent
    }

    func run(req: Request) async throws -> Response {
        let record = try await Reports.find(req)
        let format = try ListExports.format(req)
        let run = try await Reports.run(record, req: req)
        guard let format else { return try await run.encodeResponse(for: req) }
        let url = try Reports.workbook(run, format: format, req: req)
        try await req.audit("stats.export", entity: "report", entityID: record.id?.uuidString, details: "\(record.name) \(format.rawValue)")
        return try await TableWriter.response(url, format: format, fileName: "\(Reports.fileName(record.name)).\(format.rawValue)", for: req)
    }

    /// Mails the report now to its schedule's recipients (each in their own scope), as the schedule would.
    func send(req: Request) async throws -> Response {
        let queued = try await Reports.send(try await Reports.find(req, owned: true), req: req)
        return try await ["queued": queued].encodeResponse(status: .accepted, for: req)
    }
}

/// What the API, the pages and the mail share: finding a report the caller may see, checking a definition against
/// the installation, running it for a reader.
enum Reports {
    /// Whether this user may open the report: its owner, or a holder of a role it is shared with.
    static func visible(_ record: ReportRecord, to actor: Actor) throws -> Bool {
        try record.ownerID == actor.userID || record.definition().isShared(with: actor.roleKeys)
    }

    /// The reports the caller may open, by name.
    static func visible(_ req: Request) async throws -> [ReportRecord] {
        let actor = try req.actor
        return try await ReportRecord.query(on: req.db).sort(\.$name).all().filter { (try? visible($0, to: actor)) ?? false }
    }

    /// The report of the `reportID` parameter if the caller may open it (404 like an unknown one otherwise); with
    /// `owned`, only its owner may go on (403 for the others who see it).
    static func find(_ req: Request, owned: Bool = false) async throws -> ReportRecord {
        let raw = req.parameters.get("reportID") ?? ""
        guard let id = UUID(uuidString: raw), let record = try await ReportRecord.find(id, on: req.db), try visible(record, to: try req.actor) else {
            throw AppError.notFound(entity: "report", id: raw)
        }
        if owned, record.ownerID != (try req.actor.userID) { throw AppError.forbidden(reason: "only the report's owner may change, delete or send it") }
        return record
    }

    /// Stores a checked definition as a new report of the caller, or over `existing`; its next mail moves only when
    /// its schedule changed.
    static func save(_ definition: ReportDefinition, into existing: ReportRecord?, req: Request) async throws -> ReportRecord {
        let record = existing ?? ReportRecord()
        let before = existing.flatMap { try? $0.definition() }
        try record.set(definition)
        if existing == nil || before?.schedule != definition.schedule {
            record.nextRunAt = definition.schedule?.next(after: req.now, zone: req.settings.timeZone)
        }
        record.updatedAt = req.now
        if existing == nil {
            record.id = UUID.timeOrdered(at: req.now)
            record.ownerID = try req.actor.userID
            record.createdAt = req.now
            record.version = 0
        } else {
            record.version += 1
        }
        try await req.store.write { db in try await record.save(on: db) }
        try await req.audit(existing == nil ? "report.create" : "report.update", entity: "report", entityID: record.id?.uuidString, details: definition.name)
        return record
    }

    static func delete(_ record: ReportRecord, req: Request) async throws {
        try await req.store.write { db in try await record.delete(on: db) }
        try await req.audit("report.delete", entity: "report", entityID: record.id?.uuidString, details: record.name)
    }

    /// Queues the report's mail now; 409 without a mail server.
    static func send(_ record: ReportRecord, req: Request) async throws -> Int {
        guard req.settings.smtp != nil else {
            throw AppError.conflict(code: "mail-off", reason: "no mail server is configured (OMBUD_SMTP_HOST)", field: nil)
        }
        let now = req.now
        return try await req.store.write { db in try await ReportMail.enqueue(record, now: now, db: db) }
    }

    /// The days a run covered, as a reader writes them ("all time" when unbounded).
    static func periodText(from: String?, to: String?, req: Request) -> String {
        guard from != nil || to != nil else { return req.text("reports", "period-all") }
        let f = req.format
        return [from, to].map { $0.flatMap(CivilDate.init(iso:)).map { f.date($0) } ?? "…" }.joined(separator: " — ")
    }

    /// The request's definition; a period that is not one names its field like every other fault.
    static func decode(_ req: Request) throws -> ReportDefinition {
        do { return try req.content.decode(ReportDefinition.self) } catch let error as ValidationError { throw error.appError }
    }

    /// The definition checked against the installation: known roles to share with, and recipients who exist, have an
    /// e-mail and may open the report (the owner when none are named).
    static func validated(_ input: ReportDefinition, req: Request) async throws -> ReportDefinition {
        let roles = try await req.store.references.current(db: req.db).roles
        var definition: ReportDefinition
        do { definition = try input.validated(roles: Set(roles.keys)) } catch { throw error.appError }
        // The filters as the list reads them (a status, a channel, a unit that exists), named as the report names them.
        let today = CivilDate.of(req.now, in: req.settings.timeZone)
        do {
            _ = try await AppealList.filtered(req.store.sql.select().column("id").from("appeals"), filters(definition, today: today), scope: nil,
                                              settings: req.settings, today: today, db: req.db)
        } catch let error as AppError where error.field != nil {
            throw AppError.invalid(field: "filters.\(error.field ?? "")", reason: error.detail)
        }
        guard var schedule = definition.schedule else { return definition }
        let actor = try req.actor
        if schedule.recipients.isEmpty { schedule.recipients = [actor.login] }
        let users = try await User.query(on: req.db).filter(\.$login ~~ schedule.recipients).all()
        for login in schedule.recipients {
            guard let user = users.first(where: { $0.login == login }), user.isActive else {
                throw AppError.invalid(field: "schedule.recipients", reason: "no user \(login)")
            }
            guard login == actor.login || definition.isShared(with: user.roles) else {
                throw AppError.invalid(field: "schedule.recipients", reason: "\(login) may not open this report: share it with one of their roles")
            }
            guard user.email.nonBlank != nil else { throw AppError.invalid(field: "schedule.recipients", reason: "\(login) has no e-mail") }
        }
        definition.schedule = schedule
        return definition
    }

    static func view(_ record: ReportRecord, req: Request) async throws -> ReportView {
        try await views([record], req: req)[0]
    }

    /// The reports as the API shows them, their owners' logins read in one query.
    static func views(_ records: [ReportRecord], req: Request) async throws -> [ReportView] {
        let owners = try await User.query(on: req.db).filter(\.$id ~~ Set(records.map(\.ownerID))).all()
        let logins = Dictionary(try owners.map { (try $0.requireID(), $0.login) }, uniquingKeysWith: { a, _ in a })
        let me = try req.actor.userID
        return try records.map { record in
            ReportView(id: try record.requireID(), name: record.name, owner: logins[record.ownerID] ?? "", mine: record.ownerID == me,
                       definition: try record.definition(), nextRunAt: record.nextRunAt, lastRunAt: record.lastRunAt,
                       createdAt: record.createdAt, updatedAt: record.updatedAt)
        }
    }

    /// The list's filters of a definition, with its period's days as they fall today.
    static func filters(_ definition: ReportDefinition, today: CivilDate) -> AppealList.Filters {
        let f = definition.filters
        let (from, to) = definition.period.days(today: today)
        return AppealList.Filters(status: f["status"], office: f["office"], executor: f["executor"], topic: f["topic"], channel: f["channel"],
                                  overdue: f["overdue"].map { $0 == "true" }, receivedFrom: from?.iso, receivedTo: to?.iso, q: f["q"], bbox: f["bbox"])
    }

    /// The definition run for the request's reader, within their scope: the days it covered and the table.
    static func figures(_ definition: ReportDefinition, req: Request) async throws -> (from: String?, to: String?, table: StatsTableView) {
        let spec: StatsSpec
        do { spec = try StatsSpec.parse(groupBy: definition.groupBy, measures: definition.measures) } catch { throw error.appError }
        let filters = filters(definition, today: CivilDate.of(req.now, in: req.settings.timeZone))
        let result = try await StatsQuery.asked(by: req, spec, filters).run(on: req)
        return (filters.receivedFrom, filters.receivedTo, try await StatsTableView.make(result, spec: spec, req: req))
    }

    /// A saved report run for the request's reader.
    static func run(_ record: ReportRecord, req: Request) async throws -> ReportRunView {
        let (from, to, table) = try await figures(try record.definition(), req: req)
        return ReportRunView(report: try await view(record, req: req), from: from, to: to, table: table)
    }

    /// The run as a file on disk (CSV or XLSX), its sheet named after the report.
    static func workbook(_ run: ReportRunView, format: TableFormat, req: Request) throws -> URL {
        let writer = try TableWriter(format: format, sheetName: String(run.report.name.prefix(31)), header: run.table.header(req: req),
                                     zone: req.settings.timeZone)
        for row in run.table.cells(totalName: req.text("stats", "total")) { try writer.append(row) }
        return try writer.finish()
    }

    /// A download's name: the report's, without what file systems refuse.
    static func fileName(_ name: String) -> String {
        let cleaned = String(name.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) || $0 == "-" ? Character($0) : "_" }.prefix(80))
        return cleaned.isEmpty ? "report" : cleaned
    }
}
