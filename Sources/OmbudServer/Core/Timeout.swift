import NIOCore

/// Runs `body` on `channel`, closing the channel and throwing `timedOut` when it has not finished within `limit`:
/// a server that accepts the connection and then says nothing must not hold a worker or a login forever.
func withTimeout<T: Sendable, Inbound, Outbound>(
    _ limit: TimeAmount, closing channel: NIOAsyncChannel<Inbound, Outbound>, timedOut: @autoclosure () -> any Error,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    let result = try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(nanoseconds: UInt64(limit.nanoseconds))
            return nil
        }
        defer { group.cancelAll() }
        return try await group.next() ?? nil
    }
    guard let result else {
        channel.channel.close(promise: nil)
        throw timedOut()
    }
    return result
}
