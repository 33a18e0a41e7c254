import Vapor

/// Runs the work of one key after the work of that key already under way (within this process); other keys run
/// alongside. Used so that one thread's messages arriving together are taken in order.
actor KeyedSerializer {
    private var tails: [String: Task<Void, Never>] = [:]

    func serially<T: Sendable>(_ key: String, _ work: @escaping @Sendable () async throws -> T) async throws -> T {
        let previous = tails[key]
        let task = Task { () async throws -> T in
            await previous?.value
            return try await work()
        }
        let tail = Task { _ = try? await task.value }
        tails[key] = tail
        defer { Task { await self.finished(key, tail) } }
        return try await task.value
    }

    private func finished(_ key: String, _ tail: Task<Void, Never>) async {
        await tail.value
        if tails[key] == tail { tails[key] = nil }
    }
}

extension Application {
    private struct ThreadsKey: StorageKey { typealias Value = KeyedSerializer }
    /// Set once at configuration (storage is not safe to create in lazily from concurrent requests).
    var channelThreads: KeyedSerializer {
        get { storage[ThreadsKey.self]! }
        set { storage[ThreadsKey.self] = newValue }
    }
}
