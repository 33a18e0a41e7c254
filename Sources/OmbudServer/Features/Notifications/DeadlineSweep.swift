import Fluent
import Foundation
import OmbudDomain
import SQLKit
import Vapor

/// Sends the alerts that have fallen due: each turn of a worker looks at the open tasks and promises whose next alert
/// time has come, works out from the domain's schedule which alerts fell in the window since it last looked, and stores
/// one notification per person per alert. The notification's dedupe key makes an alert reach a person once even when
/// two workers look at the same task at the same moment; the window makes it fire once across turns.
enum DeadlineSweep {
    static let batch = 200

    /// Returns how many tasks and promises it looked at: the worker turns again at once while there were any, so a
    /// flood of due rows is worked through without waiting between turns.
    @discardableResult
    static func run(app: Application) async throws -> Int {
        let now = app.clock.now()
        let store = app.store
        let tasks = try await TaskRecord.query(on: store.db).filter(\.$status == TaskStatus.open.rawValue)
            .filter(\.$nextAlertAt <= now).sort(\.$nextAlertAt).limit(batch).all()
        let promises = try await PromiseRecord.query(on: store.db).filter(\.$status ~~ [PromiseStatus.given.rawValue, PromiseStatus.inWork.rawValue])
            .filter(\.$nextAlertAt <= now).sort(\.$nextAlertAt).limit(batch).all()
        guard !tasks.isEmpty || !promises.isEmpty else { return 0 }

        let settings = app.ombudSettings
        let zone = settings.timeZone
        let calendar = try await store.references.calendar(settings.calendarKey, db: store.db)
        let appealIDs = Set(tasks.map(\.$appeal.id) + promises.map(\.$appeal.id))
        let appeals = Dictionary(try await Appeal.query(on: store.db).filter(\.$id ~~ appealIDs).all().map { (try $0.requireID(), $0) }, uniquingKeysWith: { a, _ in a })
        let people = try await Recipients.load(db: store.db)
        let names = try Dictionary(people.users.map { (try $0.requireID(), $0.fullName) }, uniquingKeysWith: { a, _ in a })
        let control = try await store.references.stageControl(db: store.db)
        let workflow = AppealTransitions.workflow

        var drafts: [NotificationDraft] = []
        var moves: [(table: String, id: UUID, version: Int, next: Date?)] = []
        for task in tasks {
            guard let appeal = appeals[task.$appeal.id] else {
                try moves.append(("tasks", task.requireID(), task.version, nil))
                continue
            }
            // The person a task is given to is told once (the key names them), however often the sweep looks.
            if let user = task.assigneeUserID, user != task.createdBy {
                try drafts.append(NotificationDraft(userID: user, kind: .taskAssigned, dedupeKey: "\(task.requireID()):assigned:\(user)", appealID: appeal.id,
                                                taskID: task.id, facts: .init(trackingCode: appeal.trackingCode, taskKey: task.key,
                                                                              taskTitle: task.title, state: task.state, due: task.dueAt)))
            }
            // Tasks added by hand have no stage timers; a stage's task stops when the appeal has left the state.
            guard let state = task.state, appeal.status == state else {
                try moves.append(("tasks", task.requireID(), task.version, nil))
                continue
            }
            let schedule = control.alerts(state: state, entered: task.enteredAt, controlDate: appeal.deadlines.controlDate,
                                          underControl: workflow.state(state)?.underControl ?? false, calendar: calendar, zone: zone)
            let window = StageControl.window(schedule, entered: task.enteredAt, checkedUntil: task.alertsCheckedUntil, now: now)
            for alert in window.due {
                let facts = NotificationDraft.Facts(
                    trackingCode: appeal.trackingCode, taskKey: task.key, taskTitle: task.title, state: state, due: task.dueAt,
                    controlDate: appeal.deadlines.controlDate, entered: task.enteredAt,
                    level: isEscalation(alert) ? alert.kind.level : nil,
                    assignee: assigneeName(task, people: people, names: names))
                // Answer alerts belong to the appeal (once per control date); stage alerts to this stay in the state.
                let scope = try alert.scope == .answer ? appeal.requireID().uuidString : task.requireID().uuidString
                for user in people.forAlert(alert.kind.level, unitID: task.assigneeUnitID, userID: task.assigneeUserID, state: state) {
                    try drafts.append(NotificationDraft(userID: user.requireID(), kind: NotificationKind(alert), dedupeKey: "\(scope):\(alert.key):\(user.requireID())",
                                                    appealID: appeal.id, taskID: task.id, facts: facts))
                }
            }
            try moves.append(("tasks", task.requireID(), task.version, window.next))
        }
        for promise in promises {
            guard let appeal = appeals[promise.$appeal.id], let due = CivilDate(iso: promise.dueDate) else {
                try moves.append(("promises", promise.requireID(), promise.version, nil))
                continue
            }
            let schedule = PromiseRules.alerts(due: due, calendar: calendar, zone: zone)
            let window = StageControl.window(schedule, entered: promise.createdAt, checkedUntil: promise.alertsCheckedUntil, now: now)
            for alert in window.due {
                var facts = NotificationDraft.Facts(trackingCode: appeal.trackingCode, dueDay: due, promise: promise.text)
                facts.assignee = promise.responsibleUserID.flatMap { names[$0] }
                var recipients = people.forAlert(.executor, unitID: promise.responsibleUnitID, userID: promise.responsibleUserID, state: nil)
                if isEscalation(alert) {
                    recipients += people.level(.unitHead, unitID: promise.responsibleUnitID, userID: promise.responsibleUserID, state: nil)
                }
                for user in recipients {
                    try drafts.append(NotificationDraft(userID: user.requireID(), kind: NotificationKind(promise: alert),
                                                    dedupeKey: "\(promise.requireID()):\(alert.key):\(user.requireID())", appealID: appeal.id,
                                                    promiseID: promise.id, facts: facts))
                }
            }
            try moves.append(("promises", promise.requireID(), promise.version, window.next))
        }

        let users = try Dictionary(people.users.map { (try $0.requireID(), $0) }, uniquingKeysWith: { a, _ in a })
        let pages = app.pages
        let smtp = settings.smtp != nil
        try await store.write { [drafts, moves] db in
            let sql = db as! any SQLDatabase
            // Only rows nobody changed since they were read (their version is the one read): a reassignment, a new due
            // date or new timers made while the sweep ran keep their reset, and the next turn looks at them again.
            var written: Set<UUID> = []
            for move in moves {
                let rows = try await sql.update(move.table).set("alerts_checked_until", to: SQLBind(now)).set("next_alert_at", to: SQLBind(move.next))
                    .set("version", to: SQLRaw("version + 1"))
                    .where("id", .equal, SQLBind(move.id)).where("version", .equal, SQLBind(move.version))
                    .returning("id").all()
                if !rows.isEmpty { written.insert(move.id) }
            }
            // The alerts of a row changed meanwhile are worked out again from its new state (its new assignee).
            let current = drafts.filter { draft in (draft.taskID ?? draft.promiseID).map(written.contains) ?? true }
            _ = try await Notifier.store(current, users: users, pages: pages, smtp: smtp, zone: zone, now: now, db: db)
        }
        return tasks.count + promises.count
    }

    private static func isEscalation(_ alert: ScheduledAlert) -> Bool {
        if case .escalation = alert.kind { return true }
        return false
    }

    private static func assigneeName(_ task: TaskRecord, people: Recipients, names: [UUID: String]) -> String? {
        if let user = task.assigneeUserID, let name = names[user] { return name }
        return task.assigneeUnitID.flatMap { people.units[$0]?.name }
    }
}
