import Fluent
import Foundation
import SQLKit

final class FormSubmission: Model, @unchecked Sendable {
    static let schema = "form_submissions"
    @ID(custom: "token", generatedBy: .user) var id: UUID?
    @Field(key: "user_id") var userID: UUID
    @OptionalField(key: "appeal_id") var appealID: UUID?
    @Field(key: "created_at") var createdAt: Date
    init() {}
}

/// A form that must act once, however often it is submitted (a double click, a reload after a slow answer): each
/// rendering carries a random token; the first submission claims it, later ones are sent to what the first created.
enum FormOnce {
    enum Claim: Equatable {
        /// This request goes ahead.
        case claimed
        /// An earlier submission of the same form is still running.
        case inFlight
        /// An earlier submission created this appeal.
        case done(UUID)
    }

    static func claim(_ token: UUID, userID: UUID, store: Store, now: Date, peek: Bool = false) async throws -> Claim {
        try await store.write { db in
            if !peek {
                let rows = try await (db as! any SQLDatabase).insert(into: FormSubmission.schema)
                    .columns("token", "user_id", "created_at").values(SQLBind(token), SQLBind(userID), SQLBind(now))
                    .ignoringConflicts(with: ["token"]).returning("token").all()
                if !rows.isEmpty { return .claimed }
            }
            guard let row = try await FormSubmission.find(token, on: db), row.userID == userID else { return .inFlight }
            return row.appealID.map(Claim.done) ?? .inFlight
        }
    }

    static func complete(_ token: UUID, appealID: UUID, store: Store) async throws {
        try await store.write { db in
            try await FormSubmission.query(on: db).filter(\.$id == token).set(\.$appealID, to: appealID).update()
        }
    }

    /// The submission failed (bad input): the same form may be sent again, corrected.
    static func release(_ token: UUID, store: Store) async throws {
        try await store.write { db in
            try await FormSubmission.query(on: db).filter(\.$id == token).filter(\.$appealID == nil).delete()
        }
    }
}
