import Fluent
import Foundation
import OmbudDomain

/// A task as the planner makes it, before it is a row: intake writes these in its batch, transitions as records.
struct PlannedTask: Sendable {
    let id: UUID
    let key: String
    let state: String
    let assigneeUnitID: UUID?
    let assigneeUserID: UUID?
    let dueAt: Date?
    let checklist: [ChecklistItem]
    let enteredAt: Date
    let nextAlertAt: Date?
    let alertsCheckedUntil: Date?
}

/// Turns the workflow's task templates into tasks for one appeal: who gets them, when they are due, when their first
/// alert falls due.
enum TaskPlanner {
    /// The shipped control: its task templates are fixed; its timers are the defaults an administrator may replace
    /// (`ReferenceCache.stageControl`).
    static let shipped = StageControl.federalLaw59

    typealias People = AppealPeople

    /// `alertsFrom` is set for tasks of appeals that come from elsewhere (an import, the first migration): alerts that
    /// fell due before it are not sent, only those after.
    static func plan(state: String, entered: Date, people: People, controlDate: CivilDate?, control: StageControl,
                     calendar: BusinessCalendar, zone: TimeZone, alertsFrom: Date? = nil) -> [PlannedTask] {
        let underControl = AppealTransitions.workflow.state(state)?.underControl ?? false
        let alerts = control.alerts(state: state, entered: entered, controlDate: controlDate, underControl: underControl,
                                    calendar: calendar, zone: zone)
        var firstAlert = alerts.first { alert in alert.at >= entered && alertsFrom.map { alert.at > $0 } ?? true }?.at
        return control.tasks(entering: state, at: entered, controlDate: controlDate, calendar: calendar, zone: zone).map { plan in
            let who = people.assignee(plan.assignee)
            // A task given to a named person is announced to them by the next turn of a worker.
            if who.user != nil, alertsFrom == nil { firstAlert = entered }
            return PlannedTask(id: UUID.timeOrdered(at: entered), key: plan.key, state: state, assigneeUnitID: who.unit,
                               assigneeUserID: who.user, dueAt: plan.due,
                               checklist: plan.checklist.map { ChecklistItem(label: $0, done: false) },
                               enteredAt: entered, nextAlertAt: firstAlert, alertsCheckedUntil: alertsFrom)
        }
    }

    static func tasks(for appeal: Appeal, entering state: String, at entered: Date, questions: [Question], headUserID: UUID?,
                      control: StageControl, calendar: BusinessCalendar, zone: TimeZone, actor: UUID? = nil,
                      alertsFrom: Date? = nil) throws -> [TaskRecord] {
        let appealID = try appeal.requireID()
        return plan(state: state, entered: entered, people: People(officeID: appeal.$office.id, questions: questions, headUserID: headUserID),
             controlDate: appeal.deadlines.controlDate, control: control, calendar: calendar, zone: zone, alertsFrom: alertsFrom)
            .map { TaskRecord(planned: $0, appealID: appealID, createdBy: actor) }
    }
}

extension TaskRecord {
    convenience init(planned p: PlannedTask, appealID: UUID, createdBy: UUID?) {
        self.init()
        id = p.id
        $appeal.id = appealID
        key = p.key
        state = p.state
        status = TaskStatus.open.rawValue
        assigneeUnitID = p.assigneeUnitID
        assigneeUserID = p.assigneeUserID
        dueAt = p.dueAt
        checklist = p.checklist
        enteredAt = p.enteredAt
        nextAlertAt = p.nextAlertAt
        alertsCheckedUntil = p.alertsCheckedUntil
        self.createdBy = createdBy
        updatedAt = p.enteredAt
        version = 0
    }
}

extension AppealPeople {
    /// The executor is that of the first question that has one.
    init(officeID: UUID?, questions: [Question], headUserID: UUID? = nil) {
        let first = questions.sorted { $0.position < $1.position }.first { $0.executorUnitID != nil || $0.executorUserID != nil }
        self.init(officeID: officeID, executorUnitID: first?.executorUnitID, executorUserID: first?.executorUserID, headUserID: headUserID)
    }
}
