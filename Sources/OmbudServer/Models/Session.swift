import Fluent
import Foundation
import OmbudDomain

/// A signed-in browser. The cookie carries a random token; only its SHA-256 digest is stored.
final class BrowserSession: Model, @unchecked Sendable {
    static let schema = "sessions"
    @ID(key: .id) var id: UUID?
    @Field(key: "token_hash") var tokenHash: String
    @Parent(key: "user_id") var user: User
    /// Sent back with every state-changing request made with this session's cookie.
    @Field(key: "csrf_token") var csrfToken: String
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "last_seen_at") var lastSeenAt: Date
    @OptionalField(key: "ended_at") var endedAt: Date?
    /// `logout`, `expired`, `password-changed`, `deactivated`.
    @OptionalField(key: "end_reason") var endReason: String?
    @OptionalField(key: "address") var address: String?
    @OptionalField(key: "user_agent") var userAgent: String?

    init() {}
}

/// Failed logins counted per account (`account:LOGIN`) and per address (`address:IP`).
final class LoginThrottleRecord: Model, @unchecked Sendable {
    static let schema = "login_throttle"
    @ID(custom: "key", generatedBy: .user) var id: String?
    @Field(key: "failures") var failures: Int
    @Field(key: "last_failure_at") var lastFailureAt: Date
    @OptionalField(key: "locked_until") var lockedUntil: Date?

    init() {}
    init(key: String) {
        id = key
        failures = 0
    }

    /// The counter as the domain rule sees it (a new record has no failures yet).
    var state: LoginThrottle.State {
        get { LoginThrottle.State(failures: failures, lastFailureAt: $lastFailureAt.value, lockedUntil: lockedUntil) }
        set {
            failures = newValue.failures
            if let at = newValue.lastFailureAt { lastFailureAt = at }
            lockedUntil = newValue.lockedUntil
        }
    }
}
