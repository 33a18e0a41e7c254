import Foundation

/// Which org units' appeals a user sees: their own units and every unit below them, or everything.
public enum AccessScope: Sendable, Equatable {
    case all
    case units(Set<UUID>, includesRoot: Bool)

    /// - Parameters:
    ///   - memberOf: the units the user belongs to.
    ///   - parents: every unit's parent (nil for a root).
    ///   - hqUnits: units of kind HQ: membership in one gives the whole tree.
    public static func of(memberOf: Set<UUID>, parents: [UUID: UUID?], hqUnits: Set<UUID>, permissions: Set<Permission>) -> AccessScope {
        if permissions.contains(.scopeAll) || !memberOf.isDisjoint(with: hqUnits) { return .all }
        var children: [UUID: [UUID]] = [:]
        for (unit, parent) in parents { if let parent { children[parent, default: []].append(unit) } }
        var visible: Set<UUID> = []
        var stack = Array(memberOf)
        while let unit = stack.popLast() {
            guard visible.insert(unit).inserted else { continue }
            stack.append(contentsOf: children[unit] ?? [])
        }
        let includesRoot = memberOf.contains { parents[$0].map { $0 == nil } ?? false }
        return .units(visible, includesRoot: includesRoot)
    }

    /// Whether an appeal is in scope: registered by a visible office, assigned (a question, or a redirect) to a
    /// visible unit, or assigned to the user personally. An appeal with no office and no executor belongs to the root
    /// of the structure, so the root's users see it.
    public func allows(office: UUID?, executorUnits: [UUID], redirectedTo: UUID?, executorUsers: [UUID], user: UUID) -> Bool {
        switch self {
        case .all: return true
        case let .units(visible, includesRoot):
            if executorUsers.contains(user) { return true }
            if let office, visible.contains(office) { return true }
            if let redirectedTo, visible.contains(redirectedTo) { return true }
            if executorUnits.contains(where: visible.contains) { return true }
            return includesRoot && office == nil && redirectedTo == nil && executorUnits.isEmpty
        }
    }

    /// Whether a person belonging to `units` is under this scope (for supervisors looking at their people).
    public func allowsMember(of units: [UUID]) -> Bool {
        switch self {
        case .all: true
        case let .units(visible, _): units.contains(where: visible.contains)
        }
    }
}
