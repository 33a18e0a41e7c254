import Fluent
import Foundation
import OmbudDomain
import SQLKit
import Vapor

/// The public side of appeals, shared by the portal and Open311: publication rows, secret links, the rate limit,
/// and the one query that reads what the public may see.
enum PublicAppeals {
    static func make(appealID: UUID, listed: Bool, textPublic: Bool, lat: Double?, lon: Double?, district: String?, at: Date) -> PublicAppeal {
        let row = PublicAppeal()
        row.id = appealID
        row.listed = listed
        row.textPublic = textPublic
        if let lat, let lon { (row.lat, row.lon) = PublicLocation.approximate(lat: lat, lon: lon) }
        row.district = district
        row.createdAt = at
        return row
    }

    /// A secret for a link: 256 random bits, URL-safe. Only its SHA-256 is stored.
    static func secret() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// Refuses (429) when `key` (the client's address unless named) used up `rule` for `action`; `record` counts one
    /// use. `includingThis`: the request's own use was recorded before the count.
    static func checkRate(_ action: String, rule: RateLimit, req: Request, key: String? = nil, includingThis: Bool = false) async throws {
        let recent = try await PublicEvent.query(on: req.db).filter(\.$key == (key ?? rateKey(req))).filter(\.$action == action)
            .filter(\.$at > req.now.addingTimeInterval(-rule.window)).count()
        guard rule.allows(recent: includingThis ? recent - 1 : recent) else { throw AppError.tooManyRequests(retryAfter: Int(rule.window)) }
    }

    static func recordRate(_ action: String, req: Request, key: String? = nil) async throws {
        let (key, now) = (key ?? rateKey(req), req.now)
        try await req.store.write { db in
            let event = PublicEvent()
            event.key = key
            event.action = action
            event.at = now
            try await event.create(on: db)
        }
    }

    private static func rateKey(_ req: Request) -> String { RateLimit.addressKey(req.clientAddress ?? "unknown") }

    /// Who acts when a citizen acts through the portal: recorded as "portal" in the history, allowed only the moves
    /// a citizen's rating makes (back to work, or on to feedback).
    static let portalActor = Actor.system("portal", permissions: [Permission.actAs(.responder)],
                                          id: UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1)))

    /// What the public may see of one appeal.
    struct View: Sendable {
        var id: UUID
        var trackingCode: String
        var status: String
        var receivedAt: Date
        var updatedAt: Date
        var closedAt: Date?
        var controlDate: String?
        var text: String?
        var address: String?
        var district: String?
        var lat: Double?
        var lon: Double?
        var topicCode: String?
        var serviceCode: String?
        var addressID: String?
        var mediaURL: String?
        var agencyID: UUID?
    }

    struct Filter: Sendable {
        var ids: [String] = []
        var serviceCodes: [String] = []
        /// The topics of the services named in `serviceCodes`.
        var serviceTopics: [String] = []
        var states: [String]?
        var from: Date?
        var to: Date?
        var district: String?
        var topic: String?
        var listedOnly = true
        var limit = 1000
        var offset = 0
    }

    /// Newest first. The text and address only where they are public; the point is always the approximate one.
    static func find(_ filter: Filter, db: any Database) async throws -> [View] {
        let sql = db as! any SQLDatabase
        var query = sql.select()
            .columns(SQLColumn("id", table: "a"), SQLColumn("tracking_code", table: "a"), SQLColumn("status", table: "a"),
                     SQLColumn("received_at", table: "a"), SQLColumn("updated_at", table: "a"),
                     SQLColumn("closed_at", table: "a"), SQLColumn("control_date", table: "a"), SQLColumn("text", table: "a"),
                     SQLColumn("address_text", table: "a"), SQLColumn("redirected_to_unit_id", table: "a"))
            .columns(SQLColumn("text_public", table: "p"), SQLColumn("service_code", table: "p"), SQLColumn("lat", table: "p"),
                     SQLColumn("lon", table: "p"), SQLColumn("district", table: "p"), SQLColumn("address_id", table: "p"),
                     SQLColumn("media_url", table: "p"))
            .from(SQLAlias(SQLIdentifier(Appeal.schema), as: SQLIdentifier("a")))
            .join(SQLAlias(SQLIdentifier(PublicAppeal.schema), as: SQLIdentifier("p")), method: SQLJoinMethod.inner,
                  on: SQLColumn("id", table: "p"), .equal, SQLColumn("id", table: "a"))
        if filter.listedOnly { query = query.where(SQLColumn("listed", table: "p"), .equal, SQLLiteral.boolean(true)) }
        if !filter.ids.isEmpty {
            query = query.where(SQLColumn("tracking_code", table: "a"), .in, SQLBind.group(filter.ids))
        } else {
            // Open311 shows `requested_datetime` to the second, so a window holds whole seconds: a request shown at
            // 10:00:00 is inside `end_date=10:00:00` though it came in at 10:00:00.4.
            func second(_ date: Date) -> Date { Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down)) }
            if let from = filter.from { query = query.where(SQLColumn("received_at", table: "a"), .greaterThanOrEqual, SQLBind(second(from))) }
            if let to = filter.to { query = query.where(SQLColumn("received_at", table: "a"), .lessThan, SQLBind(second(to).addingTimeInterval(1))) }
            if let states = filter.states { query = query.where(SQLColumn("status", table: "a"), .in, SQLBind.group(states)) }
            if !filter.serviceCodes.isEmpty {
                // A request shows the service it was posted under, or else the service (or topic code) of its first
                // question's topic: the filter finds it under the same code.
                let codes = filter.serviceCodes, topics = Array(Set(filter.serviceCodes + filter.serviceTopics))
                let firstTopic = sql.select().column("appeal_id").from(Question.schema).where("position", .equal, SQLBind(1))
                    .where("topic_code", .in, SQLBind.group(topics)).query
                query = query.where { group in
                    group.where(SQLColumn("service_code", table: "p"), .in, SQLBind.group(codes))
                        .orWhere { inner in
                            inner.where(SQLColumn("service_code", table: "p"), .is, SQLLiteral.null)
                                .where(SQLColumn("id", table: "a"), .in, SQLGroupExpression(firstTopic))
                        }
                }
            }
            if let district = filter.district { query = query.where(SQLColumn("district", table: "p"), .equal, SQLBind(district)) }
            if let topic = filter.topic {
                query = query.where(SQLColumn("id", table: "a"), .in, SQLGroupExpression(
                    sql.select().column("appeal_id").from(Question.schema).where("topic_code", .equal, SQLBind(topic)).query))
            }
        }
        // Newest first by the publication's own time (the moment of receipt for every public appeal): the index on
        // (listed, created_at) then yields the first page without sorting every public appeal.
        let rows = try await query.orderBy(SQLOrderBy(expression: SQLColumn("created_at", table: "p"), direction: SQLDirection.descending))
            .limit(filter.limit).offset(filter.offset).all()
        var views = try rows.map(view)
        let topics = try await firstQuestions(views.map { $0.id }, db: db)
        for i in views.indices {
            views[i].topicCode = topics[views[i].id]?.topic
            views[i].agencyID = views[i].agencyID ?? topics[views[i].id]?.executor
        }
        return views
    }

    private static func view(_ row: any SQLRow) throws -> View {
        let textPublic = try row.decode(column: "text_public", as: Bool.self)
        return View(
            id: try row.decode(column: "id", as: UUID.self), trackingCode: try row.decode(column: "tracking_code", as: String.self),
            status: try row.decode(column: "status", as: String.self), receivedAt: try row.decode(column: "received_at", as: Date.self),
            updatedAt: try row.decode(column: "updated_at", as: Date.self),
            closedAt: try row.decode(column: "closed_at", as: Date?.self), controlDate: try row.decode(column: "control_date", as: String?.self),
            text: textPublic ? try row.decode(column: "text", as: String.self) : nil,
            address: textPublic ? try row.decode(column: "address_text", as: String?.self) : nil,
            district: try row.decode(column: "district", as: String?.self), lat: try row.decode(column: "lat", as: Double?.self),
            lon: try row.decode(column: "lon", as: Double?.self), topicCode: nil,
            serviceCode: try row.decode(column: "service_code", as: String?.self), addressID: try row.decode(column: "address_id", as: String?.self),
            mediaURL: try row.decode(column: "media_url", as: String?.self), agencyID: try row.decode(column: "redirected_to_unit_id", as: UUID?.self))
    }

    /// The topic of each appeal's first question, and the first executor unit named on any question.
    static func firstQuestions(_ ids: [UUID], db: any Database) async throws -> [UUID: (topic: String, executor: UUID?)] {
        guard !ids.isEmpty else { return [:] }
        let rows = try await (db as! any SQLDatabase).select().columns("appeal_id", "topic_code", "executor_unit_id").from(Question.schema)
            .where("appeal_id", .in, SQLBind.group(ids)).orderBy("position").all()
        var out: [UUID: (topic: String, executor: UUID?)] = [:]
        for row in rows {
            let id = try row.decode(column: "appeal_id", as: UUID.self)
            let executor = try row.decode(column: "executor_unit_id", as: UUID?.self)
            if out[id] == nil {
                out[id] = (try row.decode(column: "topic_code", as: String.self), executor)
            } else if out[id]!.executor == nil {
                out[id]!.executor = executor
            }
        }
        return out
    }

    /// The states the public calls open or closed.
    static func states(_ status: WorkflowDefinition.Open311Status) -> [String] {
        AppealTransitions.workflow.states.filter { $0.open311 == status }.map(\.key)
    }

    /// The names of these units, for "agency responsible".
    static func unitNames(_ ids: [UUID], db: any Database) async throws -> [UUID: String] {
        guard !ids.isEmpty else { return [:] }
        return Dictionary(uniqueKeysWithValues: try await OrgUnit.query(on: db).filter(\.$id ~~ Set(ids)).all().map { (try $0.requireID(), $0.name) })
    }
}
