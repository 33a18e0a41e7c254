import Fluent
import Foundation
import OmbudDomain
import SQLKit
import Vapor

struct TopicView: Content {
    var code: String
    var name: String
    var level: Int
    var parentCode: String?
    var section: String
    var assignable: Bool
    var isLocal: Bool

    init(_ t: TopicRecord) throws {
        code = try t.requireID()
        name = t.name
        level = t.level
        parentCode = t.parentCode
        section = t.section
        assignable = t.assignable
        isLocal = t.isLocal
    }
}

enum TopicStore {
    /// Every code must exist and be assignable (levels 4–5 of the classifier, or a local topic).
    static func requireAssignable(_ codes: [String], db: any Database, field: String = "questions") async throws {
        let wanted = Set(codes.map { $0.trimmingCharacters(in: .whitespaces) })
        guard !wanted.isEmpty else { return }
        let found = try await TopicRecord.query(on: db).filter(\.$id ~~ Array(wanted)).filter(\.$assignable == true).all().compactMap(\.id)
        for (i, code) in codes.enumerated() where !found.contains(code.trimmingCharacters(in: .whitespaces)) {
            throw AppError.unknownTopic(code: code, field: field == "questions" ? "questions[\(i)].topicCode" : field)
        }
    }

    static func record(_ topic: Topic) -> TopicRecord {
        let r = TopicRecord()
        r.id = topic.code
        r.name = topic.name
        r.level = topic.level
        r.parentCode = topic.parentCode
        r.section = topic.section
        r.assignable = topic.assignable
        r.isLocal = topic.isLocal
        r.searchText = TextNormalizer.searchDocument([topic.code, topic.name])
        return r
    }

    /// Loads the official classifier, replacing official entries that changed; local topics are kept.
    static func importClassifier(_ topics: [Topic], store: Store) async throws -> Int {
        try await store.writeReferences { db in
            let existing = Set(try await TopicRecord.query(on: db).all().compactMap(\.id))
            let sql = db as! any SQLDatabase
            for topic in topics {
                let record = record(topic)
                if existing.contains(topic.code) {
                    try await TopicRecord.query(on: db).filter(\.$id == topic.code)
                        .set(\.$name, to: record.name).set(\.$level, to: record.level).set(\.$parentCode, to: record.parentCode)
                        .set(\.$section, to: record.section).set(\.$assignable, to: record.assignable)
                        .set(\.$searchText, to: record.searchText).update()
                } else {
                    try await record.create(on: db)
                }
                if sql.dialect.name == "sqlite" {
                    try await sql.raw("DELETE FROM topic_search WHERE code = \(bind: topic.code)").run()
                    try await sql.raw("INSERT INTO topic_search (code, body) VALUES (\(bind: topic.code), \(bind: record.searchText))").run()
                }
            }
            return topics.count
        }
    }

    static func addLocal(_ topic: Topic, store: Store) async throws {
        try await store.writeReferences { db in
            if try await TopicRecord.find(topic.code, on: db) != nil {
                throw AppError.conflict(code: "exists", reason: "topic \(topic.code) already exists", field: "code")
            }
            try await insertLocal(topic, db: db)
        }
    }

    /// Stores a local topic and indexes it for search, in the caller's transaction.
    static func insertLocal(_ topic: Topic, db: any Database) async throws {
        let record = record(topic)
        try await record.create(on: db)
        let sql = db as! any SQLDatabase
        if sql.dialect.name == "sqlite" {
            try await sql.raw("INSERT INTO topic_search (code, body) VALUES (\(bind: topic.code), \(bind: record.searchText))").run()
        }
    }

    /// By code prefix, or by words of the name.
    static func search(_ q: String, assignableOnly: Bool, limit: Int, db: any Database) async throws -> [TopicRecord] {
        let trimmed = q.trimmingCharacters(in: .whitespaces)
        var query = TopicRecord.query(on: db)
        if assignableOnly { query = query.filter(\.$assignable == true) }
        if trimmed.first?.isNumber == true, trimmed.allSatisfy({ $0.isNumber || $0 == "." }) {
            return try await query.filter(\.$id >= trimmed).filter(\.$id < trimmed + "~").sort(\.$id).limit(limit).all()
        }
        let tokens = TextNormalizer.searchTokens(trimmed).prefix(8)
        guard !tokens.isEmpty else { return try await query.sort(\.$id).limit(limit).all() }
        let sql = db as! any SQLDatabase
        let codes: [String]
        if sql.dialect.name == "sqlite" {
            let match = tokens.map { "\"\($0)\"*" }.joined(separator: " ")
            codes = try await sql.raw("SELECT code FROM topic_search WHERE topic_search MATCH \(bind: match) LIMIT 500").all()
                .map { try $0.decode(column: "code", as: String.self) }
        } else {
            let match = tokens.map { "\($0):*" }.joined(separator: " & ")
            codes = try await sql.raw("SELECT code FROM topics WHERE to_tsvector('simple', search_text) @@ to_tsquery('simple', \(bind: match)) LIMIT 500").all()
                .map { try $0.decode(column: "code", as: String.self) }
        }
        guard !codes.isEmpty else { return [] }
        return try await query.filter(\.$id ~~ codes).sort(\.$id).limit(limit).all()
    }
}

struct TopicsController: RouteCollection {
    struct LocalTopicInput: Content {
        var code: String
        var name: String
        var parentCode: String?
    }

    func boot(routes: any RoutesBuilder) throws {
        let topics = routes.grouped("topics")
        topics.get(use: search)
        topics.get(":code", use: show)
        topics.grouped(Require(.topicsManage)).post(use: addLocal)
    }

    func search(req: Request) async throws -> [TopicView] {
        _ = try req.actor
        let q = (try? req.query.get(String.self, at: "q")) ?? ""
        let assignable = (try? req.query.get(Bool.self, at: "assignable")) ?? false
        let limit = (try? req.query.get(Int.self, at: "limit")) ?? 50
        guard (1...500).contains(limit) else { throw AppError.invalid(field: "limit", reason: "must be between 1 and 500") }
        return try await TopicStore.search(q, assignableOnly: assignable, limit: limit, db: req.db).map(TopicView.init)
    }

    func show(req: Request) async throws -> TopicView {
        _ = try req.actor
        let code = req.parameters.get("code") ?? ""
        guard let topic = try await TopicRecord.find(code, on: req.db) else { throw AppError.notFound(entity: "topic", id: code) }
        return try TopicView(topic)
    }

    func addLocal(req: Request) async throws -> Response {
        let input = try req.content.decode(LocalTopicInput.self)
        var parent: Topic?
        if let code = input.parentCode?.trimmed(), !code.isEmpty {
            guard let p = try await TopicRecord.find(code, on: req.db) else { throw AppError.invalid(field: "parentCode", reason: "unknown topic \(code)") }
            parent = try Topic(code: p.requireID(), name: p.name, level: p.level, parentCode: p.parentCode, section: p.section, assignable: p.assignable, isLocal: p.isLocal)
        }
        let topic: Topic
        do { topic = try Classifier.localTopic(code: input.code, name: input.name, parent: parent) } catch {
            switch error {
            case .emptyName: throw AppError.missing(field: "name")
            default: throw AppError.invalid(field: "code", reason: "use letters, digits, dots and dashes, not an official code")
            }
        }
        try await TopicStore.addLocal(topic, store: req.store)
        guard let stored = try await TopicRecord.find(topic.code, on: req.db) else { throw AppError.notFound(entity: "topic", id: topic.code) }
        return try await TopicView(stored).encodeResponse(status: .created, for: req)
    }
}
