import Foundation

/// How membership of directory (LDAP) groups becomes Ombud roles and org units at each domain login.
/// Written in configuration as `KEY=GROUP-DN;KEY=GROUP-DN`, e.g. `reception=cn=reception,ou=groups,dc=city,dc=ru`.
public struct DirectoryMapping: Sendable, Equatable {
    public struct Rule: Sendable, Equatable {
        public var key: String
        /// The group's DN in `normalizedDN` form.
        public var group: String
    }

    public var roles: [Rule]
    public var units: [Rule]

    public init(roles: [Rule] = [], units: [Rule] = []) {
        self.roles = roles
        self.units = units
    }

    public static func rules(_ text: String, field: String) throws(ValidationError) -> [Rule] {
        try text.split(separator: ";").map { $0.trimmed() }.filter { !$0.isEmpty }.enumerated().map { i, entry throws(ValidationError) in
            guard let eq = entry.firstIndex(of: "="), eq != entry.startIndex else {
                throw ValidationError(field: "\(field)[\(i)]", reason: "write KEY=GROUP-DN")
            }
            let key = entry[..<eq].trimmed(), dn = entry[entry.index(after: eq)...].trimmed()
            guard dn.contains("=") else { throw ValidationError(field: "\(field)[\(i)]", reason: "\(dn) is not a DN") }
            return Rule(key: key, group: normalizedDN(dn))
        }
    }

    /// DNs compare without regard to case and to spaces around separators (`CN=Heads, OU=Groups` = `cn=heads,ou=groups`).
    public static func normalizedDN(_ dn: String) -> String {
        dn.split(separator: ",", omittingEmptySubsequences: false).map { rdn in
            rdn.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map { $0.trimmed().lowercased() }
                .joined(separator: "=")
        }.joined(separator: ",")
    }

    public func roleKeys(forGroups groups: [String]) -> [String] { Self.keys(roles, groups) }
    public func unitCodes(forGroups groups: [String]) -> [String] { Self.keys(units, groups) }

    private static func keys(_ rules: [Rule], _ groups: [String]) -> [String] {
        let member = Set(groups.map(normalizedDN))
        return Array(Set(rules.filter { member.contains($0.group) }.map(\.key))).sorted()
    }
}
