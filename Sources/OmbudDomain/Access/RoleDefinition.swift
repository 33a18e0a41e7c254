/// A role: a named set of permissions. Administrators create and change roles at run time; these are the defaults
/// a fresh installation ships with, under the keys `ombud users add --role` accepts.
public struct RoleDefinition: Sendable, Equatable, Codable {
    public var key: String
    public var name: String
    public var permissions: Set<Permission>

    public init(key: String, name: String, permissions: Set<Permission>) {
        self.key = key
        self.name = name
        self.permissions = permissions
    }

    /// Checks a role key: lower-case letters, digits and dashes, 2–40 characters.
    public static func validateKey(_ raw: String?, field: String = "key") throws(ValidationError) -> String {
        guard let key = raw?.trimmed(), !key.isEmpty else { throw ValidationError(field: field, reason: "is required") }
        guard (2...40).contains(key.count),
              key.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" })
        else { throw ValidationError(field: field, reason: "must be 2–40 characters: a–z, 0–9 and -") }
        return key
    }

    public static let shipped: [RoleDefinition] = {
        let work: Set<Permission> = [.appealsRead, .appealsEdit, .appealsTransition, .applicantsRead, .personalData]
        func role(_ key: RoleKey, _ name: String, _ permissions: Set<Permission>) -> RoleDefinition {
            RoleDefinition(key: key.rawValue, name: name, permissions: permissions.union([.actAs(key)]))
        }
        return [
            role(.reception, "Reception specialist", work.union([.appealsCreate, .applicantsEdit])),
            role(.executor, "Executor", work),
            role(.lawyer, "Lawyer", work),
            role(.approver, "Approver", work),
            role(.responder, "Responder", work.union([.applicantsEdit])),
            role(.journalist, "Journalist", [.appealsRead, .applicantsRead]),
            role(.editor, "Media editor", [.appealsRead, .applicantsRead, .export]),
            role(.supervisor, "Supervisor", work.union([.appealsCreate, .applicantsEdit, .supervise, .export, .statsRead])),
            role(.analyst, "HQ analyst", [.appealsRead, .applicantsRead, .personalData, .scopeAll, .export, .statsRead]),
            role(.administrator, "Administrator", Set(Permission.catalogue)),
        ]
    }()
}
