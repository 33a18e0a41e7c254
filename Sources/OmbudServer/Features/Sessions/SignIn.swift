import Fluent
import Foundation
import OmbudDomain
import Vapor

/// Checking a login and password: local accounts by bcrypt, domain accounts against the directory, both throttled per
/// account and per address, every outcome in the audit log. The person signing in learns only "wrong login or
/// password", whether the login exists or not; the log says why.
enum SignIn {
    /// Compared against when the login is unknown, so that an unknown login costs the same time as a known one.
    private static let decoyHash = try! Bcrypt.hash(Tokens.generate())

    static func attempt(login rawLogin: String, password: String, on req: Request) async throws -> User {
        // Logins are at most 64 characters (`Accounts.validLogin`); a longer one cannot exist, and is cut so that it
        // cannot bloat the counters or the log.
        let login = String(rawLogin.trimmed().prefix(128))
        let now = req.now
        let address = req.clientAddress
        let throttle = try await LoginCounters.load(login: login, address: address, db: req.db)
        if let lock = throttle.lockedUntil(now: now) {
            try await audit("login.locked", login: login, userID: nil, address: address, details: "locked until \(lock)", req: req)
            throw AppError.tooManyAttempts(retryAfter: Int(lock.timeIntervalSince(now).rounded(.up)))
        }

        let user = login.isEmpty ? nil : try await User.query(on: req.db).filter(\.$login == login).first()
        let verdict: Result<User, Refusal>
        if let user, user.authSource == "local" {
            let matches = (try? await req.password.async.verify(password, created: user.passwordHash)) ?? false
            verdict = !matches ? .failure(.wrongPassword) : user.isActive ? .success(user) : .failure(.deactivated)
        } else if let directory = req.settings.directory, user == nil || user?.authSource == "ldap" {
            verdict = try await domainLogin(login: login, password: password, existing: user, directory: directory, req: req)
        } else {
            _ = try? await req.password.async.verify(password, created: decoyHash)
            verdict = .failure(user == nil ? .unknownLogin : .directoryOff)
        }

        switch verdict {
        case let .success(user):
            try await throttle.clearAccount(store: req.store)
            return user
        case let .failure(refusal):
            try await throttle.recordFailure(store: req.store, now: now)
            try await audit("login.failed", login: login, userID: user?.id, address: address, details: refusal.rawValue, req: req)
            throw AppError.signInFailed
        }
    }

    enum Refusal: String, Error {
        case wrongPassword = "wrong password"
        case unknownLogin = "no such login"
        case deactivated = "account deactivated"
        case directoryRejected = "the directory refused the login or password"
        case noDirectoryRole = "no directory group maps to a role"
        case directoryOff = "a domain account, but domain login is not configured"
    }

    /// Checks the password with the directory and brings the local record of the user up to date with their groups.
    private static func domainLogin(login: String, password: String, existing: User?, directory: LDAPSettings,
                                    req: Request) async throws -> Result<User, Refusal> {
        let outcome: DirectoryLogin.Outcome
        do {
            outcome = try await DirectoryLogin.authenticate(login: login, password: password, configuration: directory,
                                                            group: req.application.eventLoopGroup)
        } catch {
            req.logger.error("domain login of \(login): \(error)")
            try await audit("login.failed", login: login, userID: existing?.id, address: req.clientAddress, details: "directory: \(error)", req: req)
            throw AppError.directoryUnavailable
        }
        guard case let .authenticated(person) = outcome else { return .failure(.directoryRejected) }
        if let existing, !existing.isActive { return .failure(.deactivated) }
        let active = try await req.store.references.current(db: req.db).roles
        let roles = directory.mapping.roleKeys(forGroups: person.groups).filter { active[$0] != nil }
        guard !roles.isEmpty else { return .failure(.noDirectoryRole) }
        let unitCodes = directory.mapping.unitCodes(forGroups: person.groups)
        let now = req.now
        let user = try await req.store.write { db in
            let user = existing ?? User(login: login, passwordHash: "", roles: [], fullName: person.fullName, unitIDs: [], createdAt: now)
            user.authSource = "ldap"
            user.fullName = person.fullName
            let before = user.roles
            user.roles = roles
            // Units follow the directory only where the installation maps groups to units; otherwise administrators set them.
            if !directory.mapping.units.isEmpty { user.unitIDs = try await Accounts.unitIDs(unitCodes, db: db) }
            try await user.save(on: db)
            if before != user.roles {
                try await Audit.record("user.roles-from-directory", actorID: user.id, actor: login, entity: "user", entityID: login,
                                       address: req.clientAddress, details: "roles: \(before.joined(separator: " ")) → \(user.roles.joined(separator: " "))",
                                       at: now, db: db)
            }
            return user
        }
        TokenCache.shared.forgetAll()
        return .success(user)
    }

    static func audit(_ action: String, login: String, userID: UUID?, address: String?, details: String?, req: Request) async throws {
        let now = req.now
        try await req.store.write { db in
            try await Audit.record(action, actorID: userID, actor: login.isEmpty ? "(empty)" : String(login.prefix(64)), entity: "user",
                                   entityID: nil, address: address, details: details, at: now, db: db)
        }
    }
}

/// The failed-login counters of one login and one address, with the rules that apply to each.
struct LoginCounters {
    let keys: [(key: String, rule: LoginThrottle)]
    let records: [LoginThrottleRecord]

    static func load(login: String, address: String?, db: any Database) async throws -> LoginCounters {
        let keys = [("account:" + login.lowercased(), LoginThrottle.account)] + (address.map { [("address:" + $0, LoginThrottle.address)] } ?? [])
        return LoginCounters(keys: keys, records: try await LoginThrottleRecord.query(on: db).filter(\.$id ~~ keys.map(\.0)).all())
    }

    func lockedUntil(now: Date) -> Date? {
        records.compactMap(\.lockedUntil).filter { $0 > now }.max()
    }

    func recordFailure(store: Store, now: Date) async throws {
        try await store.write { db in
            for (key, rule) in keys {
                let record = records.first { $0.id == key } ?? LoginThrottleRecord()
                let state = record.id == nil ? LoginThrottle.State()
                    : LoginThrottle.State(failures: record.failures, lastFailureAt: record.lastFailureAt, lockedUntil: record.lockedUntil)
                let next = rule.failed(state, now: now)
                record.id = key
                record.failures = next.failures
                record.lastFailureAt = now
                record.lockedUntil = next.lockedUntil
                try await record.save(on: db)
            }
        }
    }

    /// A success clears the account's count; the address's count runs on, so that signing in to one's own account
    /// between guesses at others does not reset it.
    func clearAccount(store: Store) async throws {
        let key = keys[0].key
        try await store.write { db in try await LoginThrottleRecord.query(on: db).filter(\.$id == key).delete() }
    }
}
