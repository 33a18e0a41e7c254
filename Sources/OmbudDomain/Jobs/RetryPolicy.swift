import Foundation

/// When a failed job runs again: after `base`, doubling with each attempt up to `cap`; after `maxAttempts` it stays
/// failed for an administrator to look at (and retry by hand).
public struct RetryPolicy: Sendable, Equatable {
    public var base: TimeInterval
    public var cap: TimeInterval
    public var maxAttempts: Int

    public init(base: TimeInterval = 30, cap: TimeInterval = 3600, maxAttempts: Int = 8) {
        self.base = base
        self.cap = cap
        self.maxAttempts = maxAttempts
    }

    /// The wait after the `attempt`-th failed attempt (1-based).
    public func delay(afterAttempt attempt: Int) -> TimeInterval {
        let exponent = min(max(attempt - 1, 0), 30)
        return min(base * pow(2, Double(exponent)), cap)
    }

    /// nil when the job has used its attempts (`maxAttempts` of the job itself, else the policy's); otherwise when to
    /// run it again.
    public func nextRun(afterAttempt attempt: Int, of maxAttempts: Int? = nil, failedAt: Date) -> Date? {
        attempt >= (maxAttempts ?? self.maxAttempts) ? nil : failedAt.addingTimeInterval(delay(afterAttempt: attempt))
    }
}
