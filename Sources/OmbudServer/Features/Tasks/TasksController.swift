import Fluent
import FluentSQL
import Foundation
import OmbudDomain
import SQLKit
import Vapor

struct TaskInput: Content {
    var title: String?
    var assigneeLogin: String?
    var unitCode: String?
    /// The last day of the task (YYYY-MM-DD); it is due at the end of that day.
    var dueDate: String?
    var checklist: [String]?
}

struct TaskUpdate: Content {
    struct Tick: Content {
        var index: Int
        var done: Bool
    }
    var checklist: [Tick]?
    var assigneeLogin: String?
    var status: String?
}

struct TaskPage: Content {
    var items: [TaskView]
    var total: Int
}

/// Tasks: the user's own, their units', the overdue ones; an appeal's tasks; tasks added by hand; ticking a checklist.
struct TasksController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let read = routes.grouped(Require(.appealsRead))
        read.get("tasks", use: list)
        read.get("appeals", ":id", "tasks", use: ofAppeal)
        let edit = routes.grouped(Require(.appealsEdit))
        edit.post("appeals", ":id", "tasks", use: create)
        edit.patch("tasks", ":taskID", use: update)
    }

    struct Filters: Content {
        /// `mine` (default): given to me, or to one of my units without a person; `unit`: my units and those below;
        /// `all`: every task of the appeals I may see.
        var assignee: String?
        var status: String?
        var state: String?
        var overdue: Bool?
        /// The stage tasks of overdue appeals (`AppealQueries.overdueSQL`, the appeal list's and statistics' overdue): one
        /// row per overdue appeal, the worklist's «Overdue» tab.
        var appealOverdue: Bool?
        /// A topic code, or the code of a topic group (its topics below it match too).
        var topic: String?
        var channel: String?
        /// The appeal's registering office (unit code).
        var office: String?
        /// The login of the person the task is given to.
        var executor: String?
        /// The task is due on or after / on or before this day (YYYY-MM-DD).
        var dueFrom: String?
        var dueTo: String?
        /// `due` (default: soonest due first, then the undated ones, longest waiting first) or `waiting` (longest waiting first).
        var sort: String?
        var limit: Int?
        var offset: Int?
    }

    func list(req: Request) async throws -> Response {
        let filters = try req.query.decode(Filters.self)
        if let format = try ListExports.format(req) { return try await ListExports.tasks(req, filters, format: format) }
        return try await Self.page(filters, req: req).encodeResponse(for: req)
    }

    /// One page of tasks by these filters, within the caller's scope (the API and the worklist page).
    static func page(_ filters: Filters, req: Request, paging: Paging? = nil) async throws -> TaskPage {
        // A filter form sends its empty fields too: an empty one filters nothing.
        var f = filters
        for path in [\Filters.assignee, \.status, \.state, \.topic, \.channel, \.office, \.executor, \.dueFrom, \.dueTo, \.sort] {
            f[keyPath: path] = f[keyPath: path].nonBlank
        }
        let actor = try req.actor
        var query = TaskRecord.query(on: req.db)
        let scope = try await req.appealCondition()
        if let scope {
            // The scope is a condition on appeals; readers who see everything skip the join.
            query = query.join(Appeal.self, on: \TaskRecord.$appeal.$id == \Appeal.$id).filter(.sql(scope))
        }
        let status = f.status ?? TaskStatus.open.rawValue
        guard TaskStatus(rawValue: status) != nil else { throw AppError.invalid(field: "status", reason: "one of open, done, cancelled") }
        query = query.filter(\.$status == status)
        switch f.assignee ?? "mine" {
        case "mine":
            let units = actor.unitIDs
            query = query.group(.or) { or in
                or.filter(\.$assigneeUserID == actor.userID)
                if !units.isEmpty { or.group(.and) { $0.filter(\.$assigneeUserID == nil).filter(\.$assigneeUnitID ~~ units) } }
            }
        case "unit":
            let units = try await req.unitsBelow()
            guard !units.isEmpty else { return TaskPage(items: [], total: 0) }
            query = query.filter(\.$assigneeUnitID ~~ units)
        case "all": break
        default: throw AppError.invalid(field: "assignee", reason: "one of mine, unit, all")
        }
        if let raw = f.state {
            // One state, or several separated by commas.
            let states = raw.split(separator: ",").map { $0.trimmed() }
            for state in states where AppealTransitions.workflow.state(state) == nil {
                throw AppError.invalid(field: "state", reason: "no state \(state)")
            }
            query = query.filter(\.$state ~~ states)
        }
        if f.overdue == true { query = query.filter(\.$dueAt <= req.now) }
        if f.appealOverdue == true {
            let today = CivilDate.of(req.now, in: req.settings.timeZone)
            query = query.filter(.sql(SQLQueryString("EXISTS (SELECT 1 FROM appeals o WHERE o.id = tasks.appeal_id AND o.status = tasks.state AND ")
                                      + AppealQueries.overdueSQL(today: today, table: "o") + SQLQueryString(")")))
        }
        if let channel = f.channel {
            do throws(ValidationError) { _ = try Validate.choice(channel, field: "channel") as AppealChannel } catch { throw error.appError }
            if scope == nil { query = query.join(Appeal.self, on: \TaskRecord.$appeal.$id == \Appeal.$id) }
            query = query.filter(Appeal.self, \.$channel == channel)
        }
        if let office = f.office {
            let unit = try await UnitLookup(db: req.db).id(TextNormalizer.latinDigits(office), field: "office")
            if scope == nil && f.channel == nil { query = query.join(Appeal.self, on: \TaskRecord.$appeal.$id == \Appeal.$id) }
            query = query.filter(Appeal.self, \.$office.$id == unit)
        }
        if let topic = f.topic.map(TextNormalizer.latinDigits) {
            guard topic.allSatisfy({ $0.isNumber || $0 == "." }), !topic.isEmpty, topic.count <= 40 else {
                throw AppError.invalid(field: "topic", reason: "expected a topic code such as 0003.0009.0097.0689")
            }
            query = query.filter(.sql(SQLQueryString(
                "tasks.appeal_id IN (SELECT appeal_id FROM questions WHERE topic_code = \(bind: topic) OR topic_code LIKE \(bind: AppealList.below(topic)) ESCAPE '\\')")))
        }
        if let login = f.executor {
            guard let user = try await User.query(on: req.db).filter(\.$login == login).first() else {
                throw AppError.invalid(field: "executor", reason: "no user \(login)")
            }
            query = query.filter(\.$assigneeUserID == user.id)
        }
        let zone = req.settings.timeZone
        if let raw = f.dueFrom {
            guard let day = CivilDate(iso: raw) else { throw AppError.invalid(field: "dueFrom", reason: "expected YYYY-MM-DD") }
            query = query.filter(\.$dueAt >= day.start(in: zone))
        }
        if let raw = f.dueTo {
            guard let day = CivilDate(iso: raw) else { throw AppError.invalid(field: "dueTo", reason: "expected YYYY-MM-DD") }
            query = query.filter(\.$dueAt < day.adding(days: 1).start(in: zone))
        }
        let paging = try paging ?? Paging(limit: f.limit, offset: f.offset)
        switch f.sort ?? "due" {
        case "due": break
        case "waiting":
            let total = try await query.copy().countRows()
            let records = try await query.sort(\.$enteredAt).sort(\.$id).range(paging.range).all()
            return TaskPage(items: try await TaskViews(req: req).tasks(records, now: req.now), total: total)
        default: throw AppError.invalid(field: "sort", reason: "one of due, waiting")
        }
        // Soonest due first, then the tasks without a due moment, longest waiting first. Two segments, each read in the order of
        // an index ((status, due_at) and (status, entered_at)), so a page costs the same at 100 rows or 100,000; one
        // sort over both would read every row (and SQLite and PostgreSQL place NULLs differently).
        let total = try await query.copy().countRows()
        let dated = query.copy().filter(\.$dueAt != nil)
        var records = try await dated.sort(\.$dueAt).sort(\.$enteredAt).sort(\.$id).range(paging.range).all()
        if records.count < paging.limit, total > paging.offset + records.count {
            // The dated segment ended on this page (its size is where it stopped) or before it (then it is counted).
            let datedCount = records.isEmpty ? try await dated.copy().countRows() : paging.offset + records.count
            let start = max(0, paging.offset - datedCount)
            records += try await query.copy().filter(\.$dueAt == nil).sort(\.$enteredAt).sort(\.$id)
                .range(start..<(start + paging.limit - records.count)).all()
        }
        return TaskPage(items: try await TaskViews(req: req).tasks(records, now: req.now), total: total)
    }

    func ofAppeal(req: Request) async throws -> [TaskView] {
        let id = try await req.visibleAppealID()
        return try await TaskViews(req: req).tasks(TaskRecord.query(on: req.db).filter(\.$appeal.$id == id).sort(\.$enteredAt).all(), now: req.now)
    }

    /// A task added by hand ("call the applicant back", "visit the site"), next to the stage's own.
    func create(req: Request) async throws -> Response {
        let appealID = try await req.visibleAppealID()
        let input = try req.content.decode(TaskInput.self)
        let title: String
        do { title = try Validate.text(input.title, field: "title", max: 300)! } catch { throw error.appError }
        let checklist = try (input.checklist ?? []).enumerated().map { i, label in
            let label = label.trimmed()
            guard !label.isEmpty, label.count <= 300 else { throw AppError.invalid(field: "checklist[\(i)]", reason: "1 to 300 characters") }
            return ChecklistItem(label: label, done: false)
        }
        guard checklist.count <= 50 else { throw AppError.invalid(field: "checklist", reason: "at most 50 items") }
        let settings = req.settings
        let now = req.now
        var due: Date?
        if let raw = input.dueDate {
            guard let day = CivilDate(iso: raw) else { throw AppError.invalid(field: "dueDate", reason: "expected YYYY-MM-DD") }
            guard day >= CivilDate.of(now, in: settings.timeZone) else { throw AppError.invalid(field: "dueDate", reason: "\(raw) is in the past") }
            due = day.adding(days: 1).start(in: settings.timeZone)
        }
        let actor = try req.actor
        let references = try await req.store.references.current(db: req.db)
        let task = try await req.store.write { [due] db in
            guard let appeal = try await Appeal.find(appealID, on: db), AppealTransitions.workflow.isOpen(appeal.status) else {
                throw AppError.conflict(code: "appeal-closed", reason: "tasks cannot be added to a closed appeal", field: nil)
            }
            let assignee = try await AccessCheck.person(input.assigneeLogin, field: "assigneeLogin", for: appeal, references: references, db: db)
            let unit = try await AccessCheck.unit(input.unitCode, field: "unitCode", for: appeal, references: references, db: db)
            let task = TaskRecord()
            task.id = UUID.timeOrdered(at: now)
            task.$appeal.id = appealID
            task.key = "manual"
            task.title = title
            task.status = TaskStatus.open.rawValue
            task.assigneeUnitID = unit ?? appeal.$office.id
            task.assigneeUserID = assignee?.id
            task.dueAt = due
            task.checklist = checklist
            task.enteredAt = now
            task.nextAlertAt = task.assigneeUserID == nil ? nil : now
            task.createdBy = actor.userID
            task.updatedAt = now
            task.version = 0
            try await task.create(on: db)
            try await HistoryRecorder(db: db, actor: actor, at: now)
                .record(entity: "task", id: task.requireID(), appealID: appealID, action: "create", to: title)
            return task
        }
        let view = try await TaskViews(req: req).tasks([task], now: now)[0]
        return try await view.encodeResponse(status: .created, for: req)
    }

    func update(req: Request) async throws -> TaskView {
        guard let id = req.parameters.get("taskID", as: UUID.self), let found = try await TaskRecord.find(id, on: req.db) else {
            throw AppError.notFound(entity: "task", id: req.parameters.get("taskID") ?? "")
        }
        _ = try await req.visibleAppeal(found.$appeal.id)
        let input = try req.content.decode(TaskUpdate.self)
        let actor = try req.actor
        let now = req.now
        let references = try await req.store.references.current(db: req.db)
        let task = try await req.store.write { db in
            guard let task = try await TaskRecord.find(id, on: db) else { throw AppError.notFound(entity: "task", id: id.uuidString) }
            guard task.status == TaskStatus.open.rawValue else {
                throw AppError.conflict(code: "task-closed", reason: "the task is \(task.status)", field: nil)
            }
            var changes: [(String, String?, String?)] = []
            for (i, tick) in (input.checklist ?? []).enumerated() {
                guard task.checklist.indices.contains(tick.index) else {
                    throw AppError.invalid(field: "checklist[\(i)].index", reason: "the checklist has \(task.checklist.count) items")
                }
                guard task.checklist[tick.index].done != tick.done else { continue }
                changes.append(("checklist[\(tick.index)]", String(task.checklist[tick.index].done), String(tick.done)))
                task.checklist[tick.index].done = tick.done
                task.checklist[tick.index].doneBy = tick.done ? actor.login : nil
                task.checklist[tick.index].doneAt = tick.done ? now : nil
            }
            if input.assigneeLogin != nil, let appeal = try await Appeal.find(task.$appeal.id, on: db) {
                let user = try await AccessCheck.person(input.assigneeLogin, field: "assigneeLogin", for: appeal, references: references, db: db)
                changes.append(("assignee", task.assigneeUserID?.uuidString, user?.id?.uuidString))
                task.assigneeUserID = user?.id
                task.nextAlertAt = now  // the next sweep tells the new person (once: the notification's key names them)
            }
            if let status = input.status {
                guard status == TaskStatus.done.rawValue else { throw AppError.invalid(field: "status", reason: "a task can only be marked done") }
                // A stage's task ends when the appeal moves on; only tasks added by hand are ticked off.
                guard task.state == nil else {
                    throw AppError.conflict(code: "stage-task", reason: "this task is done by moving the appeal to its next state", field: "status")
                }
                changes.append(("status", task.status, status))
                task.status = status
                task.closedAt = now
                task.closedBy = actor.userID
                task.nextAlertAt = nil
            }
            try await task.saveChange(now, on: db)
            if let appeal = try await Appeal.find(task.$appeal.id, on: db) { try await TaskStore.requireOpenTask(appeal, db: db) }
            try await HistoryRecorder(db: db, actor: actor, at: now).changes(entity: "task", id: id, appealID: task.$appeal.id, changes)
            return task
        }
        return try await TaskViews(req: req).tasks([task], now: now)[0]
    }
}

extension Request {
    /// The actor's units and every unit below them.
    func unitsBelow() async throws -> [UUID] {
        let units = try await store.references.current(db: db)
        guard case let .units(visible, _) = AccessScope.of(memberOf: Set(try actor.unitIDs), parents: units.unitParents, hqUnits: [],
                                                           permissions: []) else { return [] }
        return Array(visible)
    }
}
