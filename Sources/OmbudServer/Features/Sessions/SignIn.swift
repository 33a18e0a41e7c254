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

    /// Checks the login and password; on success opens a session and returns its cookie token (the counters, the
    /// session and the audit record are one write).
    static func attempt(login rawLogin: String, password: String, on req: Request) async throws -> String {
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
            let userAgent = req.headers.first(name: .userAgent)
            return try await req.store.write { db in
                try await throttle.recordSuccess(db: db)
                let (session, token) = try await Sessions.start(user: user, address: address, userAgent: userAgent, now: now, db: db)
                try await record("login", login: user.login, userID: user.id, address: address,
                                 details: "session \(session.requireID().uuidString.prefix(8)), \(user.authSource)", at: now, db: db)
                return token
            }
        case let .failure(refusal):
            let userID = user?.id
            try await req.store.write { db in
                try await throttle.recordFailure(now: now, db: db)
                try await record("login.failed", login: login, userID: userID, address: address, details: refusal.rawValue, at: now, db: db)
            }
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
        let (user, changed) = try await req.store.write { db in
            let user = existing ?? User(login: login, passwordHash: "", roles: [], fullName: person.fullName, unitIDs: [], createdAt: now)
            user.authSource = "ldap"
            user.fullName = person.fullName
            let before = (user.roles, user.unitIDs)
            user.roles = roles
            // Units follow the directory only where the installation maps groups to units; otherwise administrators set them.
            if !directory.mapping.units.isEmpty { user.unitIDs = try await Accounts.unitIDs(unitCodes, db: db) }
            try await user.save(on: db)
            if before.0 != user.roles {
                try await Audit.record("user.roles-from-directory", actorID: user.id, actor: login, entity: "user", entityID: login,
                                       address: req.clientAddress, details: "roles: \(before.0.joined(separator: " ")) → \(user.roles.joined(separator: " "))",
                                       at: now, db: db)
            }
            return (user, before != (user.roles, user.unitIDs))
        }
        // Cached tokens of this user carry the old roles and units: only then is the cache stale.
        if changed { TokenCache.shared.forgetAll() }
        return .success(user)
    }

    /// A sign-in event, in its own write.
    static func audit(_ action: String, login: String, userID: UUID?, address: String?, details: String?, req: Request) async throws {
        let now = req.now
        try await req.store.write { db in
            try await record(action, login: login, userID: userID, address: address, details: details, at: now, db: db)
        }
    }

    /// A sign-in event, in the caller's transaction. The login is as typed (cut), since it may not exist.
    static func record(_ action: String, login: String, userID: UUID?, address: String?, details: String?, at: Date, db: any Database) async throws {
        try await Audit.record(action, actorID: userID, actor: login.isEmpty ? "(empty)" : String(login.prefix(64)), entity: "user",
                               entityID: nil, address: address, details: details, at: at, db: db)
    }
}

/// The stored failed-login counters of one attempt (which counters and their rules: `LoginThrottle.counters`).
struct LoginCounters {
    let counters: [LoginThrottle.Counter]
    let records: [String: LoginThrottleRecord]

    static func load(login: String, address: String?, db: any Database) async throws -> LoginCounters {
        let counters = LoginThrottle.counters(login: login, address: address)
        let records = try await LoginThrottleRecord.query(on: db).filter(\.$id ~~ counters.map(\.key)).all()
        return try LoginCounters(counters: counters, records: Dictionary(records.map { (try $0.requireID(), $0) }, uniquingKeysWith: { a, _ in a }))
    }

    func lockedUntil(now: Date) -> Date? {
        records.values.compactMap { $0.state.lockedUntil(now: now) }.max()
    }

    /// Counts a failure, in the caller's transaction.
    func recordFailure(now: Date, db: any Database) async throws {
        for counter in counters {
            let record = records[counter.key] ?? LoginThrottleRecord(key: counter.key)
            record.state = counter.rule.failed(record.state, now: now)
            try await record.save(on: db)
        }
    }

    /// Clears what a success clears, in the caller's transaction.
    func recordSuccess(db: any Database) async throws {
        let keys = counters.filter { $0.clearedBySuccess && records[$0.key] != nil }.map(\.key)
        guard !keys.isEmpty else { return }
        try await LoginThrottleRecord.query(on: db).filter(\.$id ~~ keys).delete()
    }
}
