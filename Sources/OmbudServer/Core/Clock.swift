import Foundation
import Vapor

/// The current time, injectable so that tests never wait on the real clock.
struct Clock: Sendable {
    var now: @Sendable () -> Date
    static let live = Clock(now: { Date() })
}

extension Application {
    private struct ClockKey: StorageKey { typealias Value = Clock }
    var clock: Clock {
        get { storage[ClockKey.self] ?? .live }
        set { storage[ClockKey.self] = newValue }
    }
}

extension Request {
    var now: Date { application.clock.now() }
}
