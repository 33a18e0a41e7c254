/// The responder's call-back after an answer ("137"): the citizen is satisfied, and the appeal closes; or not, and it
/// goes back to work with the reason.
public enum CallBack {
    /// Working days after the answer within which the citizen is called.
    public static let dueWithin = TimeLimit.workingDays(3)

    /// The workflow moves a call-back's verdict makes from `state`; nil when the appeal is not waiting for one.
    public static func moves(from state: String, satisfied: Bool) -> [String]? {
        switch state {
        case "answered": ["feedback", satisfied ? "closed" : "in-progress"]
        case "feedback": [satisfied ? "closed" : "in-progress"]
        default: nil
        }
    }
}

extension CallBack {
    /// What the responder heard on the call: satisfied or not, why (required when not: it goes back to the executor),
    /// and a score of 1–5 when the citizen gave one.
    public struct Verdict: Sendable, Equatable {
        public static let maxComment = 2_000
        public let satisfied: Bool
        public let comment: String?
        public let score: Int?

        public init(satisfied: Bool?, comment: String?, score: Int?) throws(ValidationError) {
            guard let satisfied else { throw ValidationError(field: "satisfied", reason: "is required: true or false") }
            let comment = try Validate.text(comment, field: "comment", required: !satisfied, max: Self.maxComment)
            if let score, !(1...5).contains(score) { throw ValidationError(field: "score", reason: "must be 1 to 5") }
            self.satisfied = satisfied
            self.comment = comment
            self.score = score
        }
    }
}
