import Fluent
import Foundation
import OmbudDomain
import SQLKit
import Vapor

/// What Open311 clients write: new service requests (appeals on the `open311` channel) and progress updates from
/// outside agencies. The client is the actor of the history.
enum Open311Intake {
    static func actor(_ client: Open311Client) throws -> Actor {
        Actor.system("open311:\(client.name)", id: try client.requireID())
    }

    static func create(_ pairs: [(String, String)], client: Open311Client, req: Request) async throws -> Open311Controller.Document {
        let new = try GeoNewRequest.parse(pairs)
        guard let entry = try await Open311Catalogue.entry(code: new.serviceCode, db: req.db) else {
            throw GeoReportError(400, "service_code \(new.serviceCode) not found; see services.xml")
        }
        let answers = try TopicChecklist.answer(entry.service.attributes, with: new.attributes)
        // The description reads back as the client sent it; the attribute answers are kept beside it, shown on the card.
        let text = new.description ?? entry.service.name
        var applicant: ApplicantInput?
        if new.firstName != nil || new.lastName != nil || new.email != nil || new.phone != nil {
            // A reporter who left contacts but no name is known by the contact, so that the answer can reach them.
            applicant = ApplicantInput(surname: new.lastName, name: new.firstName ?? (new.lastName == nil ? new.email ?? new.phone : nil),
                                       phone: new.phone, email: new.email, contactSource: "open311")
        }
        let addressText = new.addressString ?? new.addressID.map { "address_id \($0)" }
        let input = AppealInput(channel: AppealChannel.open311.rawValue, text: text, kind: AppealKind.statement.rawValue,
                                form: AppealForm.electronic.rawValue, applicant: applicant,
                                questions: [QuestionInput(topicCode: entry.row.topicCode, text: new.description)],
                                address: AddressInput(text: addressText, lat: new.lat, lon: new.lon, district: nil))
        let now = req.now
        let validated: AppealIntake.Validated
        do throws(ValidationError) { validated = try AppealIntake.validate(input, now: now) } catch {
            throw GeoReportError(400, "\(error.field) \(error.reason)")
        }
        var prepared = try await AppealIntake.prepare(validated, actor: actor(client), settings: req.settings, store: req.store, now: now)
        let token = PublicAppeals.secret()
        prepared.publication = .init(listed: true, textPublic: true, requestToken: token, serviceCode: entry.row.code, clientID: client.id,
                                     addressID: new.addressID, mediaURL: new.mediaURL, attributes: answers, exactPoint: true)
        let code = try await req.intake.submit(prepared)
        let due = req.format.date(prepared.deadlines.registrationDue)
        return (GeoServiceRequest.created(id: code, notice: req.text("open311", "notice").replacingOccurrences(of: "{date}", with: due)),
                GeoServiceRequest.listRoot)
    }

    /// An outside agency's progress on a request it was sent: recorded in the appeal's history, once per update id.
    static func update(_ fields: [String: String], client: Open311Client, req: Request) async throws -> Open311Controller.Document {
        let posted = try GeoRequestUpdate.Posted.parse(fields)
        guard let appeal = try await Appeal.query(on: req.db).filter(\.$trackingCode == posted.requestID).first(),
              let publication = try await PublicAppeal.find(appeal.id, on: req.db)
        else { throw GeoReportError(404, "service_request_id \(posted.requestID) not found") }
        let appealID = try appeal.requireID()
        // A client updates the requests it posted, and — when it speaks for an agency — those sent to that agency.
        var allowed = publication.clientID == client.id
        if !allowed, let unit = client.unitID {
            let executors = try await Question.query(on: req.db).filter(\.$appeal.$id == appealID).all().compactMap(\.executorUnitID)
            allowed = appeal.redirectedToUnitID == unit || executors.contains(unit)
        }
        guard allowed else { throw GeoReportError(403, "this api_key may update only the requests it posted or those sent to its agency") }
        // The client's own id of the update makes a retried POST land once.
        let reference = try "\(client.requireID().uuidString):\(posted.externalID ?? UUID().uuidString)"
        let now = req.now
        let comment = posted.mediaURL.map { "\(posted.description)\n\($0)" } ?? posted.description
        let id: UUID = try await req.store.write { db in
            if let seen = try await HistoryEntry.query(on: db).filter(\.$entityID == appealID).filter(\.$action == "external-update")
                .filter(\.$fromValue == reference).first() { return try seen.requireID() }
            let entry = HistoryEntry()
            entry.id = UUID.timeOrdered(at: now)
            entry.entity = "appeal"
            entry.entityID = appealID
            entry.appealID = appealID
            entry.actorID = client.id
            entry.actor = "open311:\(client.name)"
            entry.at = now
            entry.action = "external-update"
            entry.field = "externalStatus"
            entry.fromValue = reference
            entry.toValue = posted.status
            entry.comment = comment
            try await entry.create(on: db)
            appeal.updatedAt = now
            try await appeal.save(on: db)
            return try entry.requireID()
        }
        return (.list(item: "request_update", [.object([("update_id", .text(id.uuidString))])]), GeoRequestUpdate.listRoot)
    }

    /// Progress on published requests between two instants: our moves through the workflow (open or closed, with
    /// the state's name) and the updates outside agencies posted.
    static func updates(from: Date, to: Date, req: Request) async throws -> [GeoRequestUpdate] {
        // Only listed appeals' entries, chosen in the query: the limit must count public updates, newest kept.
        let sql = req.db as! any SQLDatabase
        let listedIDs = sql.select().column("id").from(PublicAppeal.schema).where("listed", .equal, SQLLiteral.boolean(true)).query
        let rows = try await sql.select().column("id").from(HistoryEntry.schema)
            .where("entity", .equal, SQLBind("appeal")).where("action", .in, SQLBind.group(["transition", "external-update"]))
            .where("at", .greaterThanOrEqual, SQLBind(from)).where("at", .lessThanOrEqual, SQLBind(to))
            .where("entity_id", .in, SQLGroupExpression(listedIDs))
            .orderBy("at", .descending).limit(GeoRequestQuery.maxRecords).all()
        let ids = try rows.map { try $0.decode(column: "id", as: UUID.self) }
        guard !ids.isEmpty else { return [] }
        let entries = try await HistoryEntry.query(on: req.db).filter(\.$id ~~ ids).sort(\.$at).all()
        let listed = Set(entries.compactMap(\.appealID))
        let codes = try await AppealQueries.trackingCodes(Array(listed), db: req.db)
        return try entries.compactMap { e in
            guard let appealID = e.appealID, listed.contains(appealID), let code = codes[appealID] else { return nil }
            if e.action == "external-update" {
                return GeoRequestUpdate(id: try e.requireID().uuidString, requestID: code, status: e.toValue ?? "OPEN", updated: e.at, description: e.comment ?? "")
            }
            let state = AppealTransitions.workflow.state(e.toValue ?? "")
            return GeoRequestUpdate(id: try e.requireID().uuidString, requestID: code, status: (state?.open311 ?? .open).rawValue.uppercased(), updated: e.at,
                                    description: req.text("states", e.toValue ?? ""))
        }
    }
}
