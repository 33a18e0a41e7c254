import NIOCore
import OmbudDomain

/// Domain login: an installation may check passwords against an LDAP directory (Active Directory, OpenLDAP, FreeIPA).
/// A service account (or an anonymous bind) searches the user by login, the user's own DN is bound with the password,
/// and the user's groups give roles and units through `DirectoryMapping`.
struct LDAPSettings: Sendable, Equatable {
    var endpoint: LDAPConnection.Endpoint
    var bindDN: String?
    var bindPassword: String?
    var userBase: String
    /// `{login}` is replaced by the escaped login.
    var userFilter: String
    var groupBase: String?
    /// `{dn}` and `{login}` are replaced by the user's DN and login, escaped.
    var groupFilter: String
    var mapping: DirectoryMapping
    var timeoutSeconds: Int

    static let defaultUserFilter = "(&(objectClass=person)(|(uid={login})(sAMAccountName={login})))"
    static let defaultGroupFilter = "(|(member={dn})(uniqueMember={dn})(memberUid={login}))"

    /// nil when `OMBUD_LDAP_URL` is not set: the installation has local accounts only.
    static func fromEnvironment(_ env: [String: String]) throws(ValidationError) -> LDAPSettings? {
        func value(_ key: String) -> String? { env[key].map { $0.trimmed() }.flatMap { $0.isEmpty ? nil : $0 } }
        guard let url = value("OMBUD_LDAP_URL") else { return nil }
        guard let userBase = value("OMBUD_LDAP_USER_BASE") else {
            throw ValidationError(field: "OMBUD_LDAP_USER_BASE", reason: "is required with OMBUD_LDAP_URL")
        }
        let userFilter = value("OMBUD_LDAP_USER_FILTER") ?? defaultUserFilter
        let groupFilter = value("OMBUD_LDAP_GROUP_FILTER") ?? defaultGroupFilter
        // Checked now, with placeholders filled, so that a typo stops the server at start and not at someone's login.
        do { _ = try LDAPFilter.parse(LDAPFilter.fill(userFilter, ["login": "x"])) } catch {
            throw ValidationError(field: "OMBUD_LDAP_USER_FILTER", reason: error.reason)
        }
        do { _ = try LDAPFilter.parse(LDAPFilter.fill(groupFilter, ["login": "x", "dn": "cn=x"])) } catch {
            throw ValidationError(field: "OMBUD_LDAP_GROUP_FILTER", reason: error.reason)
        }
        let roles = try DirectoryMapping.rules(value("OMBUD_LDAP_ROLES") ?? "", field: "OMBUD_LDAP_ROLES")
        guard !roles.isEmpty else {
            throw ValidationError(field: "OMBUD_LDAP_ROLES", reason: "map at least one directory group to a role: role=GROUP-DN;…")
        }
        let timeout = value("OMBUD_LDAP_TIMEOUT").map { Int($0) ?? 0 } ?? 5
        guard (1...120).contains(timeout) else { throw ValidationError(field: "OMBUD_LDAP_TIMEOUT", reason: "seconds, 1 to 120") }
        let bindDN = value("OMBUD_LDAP_BIND_DN"), bindPassword = value("OMBUD_LDAP_BIND_PASSWORD")
        guard (bindDN == nil) == (bindPassword == nil) else {
            throw ValidationError(field: "OMBUD_LDAP_BIND_PASSWORD", reason: "set both OMBUD_LDAP_BIND_DN and OMBUD_LDAP_BIND_PASSWORD, or neither")
        }
        return LDAPSettings(
            endpoint: try LDAPConnection.Endpoint(url: url), bindDN: bindDN, bindPassword: bindPassword, userBase: userBase,
            userFilter: userFilter, groupBase: value("OMBUD_LDAP_GROUP_BASE"), groupFilter: groupFilter,
            mapping: DirectoryMapping(roles: roles, units: try DirectoryMapping.rules(value("OMBUD_LDAP_UNITS") ?? "", field: "OMBUD_LDAP_UNITS")),
            timeoutSeconds: timeout)
    }
}

enum DirectoryLogin {
    struct Person: Sendable, Equatable {
        var fullName: String
        var groups: [String]
    }

    enum Outcome: Sendable, Equatable {
        case authenticated(Person)
        /// No such login in the directory, several entries for it, or a wrong password: the same to the user.
        case rejected(reason: String)
    }

    enum Failure: Error, CustomStringConvertible {
        case unavailable(String)
        case misconfigured(String)
        var description: String {
            switch self {
            case let .unavailable(reason): reason
            case let .misconfigured(reason): "directory settings: \(reason)"
            }
        }
    }

    static func authenticate(login: String, password: String, configuration c: LDAPSettings,
                             group: any EventLoopGroup) async throws -> Outcome {
        guard !password.isEmpty else { return .rejected(reason: "empty password") }
        do {
            return try await LDAPConnection.with(c.endpoint, timeout: .seconds(Int64(c.timeoutSeconds)), group: group) { ldap in
                try await serviceBind(&ldap, c)
                let filter = try LDAPFilter.parse(LDAPFilter.fill(c.userFilter, ["login": login]))
                let found = try await ldap.search(base: c.userBase, filter: filter, attributes: ["cn", "displayName", "memberOf"], sizeLimit: 2)
                guard found.result.isSuccess || found.result.code == LDAPMessages.Result.sizeLimitExceeded else {
                    throw Failure.misconfigured("user search in \(c.userBase) failed: \(found.result.code) \(found.result.message)")
                }
                guard found.entries.count == 1, let entry = found.entries.first else {
                    return .rejected(reason: found.entries.isEmpty ? "not in the directory" : "several directory entries")
                }
                let bound = try await ldap.bind(dn: entry.dn, password: password)
                guard bound.isSuccess else { return .rejected(reason: "directory refused the password (\(bound.code))") }

                var groups = entry.attributes["memberof"] ?? []
                if let groupBase = c.groupBase {
                    // Group membership is read with the service account's rights, not the user's.
                    try await serviceBind(&ldap, c)
                    let filter = try LDAPFilter.parse(LDAPFilter.fill(c.groupFilter, ["login": login, "dn": entry.dn]))
                    let result = try await ldap.search(base: groupBase, filter: filter, attributes: ["cn"])
                    guard result.result.isSuccess else {
                        throw Failure.misconfigured("group search in \(groupBase) failed: \(result.result.code) \(result.result.message)")
                    }
                    groups += result.entries.map(\.dn)
                }
                let name = entry.attributes["displayname"]?.first ?? entry.attributes["cn"]?.first ?? login
                return .authenticated(Person(fullName: name, groups: groups))
            }
        } catch let failure as LDAPConnection.Failure {
            throw Failure.unavailable(failure.description)
        }
    }

    private static func serviceBind(_ ldap: inout LDAPConnection, _ c: LDAPSettings) async throws {
        guard let dn = c.bindDN, let password = c.bindPassword else { return }
        let result = try await ldap.bind(dn: dn, password: password)
        guard result.isSuccess else { throw Failure.misconfigured("the service account \(dn) was refused (\(result.code) \(result.message))") }
    }
}
