/// One thing a role allows. Roles are sets of these; the catalogue is fixed in code so that a role naming an unknown
/// permission is refused instead of silently granting nothing.
public struct Permission: RawRepresentable, Hashable, Codable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: String
    public init?(rawValue: String) {
        guard Permission.catalogue.contains(where: { $0.rawValue == rawValue }) else { return nil }
        self.rawValue = rawValue
    }
    private init(_ raw: String) { rawValue = raw }

    public var description: String { rawValue }
    public static func < (a: Permission, b: Permission) -> Bool { a.rawValue < b.rawValue }

    /// See appeals in the user's scope.
    public static let appealsRead = Permission("appeals.read")
    /// Register new appeals.
    public static let appealsCreate = Permission("appeals.create")
    /// Change appeals: questions, answers, attachments, extensions.
    public static let appealsEdit = Permission("appeals.edit")
    /// Take workflow transitions (which ones is decided by the workflow and the `act-as` permissions).
    public static let appealsTransition = Permission("appeals.transition")
    public static let applicantsRead = Permission("applicants.read")
    public static let applicantsEdit = Permission("applicants.edit")
    /// See applicants' names, contacts and exact addresses; without it they are masked everywhere.
    public static let personalData = Permission("personal-data")
    /// Download lists and logs as files.
    public static let export = Permission("export")
    /// See the appeals of every unit, not only one's own units and those below them.
    public static let scopeAll = Permission("scope.all")
    /// See subordinates' worklists and when they were last active.
    public static let supervise = Permission("supervise")
    public static let topicsManage = Permission("topics.manage")
    public static let orgUnitsManage = Permission("org-units.manage")
    public static let usersManage = Permission("users.manage")
    public static let rolesManage = Permission("roles.manage")
    public static let tokensManage = Permission("tokens.manage")
    public static let auditRead = Permission("audit.read")
    /// Create business calendars, load their years and add regional holidays or transfers.
    public static let calendarsManage = Permission("calendars.manage")
    /// See background jobs, failed ones included, and run a failed job again.
    public static let jobsManage = Permission("jobs.manage")
    /// Edit the notification texts and see every user's notifications and their delivery.
    public static let notificationsManage = Permission("notifications.manage")
    /// Change the stage timers and the answer deadline's alerts.
    public static let deadlinesManage = Permission("deadlines.manage")
    /// See the statistics, the dashboard, the reports and the map of the appeals in the user's scope (no personal data).
    public static let statsRead = Permission("stats.read")

    /// Take the workflow transitions the workflow definition grants to the shipped role `role`.
    public static func actAs(_ role: RoleKey) -> Permission { Permission("act-as.\(role.rawValue)") }

    public static let catalogue: [Permission] = [
        appealsRead, appealsCreate, appealsEdit, appealsTransition, applicantsRead, applicantsEdit, personalData, export,
        scopeAll, supervise, topicsManage, orgUnitsManage, usersManage, rolesManage, tokensManage, auditRead, calendarsManage,
        jobsManage, notificationsManage, deadlinesManage, statsRead,
    ] + RoleKey.allCases.map(actAs)

    /// Parses permission keys, naming the first unknown one.
    public static func parse(_ keys: [String], field: String) throws(ValidationError) -> Set<Permission> {
        var result: Set<Permission> = []
        for (index, key) in keys.enumerated() {
            guard let permission = Permission(rawValue: key.trimmed()) else {
                throw ValidationError(field: "\(field)[\(index)]", reason: "unknown permission \(key)")
            }
            result.insert(permission)
        }
        return result
    }

    /// The workflow role keys these permissions let a user act as (the role keys workflow transitions name).
    public static func workflowRoles(_ permissions: Set<Permission>) -> Set<String> {
        Set(RoleKey.allCases.filter { permissions.contains(actAs($0)) }.map(\.rawValue))
    }
}
