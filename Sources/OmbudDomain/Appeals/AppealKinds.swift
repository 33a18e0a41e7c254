/// The closed vocabularies of an appeal. Raw values are the keys used in the API, the database and the UI catalogue.
public enum AppealChannel: String, Codable, Sendable, CaseIterable {
    case visit, phone, hotline, email = "e-mail", letter, web, social, sms, open311, other
}

public enum AppealKind: String, Codable, Sendable, CaseIterable {
    case proposal, statement, complaint
}

public enum AppealForm: String, Codable, Sendable, CaseIterable {
    case written, electronic, oral

    /// The form that follows from the channel when the operator does not say.
    public static func implied(by channel: AppealChannel) -> AppealForm {
        switch channel {
        case .letter: return .written
        case .visit, .phone, .hotline: return .oral
        case .email, .web, .social, .sms, .open311, .other: return .electronic
        }
    }
}

public enum Urgency: String, Codable, Sendable, CaseIterable {
    /// Answered during the contact itself.
    case instant
    /// Needs work by an executor and an answer later.
    case followUp = "follow-up"
}

public enum ApplicantKind: String, Codable, Sendable, CaseIterable {
    case person, organisation
}

/// Per-question results as reported to the federal monitoring system (ССТУ).
public enum QuestionResult: String, Codable, Sendable, CaseIterable {
    case supported
    case supportedMeasuresTaken = "supported-measures-taken"
    case explained
    case notSupported = "not-supported"
    case answered
    case leftWithoutAnswer = "left-without-answer"
    case redirected
    case inWork = "in-work"

    public var isFinal: Bool { self != .inWork }
}

public enum QuestionStatus: String, Codable, Sendable, CaseIterable {
    case open, inProgress = "in-progress", done
}

/// Grounds of art. 11 of 59-FZ for giving no answer on the merits.
public enum Article11Ground: String, Codable, Sendable, CaseIterable {
    case anonymous
    case obsceneOrThreatening = "obscene-or-threatening"
    case unreadable
    case repeatedQuestion = "repeated-question"
    case courtDecision = "court-decision"
}

public enum OrgUnitKind: String, Codable, Sendable, CaseIterable {
    case hq, body, department, reception
}

/// Role keys shipped by default; accounts reference them by key.
public enum RoleKey: String, Codable, Sendable, CaseIterable {
    case reception, executor, lawyer, approver, responder, journalist, editor, supervisor, analyst, administrator

    /// The roles of people an appeal can be given to by name (they answer it).
    public static let answering: Set<String> = [RoleKey.executor.rawValue, RoleKey.approver.rawValue, RoleKey.lawyer.rawValue]
}
