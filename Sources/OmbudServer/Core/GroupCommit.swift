/// Group commit: items that arrive while a batch is being written wait and go together in the next one, so that under
/// load many share one transaction (and, on SQLite, one fsync); alone, an item is written at once. Each caller gets its
/// own item's result once the batch has committed. If a batch fails, its items are written one by one, so one bad item
/// cannot fail the others.
actor GroupCommit<Item: Sendable, Output: Sendable> {
    typealias Writer = @Sendable ([Item]) async throws -> [Output]
    private let writer: Writer
    private let maxBatch: Int
    private var pending: [(Item, CheckedContinuation<Output, any Error>)] = []
    private var draining = false

    init(maxBatch: Int = 64, writer: @escaping Writer) {
        self.maxBatch = maxBatch
        self.writer = writer
    }

    func submit(_ item: Item) async throws -> Output {
        try await withCheckedThrowingContinuation { continuation in
            pending.append((item, continuation))
            if !draining {
                draining = true
                Task { await drain() }
            }
        }
    }

    private func drain() async {
        while !pending.isEmpty {
            let batch = Array(pending.prefix(maxBatch))
            pending.removeFirst(batch.count)
            do {
                let outputs = try await writer(batch.map(\.0))
                for ((_, continuation), output) in zip(batch, outputs) { continuation.resume(returning: output) }
            } catch where batch.count > 1 {
                for (item, continuation) in batch {
                    do { continuation.resume(returning: try await writer([item])[0]) } catch { continuation.resume(throwing: error) }
                }
            } catch {
                batch[0].1.resume(throwing: error)
            }
        }
        draining = false
    }
}
