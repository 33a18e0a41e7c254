import Fluent
import Foundation

final class User: Model, @unchecked Sendable {
    static let schema = "users"
    @ID(key: .id) var id: UUID?
    @Field(key: "login") var login: String
    @Field(key: "password_hash") var passwordHash: String
    @Field(key: "role") var role: String
    @Field(key: "full_name") var fullName: String
    @OptionalField(key: "unit_id") var unitID: UUID?
    @Field(key: "is_active") var isActive: Bool
    @Field(key: "created_at") var createdAt: Date

    init() {}
    init(login: String, passwordHash: String, role: String, fullName: String, unitID: UUID?, createdAt: Date) {
        self.login = login
        self.passwordHash = passwordHash
        self.role = role
        self.fullName = fullName
        self.unitID = unitID
        self.isActive = true
        self.createdAt = createdAt
    }
}

final class APIToken: Model, @unchecked Sendable {
    static let schema = "api_tokens"
    @ID(key: .id) var id: UUID?
    @Parent(key: "user_id") var user: User
    @Field(key: "token_hash") var tokenHash: String
    @Field(key: "name") var name: String
    @Field(key: "created_at") var createdAt: Date
    @OptionalField(key: "last_used_at") var lastUsedAt: Date?
    @OptionalField(key: "revoked_at") var revokedAt: Date?

    init() {}
}
