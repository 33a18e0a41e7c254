import Foundation

/// The organisation's deadline rules. The defaults are those of 59-FZ.
public struct DeadlinePolicy: Sendable, Equatable, Codable {
    public enum Shift: String, Sendable, Codable, CaseIterable {
        /// The control date moves back to the last working day before it (the safe default).
        case previous
        /// The control date moves forward to the next working day.
        case next
    }

    public var registrationDays: Int
    public var redirectDays: Int
    public var answerDays: Int
    public var maxExtensionDays: Int
    public var shift: Shift

    public init(registrationDays: Int = 3, redirectDays: Int = 7, answerDays: Int = 30,
                maxExtensionDays: Int = 30, shift: Shift = .previous) {
        self.registrationDays = registrationDays
        self.redirectDays = redirectDays
        self.answerDays = answerDays
        self.maxExtensionDays = maxExtensionDays
        self.shift = shift
    }

    public static let federalLaw59 = DeadlinePolicy()
}

/// The dates an appeal is controlled by, all counted in calendar days from the day after the event.
public struct Deadlines: Sendable, Equatable, Codable {
    public var registrationDue: CivilDate
    public var redirectDue: CivilDate?
    public var answerDue: CivilDate?
    /// The answer date moved off non-working days: the date the organisation actually controls.
    public var controlDate: CivilDate?
    public var extensionDays: Int
    public var extensionReason: String?

    public init(registrationDue: CivilDate, redirectDue: CivilDate? = nil, answerDue: CivilDate? = nil,
                controlDate: CivilDate? = nil, extensionDays: Int = 0, extensionReason: String? = nil) {
        self.registrationDue = registrationDue
        self.redirectDue = redirectDue
        self.answerDue = answerDue
        self.controlDate = controlDate
        self.extensionDays = extensionDays
        self.extensionReason = extensionReason
    }
}

public enum DeadlineError: Error, Equatable, Sendable {
    case alreadyExtended
    case extensionOutOfRange(maximum: Int)
    case reasonRequired
    case notRegistered
}

public enum DeadlineRules {
    /// Received but not yet registered: only the registration deadline runs.
    public static func onReceipt(received: CivilDate, policy: DeadlinePolicy) -> Deadlines {
        Deadlines(registrationDue: received.adding(days: policy.registrationDays))
    }

    /// At registration the redirect and answer deadlines start, counted from the day after registration.
    public static func onRegistration(received: CivilDate, registered: CivilDate, policy: DeadlinePolicy,
                                      calendar: BusinessCalendar) -> Deadlines {
        let answerDue = registered.adding(days: policy.answerDays)
        return Deadlines(
            registrationDue: received.adding(days: policy.registrationDays),
            redirectDue: registered.adding(days: policy.redirectDays),
            answerDue: answerDue,
            controlDate: controlDate(for: answerDue, policy: policy, calendar: calendar))
    }

    public static func controlDate(for due: CivilDate, policy: DeadlinePolicy, calendar: BusinessCalendar) -> CivilDate {
        switch policy.shift {
        case .previous: return calendar.previousWorkingDay(onOrBefore: due)
        case .next: return calendar.nextWorkingDay(onOrAfter: due)
        }
    }

    /// The single extension the law allows, of up to `maxExtensionDays`, with a reason.
    public static func extend(_ deadlines: Deadlines, byDays days: Int, reason: String, policy: DeadlinePolicy,
                              calendar: BusinessCalendar) throws(DeadlineError) -> Deadlines {
        guard let answerDue = deadlines.answerDue else { throw .notRegistered }
        guard deadlines.extensionDays == 0 else { throw .alreadyExtended }
        guard (1...policy.maxExtensionDays).contains(days) else { throw .extensionOutOfRange(maximum: policy.maxExtensionDays) }
        let reason = reason.trimmed()
        guard !reason.isEmpty else { throw .reasonRequired }
        var result = deadlines
        let extended = answerDue.adding(days: days)
        result.answerDue = extended
        result.controlDate = controlDate(for: extended, policy: policy, calendar: calendar)
        result.extensionDays = days
        result.extensionReason = reason
        return result
    }

    /// Overdue means still open after the control date (or, before registration, after the registration deadline).
    public static func isOverdue(_ deadlines: Deadlines, isOpen: Bool, today: CivilDate) -> Bool {
        guard isOpen else { return false }
        return today > (deadlines.controlDate ?? deadlines.registrationDue)
    }
}
