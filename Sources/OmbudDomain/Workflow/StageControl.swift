import Foundation

/// Who a task goes to, named by role in the appeal rather than by person, so a definition fits any organisation.
public enum AssigneeRule: String, Sendable, Codable, CaseIterable {
    /// The office that registered the appeal (reception, contact centre).
    case office
    /// The executor of the first question: its person if one is named, else its unit (the office until assigned).
    case executor
    /// The head of the executor's unit, who approves the answer.
    case approver
}

/// The people of one appeal a task can go to, by role in it.
public struct AppealPeople: Sendable, Equatable {
    public var officeID: UUID?
    public var executorUnitID: UUID?
    public var executorUserID: UUID?
    /// The user who heads the executor's unit (the approver), when known.
    public var headUserID: UUID?

    public init(officeID: UUID?, executorUnitID: UUID? = nil, executorUserID: UUID? = nil, headUserID: UUID? = nil) {
        self.officeID = officeID
        self.executorUnitID = executorUnitID
        self.executorUserID = executorUserID
        self.headUserID = headUserID
    }

    /// The unit and person a rule gives a task to: the executor's, or the office's while there is no executor; the
    /// approver is the head of the executor's unit.
    public func assignee(_ rule: AssigneeRule) -> (unit: UUID?, user: UUID?) {
        switch rule {
        case .office: (officeID, nil)
        case .executor: executorUnitID == nil && executorUserID == nil ? (officeID, nil) : (executorUnitID, executorUserID)
        case .approver: (executorUnitID ?? officeID, headUserID)
        }
    }
}

/// When a task falls due.
public enum TaskDue: String, Sendable, Codable, CaseIterable {
    /// When the state's time limit runs out (no due date when the state has none).
    case stageLimit = "stage-limit"
    /// At the end of the appeal's control date (the answer deadline).
    case controlDate = "control-date"
    case none
}

/// "No process without a task": entering a state creates the tasks its template names.
public struct TaskTemplate: Sendable, Codable, Equatable {
    public let state: String
    /// A key of the tasks catalogue; the title shown is its translation.
    public let key: String
    public let assignee: AssigneeRule
    public let due: TaskDue
    public let checklist: [String]

    public init(state: String, key: String, assignee: AssigneeRule, due: TaskDue, checklist: [String] = []) {
        self.state = state
        self.key = key
        self.assignee = assignee
        self.due = due
        self.checklist = checklist
    }
}

public enum TaskStatus: String, Sendable, Codable, CaseIterable {
    case open
    /// Done by a person (tasks added by hand) or by the appeal leaving the state.
    case done
    /// Closed because the appeal left the state without the task's work (withdrawn, merged…).
    case cancelled

    /// How an open task ends when the appeal moves from `from`: the state's own task is done, unless the move
    /// interrupts it (a transition open from any state, a withdrawal); a task added by hand still open when the appeal
    /// ends is cancelled.
    public static func closing(taskState: String?, leaving from: String, interrupted: Bool) -> TaskStatus {
        taskState == from && !interrupted ? .done : .cancelled
    }
}

/// A task as the engine plans it; storage adds the people.
public struct TaskPlan: Sendable, Equatable {
    public let key: String
    public let state: String
    public let assignee: AssigneeRule
    public let due: Date?
    public let checklist: [String]
}

/// An alert with its identity: `key` is the same however often the schedule is computed, so storage can make each
/// alert fire once (a unique key), even when a worker crashes half way or two workers look at the same appeal.
public struct ScheduledAlert: Sendable, Equatable {
    public enum Scope: String, Sendable, Equatable {
        /// Of one stay in a state (keyed by the task that stay created).
        case stage
        /// Of the appeal's answer deadline, across the states it passes (keyed by appeal and control date).
        case answer
    }
    public let scope: Scope
    public let kind: StageTimer.Alert.Kind
    public let at: Date
    public let key: String

    public init(scope: Scope, kind: StageTimer.Alert.Kind, at: Date, key: String) {
        self.scope = scope
        self.kind = kind
        self.at = at
        self.key = key
    }
}

/// The answer deadline's alerts: a reminder before the control date, one on it, and escalation up the chain after it.
public struct AnswerControl: Sendable, Codable, Equatable {
    public let remindBefore: TimeLimit
    public let escalation: [EscalationLevel]
    public let escalateEvery: TimeLimit

    public init(remindBefore: TimeLimit, escalation: [EscalationLevel], escalateEvery: TimeLimit) {
        self.remindBefore = remindBefore
        self.escalation = escalation
        self.escalateEvery = escalateEvery
    }

    /// The morning `remindBefore` ahead of the control date, the morning of the control date, then (from the morning
    /// after it) each escalation level, `escalateEvery` apart.
    public func alerts(controlDate: CivilDate, calendar: BusinessCalendar, zone: TimeZone) -> [ScheduledAlert] {
        let end = controlDate.adding(days: 1).start(in: zone)
        var alerts = [
            (StageTimer.Alert.Kind.reminder, remindBefore.before(end, calendar: calendar, zone: zone)),
            (.due, controlDate.start(in: zone)),
        ]
        var at = end
        for (i, level) in escalation.enumerated() {
            if i > 0 { at = escalateEvery.reached(from: at, calendar: calendar, zone: zone) }
            alerts.append((.escalation(level), at))
        }
        return alerts.map { ScheduledAlert(scope: .answer, kind: $0.0, at: $0.1, key: "answer:\(controlDate.iso):\($0.0)") }
    }
}

/// Time control of a workflow as data: the tasks each state creates, the timers of each state, and the answer
/// deadline's alerts. Shipped with the workflow definition it belongs to.
public struct StageControl: Sendable, Codable, Equatable {
    public let workflow: String
    public let tasks: [TaskTemplate]
    public let timers: [StageTimer]
    public let answer: AnswerControl

    public init(workflow: String, tasks: [TaskTemplate], timers: [StageTimer], answer: AnswerControl) {
        self.workflow = workflow
        self.tasks = tasks
        self.timers = timers
        self.answer = answer
    }

    public func timer(_ state: String) -> StageTimer? { timers.first { $0.state == state } }

    /// The tasks entering `state` creates, with their due moments.
    public func tasks(entering state: String, at entered: Date, controlDate: CivilDate?, calendar: BusinessCalendar,
                      zone: TimeZone) -> [TaskPlan] {
        tasks.filter { $0.state == state }.map { template in
            let due: Date? = switch template.due {
            case .stageLimit: timer(state)?.limit?.end(from: entered, calendar: calendar, zone: zone)
            case .controlDate: controlDate?.adding(days: 1).start(in: zone)
            case .none: nil
            }
            return TaskPlan(key: template.key, state: state, assignee: template.assignee, due: due, checklist: template.checklist)
        }
    }

    /// Every alert of a stay in `state` that began at `entered`, in time order: the state's own timer, and the answer
    /// deadline's while the state awaits an answer.
    public func alerts(state: String, entered: Date, controlDate: CivilDate?, underControl: Bool, calendar: BusinessCalendar,
                       zone: TimeZone) -> [ScheduledAlert] {
        var all = (timer(state)?.alerts(entered: entered, calendar: calendar, zone: zone) ?? []).map {
            ScheduledAlert(scope: .stage, kind: $0.kind, at: $0.at, key: "stage:\($0.kind)")
        }
        if underControl, let controlDate {
            all += answer.alerts(controlDate: controlDate, calendar: calendar, zone: zone)
        }
        return all.sorted { $0.at < $1.at }
    }

    /// The alerts of a schedule that fall in (`checkedUntil`, `now`] — or [`entered`, `now`] on the first look — and the
    /// moment the next one falls due. A worker that looks every few minutes, or after a day's outage, sends each once.
    public static func window(_ alerts: [ScheduledAlert], entered: Date, checkedUntil: Date?,
                              now: Date) -> (due: [ScheduledAlert], next: Date?) {
        let due = alerts.filter { alert in
            guard alert.at <= now else { return false }
            if let checkedUntil { return alert.at > checkedUntil }
            return alert.at >= entered
        }
        return (due, alerts.first { $0.at > now }?.at)
    }

    /// A definition is installed only if every open state creates a task (so no open appeal is ever without one),
    /// every template and timer names a real state, and timers are coherent.
    public func validate(in definition: WorkflowDefinition) throws(ValidationError) {
        guard definition.key == workflow else { throw ValidationError(field: "workflow", reason: "made for \(workflow), not \(definition.key)") }
        for template in tasks {
            guard let state = definition.state(template.state) else {
                throw ValidationError(field: "tasks", reason: "no state \(template.state) in \(workflow)")
            }
            if state.terminal { throw ValidationError(field: "tasks", reason: "\(template.state) is terminal: nothing is left to do in it") }
        }
        for state in definition.openStates where !tasks.contains(where: { $0.state == state }) {
            throw ValidationError(field: "tasks", reason: "the open state \(state) creates no task")
        }
        for timer in timers { try timer.validate(in: definition) }
    }
}

extension StageControl {
    /// 59-FZ: the office registers and routes, the executor answers by the control date, the unit head approves, the
    /// office collects feedback. Reminders 5 days before the control date, escalation after it every working day.
    public static let federalLaw59 = StageControl(
        workflow: WorkflowDefinition.federalLaw59.key,
        tasks: [
            TaskTemplate(state: "received", key: "register", assignee: .office, due: .stageLimit,
                         checklist: ["check-completeness", "find-applicant", "choose-topics"]),
            TaskTemplate(state: "registered", key: "route", assignee: .office, due: .stageLimit,
                         checklist: ["check-jurisdiction", "choose-executor"]),
            TaskTemplate(state: "assigned", key: "take-into-work", assignee: .executor, due: .controlDate),
            TaskTemplate(state: "in-progress", key: "prepare-answer", assignee: .executor, due: .controlDate,
                         checklist: ["study-question", "request-materials", "draft-answer"]),
            TaskTemplate(state: "awaiting-external", key: "obtain-external-answer", assignee: .executor, due: .controlDate),
            TaskTemplate(state: "answer-drafted", key: "send-for-approval", assignee: .executor, due: .controlDate),
            TaskTemplate(state: "on-approval", key: "approve-answer", assignee: .approver, due: .controlDate,
                         checklist: ["check-answer", "sign-answer"]),
            TaskTemplate(state: "answered", key: "collect-feedback", assignee: .office, due: .stageLimit),
            TaskTemplate(state: "feedback", key: "close-appeal", assignee: .office, due: .none),
        ],
        timers: StageTimer.federalLaw59,
        answer: AnswerControl(remindBefore: .days(5), escalation: [.executor, .unitHead, .supervisor],
                              escalateEvery: .workingDays(1)))
}

/// Timers as an administrator writes them (JSON): checked field by field, so a bad one is refused with its path.
public struct TimersInput: Codable, Sendable, Equatable {
    public struct Limit: Codable, Sendable, Equatable {
        public var amount: Int
        public var unit: String
        public init(amount: Int, unit: String) {
            self.amount = amount
            self.unit = unit
        }
    }

    public struct Timer: Codable, Sendable, Equatable {
        public var state: String
        public var limit: Limit?
        public var remindBefore: Limit?
        public var stuckAfter: Limit?
        public var escalation: [String]?
        public var escalateEvery: Limit?
        public init(state: String, limit: Limit? = nil, remindBefore: Limit? = nil, stuckAfter: Limit? = nil, escalation: [String]? = nil,
                    escalateEvery: Limit? = nil) {
            self.state = state
            self.limit = limit
            self.remindBefore = remindBefore
            self.stuckAfter = stuckAfter
            self.escalation = escalation
            self.escalateEvery = escalateEvery
        }
    }

    public struct Answer: Codable, Sendable, Equatable {
        public var remindBefore: Limit
        public var escalation: [String]
        public var escalateEvery: Limit
        public init(remindBefore: Limit, escalation: [String], escalateEvery: Limit) {
            self.remindBefore = remindBefore
            self.escalation = escalation
            self.escalateEvery = escalateEvery
        }
    }

    public var timers: [Timer]
    public var answer: Answer?

    public init(timers: [Timer], answer: Answer? = nil) {
        self.timers = timers
        self.answer = answer
    }
}

extension StageControl {
    /// This control with the administrator's timers (and answer alerts, when given), every one checked: positive
    /// durations of a known unit, known states and escalation levels, one timer per state.
    public func replacing(with input: TimersInput, in definition: WorkflowDefinition) throws(ValidationError) -> StageControl {
        func limit(_ raw: TimersInput.Limit?, _ field: String) throws(ValidationError) -> TimeLimit? {
            guard let raw else { return nil }
            guard let unit = TimeLimit.Unit(rawValue: raw.unit) else {
                throw ValidationError(field: "\(field).unit", reason: "one of " + TimeLimit.Unit.allCases.map(\.rawValue).joined(separator: ", "))
            }
            do { return try TimeLimit(raw.amount, unit) } catch { throw ValidationError(field: "\(field).amount", reason: error.reason) }
        }
        func levels(_ raw: [String], _ field: String) throws(ValidationError) -> [EscalationLevel] {
            var result: [EscalationLevel] = []
            for (i, name) in raw.enumerated() {
                guard let level = EscalationLevel(rawValue: name) else {
                    throw ValidationError(field: "\(field)[\(i)]", reason: "one of " + EscalationLevel.allCases.map(\.rawValue).joined(separator: ", "))
                }
                result.append(level)
            }
            return result
        }
        var timers: [StageTimer] = []
        for (i, t) in input.timers.enumerated() {
            let field = "timers[\(i)]"
            guard !timers.contains(where: { $0.state == t.state }) else { throw ValidationError(field: "\(field).state", reason: "\(t.state) has a timer already") }
            let timer = StageTimer(state: t.state, limit: try limit(t.limit, "\(field).limit"),
                                   remindBefore: try limit(t.remindBefore, "\(field).remindBefore"),
                                   stuckAfter: try limit(t.stuckAfter, "\(field).stuckAfter"),
                                   escalation: try levels(t.escalation ?? [], "\(field).escalation"),
                                   escalateEvery: try limit(t.escalateEvery, "\(field).escalateEvery"))
            do { try timer.validate(in: definition) } catch { throw ValidationError(field: "\(field).\(error.field)", reason: error.reason) }
            timers.append(timer)
        }
        var answer = self.answer
        if let a = input.answer {
            let escalation = try levels(a.escalation, "answer.escalation")
            guard !escalation.isEmpty else { throw ValidationError(field: "answer.escalation", reason: "name at least one level") }
            guard Set(escalation).count == escalation.count else { throw ValidationError(field: "answer.escalation", reason: "each level once") }
            answer = AnswerControl(remindBefore: try limit(a.remindBefore, "answer.remindBefore")!, escalation: escalation,
                                   escalateEvery: try limit(a.escalateEvery, "answer.escalateEvery")!)
        }
        let result = StageControl(workflow: workflow, tasks: tasks, timers: timers, answer: answer)
        try result.validate(in: definition)
        return result
    }

    /// The administrator's form of this control's timers: what `replacing` accepts.
    public var timersInput: TimersInput {
        func raw(_ l: TimeLimit?) -> TimersInput.Limit? { l.map { .init(amount: $0.amount, unit: $0.unit.rawValue) } }
        return TimersInput(
            timers: timers.map { .init(state: $0.state, limit: raw($0.limit), remindBefore: raw($0.remindBefore), stuckAfter: raw($0.stuckAfter),
                                       escalation: $0.escalation.map(\.rawValue), escalateEvery: raw($0.escalateEvery)) },
            answer: .init(remindBefore: raw(answer.remindBefore)!, escalation: answer.escalation.map(\.rawValue), escalateEvery: raw(answer.escalateEvery)!))
    }
}
