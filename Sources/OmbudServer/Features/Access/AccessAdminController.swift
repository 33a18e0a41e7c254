import Fluent
import Foundation
import OmbudDomain
import Vapor

struct RoleView: Content {
    var key: String
    var name: String
    var permissions: [String]
    var isBuiltin: Bool
    var isActive: Bool

    init(_ r: RoleRecord) {
        key = r.key
        name = r.name
        permissions = r.permissions
        isBuiltin = r.isBuiltin
        isActive = r.isActive
    }
}

struct RoleInput: Content {
    var key: String?
    var name: String?
    var permissions: [String]?
    var isActive: Bool?
}

struct UserView: Content {
    var id: UUID
    var login: String
    var fullName: String
    var roles: [String]
    var units: [String]
    var isActive: Bool
    var authSource: String
    var lastSeenAt: Date?
    var email: String?
    var language: String?
}

struct UserInput: Content {
    var login: String?
    var password: String?
    var fullName: String?
    var roles: [String]?
    var units: [String]?
    var isActive: Bool?
    /// Where the user's notifications are mailed ("" removes it), and their language.
    var email: String?
    var language: String?
}

struct TokenView: Content {
    var id: UUID
    var login: String
    var name: String
    var permissions: [String]?
    var createdAt: Date
    var lastUsedAt: Date?
    var revokedAt: Date?
    /// Only in the answer to its creation: the token itself is never stored.
    var token: String?

    init(_ t: APIToken, login: String, secret: String? = nil) throws {
        id = try t.requireID()
        self.login = login
        name = t.name
        permissions = t.permissions
        createdAt = t.createdAt
        lastUsedAt = t.lastUsedAt
        revokedAt = t.revokedAt
        token = secret
    }
}

struct TokenInput: Content {
    var login: String?
    var name: String?
    var permissions: [String]?
}

/// Roles, users and API tokens: what administrators manage, each change in the audit log.
struct AccessAdminController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.grouped("permissions").grouped(Require(.rolesManage)).get { _ in Permission.catalogue.map(\.rawValue) }
        let roles = routes.grouped("roles").grouped(Require(.rolesManage))
        roles.get(use: listRoles)
        roles.post(use: createRole)
        roles.patch(":key", use: updateRole)
        routes.grouped("users").grouped(Require(.supervise)).get(use: listUsers)
        let users = routes.grouped("users").grouped(Require(.usersManage))
        users.post(use: createUser)
        users.patch(":login", use: updateUser)
        let tokens = routes.grouped("tokens").grouped(Require(.tokensManage))
        tokens.get(use: listTokens)
        tokens.post(use: createToken)
        tokens.delete(":id", use: revokeToken)
    }

    // MARK: Roles

    func listRoles(req: Request) async throws -> [RoleView] {
        try await RoleRecord.query(on: req.db).sort(\.$key).all().map(RoleView.init)
    }

    func createRole(req: Request) async throws -> Response {
        let input = try req.content.decode(RoleInput.self)
        let key: String
        let permissions: Set<Permission>
        do throws(ValidationError) {
            key = try RoleDefinition.validateKey(input.key)
            permissions = try Permission.parse(input.permissions ?? [], field: "permissions")
        } catch { throw error.appError }
        guard let name = input.name?.trimmed(), !name.isEmpty else { throw AppError.missing(field: "name") }
        let now = req.now
        let actor = try req.actor
        let role = try await req.store.writeReferences { db in
            if try await RoleRecord.query(on: db).filter(\.$key == key).first() != nil {
                throw AppError.conflict(code: "exists", reason: "role \(key) already exists", field: "key")
            }
            let role = RoleRecord(RoleDefinition(key: key, name: name, permissions: permissions), builtin: false, now: now)
            try await role.create(on: db)
            try await Audit.record("role.create", actorID: actor.userID, actor: actor.login, entity: "role", entityID: key,
                                   address: req.clientAddress, details: role.permissions.joined(separator: " "), at: now, db: db)
            return role
        }
        return try await RoleView(role).encodeResponse(status: .created, for: req)
    }

    func updateRole(req: Request) async throws -> RoleView {
        let key = req.parameters.get("key") ?? ""
        let input = try req.content.decode(RoleInput.self)
        let permissions: Set<Permission>?
        do throws(ValidationError) { permissions = try input.permissions.map { raw throws(ValidationError) in try Permission.parse(raw, field: "permissions") } } catch {
            throw error.appError
        }
        let name = input.name?.trimmed()
        if name == "" { throw AppError.invalid(field: "name", reason: "must not be empty") }
        let now = req.now
        let actor = try req.actor
        let role = try await req.store.writeReferences { db in
            guard let role = try await RoleRecord.query(on: db).filter(\.$key == key).first() else {
                throw AppError.notFound(entity: "role", id: key)
            }
            var changes: [String] = []
            if let name, name != role.name { changes.append("name: \(role.name) → \(name)"); role.name = name }
            if let permissions {
                let new = permissions.map(\.rawValue).sorted()
                if new != role.permissions { changes.append("permissions: \(role.permissions.joined(separator: " ")) → \(new.joined(separator: " "))") }
                role.permissions = new
            }
            if let active = input.isActive, active != role.isActive { changes.append("active: \(role.isActive) → \(active)"); role.isActive = active }
            role.updatedAt = now
            try await Administrators.keepingOne(db: db) { try await role.save(on: db) }
            try await Audit.changes(changes, action: "role.update", by: actor, entity: "role", entityID: key,
                                    address: req.clientAddress, at: now, db: db)
            return role
        }
        TokenCache.shared.forgetAll()
        return RoleView(role)
    }

    // MARK: Users

    /// Administrators see every user; a supervisor sees the people of their units and the units below.
    func listUsers(req: Request) async throws -> [UserView] {
        let codes = try await req.store.references.current(db: req.db).unitCodes
        var visible = try await User.query(on: req.db).sort(\.$login).all()
        if try !req.actor.can(.usersManage) {
            let scope = try await req.accessScope()
            visible = visible.filter { scope.allowsMember(of: $0.unitIDs) }
        }
        return try visible.map { try view($0, codes: codes) }
    }

    func createUser(req: Request) async throws -> Response {
        let user = try await Self.create(try req.content.decode(UserInput.self), req: req)
        let codes = try await req.store.references.current(db: req.db).unitCodes
        return try await view(user, codes: codes).encodeResponse(status: .created, for: req)
    }

    /// A new account by an administrator (the API and the users page), audited.
    @discardableResult
    static func create(_ input: UserInput, req: Request) async throws -> User {
        guard let login = input.login.nonBlank else { throw AppError.missing(field: "login") }
        guard let password = input.password, !password.isEmpty else { throw AppError.missing(field: "password") }
        let user = try await Accounts.addUser(login: login, password: password, roles: input.roles ?? [], fullName: input.fullName.nonBlank,
                                              unitCodes: input.units ?? [], store: req.store, now: req.now)
        try await req.audit("user.create", entity: "user", entityID: user.login, details: "roles: \(user.roles.joined(separator: " "))")
        return user
    }

    func updateUser(req: Request) async throws -> UserView {
        let login = req.parameters.get("login") ?? ""
        let user = try await Self.update(login: login, input: try req.content.decode(UserInput.self), req: req)
        let codes = try await req.store.references.current(db: req.db).unitCodes
        return try view(user, codes: codes)
    }

    /// A change of a user by an administrator (the API and the users page): each change audited, a deactivated user's
    /// sessions ended at once.
    @discardableResult
    static func update(login: String, input: UserInput, req: Request) async throws -> User {
        let now = req.now
        let actor = try req.actor
        if let password = input.password {
            // An administrator's reset: the user's sessions end; the user then changes it on the password page.
            try await Accounts.setPassword(login: login, password: password, by: actor.login, actorID: actor.userID,
                                           address: req.clientAddress, store: req.store, now: now)
        }
        var email: String??
        if let raw = input.email {
            do throws(ValidationError) { email = raw.trimmed().isEmpty ? .some(nil) : .some(try MailAddress(raw).address) } catch { throw error.appError }
        }
        var language: UILanguage?
        if let raw = input.language {
            do throws(ValidationError) { language = try Validate.choice(raw, field: "language") as UILanguage } catch { throw error.appError }
        }
        let user = try await req.store.write { [email, language] db in
            guard let user = try await User.query(on: db).filter(\.$login == login).first() else {
                throw AppError.notFound(entity: "user", id: login)
            }
            var changes: [String] = []
            if let email, email != user.email {
                changes.append("email: \(user.email ?? "") → \(email ?? "")")
                user.email = email
            }
            if let language, language.rawValue != user.language {
                changes.append("language: \(user.language) → \(language.rawValue)")
                user.language = language.rawValue
            }
            if let roles = input.roles {
                let new = try await Accounts.validRoles(roles, db: db)
                if new != user.roles { changes.append("roles: \(user.roles.joined(separator: " ")) → \(new.joined(separator: " "))") }
                user.roles = new
            }
            if let units = input.units {
                let new = try await Accounts.unitIDs(units, db: db)
                if new != user.unitIDs { changes.append("units → \(units.joined(separator: " "))") }
                user.unitIDs = new
            }
            if let name = input.fullName?.trimmed(), !name.isEmpty, name != user.fullName {
                changes.append("name: \(user.fullName) → \(name)")
                user.fullName = name
            }
            if let active = input.isActive, active != user.isActive {
                changes.append(active ? "reactivated" : "deactivated")
                user.isActive = active
                if !active { try await Sessions.endAll(userID: try user.requireID(), reason: "deactivated", now: now, db: db) }
            }
            try await Administrators.keepingOne(db: db) { try await user.save(on: db) }
            try await Audit.changes(changes, action: "user.update", by: actor, entity: "user", entityID: login,
                                    address: req.clientAddress, at: now, db: db)
            return user
        }
        TokenCache.shared.forgetAll()
        return user
    }

    private func view(_ u: User, codes: [UUID: String]) throws -> UserView {
        UserView(id: try u.requireID(), login: u.login, fullName: u.fullName, roles: u.roles, units: u.unitIDs.compactMap { codes[$0] },
                 isActive: u.isActive, authSource: u.authSource, lastSeenAt: u.lastSeenAt, email: u.email, language: u.language)
    }

    // MARK: Tokens

    func listTokens(req: Request) async throws -> [TokenView] {
        try await APIToken.query(on: req.db).with(\.$user).sort(\.$createdAt, .descending).all().map { t in
            try TokenView(t, login: t.user.login)
        }
    }

    func createToken(req: Request) async throws -> Response {
        let input = try req.content.decode(TokenInput.self)
        guard let login = input.login?.trimmed(), !login.isEmpty else { throw AppError.missing(field: "login") }
        guard let name = input.name?.trimmed(), !name.isEmpty else { throw AppError.missing(field: "name") }
        // A token acts in its user's scope: making one for someone else is giving their reach, which needs users.manage.
        let actor = try req.actor
        guard login == actor.login || actor.can(.usersManage) else {
            throw AppError.forbidden(reason: "a token for another user needs the permission users.manage")
        }
        let (token, secret) = try await Accounts.issueToken(login: login, name: name, permissions: input.permissions,
                                                            maker: try req.actor.permissions, store: req.store, now: req.now)
        try await req.audit("token.create", entity: "token", entityID: token.id?.uuidString,
                            details: "\(login): \(name)" + (token.permissions.map { " [\($0.joined(separator: " "))]" } ?? ""))
        return try await TokenView(token, login: login, secret: secret).encodeResponse(status: .created, for: req)
    }

    func revokeToken(req: Request) async throws -> TokenView {
        guard let id = req.parameters.get("id", as: UUID.self) else { throw AppError.notFound(entity: "token", id: req.parameters.get("id") ?? "") }
        let now = req.now
        let actor = try req.actor
        let address = req.clientAddress
        let token = try await req.store.write { db in
            guard let token = try await APIToken.query(on: db).filter(\.$id == id).with(\.$user).first() else {
                throw AppError.notFound(entity: "token", id: id.uuidString)
            }
            if token.revokedAt == nil {
                token.revokedAt = now
                try await token.save(on: db)
            }
            try await Audit.record("token.revoke", actorID: actor.userID, actor: actor.login, entity: "token", entityID: id.uuidString,
                                   address: address, details: "\(token.user.login): \(token.name)", at: now, db: db)
            return token
        }
        TokenCache.shared.forget(token.tokenHash)
        return try TokenView(token, login: token.user.login)
    }
}
