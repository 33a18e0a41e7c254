import Fluent
import Foundation
import OmbudDomain

/// Who is told about an alert: the task's assignee (its person, or the people of its unit who can move the appeal on),
/// the head of the unit, the supervisors above it. A level with nobody in it passes to the next one up, so an alert is
/// never sent into the void while someone above could act.
struct Recipients {
    let users: [User]
    let units: [UUID: OrgUnit]
    /// Unit → the user account of its head official.
    let heads: [UUID: UUID]
    /// User → what their active roles allow.
    let permissions: [UUID: Set<Permission>]

    static func load(db: any Database) async throws -> Recipients {
        let users = try await User.query(on: db).filter(\.$isActive == true).all()
        let units = try await OrgUnit.query(on: db).all()
        let officials = try await Official.query(on: db).filter(\.$userID != nil).all()
        let officialUser = Dictionary(officials.compactMap { o in o.id.flatMap { id in o.userID.map { (id, $0) } } }, uniquingKeysWith: { a, _ in a })
        var heads: [UUID: UUID] = [:]
        for unit in units { if let id = unit.id, let head = unit.headOfficialID, let user = officialUser[head] { heads[id] = user } }
        let roles = Dictionary(try await RoleRecord.query(on: db).filter(\.$isActive == true).all().map { ($0.key, $0.permissions) },
                               uniquingKeysWith: { a, _ in a })
        var permissions: [UUID: Set<Permission>] = [:]
        for user in users {
            permissions[try user.requireID()] = Set(user.roles.flatMap { roles[$0] ?? [] }.compactMap(Permission.init(rawValue:)))
        }
        return try Recipients(users: users, units: Dictionary(units.map { (try $0.requireID(), $0) }, uniquingKeysWith: { a, _ in a }), heads: heads,
                          permissions: permissions)
    }

    static func headUser(of unitID: UUID, db: any Database) async throws -> UUID? {
        guard let head = try await OrgUnit.find(unitID, on: db)?.headOfficialID else { return nil }
        return try await Official.find(head, on: db)?.userID
    }

    /// The unit and those above it, nearest first.
    func chain(from unitID: UUID?) -> [UUID] {
        var chain: [UUID] = []
        var current = unitID
        while let id = current, !chain.contains(id) {
            chain.append(id)
            current = units[id]?.$parent.id
        }
        return chain
    }

    /// The people of one level for work in `unitID` (of a task in `state`, which decides who can act on it).
    func level(_ level: EscalationLevel, unitID: UUID?, userID: UUID?, state: String?) -> [User] {
        switch level {
        case .executor:
            if let userID, let user = users.first(where: { $0.id == userID }) { return [user] }
            guard let unitID else { return [] }
            let workflow = AppealTransitions.workflow
            // The unit's people who can move the appeal on from this state (a withdrawal, open from any state, does not
            // count); the head is told at their own level.
            let onward = state.map { state in workflow.transitions(from: state).filter { $0.from.contains(state) } } ?? []
            return users.filter { user in
                guard user.unitIDs.contains(unitID), user.id != heads[unitID] else { return false }
                guard state != nil else { return true }
                let roles = Permission.workflowRoles(user.id.flatMap { permissions[$0] } ?? [])
                return onward.contains { !$0.roles.isDisjoint(with: roles) }
            }
        case .unitHead:
            for unit in chain(from: unitID) {
                if let head = heads[unit], let user = users.first(where: { $0.id == head }), head != userID { return [user] }
            }
            return []
        case .supervisor:
            let above = Set(chain(from: unitID))
            return users.filter { $0.id.flatMap { permissions[$0] }?.contains(.supervise) == true && !above.isDisjoint(with: $0.unitIDs) }
        }
    }

    /// The people to tell, starting at `level` and going up while a level is empty.
    func forAlert(_ level: EscalationLevel, unitID: UUID?, userID: UUID?, state: String?) -> [User] {
        for next in level.andAbove {
            let people = self.level(next, unitID: unitID, userID: userID, state: state)
            if !people.isEmpty { return people }
        }
        return []
    }
}

extension StageTimer.Alert.Kind {
    /// Reminders, due and stuck alerts go to whoever has the work; escalations to their level.
    var level: EscalationLevel {
        if case let .escalation(level) = self { return level }
        return .executor
    }
}
