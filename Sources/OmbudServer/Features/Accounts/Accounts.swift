import Fluent
import OmbudDomain
import Vapor

/// Creating users and tokens: used by the CLI and by tests.
enum Accounts {
    static func addUser(login: String, password: String, roles: [String], fullName: String?, unitCodes: [String],
                        store: Store, now: Date) async throws -> User {
        let login = try validLogin(login)
        do throws(ValidationError) { try PasswordRules.validate(password, login: login) } catch { throw error.appError }
        let hash = try await hashPassword(password)
        return try await store.write { db in
            if try await User.query(on: db).filter(\.$login == login).first() != nil {
                throw AppError.conflict(code: "exists", reason: "user \(login) already exists", field: "login")
            }
            let user = User(login: login, passwordHash: hash, roles: try await validRoles(roles, db: db), fullName: fullName ?? login,
                            unitIDs: try await unitIDs(unitCodes, db: db), createdAt: now)
            try await user.create(on: db)
            return user
        }
    }

    /// Sets a local account's password and ends its sessions. `by` is who did it, for the audit log.
    static func setPassword(login: String, password: String, by actor: String, actorID: UUID?, keepSession: UUID? = nil,
                            address: String? = nil, store: Store, now: Date) async throws {
        do throws(ValidationError) { try PasswordRules.validate(password, login: login) } catch { throw error.appError }
        let hash = try await hashPassword(password)
        try await store.write { db in
            guard let user = try await User.query(on: db).filter(\.$login == login).first() else {
                throw AppError.notFound(entity: "user", id: login)
            }
            guard user.authSource == "local" else {
                throw AppError.conflict(code: "directory-account", reason: "\(login) signs in through the domain directory; its password is kept there", field: "login")
            }
            user.passwordHash = hash
            try await user.save(on: db)
            try await Sessions.endAll(userID: try user.requireID(), except: keepSession, reason: "password-changed", now: now, db: db)
            try await Audit.record(actor == login ? "password.change" : "password.reset", actorID: actorID, actor: actor,
                                   entity: "user", entityID: login, address: address, at: now, db: db)
        }
    }

    /// bcrypt takes a quarter of a second by design: it runs on the thread pool, never on an event loop.
    static func hashPassword(_ password: String) async throws -> String {
        try await NIOThreadPool.singleton.runIfActive { try Bcrypt.hash(password) }
    }

    static func validLogin(_ raw: String) throws -> String {
        let login = raw.trimmed()
        guard !login.isEmpty, login.count <= 64, login.allSatisfy({ $0.isLetter || $0.isNumber || "._-@".contains($0) }) else {
            throw AppError.invalid(field: "login", reason: "use letters, digits and . _ - @ (at most 64)")
        }
        return login
    }

    /// Role keys that exist and are active, at least one.
    static func validRoles(_ keys: [String], db: any Database) async throws -> [String] {
        let keys = keys.map { $0.trimmed() }
        guard !keys.isEmpty else { throw AppError.missing(field: "roles") }
        let known = Set(try await RoleRecord.query(on: db).filter(\.$isActive == true).all().map(\.key))
        for (i, key) in keys.enumerated() where !known.contains(key) {
            throw AppError.invalid(field: "roles[\(i)]", reason: "no active role \(key); roles: " + known.sorted().joined(separator: ", "))
        }
        return Array(Set(keys)).sorted()
    }

    /// The active user of this login (nil for none given); an unknown or inactive one is refused naming `field`.
    static func activeUser(_ login: String?, field: String, db: any Database) async throws -> User? {
        guard let login = login?.trimmed(), !login.isEmpty else { return nil }
        guard let user = try await User.query(on: db).filter(\.$login == login).filter(\.$isActive == true).first() else {
            throw AppError.invalid(field: field, reason: "no active user \(login)")
        }
        return user
    }

    static func unitIDs(_ codes: [String], db: any Database) async throws -> [UUID] {
        let codes = codes.map { $0.trimmed() }
        let units = try await OrgUnit.query(on: db).filter(\.$code ~~ codes).all()
        return try codes.enumerated().map { i, code in
            guard let unit = units.first(where: { $0.code == code }) else {
                throw AppError.invalid(field: "units[\(i)]", reason: "unknown unit code \(code)")
            }
            return try unit.requireID()
        }
    }

    /// Returns the token in clear text once; only its digest is kept.
    static func createToken(login: String, name: String, permissions: [String]? = nil, store: Store, now: Date) async throws -> String {
        try await issueToken(login: login, name: name, permissions: permissions, maker: nil, store: store, now: now).secret
    }

    /// The new token's record and its secret (returned once; only the digest is kept).
    /// `maker`: the permissions of whoever asks (nil for the server's console); the token gets no more than those.
    static func issueToken(login: String, name: String, permissions: [String]?, maker: Set<Permission>?, store: Store,
                           now: Date) async throws -> (record: APIToken, secret: String) {
        let token = Tokens.generate()
        let limit: [String]?
        do throws(ValidationError) {
            let requested = try permissions.map { raw throws(ValidationError) in try Permission.parse(raw, field: "permissions") }
            limit = try Administration.tokenLimit(requested: requested, maker: maker, field: "permissions")?.map(\.rawValue).sorted()
        } catch { throw error.appError }
        let record = try await store.write { db in
            guard let user = try await User.query(on: db).filter(\.$login == login).first() else {
                throw AppError.notFound(entity: "user", id: login)
            }
            let record = APIToken()
            record.$user.id = try user.requireID()
            record.tokenHash = Tokens.hash(token)
            record.name = name
            record.permissions = limit
            record.createdAt = now
            try await record.create(on: db)
            return record
        }
        return (record, token)
    }
}
