import Fluent
import Foundation
import OmbudDomain

final class User: Model, @unchecked Sendable {
    static let schema = "users"
    @ID(key: .id) var id: UUID?
    @Field(key: "login") var login: String
    @Field(key: "password_hash") var passwordHash: String
    /// Keys of the user's roles (rows of `roles`); a small office may give one person several.
    @Field(key: "roles") var roles: [String]
    @Field(key: "full_name") var fullName: String
    /// The org units the user belongs to: their scope is these and every unit below.
    @Field(key: "unit_ids") var unitIDs: [UUID]
    @Field(key: "is_active") var isActive: Bool
    /// `local` (password kept here) or `ldap` (checked against the directory at each login).
    @Field(key: "auth_source") var authSource: String
    @OptionalField(key: "last_seen_at") var lastSeenAt: Date?
    @Field(key: "created_at") var createdAt: Date
    /// Where notifications are mailed (none: only in the app).
    @OptionalField(key: "email") var email: String?
    /// The language of the user's notifications (ru, en, fa).
    @Field(key: "language") var language: String
    /// Notification kinds the user does not want by e-mail.
    @Field(key: "mail_off") var mailOff: [String]

    init() {}
    init(login: String, passwordHash: String, roles: [String], fullName: String, unitIDs: [UUID], createdAt: Date) {
        self.id = UUID.timeOrdered(at: createdAt)
        self.login = login
        self.passwordHash = passwordHash
        self.roles = roles
        self.fullName = fullName
        self.unitIDs = unitIDs
        self.isActive = true
        self.authSource = "local"
        self.createdAt = createdAt
        self.language = UILanguage.ru.rawValue
        self.mailOff = []
    }
}

final class APIToken: Model, @unchecked Sendable {
    static let schema = "api_tokens"
    @ID(key: .id) var id: UUID?
    @Parent(key: "user_id") var user: User
    @Field(key: "token_hash") var tokenHash: String
    @Field(key: "name") var name: String
    /// What the token may do: nil for everything its user may do, else at most these (and never more than the user).
    @OptionalField(key: "permissions") var permissions: [String]?
    @Field(key: "created_at") var createdAt: Date
    @OptionalField(key: "last_used_at") var lastUsedAt: Date?
    @OptionalField(key: "revoked_at") var revokedAt: Date?

    init() {}
}
