import Fluent
import Foundation
import OmbudDomain
import SQLKit

/// Keeps tasks in step with the workflow inside the caller's write transaction: a state's tasks close when the appeal
/// leaves it, the next state's open, and an open appeal left without an open task rolls the whole change back.
enum TaskStore {
    /// After an appeal moved from `from` to its current status.
    /// `interrupted`: the transition taken is open from any state (a withdrawal): it cancels the state's task.
    static func enter(_ appeal: Appeal, from: String, interrupted: Bool, questions: [Question], actor: Actor, control: StageControl,
                      calendar: BusinessCalendar, zone: TimeZone, now: Date, db: any Database) async throws {
        let workflow = AppealTransitions.workflow
        let appealID = try appeal.requireID()
        let terminal = workflow.state(appeal.status)?.terminal ?? true
        let open = try await TaskRecord.query(on: db).filter(\.$appeal.$id == appealID).filter(\.$status == TaskStatus.open.rawValue).all()
        for task in open where task.state == from || terminal {
            task.status = TaskStatus.closing(taskState: task.state, leaving: from, interrupted: interrupted).rawValue
            task.closedAt = now
            task.closedBy = actor.userID
            task.nextAlertAt = nil
            try await task.saveChange(now, on: db)
        }
        let head = try await headUser(ofExecutorOf: questions, entering: appeal.status, db: db)
        // The answer deadline's alerts run across states: the new task looks back to where the last one stopped, so
        // an alert that fell due while no worker ran (and before this move) is still sent.
        let checkpoint = open.filter { $0.state == from }.compactMap(\.alertsCheckedUntil).min()
        for task in try TaskPlanner.tasks(for: appeal, entering: appeal.status, at: now, questions: questions, headUserID: head,
                                      control: control, calendar: calendar, zone: zone, actor: actor.userID) {
            if let checkpoint, checkpoint < now {
                task.alertsCheckedUntil = checkpoint
                task.nextAlertAt = now
            }
            try await task.create(on: db)
        }
        try await requireOpenTask(appeal, db: db)
    }

    /// "No process without a task": an open appeal must have an open task when a change commits.
    static func requireOpenTask(_ appeal: Appeal, db: any Database) async throws {
        guard AppealTransitions.workflow.isOpen(appeal.status) else { return }
        let count = try await TaskRecord.query(on: db).filter(\.$appeal.$id == appeal.requireID())
            .filter(\.$status == TaskStatus.open.rawValue).count()
        guard count > 0 else {
            throw AppError.conflict(code: "no-open-task", reason: "an open appeal must keep an open task; the change was not made", field: nil)
        }
    }

    /// Open appeals without an open task: always empty, checked by tests and by `ombud check`.
    static func appealsWithoutOpenTask(db: any Database) async throws -> [String] {
        let states = SQLGroupExpression(SQLList(AppealTransitions.workflow.openStates.map { SQLBind($0) }))
        return try await (db as! any SQLDatabase).raw("""
            SELECT tracking_code FROM appeals a WHERE a.status IN \(states)
            AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.appeal_id = a.id AND t.status = \(bind: TaskStatus.open.rawValue))
            ORDER BY tracking_code
            """).all().map { try $0.decode(column: "tracking_code", as: String.self) }
    }

    /// The executor changed: open tasks that go to the executor (or to the head of the executor's unit) follow, and
    /// the next sweep tells the new person.
    static func followExecutor(appealID: UUID, questions: [Question], now: Date, db: any Database) async throws {
        var people = TaskPlanner.People(officeID: try await Appeal.find(appealID, on: db)?.$office.id, questions: questions)
        people.headUserID = try await people.executorUnitID.asyncMap { try await Recipients.headUser(of: $0, db: db) } ?? nil
        let rules = Dictionary(TaskPlanner.shipped.tasks.map { ($0.key, $0.assignee) }, uniquingKeysWith: { a, _ in a })
        for task in try await TaskRecord.query(on: db).filter(\.$appeal.$id == appealID).filter(\.$status == TaskStatus.open.rawValue).all() {
            guard let rule = rules[task.key], rule != .office else { continue }
            let who = people.assignee(rule)
            guard task.assigneeUnitID != who.unit || task.assigneeUserID != who.user else { continue }
            task.assigneeUnitID = who.unit
            task.assigneeUserID = who.user
            task.nextAlertAt = now
            try await task.saveChange(now, on: db)
        }
    }

    /// The control date moved (an extension): tasks due on it move with it, and their alerts are looked at again.
    static func controlDateMoved(_ appeal: Appeal, zone: TimeZone, now: Date, db: any Database) async throws {
        let controlKeys = Set(TaskPlanner.shipped.tasks.filter { $0.due == .controlDate }.map(\.key))
        for task in try await TaskRecord.query(on: db).filter(\.$appeal.$id == appeal.requireID())
            .filter(\.$status == TaskStatus.open.rawValue).all() {
            if controlKeys.contains(task.key) { task.dueAt = appeal.deadlines.controlDate?.adding(days: 1).start(in: zone) }
            task.nextAlertAt = now
            try await task.saveChange(now, on: db)
        }
    }

    /// The timers changed: open tasks due at their state's limit get the new due moment, and every open task of a
    /// state is looked at by the next sweep, which sends what the new schedule says is due.
    static func timersChanged(_ control: StageControl, calendar: BusinessCalendar, zone: TimeZone, now: Date, db: any Database) async throws {
        // Looked at again from the start of each stay: alerts already sent are not sent twice (their keys), and those
        // the new timers put in the past are sent now.
        try await (db as! any SQLDatabase).update(TaskRecord.schema)
            .set("next_alert_at", to: SQLBind(now)).set("alerts_checked_until", to: SQLLiteral.null).set("updated_at", to: SQLBind(now))
            .set("version", to: SQLRaw("version + 1"))
            .where("status", .equal, SQLBind(TaskStatus.open.rawValue)).where("state", .isNot, SQLLiteral.null).run()
        let limitKeys = control.tasks.filter { $0.due == .stageLimit }.map(\.key)
        for task in try await TaskRecord.query(on: db).filter(\.$status == TaskStatus.open.rawValue).filter(\.$key ~~ limitKeys).all() {
            guard let state = task.state else { continue }
            task.dueAt = control.timer(state)?.limit?.end(from: task.enteredAt, calendar: calendar, zone: zone)
            try await task.saveChange(now, on: db)
        }
    }

    /// The user who heads the executor's unit, for states whose tasks go to the approver.
    private static func headUser(ofExecutorOf questions: [Question], entering state: String, db: any Database) async throws -> UUID? {
        let needsApprover = TaskPlanner.shipped.tasks.contains { $0.state == state && $0.assignee == .approver }
        guard needsApprover, let unitID = TaskPlanner.People(officeID: nil, questions: questions).executorUnitID else { return nil }
        return try await Recipients.headUser(of: unitID, db: db)
    }
}
