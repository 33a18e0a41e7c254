import Fluent
import Foundation

enum Correspondence {
    /// A message joining an appeal that exists: its row, its lines in the history and the jobs it starts, in one
    /// transaction. (A message that makes a new appeal is written by the intake, in the appeal's own transaction.)
    static func add(_ letter: CorrespondenceRecord, notes: [HistoryNote], jobs: [JobQueue.Planned] = [], actor: Actor, now: Date,
                    store: Store) async throws {
        try await store.write { db in
            try await letter.create(on: db)
            let history = HistoryRecorder(db: db, actor: actor, at: now)
            for n in notes {
                try await history.record(entity: "appeal", id: letter.appealID, appealID: letter.appealID, action: n.action, field: n.field,
                                         to: n.to, comment: n.comment, note: n.note)
            }
            for job in jobs { try await JobQueue.enqueue(job, now: now, db: db) }
        }
    }
}
