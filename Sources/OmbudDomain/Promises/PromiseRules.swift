import Foundation

/// A commitment given to an applicant ("we will repair the roof by 1 June").
public enum PromiseStatus: String, Sendable, Codable, CaseIterable {
    case given
    case inWork = "in-work"
    case kept
    case broken

    public var isSettled: Bool { self == .kept || self == .broken }

    /// Given → in work → kept or broken; a settled promise stays settled (a new commitment is a new promise).
    public func canBecome(_ next: PromiseStatus) -> Bool {
        switch self {
        case .given: next != .given
        case .inWork: next == .kept || next == .broken
        case .kept, .broken: false
        }
    }
}

public enum PromiseRules {
    public static let maximumTextLength = 2000
    public static let remindBefore = TimeLimit.days(2)

    /// The text is required and bounded; the due date may not lie in the past (today is allowed).
    public static func validate(text: String, due: CivilDate, today: CivilDate) throws(ValidationError) -> String {
        let text = text.trimmed()
        guard !text.isEmpty else { throw ValidationError(field: "text", reason: "say what was promised") }
        guard text.count <= maximumTextLength else {
            throw ValidationError(field: "text", reason: "at most \(maximumTextLength) characters")
        }
        guard due >= today else { throw ValidationError(field: "dueDate", reason: "\(due.iso) is in the past") }
        return text
    }

    public static func transition(from: PromiseStatus, to: PromiseStatus) throws(ValidationError) {
        guard from != to else { return }
        guard from.canBecome(to) else { throw ValidationError(field: "status", reason: "a promise that is \(from.rawValue) cannot become \(to.rawValue)") }
    }

    /// The responsible person is reminded two days ahead, on the due date, and told the morning after that it is
    /// overdue (with the unit head), while the promise is not settled.
    public static func alerts(due: CivilDate, calendar: BusinessCalendar, zone: TimeZone) -> [ScheduledAlert] {
        let end = due.adding(days: 1).start(in: zone)
        return [
            ScheduledAlert(scope: .stage, kind: .reminder, at: remindBefore.before(end, calendar: calendar, zone: zone), key: "promise:\(due.iso):reminder"),
            ScheduledAlert(scope: .stage, kind: .due, at: due.start(in: zone), key: "promise:\(due.iso):due"),
            ScheduledAlert(scope: .stage, kind: .escalation(.unitHead), at: end, key: "promise:\(due.iso):overdue"),
        ]
    }
}
