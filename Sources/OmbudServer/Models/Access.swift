import Fluent
import Foundation
import OmbudDomain

final class RoleRecord: Model, @unchecked Sendable {
    static let schema = "roles"
    @ID(key: .id) var id: UUID?
    @Field(key: "key") var key: String
    @Field(key: "name") var name: String
    @Field(key: "permissions") var permissions: [String]
    @Field(key: "is_builtin") var isBuiltin: Bool
    @Field(key: "is_active") var isActive: Bool
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "updated_at") var updatedAt: Date

    init() {}
    init(_ role: RoleDefinition, builtin: Bool, now: Date) {
        id = UUID.timeOrdered(at: now)
        key = role.key
        name = role.name
        permissions = role.permissions.map(\.rawValue).sorted()
        isBuiltin = builtin
        isActive = true
        createdAt = now
        updatedAt = now
    }

    /// Permissions as stored; a key no longer in the catalogue grants nothing.
    var grants: Set<Permission> { Set(permissions.compactMap(Permission.init(rawValue:))) }
}

/// One line of the audit log. There is no code path that updates or deletes one, and the database refuses to.
final class AuditRecord: Model, @unchecked Sendable {
    static let schema = "audit_log"
    @ID(key: .id) var id: UUID?
    @Field(key: "at") var at: Date
    @OptionalField(key: "actor_id") var actorID: UUID?
    @Field(key: "actor") var actor: String
    @Field(key: "action") var action: String
    @OptionalField(key: "entity") var entity: String?
    @OptionalField(key: "entity_id") var entityID: String?
    @OptionalField(key: "address") var address: String?
    @OptionalField(key: "details") var details: String?

    init() {}
}
