import Fluent
import Foundation
import OmbudDomain
import SQLKit
import Vapor

/// What a worklist row tells about its appeal besides the task: the topic's name, the district, the applicant (masked
/// for readers without personal data), the start of the text (with what of the person it says hidden the same way),
/// and the days left to the control date. One query for a whole page.
struct WorklistDetails {
    var topic: String?
    var district: String?
    var applicant: String?
    var excerpt: String
    var daysLeft: Int?

    static let excerptLength = 160

    static func load(_ appealIDs: [UUID], req: Request) async throws -> [UUID: WorklistDetails] {
        guard !appealIDs.isEmpty else { return [:] }
        let sql = req.db as! any SQLDatabase
        let personal = try req.actor.can(.personalData)
        let hidden = req.hiddenMark
        let today = CivilDate.of(req.now, in: req.settings.timeZone)
        let rows = try await sql.select()
            .columns(SQLColumn("id", table: "a"), SQLColumn("district", table: "a"), SQLColumn("control_date", table: "a"),
                     SQLColumn("registration_due", table: "a"), SQLColumn("under_control", table: "a"), SQLColumn("address_text", table: "a"))
            // Redacted before it is cut: a phone number cut in two would escape the rule that finds it.
            .column(SQLFunction("substr", args: SQLColumn("text", table: "a"), SQLLiteral.numeric("1"), SQLLiteral.numeric(String(excerptLength * 4))),
                    as: "excerpt")
            .column(SQLColumn("postal_address", table: "p"))
            .columns(SQLColumn("surname", table: "p"), SQLColumn("name", table: "p"), SQLColumn("patronymic", table: "p"),
                     SQLColumn("organisation_name", table: "p"), SQLColumn("kind", table: "p"), SQLColumn("publicity_consent", table: "p"))
            .column(SQLRaw("(SELECT q.topic_code FROM questions q WHERE q.appeal_id = a.id ORDER BY q.position LIMIT 1)"), as: "topic_code")
            .from(SQLAlias(SQLIdentifier(Appeal.schema), as: SQLIdentifier("a")))
            .join(SQLAlias(SQLIdentifier(Applicant.schema), as: SQLIdentifier("p")), method: SQLJoinMethod.left,
                  on: SQLColumn("id", table: "p"), .equal, SQLColumn("applicant_id", table: "a"))
            .where(SQLColumn("id", table: "a"), .in, SQLBind.group(appealIDs))
            .all()
        var topicCodes = Set<String>()
        struct Raw { var id: UUID; var district: String?; var control: String?; var underControl: Bool; var address: String?; var excerpt: String
                     var name: String?; var consent: Bool; var topic: String?; var postal: String? }
        var raws: [Raw] = []
        for row in rows {
            let kind = try row.decode(column: "kind", as: String?.self)
            let parts = try ["surname", "name", "patronymic"].compactMap { try row.decode(column: $0, as: String?.self) }
            let name = kind == "organisation" ? try row.decode(column: "organisation_name", as: String?.self) : parts.joined(separator: " ").nonEmpty
            let topic = try row.decode(column: "topic_code", as: String?.self)
            if let topic { topicCodes.insert(topic) }
            raws.append(Raw(id: try row.decode(column: "id", as: UUID.self), district: try row.decode(column: "district", as: String?.self),
                            control: try row.decode(column: "control_date", as: String?.self) ?? row.decode(column: "registration_due", as: String?.self),
                            underControl: try row.decode(column: "under_control", as: Bool.self),
                            address: try row.decode(column: "address_text", as: String?.self), excerpt: try row.decode(column: "excerpt", as: String.self),
                            name: name, consent: try row.decode(column: "publicity_consent", as: Bool?.self) ?? false, topic: topic,
                            postal: try row.decode(column: "postal_address", as: String?.self)))
        }
        let topics = Dictionary(try await TopicRecord.query(on: req.db).filter(\.$id ~~ topicCodes).all().map { (try $0.requireID(), $0.name) },
                                uniquingKeysWith: { a, _ in a })
        var out: [UUID: WorklistDetails] = [:]
        for r in raws {
            let open = personal || r.consent
            let redact = PersonalDataRedaction(names: [open ? nil : r.name], phrases: personal ? [] : [r.address, r.postal], hidden: hidden)
            out[r.id] = WorklistDetails(
                topic: r.topic.map { topics[$0] ?? $0 }, district: r.district,
                applicant: r.name.map { open ? $0 : hidden }, excerpt: String((personal ? r.excerpt : redact(r.excerpt)).prefix(excerptLength)),
                daysLeft: r.underControl ? r.control.flatMap(CivilDate.init(iso:)).map { today.days(until: $0) } : nil)
        }
        return out
    }
}
