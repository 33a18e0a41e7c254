import Fluent
import Foundation
import OmbudDomain
import Vapor

/// API keys of Open311 clients (311 apps, other agencies' systems): one per client, shown once, stored as SHA-256,
/// revocable. A key only lets its holder post requests and updates; reading is open to all, as the spec has it.
enum Open311Keys {
    /// `actor` is nil when an operator runs `ombud open311 keys create` on the server.
    static func create(name raw: String, unitCode: String? = nil, actor: Actor?, store: Store, now: Date) async throws -> (Open311Client, key: String) {
        let name = raw.trimmed()
        guard !name.isEmpty, name.count <= 100 else { throw AppError.invalid(field: "name", reason: "must be 1 to 100 characters") }
        let unitID = try await UnitLookup(db: store.db).id(unitCode, field: "unitCode")
        let key = "o311_" + PublicAppeals.secret()
        let client = Open311Client()
        client.id = UUID.timeOrdered()
        client.name = name
        client.keyHash = Tokens.hash(key)
        client.keyPrefix = String(key.prefix(9))
        client.unitID = unitID
        client.createdAt = now
        try await store.write { db in
            try await client.create(on: db)
            try await Audit.record("open311.key-created", actorID: actor?.userID, actor: actor?.login ?? "console", entity: "open311-client",
                                   entityID: client.requireID().uuidString, details: name, at: now, db: db)
        }
        return (client, key)
    }

    static func revoke(_ id: UUID, actor: Actor?, store: Store, now: Date) async throws -> Open311Client {
        try await store.write { db in
            guard let client = try await Open311Client.find(id, on: db) else { throw AppError.notFound(entity: "open311 client", id: id.uuidString) }
            if client.revokedAt == nil {
                client.revokedAt = now
                try await client.save(on: db)
                try await Audit.record("open311.key-revoked", actorID: actor?.userID, actor: actor?.login ?? "console", entity: "open311-client",
                                       entityID: id.uuidString, details: client.name, at: now, db: db)
            }
            return client
        }
    }

    /// The live client holding `key`; 403 in the spec's words otherwise.
    static func client(key: String?, db: any Database) async throws -> Open311Client {
        guard let key = key?.trimmed(), !key.isEmpty else { throw GeoReportError(403, "api_key is required") }
        guard let client = try await Open311Client.query(on: db).filter(\.$keyHash == Tokens.hash(key)).first(), client.revokedAt == nil else {
            throw GeoReportError(403, "api_key is not valid or was revoked")
        }
        return client
    }

    static func all(db: any Database) async throws -> [Open311Client] {
        try await Open311Client.query(on: db).sort(\.$createdAt, .descending).all()
    }
}

/// Services offered through Open311 (and as the portal's topic hints): each maps to a topic of the classifier.
enum Open311Catalogue {
    struct Entry: Sendable {
        let row: Open311Service
        let service: GeoService
    }

    static func entries(activeOnly: Bool = true, db: any Database) async throws -> [Entry] {
        var query = Open311Service.query(on: db)
        if activeOnly { query = query.filter(\.$active == true) }
        return try await entries(query.sort(\.$position).sort(\.$code).all(), db: db)
    }

    static func entry(code: String, db: any Database) async throws -> Entry? {
        try await entries(Open311Service.query(on: db).filter(\.$code == code).filter(\.$active == true).all(), db: db).first
    }

    /// The services with their topics' checklists, read in one query.
    private static func entries(_ rows: [Open311Service], db: any Database) async throws -> [Entry] {
        let topics = try await TopicRecord.query(on: db).filter(\.$id ~~ Set(rows.map(\.topicCode))).all()
        let checklists = try Dictionary(uniqueKeysWithValues: topics.map { (try $0.requireID(), checklist($0)) })
        return rows.map { row in
            Entry(row: row, service: GeoService(code: row.code, name: row.name, description: row.description, keywords: row.keywords,
                                                group: row.group, checklist: checklists[row.topicCode] ?? []))
        }
    }

    static func checklist(_ topic: TopicRecord) -> [ChecklistQuestion] {
        guard let json = topic.checklistJSON else { return [] }
        return (try? JSONDecoder().decode([ChecklistQuestion].self, from: Data(json.utf8))) ?? []
    }

    struct ServiceInput: Sendable {
        var code: String
        var topicCode: String
        var name: String
        var description: String?
        var group: String?
        var keywords: String?
        var position: Int
        var active: Bool
        var checklist: String
    }

    /// Adds or changes a service (by code) and its topic's checklist.
    static func save(_ input: ServiceInput, actor: Actor, store: Store, now: Date) async throws {
        let code = input.code.trimmed()
        guard !code.isEmpty, code.count <= 100, code.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || ".-_".unicodeScalars.contains($0)) }) else {
            throw AppError.invalid(field: "code", reason: "must be 1 to 100 latin letters, digits, dots, - or _")
        }
        let name: String
        let questions: [ChecklistQuestion]
        do throws(ValidationError) {
            name = try Validate.text(input.name, field: "name", max: 200)!
            questions = try TopicChecklist.parse(input.checklist)
        } catch { throw AppError.invalid(field: error.field, reason: error.reason) }
        let topicCode = input.topicCode.trimmed()
        try await TopicStore.requireAssignable([topicCode], db: store.db, field: "topicCode")
        let json = String(decoding: try JSONEncoder().encode(questions), as: UTF8.self)
        try await store.writeReferences { db in
            let row = try await Open311Service.query(on: db).filter(\.$code == code).first() ?? Open311Service()
            if row.id == nil { row.id = UUID.timeOrdered() }
            row.code = code
            row.topicCode = topicCode
            row.name = name
            row.description = input.description?.nonBlank
            row.group = input.group?.nonBlank
            row.keywords = input.keywords?.nonBlank
            row.position = input.position
            row.active = input.active
            row.updatedAt = now
            try await row.save(on: db)
            if let topic = try await TopicRecord.find(topicCode, on: db) {
                topic.checklistJSON = questions.isEmpty ? nil : json
                try await topic.save(on: db)
            }
            try await Audit.record("open311.service", actorID: actor.userID, actor: actor.login, entity: "open311-service", entityID: code,
                                   details: name, at: now, db: db)
        }
    }
}

extension Open311Catalogue {
    /// The demo's services: the topics the St Petersburg data uses, named as a city's 311 app names them.
    static func demo(store: Store) async throws {
        let console = Actor.system("demo")
        let services: [(String, String, String, String, String)] = [
            ("roads", "0003.0009.0099.0742", "Дороги и асфальт", "Дороги", "pothole-size | number | optional | Размер ямы, см"),
            ("lighting", "0003.0009.0097.0690", "Уличное освещение", "Благоустройство",
             "lamps | number | optional | Сколько фонарей не горит?\nwhen | singlevaluelist | optional | Когда не горит? | night=Всю ночь; sometimes=Мигает"),
            ("cleaning", "0003.0009.0097.0694", "Уборка снега и мусора", "Благоустройство", ""),
            ("improvement", "0003.0009.0097.0689", "Благоустройство двора", "Благоустройство", ""),
            ("water", "0005.0005.0056.1154", "Водоснабжение", "ЖКХ", ""),
            ("heating", "0005.0005.0056.1156", "Отопление", "ЖКХ", ""),
            ("advertising", "0003.0012.0137.0885", "Незаконная реклама", "Город", ""),
        ]
        for (i, s) in services.enumerated() {
            try await save(.init(code: s.0, topicCode: s.1, name: s.2, description: nil, group: s.3, keywords: nil, position: i + 1, active: true,
                                 checklist: s.4), actor: console, store: store, now: Date())
        }
    }
}
