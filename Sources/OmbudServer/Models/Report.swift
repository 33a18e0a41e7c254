import Fluent
import Foundation
import OmbudDomain

/// A saved report (`ReportDefinition` as JSON), its owner and when its mail is next due.
final class ReportRecord: Model, @unchecked Sendable {
    static let schema = "reports"
    @ID(key: .id) var id: UUID?
    @Field(key: "owner_id") var ownerID: UUID
    @Field(key: "name") var name: String
    @Field(key: "definition") var definitionJSON: String
    @OptionalField(key: "next_run_at") var nextRunAt: Date?
    @OptionalField(key: "last_run_at") var lastRunAt: Date?
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "updated_at") var updatedAt: Date
    @Field(key: "version") var version: Int

    init() {}

    /// The stored definition; a row that no longer decodes (written by a newer version) is reported, not guessed at.
    func definition() throws -> ReportDefinition {
        do { return try JSONDecoder().decode(ReportDefinition.self, from: Data(definitionJSON.utf8)) } catch {
            throw AppError.conflict(code: "report-unreadable", reason: "the stored report \(id?.uuidString ?? "") cannot be read: \(error)", field: nil)
        }
    }

    func set(_ definition: ReportDefinition) throws {
        name = definition.name
        definitionJSON = String(decoding: try JSONEncoder().encode(definition), as: UTF8.self)
    }
}
