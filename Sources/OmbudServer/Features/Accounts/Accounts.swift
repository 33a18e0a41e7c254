import Fluent
import OmbudDomain
import Vapor

/// Creating users and tokens: used by the CLI and by tests.
enum Accounts {
    static func addUser(login: String, password: String, role: String, fullName: String?, unitCode: String?,
                        store: Store, now: Date) async throws -> User {
        let login = login.trimmingCharacters(in: .whitespaces)
        guard !login.isEmpty, login.count <= 64, login.allSatisfy({ $0.isLetter || $0.isNumber || "._-@".contains($0) }) else {
            throw AppError.invalid(field: "login", reason: "use letters, digits and . _ - @ (at most 64)")
        }
        guard RoleKey(rawValue: role) != nil else {
            throw AppError.invalid(field: "role", reason: "must be one of " + RoleKey.allCases.map(\.rawValue).joined(separator: ", "))
        }
        guard password.count >= 8 else { throw AppError.invalid(field: "password", reason: "must be at least 8 characters") }
        let hash = try Bcrypt.hash(password)
        return try await store.write { db in
            if try await User.query(on: db).filter(\.$login == login).first() != nil {
                throw AppError.conflict(code: "exists", reason: "user \(login) already exists", field: "login")
            }
            var unitID: UUID?
            if let unitCode {
                guard let unit = try await OrgUnit.query(on: db).filter(\.$code == unitCode).first() else {
                    throw AppError.notFound(entity: "unit", id: unitCode)
                }
                unitID = unit.id
            }
            let user = User(login: login, passwordHash: hash, role: role, fullName: fullName ?? login, unitID: unitID, createdAt: now)
            try await user.create(on: db)
            return user
        }
    }

    /// Returns the token in clear text once; only its digest is kept.
    static func createToken(login: String, name: String, store: Store, now: Date) async throws -> String {
        let token = Tokens.generate()
        try await store.write { db in
            guard let user = try await User.query(on: db).filter(\.$login == login).first() else {
                throw AppError.notFound(entity: "user", id: login)
            }
            let record = APIToken()
            record.$user.id = try user.requireID()
            record.tokenHash = Tokens.hash(token)
            record.name = name
            record.createdAt = now
            try await record.create(on: db)
        }
        return token
    }
}
