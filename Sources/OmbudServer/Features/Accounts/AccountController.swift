import Fluent
import Foundation
import OmbudDomain
import SQLKit
import Vapor

struct MeView: Content {
    var id: UUID
    var login: String
    var fullName: String
    var roles: [String]
    var permissions: [String]
    var units: [String]
    var authSource: String
    /// For a browser session: the token to send as `X-CSRF-Token` with state-changing API calls.
    var csrfToken: String?
}

/// A supervisor's view of their people: who was active when, and how much each has open and overdue.
struct TeamMember: Content {
    var id: UUID
    var login: String
    var fullName: String
    var roles: [String]
    var units: [String]
    var isActive: Bool
    var lastSeenAt: Date?
    /// Appeals under control with a question assigned to this person; the list is `GET /api/v1/appeals?executor=ID`.
    var openAppeals: Int
    var overdueAppeals: Int
}

struct AccountController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("me", use: me)
        routes.grouped("team").grouped(Require(.supervise)).get(use: team)
    }

    func me(req: Request) async throws -> MeView {
        let actor = try req.actor
        let user = try await req.currentUser()
        let codes = try await req.store.references.current(db: req.db).unitCodes
        return MeView(id: actor.userID, login: actor.login, fullName: user.fullName, roles: actor.roleKeys,
                      permissions: actor.permissions.map(\.rawValue).sorted(), units: actor.unitIDs.compactMap { codes[$0] },
                      authSource: user.authSource, csrfToken: req.session?.csrfToken)
    }

    func team(req: Request) async throws -> [TeamMember] {
        let scope = try await req.accessScope()
        let codes = try await req.store.references.current(db: req.db).unitCodes
        let people = try await User.query(on: req.db).sort(\.$login).all().filter { scope.allowsMember(of: $0.unitIDs) }
        guard !people.isEmpty else { return [] }
        let today = CivilDate.of(req.now, in: req.settings.timeZone)
        let rows = try await req.store.sql.raw("""
            SELECT q.executor_user_id AS user_id, COUNT(DISTINCT a.id) AS open,
                   COUNT(DISTINCT CASE WHEN \(AppealQueries.overdueSQL(today: today, table: "a")) THEN a.id END) AS overdue
            FROM questions q JOIN appeals a ON a.id = q.appeal_id
            WHERE a.under_control = \(bind: true) AND q.executor_user_id IN (\(binds: try people.map { try $0.requireID() }))
            GROUP BY q.executor_user_id
            """).all()
        var counts: [UUID: (Int, Int)] = [:]
        for row in rows {
            counts[try row.decode(column: "user_id", as: UUID.self)] = (try row.decode(column: "open", as: Int.self),
                                                                        try row.decode(column: "overdue", as: Int.self))
        }
        return try people.map { u in
            let id = try u.requireID()
            return TeamMember(id: id, login: u.login, fullName: u.fullName, roles: u.roles, units: u.unitIDs.compactMap { codes[$0] },
                              isActive: u.isActive, lastSeenAt: u.lastSeenAt, openAppeals: counts[id]?.0 ?? 0, overdueAppeals: counts[id]?.1 ?? 0)
        }
    }
}
