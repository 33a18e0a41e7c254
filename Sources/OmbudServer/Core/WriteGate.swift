/// Lets one write transaction at a time into SQLite. SQLite has one writer anyway; queueing here instead of in
/// SQLite's busy handler (which spins) keeps CPU free and avoids BUSY errors when a read transaction upgrades.
actor WriteGate {
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        if !busy {
            busy = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty {
            busy = false
        } else {
            waiters.removeFirst().resume()
        }
    }
}

extension WriteGate {
    /// Runs `body` holding the gate.
    nonisolated func locked<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        await acquire()
        do {
            let result = try await body()
            await release()
            return result
        } catch {
            await release()
            throw error
        }
    }
}
