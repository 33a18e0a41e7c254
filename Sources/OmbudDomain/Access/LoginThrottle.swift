import Foundation

/// Login throttling: after `maxFailures` failed logins in a row the account (or the address they came from) is locked
/// for `lockout`. A success resets the count; so does the end of a lock.
public struct LoginThrottle: Sendable, Equatable {
    public var maxFailures = 5
    public var lockout: TimeInterval = 15 * 60

    public init(maxFailures: Int = 5, lockout: TimeInterval = 15 * 60) {
        self.maxFailures = maxFailures
        self.lockout = lockout
    }

    public struct State: Sendable, Equatable {
        public var failures: Int
        public var lockedUntil: Date?
        public init(failures: Int = 0, lockedUntil: Date? = nil) {
            self.failures = failures
            self.lockedUntil = lockedUntil
        }
    }

    public func isLocked(_ state: State, now: Date) -> Bool {
        state.lockedUntil.map { now < $0 } ?? false
    }

    /// The state after one more failure at `now`.
    public func failed(_ state: State, now: Date) -> State {
        var failures = state.failures
        if let until = state.lockedUntil, now >= until { failures = 0 }
        failures += 1
        return State(failures: failures, lockedUntil: failures >= maxFailures ? now.addingTimeInterval(lockout) : state.lockedUntil.flatMap { now < $0 ? $0 : nil })
    }
}
