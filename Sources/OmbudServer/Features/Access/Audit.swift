import Fluent
import Foundation
import OmbudDomain
import SQLKit
import Vapor

/// The audit log: security events (logins, permission changes, tokens), personal-data views and exports. Changes of
/// appeals, questions and applicants are in `history`, itself append-only; the audit API shows both as one log.
enum Audit {
    static func record(_ action: String, actorID: UUID?, actor: String, entity: String? = nil, entityID: String? = nil,
                       address: String? = nil, details: String? = nil, at: Date, db: any Database) async throws {
        try await make(action, actorID: actorID, actor: actor, entity: entity, entityID: entityID, address: address, details: details,
                       at: at).create(on: db)
    }

    static func make(_ action: String, actorID: UUID?, actor: String, entity: String?, entityID: String?, address: String?,
                     details: String?, at: Date) -> AuditRecord {
        let record = AuditRecord()
        record.id = UUID.timeOrdered(at: at)
        record.at = at
        record.actorID = actorID
        record.actor = actor
        record.action = action
        record.entity = entity
        record.entityID = entityID
        record.address = address
        record.details = details
        return record
    }

    /// The group commit requests' audit records go through.
    static func queue(_ store: Store) -> GroupCommit<AuditRecord, Void> {
        GroupCommit { records in
            try await store.write { db in try await records.create(on: db) }
            return records.map { _ in () }
        }
    }

    /// One record listing `changes` ("field: old → new"), or none when nothing changed.
    static func changes(_ changes: [String], action: String, by actor: Actor, entity: String, entityID: String,
                        address: String?, at: Date, db: any Database) async throws {
        guard !changes.isEmpty else { return }
        try await record(action, actorID: actor.userID, actor: actor.login, entity: entity, entityID: entityID, address: address,
                         details: changes.joined(separator: "; "), at: at, db: db)
    }
}

extension Request {
    /// Records an event of the current actor; committed before this returns, in a transaction shared with the other
    /// requests' records that arrived meanwhile.
    func audit(_ action: String, entity: String? = nil, entityID: String? = nil, details: String? = nil) async throws {
        let actor = auth.get(Actor.self)
        try await application.ombud.audit.submit(Audit.make(action, actorID: actor?.userID, actor: actor?.login ?? "anonymous",
                                                            entity: entity, entityID: entityID, address: clientAddress,
                                                            details: details, at: now))
    }
}

struct AuditEntry: Content {
    var id: UUID
    var at: Date
    var actor: String
    var action: String
    var entity: String?
    var entityId: String?
    var address: String?
    var details: String?
    /// `audit` for security events and views, `history` for changes of appeals, questions and applicants.
    var source: String
}

struct AuditPage: Content {
    var items: [AuditEntry]
    var nextBefore: String?
}

struct AuditController: RouteCollection {
    struct Filters: Content {
        var actor: String?
        var action: String?
        var entity: String?
        var entityId: String?
        var from: String?
        var to: String?
        var before: String?
        var limit: Int?
        var format: String?
    }

    func boot(routes: any RoutesBuilder) throws {
        routes.grouped("audit").grouped(Require(.auditRead)).get(use: list)
    }

    func list(req: Request) async throws -> Response {
        let f = try req.query.decode(Filters.self)
        let csv = f.format == "csv"
        if let format = f.format, format != "csv", format != "json" {
            throw AppError.invalid(field: "format", reason: "must be json or csv")
        }
        if csv, !(try req.actor.can(.export)) { throw AppError.forbidden(reason: "this needs the permission export") }
        let limit = f.limit ?? (csv ? 10_000 : 100)
        guard (1...(csv ? 100_000 : 500)).contains(limit) else {
            throw AppError.invalid(field: "limit", reason: "must be between 1 and \(csv ? 100_000 : 500)")
        }
        func day(_ raw: String?, _ field: String) throws -> Date? {
            guard let raw else { return nil }
            guard let date = CivilDate(iso: raw) else { throw AppError.invalid(field: field, reason: "expected YYYY-MM-DD") }
            return date.start(in: req.settings.timeZone)
        }
        let from = try day(f.from, "from")
        let to = try day(f.to, "to").map { $0.addingTimeInterval(86_400) }
        let sql = req.store.sql
        let dialect = sql.dialect.name
        // `before`: a time chosen by the reader, or the `nextBefore` of the previous page — the last record's moment as
        // stored and its id, so that records sharing a time with it are neither dropped nor shown twice.
        var before: Date?
        var after: (StoredMoment, UUID)?
        if let raw = f.before {
            if let key = AuditCursor.parse(raw, dialect: dialect) {
                after = key
            } else if let date = JSONCoding.parseDate(raw) {
                before = date
            } else {
                throw AppError.invalid(field: "before", reason: "expected an ISO 8601 time or the nextBefore of a page")
            }
        }

        /// The filters on `audit_log` and on `history` alike (they share these column names); built once per table.
        func conditions() -> SQLQueryString {
            var q: SQLQueryString = "1 = 1"
            if let actor = f.actor { q = q + " AND actor = \(bind: actor)" }
            if let action = f.action { q = q + " AND action = \(bind: action)" }
            if let entity = f.entity { q = q + " AND entity = \(bind: entity)" }
            // UUIDs are stored in upper case; logins, role keys and calendar keys as they are.
            if let entityID = f.entityId {
                q = q + " AND CAST(entity_id AS TEXT) = \(bind: UUID(uuidString: entityID)?.uuidString ?? entityID)"
            }
            if let from { q = q + " AND at >= \(bind: from)" }
            if let to { q = q + " AND at < \(bind: to)" }
            if let before { q = q + " AND at < \(bind: before)" }
            if let (moment, id) = after { q = q + " AND (at < \(moment.value) OR (at = \(moment.value) AND id < \(bind: id)))" }
            return q
        }
        let raw = StoredMoment.select("at", as: "at_raw", dialect: dialect)
        let query: SQLQueryString = """
            SELECT id, at, \(raw), actor, action, entity, CAST(entity_id AS TEXT) AS entity_id, address, details, 'audit' AS source
            FROM audit_log WHERE \(conditions())
            UNION ALL
            SELECT id, at, \(raw), actor, action, entity, CAST(entity_id AS TEXT) AS entity_id, NULL AS address,
                   CASE WHEN field IS NULL THEN comment ELSE field || ': ' || COALESCE(from_value, '∅') || ' → ' || COALESCE(to_value, '∅') END AS details,
                   'history' AS source
            FROM history WHERE \(conditions())
            ORDER BY at DESC, id DESC LIMIT \(literal: limit + 1)
            """
        var rows = try await sql.raw(query).all()
        var items = try rows.map { row in
            AuditEntry(id: try row.decode(column: "id", as: UUID.self), at: try row.decode(column: "at", as: Date.self),
                       actor: try row.decode(column: "actor", as: String.self), action: try row.decode(column: "action", as: String.self),
                       entity: try row.decode(column: "entity", as: String?.self), entityId: try row.decode(column: "entity_id", as: String?.self),
                       address: try row.decode(column: "address", as: String?.self), details: try row.decode(column: "details", as: String?.self),
                       source: try row.decode(column: "source", as: String.self))
        }
        var next: String?
        if items.count > limit {
            items.removeLast()
            rows.removeLast()
            if let last = items.last, let row = rows.last {
                next = AuditCursor.encode(try StoredMoment.read(row, column: "at_raw", dialect: dialect), last.id)
            }
        }
        if csv {
            try await req.audit("audit.export", details: "\(items.count) records")
            var text = "at,actor,action,entity,entity_id,address,details,source\n"
            for e in items {
                text += [e.at.formatted(.iso8601), e.actor, e.action, e.entity ?? "", e.entityId ?? "", e.address ?? "", e.details ?? "", e.source]
                    .map(CSVField.escape).joined(separator: ",") + "\n"
            }
            let response = Response(status: .ok, body: .init(string: text))
            response.headers.contentType = HTTPMediaType(type: "text", subType: "csv", parameters: ["charset": "utf-8"])
            response.headers.contentDisposition = .init(.attachment, filename: "ombud-audit.csv")
            return response
        }
        return try await AuditPage(items: items, nextBefore: next).encodeResponse(for: req)
    }
}

/// The audit log's page boundary: the last record's moment as stored and its id.
enum AuditCursor {
    static func encode(_ moment: StoredMoment, _ id: UUID) -> String {
        "k" + Data("\(moment.raw)|\(id.uuidString)".utf8).base64EncodedString()
    }

    static func parse(_ text: String, dialect: String) -> (StoredMoment, UUID)? {
        guard text.hasPrefix("k"), let data = Data(base64Encoded: String(text.dropFirst())), let raw = String(data: data, encoding: .utf8) else { return nil }
        let parts = raw.split(separator: "|")
        guard parts.count == 2, let moment = StoredMoment(parsing: String(parts[0]), dialect: dialect),
              let id = UUID(uuidString: String(parts[1])) else { return nil }
        return (moment, id)
    }
}

enum CSVField {
    /// RFC 4180 quoting, and a leading quote for text a spreadsheet would run as a formula.
    static func escape(_ value: String) -> String {
        var v = value
        if let first = v.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first), Double(v) == nil { v = "'" + v }
        return quoted(v)
    }

    /// RFC 4180 quoting only, for files read back by a program (an import's rejects): the value as it came.
    static func quoted(_ value: String) -> String {
        // By bytes: "\r\n" is one Character in Swift, which a search for "\n" or "\r" among Characters misses.
        guard value.utf8.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
