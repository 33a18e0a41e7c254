import Foundation

/// A length of time as deadline rules state it: calendar days, working days of the business calendar, or hours
/// (for urgent requests).
public struct TimeLimit: Sendable, Codable, Equatable, CustomStringConvertible {
    public enum Unit: String, Sendable, Codable, CaseIterable {
        case calendarDays = "calendar-days"
        case workingDays = "working-days"
        case hours

        /// Ten years, in each unit: longer limits are typos, and would make date arithmetic run away.
        public var maximum: Int {
            switch self {
            case .calendarDays: 3650
            case .workingDays: 2500
            case .hours: 87_600
            }
        }
    }

    public let amount: Int
    public let unit: Unit

    public init(_ amount: Int, _ unit: Unit) throws(ValidationError) {
        guard amount > 0 else { throw ValidationError(field: "amount", reason: "must be a positive number of \(unit.rawValue)") }
        guard amount <= unit.maximum else { throw ValidationError(field: "amount", reason: "at most \(unit.maximum) \(unit.rawValue)") }
        self.amount = amount
        self.unit = unit
    }

    public static func days(_ n: Int) -> TimeLimit { try! TimeLimit(n, .calendarDays) }
    public static func workingDays(_ n: Int) -> TimeLimit { try! TimeLimit(n, .workingDays) }
    public static func hours(_ n: Int) -> TimeLimit { try! TimeLimit(n, .hours) }

    public var description: String { "\(amount) \(unit.rawValue)" }

    /// The moment this limit runs out when counted from `start`. Days end at midnight of the organisation's zone:
    /// 3 days from a Monday afternoon run out at the end of Thursday, so the last day is whole.
    public func end(from start: Date, calendar: BusinessCalendar, zone: TimeZone) -> Date {
        switch unit {
        case .hours:
            return start.addingTimeInterval(TimeInterval(amount) * 3600)
        case .calendarDays:
            return CivilDate.of(start, in: zone).adding(days: amount + 1).start(in: zone)
        case .workingDays:
            return calendar.addingWorkingDays(amount, to: CivilDate.of(start, in: zone)).adding(days: 1).start(in: zone)
        }
    }

    /// The moment the `amount`-th day after `start` begins (the start's day is day 0), or `amount` hours after it:
    /// "25 days without an answer" is raised on the morning of day 25.
    public func reached(from start: Date, calendar: BusinessCalendar, zone: TimeZone) -> Date {
        switch unit {
        case .hours: start.addingTimeInterval(TimeInterval(amount) * 3600)
        case .calendarDays: CivilDate.of(start, in: zone).adding(days: amount).start(in: zone)
        case .workingDays: calendar.addingWorkingDays(amount, to: CivilDate.of(start, in: zone)).start(in: zone)
        }
    }

    /// The moment `self` before `end`, for reminders ("5 days before the control date").
    public func before(_ end: Date, calendar: BusinessCalendar, zone: TimeZone) -> Date {
        switch unit {
        case .hours:
            return end.addingTimeInterval(-TimeInterval(amount) * 3600)
        case .calendarDays:
            return end.addingTimeInterval(-1).civilDay(in: zone).adding(days: -amount + 1).start(in: zone)
        case .workingDays:
            return calendar.addingWorkingDays(-amount, to: end.addingTimeInterval(-1).civilDay(in: zone)).adding(days: 1).start(in: zone)
        }
    }
}

/// Who is told when a stage runs late, step by step up the organisation.
public enum EscalationLevel: String, Sendable, Codable, CaseIterable {
    case executor
    case unitHead = "unit-head"
    case supervisor

    /// This level and those above it: who is told when this level has nobody in it.
    public var andAbove: [EscalationLevel] { Array(Self.allCases.drop { $0 != self }) }
}

/// Time control of one workflow state: how long an appeal may stay in it, when to warn that it is stuck, whom to
/// escalate to once the time is up, and how long before the end to remind.
public struct StageTimer: Sendable, Codable, Equatable {
    public let state: String
    public let limit: TimeLimit?
    public let remindBefore: TimeLimit?
    public let stuckAfter: TimeLimit?
    /// After the limit: the first level is told at once, each next one `escalateEvery` later.
    public let escalation: [EscalationLevel]
    public let escalateEvery: TimeLimit?

    public init(state: String, limit: TimeLimit? = nil, remindBefore: TimeLimit? = nil, stuckAfter: TimeLimit? = nil,
                escalation: [EscalationLevel] = [], escalateEvery: TimeLimit? = nil) {
        self.state = state
        self.limit = limit
        self.remindBefore = remindBefore
        self.stuckAfter = stuckAfter
        self.escalation = escalation
        self.escalateEvery = escalateEvery
    }

    /// An alert that falls due at `at`.
    public struct Alert: Sendable, Equatable {
        public enum Kind: Sendable, Equatable, Hashable, CustomStringConvertible {
            case reminder
            case due
            case escalation(EscalationLevel)
            case stuck

            /// A stable name: part of the key that makes an alert fire once, and of the notification's kind.
            public var description: String {
                switch self {
                case .reminder: "reminder"
                case .due: "due"
                case let .escalation(level): "escalation-\(level.rawValue)"
                case .stuck: "stuck"
                }
            }
        }
        public let kind: Kind
        public let at: Date
        public init(kind: Kind, at: Date) {
            self.kind = kind
            self.at = at
        }
    }

    /// Every alert of a stay in this state that began at `entered`, in time order.
    public func alerts(entered: Date, calendar: BusinessCalendar, zone: TimeZone) -> [Alert] {
        var alerts: [Alert] = []
        if let stuckAfter { alerts.append(Alert(kind: .stuck, at: stuckAfter.reached(from: entered, calendar: calendar, zone: zone))) }
        if let limit {
            let end = limit.end(from: entered, calendar: calendar, zone: zone)
            if let remindBefore { alerts.append(Alert(kind: .reminder, at: max(entered, remindBefore.before(end, calendar: calendar, zone: zone)))) }
            // "Due" is the morning of the last day (the moment itself for hours); escalation starts when it has passed.
            let lastDay = limit.unit == .hours ? end : CivilDate.of(end.addingTimeInterval(-1), in: zone).start(in: zone)
            alerts.append(Alert(kind: .due, at: max(entered, lastDay)))
            var at = end
            for (i, level) in escalation.enumerated() {
                if i > 0, let escalateEvery { at = escalateEvery.reached(from: at, calendar: calendar, zone: zone) }
                alerts.append(Alert(kind: .escalation(level), at: at))
            }
        }
        return alerts.sorted { $0.at < $1.at }
    }

    public func validate(in workflow: WorkflowDefinition) throws(ValidationError) {
        guard workflow.state(state) != nil else { throw ValidationError(field: "state", reason: "no state \(state) in \(workflow.key)") }
        if remindBefore != nil || !escalation.isEmpty, limit == nil {
            throw ValidationError(field: "limit", reason: "reminders and escalation need a time limit")
        }
        if Set(escalation).count != escalation.count {
            throw ValidationError(field: "escalation", reason: "each level once")
        }
        if escalation.count > 1, escalateEvery == nil {
            throw ValidationError(field: "escalateEvery", reason: "several escalation levels need the time between them")
        }
    }
}

extension StageTimer {
    /// The defaults of 59-FZ: register within 3 days, redirect within 7 (art. 8), answer within 30 with a reminder
    /// 5 days before (art. 12; the answer deadline itself comes from `Deadlines`), a request to an outside body
    /// unanswered after 25 days raises an alert.
    public static let federalLaw59: [StageTimer] = [
        StageTimer(state: "received", limit: .days(3), remindBefore: .days(1), escalation: [.executor, .unitHead], escalateEvery: .workingDays(1)),
        StageTimer(state: "registered", limit: .days(7), remindBefore: .days(2), escalation: [.executor, .unitHead, .supervisor], escalateEvery: .workingDays(1)),
        StageTimer(state: "assigned", stuckAfter: .workingDays(3)),
        StageTimer(state: "awaiting-external", stuckAfter: .days(25)),
        StageTimer(state: "on-approval", stuckAfter: .workingDays(2)),
        // The call-back after an answer ("137"): due within three working days, on the day's worklist of the office.
        StageTimer(state: "answered", limit: CallBack.dueWithin),
    ]
}

private extension Date {
    func civilDay(in zone: TimeZone) -> CivilDate { CivilDate.of(self, in: zone) }
}
