import Foundation

/// Login throttling: `maxFailures` failed logins, each within `lockout` of the previous one, lock the account (or the
/// address they came from) for `lockout`. A quiet spell as long as the lock, or the end of a lock, starts the count again.
public struct LoginThrottle: Sendable, Equatable {
    public var maxFailures: Int
    public var lockout: TimeInterval

    /// Per account: a person mistyping does not reach five in a row; a password guesser is slowed to 5 tries per 15 min.
    public static let account = LoginThrottle(maxFailures: 5)
    /// Per address: higher, because a whole reception office or contact centre may sign in from one NAT address.
    public static let address = LoginThrottle(maxFailures: 20)

    public init(maxFailures: Int = 5, lockout: TimeInterval = 15 * 60) {
        self.maxFailures = maxFailures
        self.lockout = lockout
    }

    public struct State: Sendable, Equatable {
        public var failures: Int
        public var lastFailureAt: Date?
        public var lockedUntil: Date?
        public init(failures: Int = 0, lastFailureAt: Date? = nil, lockedUntil: Date? = nil) {
            self.failures = failures
            self.lastFailureAt = lastFailureAt
            self.lockedUntil = lockedUntil
        }
    }

    public func isLocked(_ state: State, now: Date) -> Bool {
        state.lockedUntil(now: now) != nil
    }

    /// The state after one more failure at `now`.
    public func failed(_ state: State, now: Date) -> State {
        var failures = state.failures
        let lockEnded = state.lockedUntil.map { now >= $0 } ?? false
        let quiet = state.lastFailureAt.map { now.timeIntervalSince($0) >= lockout } ?? true
        if lockEnded || quiet { failures = 0 }
        failures += 1
        let stillLocked = state.lockedUntil.flatMap { now < $0 ? $0 : nil }
        // The lock ends on a whole second: databases give fractions back rounded (SQLite) or truncated (PostgreSQL),
        // and the "try again in N seconds" told to the user must hold to the second.
        let until = Date(timeIntervalSince1970: now.addingTimeInterval(lockout).timeIntervalSince1970.rounded(.down))
        return State(failures: failures, lastFailureAt: now, lockedUntil: failures >= maxFailures ? until : stillLocked)
    }
}

extension LoginThrottle {
    /// One counter a sign-in attempt is checked against and counted in.
    public struct Counter: Sendable, Equatable {
        public let key: String
        public let rule: LoginThrottle
        /// A success clears the account's count; the address's runs on, so that signing in to one's own account
        /// between guesses at others does not reset it.
        public let clearedBySuccess: Bool
    }

    /// The counters of an attempt: the account's (logins compare without case) and, when known, the address's.
    public static func counters(login: String, address: String?) -> [Counter] {
        [Counter(key: "account:" + login.lowercased(), rule: .account, clearedBySuccess: true)]
            + (address.map { [Counter(key: "address:" + $0, rule: .address, clearedBySuccess: false)] } ?? [])
    }

    /// Whole minutes left of a lock, rounded up, for "try again in N min".
    public static func minutes(_ seconds: Int) -> Int { (seconds + 59) / 60 }
}

extension LoginThrottle.State {
    /// The end of the lock, if one holds at `now`.
    public func lockedUntil(now: Date) -> Date? { lockedUntil.flatMap { now < $0 ? $0 : nil } }
}
