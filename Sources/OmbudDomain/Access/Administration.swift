/// Rules that keep an installation administrable and stop rights from growing through tokens.
public enum Administration {
    /// The rights nobody can give back once no active user holds them: managing roles and managing users.
    public static let vital: Set<Permission> = [.rolesManage, .usersManage]

    /// One account as the guard sees it.
    public struct Account: Sendable {
        public var isActive: Bool
        public var roles: [String]
        public init(isActive: Bool, roles: [String]) {
            self.isActive = isActive
            self.roles = roles
        }
    }

    /// Whether some active user still holds every vital right through their active roles (`activeRoles`: only the
    /// roles that are active, with their permissions).
    public static func someoneAdministers(_ accounts: [Account], activeRoles: [String: Set<Permission>]) -> Bool {
        accounts.contains { account in
            account.isActive && vital.isSubset(of: account.roles.reduce(into: Set<Permission>()) { $0.formUnion(activeRoles[$1] ?? []) })
        }
    }

    /// The permissions a new token is limited to. Nobody hands out more than they hold: a token made by someone whose
    /// own rights are narrowed (a narrowed token, or a role without everything) is limited to those rights, and
    /// asking for more is refused naming the permissions the maker lacks. `maker` nil: the server's console.
    /// Returns nil for "no limit" (the token has what its user's roles give).
    public static func tokenLimit(requested: Set<Permission>?, maker: Set<Permission>?, field: String) throws(ValidationError) -> Set<Permission>? {
        guard let maker else { return requested }
        if let requested {
            let lacking = requested.subtracting(maker)
            guard lacking.isEmpty else {
                throw ValidationError(field: field, reason: "you cannot give permissions you do not hold: " + lacking.sorted().map(\.rawValue).joined(separator: ", "))
            }
            return requested
        }
        return Set(Permission.catalogue).isSubset(of: maker) ? nil : maker
    }
}
