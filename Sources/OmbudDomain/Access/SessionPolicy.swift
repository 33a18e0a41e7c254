import Foundation

/// How long a signed-in session lives: it ends after `idle` without a request and, whatever the activity, `lifetime`
/// after sign-in (a contact centre's 12-hour shift by default), so a forgotten browser does not stay signed in.
public struct SessionPolicy: Sendable, Equatable {
    public var idle: TimeInterval
    public var lifetime: TimeInterval
    /// A request refreshes `lastSeen` only when the stored value is older than this, to spare a write per request.
    public var touchInterval: TimeInterval = 60

    public init(idle: TimeInterval = 2 * 3600, lifetime: TimeInterval = 12 * 3600) {
        self.idle = idle
        self.lifetime = lifetime
    }

    public func isExpired(createdAt: Date, lastSeen: Date, now: Date) -> Bool {
        // A session "made in the future" means a clock went back.
        Self.elapsed(lastSeen, now) >= idle || Self.elapsed(createdAt, now) >= lifetime || Self.elapsed(createdAt, now) < 0
    }

    public func needsTouch(lastSeen: Date, now: Date) -> Bool {
        Self.elapsed(lastSeen, now) >= touchInterval
    }

    /// Seconds from `a` to `b` to the millisecond: the stored moments come back from the databases a fraction of a
    /// microsecond off (SQLite rounds, PostgreSQL truncates), which must not decide whether a session ended.
    static func elapsed(_ a: Date, _ b: Date) -> TimeInterval {
        (b.timeIntervalSince(a) * 1000).rounded() / 1000
    }

    /// Compares secrets (CSRF tokens) in time independent of where they first differ.
    public static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count, !x.isEmpty else { return false }
        var diff: UInt8 = 0
        for i in x.indices { diff |= x[i] ^ y[i] }
        return diff == 0
    }
}

/// Passwords users choose for local accounts.
public enum PasswordRules {
    public static let minimumLength = 8
    /// bcrypt reads only the first 72 bytes: a longer password would be silently cut.
    public static let maximumBytes = 72

    public enum Problem: String, Error, Sendable {
        case tooShort, tooLong, sameAsLogin

        public func validationError(field: String) -> ValidationError {
            switch self {
            case .tooShort: ValidationError(field: field, reason: "must be at least \(PasswordRules.minimumLength) characters")
            case .tooLong: ValidationError(field: field, reason: "must be at most \(PasswordRules.maximumBytes) bytes")
            case .sameAsLogin: ValidationError(field: field, reason: "must differ from the login")
            }
        }
    }

    public static func problem(_ password: String, login: String? = nil) -> Problem? {
        if password.count < minimumLength { return .tooShort }
        if password.utf8.count > maximumBytes { return .tooLong }
        if let login, password.lowercased() == login.lowercased() { return .sameAsLogin }
        return nil
    }

    public static func validate(_ password: String, field: String = "password", login: String? = nil) throws(ValidationError) {
        if let problem = problem(password, login: login) { throw problem.validationError(field: field) }
    }
}
