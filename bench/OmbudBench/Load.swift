import Foundation
import Vapor

/// The outcome of one measured phase: every request's latency, failures, and the wall time of the whole phase.
struct LoadResult: Sendable {
    var name: String
    var latencies: [Duration] // sorted ascending
    var failures: Int
    var firstFailure: String?
    var elapsed: Duration

    var requests: Int { latencies.count }
    var perSecond: Double { Double(requests) / elapsed.seconds }
    var p50: Double { percentile(0.50) }
    var p95: Double { percentile(0.95) }

    /// Nearest-rank percentile in milliseconds over all recorded latencies.
    func percentile(_ p: Double) -> Double {
        guard !latencies.isEmpty else { return .nan }
        let rank = Int((p * Double(latencies.count)).rounded(.up))
        return latencies[min(max(rank, 1), latencies.count) - 1].milliseconds
    }

    /// Several phases counted as one (e.g. all list variants).
    static func merged(_ name: String, _ parts: [LoadResult]) -> LoadResult {
        LoadResult(name: name, latencies: parts.flatMap(\.latencies).sorted(), failures: parts.reduce(0) { $0 + $1.failures },
                   firstFailure: parts.lazy.compactMap(\.firstFailure).first,
                   elapsed: parts.reduce(.zero) { $0 + $1.elapsed })
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
    var milliseconds: Double { seconds * 1000 }
}

/// Drives `clients` concurrent request loops against the server.
struct LoadDriver: Sendable {
    let client: HTTPClient
    let clients: Int

    /// Sends requests 0..<count (client k sends k, k + clients, k + 2·clients, …) and, with `until`, stops when that
    /// instant has passed. `request(i)` builds the i-th request; any status other than `expect` counts as a failure.
    /// After `maxFailures` failed requests every loop stops: the run has failed anyway, and a dead server would
    /// otherwise cost a connect timeout per remaining request. With `progressEvery`, prints the pace every so often.
    func run(_ name: String, count: Int, until: ContinuousClock.Instant? = nil, expect: HTTPResponseStatus = .ok,
             maxFailures: Int = 100, progressEvery: Int? = nil,
             request: @escaping @Sendable (Int) throws -> HTTPClient.Request) async -> LoadResult {
        let clock = ContinuousClock()
        let start = clock.now
        let shared = SharedState(start: start, maxFailures: maxFailures)
        let parts = await withTaskGroup(of: Part.self) { group in
            for k in 0..<clients {
                group.addTask {
                    var part = Part()
                    part.latencies.reserveCapacity(count / clients + 1)
                    var i = k
                    while i < count && !shared.aborted {
                        if let until, clock.now >= until { break }
                        if let every = progressEvery, i > 0, i % every == 0 { shared.report(i, every: every, clock: clock) }
                        let sent = clock.now
                        do {
                            let response = try await client.execute(request: try request(i)).get()
                            if response.status != expect {
                                part.fail("\(response.status.code) " + String(buffer: response.body ?? ByteBuffer()).prefix(300), shared)
                            }
                        } catch {
                            part.fail(String(describing: error), shared)
                        }
                        part.latencies.append(clock.now - sent)
                        i += clients
                    }
                    return part
                }
            }
            var all: [Part] = []
            for await part in group { all.append(part) }
            return all
        }
        let elapsed = clock.now - start
        return LoadResult(name: name, latencies: parts.flatMap(\.latencies).sorted(), failures: parts.reduce(0) { $0 + $1.failures },
                          firstFailure: parts.lazy.compactMap(\.firstFailure).first, elapsed: elapsed)
    }

    private struct Part: Sendable {
        var latencies: [Duration] = []
        var failures = 0
        var firstFailure: String?

        mutating func fail(_ reason: String, _ shared: SharedState) {
            failures += 1
            if firstFailure == nil { firstFailure = reason }
            shared.countFailure()
        }
    }
}

/// What the loops of one phase share: the failure count that stops them all, and the pace for progress lines.
private final class SharedState: Sendable {
    private let lock = NSLock()
    private let maxFailures: Int
    nonisolated(unsafe) private var failures = 0 // guarded by lock
    nonisolated(unsafe) private var mark: (count: Int, at: ContinuousClock.Instant) // guarded by lock

    init(start: ContinuousClock.Instant, maxFailures: Int) {
        self.maxFailures = maxFailures
        mark = (0, start)
    }

    var aborted: Bool { lock.withLock { failures >= maxFailures } }

    func countFailure() { lock.withLock { failures += 1 } }

    func report(_ count: Int, every: Int, clock: ContinuousClock) {
        let now = clock.now
        let pace: Double? = lock.withLock {
            guard count > mark.count else { return nil }
            defer { mark = (count, now) }
            return Double(count - mark.count) / (now - mark.at).seconds
        }
        if let pace { say(String(format: "  %d sent, last %d at %.0f/s", count, every, pace)) }
    }
}
