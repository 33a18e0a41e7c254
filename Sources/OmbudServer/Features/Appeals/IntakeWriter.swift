import Fluent
import Foundation
import OmbudDomain
import SQLKit
import SQLiteKit
import SQLiteNIO

/// Writes a batch of prepared appeals in one transaction with one multi-row INSERT per table,
/// so that the cost of a commit and of each round trip is shared by the whole batch.
enum IntakeWriter {
    typealias Value = any Encodable & Sendable

    /// The rows a batch adds to one table.
    struct Table {
        let name: String
        let columns: [String]
        var rows: [[Value]] = []
    }

    /// Through SQLKit, in the caller's transaction: PostgreSQL, and SQLite when no dedicated writer is open.
    static func write(_ batch: [PreparedAppeal], db: any Database) async throws -> [String] {
        let codes = codes(batch, first: try await reserveNumbers(numbersNeeded(batch), db: db))
        try await insert(tables(batch, codes: codes), db: db as! any SQLDatabase)
        return codes
    }

    /// Multi-row INSERTs, chunked below the engines' limits on bound parameters.
    static func insert(_ tables: [Table], db sql: any SQLDatabase) async throws {
        for table in tables {
            let perStatement = max(1, 30_000 / table.columns.count)
            for start in stride(from: 0, to: table.rows.count, by: perStatement) {
                var builder = sql.insert(into: table.name).columns(table.columns)
                for row in table.rows[start..<min(start + perStatement, table.rows.count)] { builder = builder.values(row.map(SQLBind.init)) }
                try await builder.run()
            }
        }
    }

    /// Prepared statements of up to 64 rows each, on SQLite's dedicated writer. Several rows to a statement matter
    /// where a trigger writes the full-text index: its buffer is flushed at the end of every statement.
    static func insert(_ tables: [Table], connection: SQLiteWriter.Connection) throws {
        try run(statements(tables), connection: connection)
    }

    static func run(_ statements: [(sql: String, binds: [SQLiteData])], connection: SQLiteWriter.Connection) throws {
        for statement in statements { try connection.query(statement.sql, data: statement.binds) }
    }

    /// The first of `count` tracking numbers reserved for each year, in the caller's transaction.
    static func reserveNumbers(_ needed: [Int: Int], db: any Database) async throws -> [Int: Int] {
        var first: [Int: Int] = [:]
        for (year, count) in needed {
            first[year] = try await AppealIntake.reserveTrackingNumbers(year: year, count: count, db: db) - count + 1
        }
        return first
    }

    static func rowsPerStatement(columns: Int) -> Int { max(1, min(64, 30_000 / columns)) }

    /// The INSERTs of `tables` with their values converted for SQLite: what the writer's thread then only runs.
    static func statements(_ tables: [Table]) throws -> [(sql: String, binds: [SQLiteData])] {
        var out: [(sql: String, binds: [SQLiteData])] = []
        let encoder = SQLiteDataEncoder()
        for table in tables {
            let rowsPerStatement = rowsPerStatement(columns: table.columns.count)
            let row = "(" + Array(repeating: "?", count: table.columns.count).joined(separator: ", ") + ")"
            for start in stride(from: 0, to: table.rows.count, by: rowsPerStatement) {
                let chunk = table.rows[start..<min(start + rowsPerStatement, table.rows.count)]
                let sql = "INSERT INTO \(table.name) (\(table.columns.joined(separator: ", "))) VALUES "
                    + Array(repeating: row, count: chunk.count).joined(separator: ", ")
                out.append((sql, try chunk.joined().map { try SQLiteWriter.data($0, encoder: encoder) }))
            }
        }
        return out
    }

    /// The first of `count` tracking numbers reserved for each year, on SQLite's dedicated writer.
    static func reserveNumbers(_ needed: [Int: Int], connection: SQLiteWriter.Connection) throws -> [Int: Int] {
        var first: [Int: Int] = [:]
        for (year, count) in needed {
            let rows = try connection.query("""
                INSERT INTO tracking_sequences (year, last_value) VALUES (?, ?)
                ON CONFLICT (year) DO UPDATE SET last_value = tracking_sequences.last_value + excluded.last_value
                RETURNING last_value
                """, [year, count])
            guard let value = rows.first?.first?.integer else {
                throw AppError.conflict(code: "sequence", reason: "could not allocate a tracking code", field: nil)
            }
            first[year] = Int(value) - count + 1
        }
        return first
    }

    /// On SQLite's dedicated writer: the whole batch is one job on one thread, each row one step of a prepared statement.
    static func write(_ batch: [PreparedAppeal], connection: SQLiteWriter.Connection) throws -> [String] {
        let codes = codes(batch, first: try reserveNumbers(numbersNeeded(batch), connection: connection))
        try insert(tables(batch, codes: codes), connection: connection)
        return codes
    }

    /// How many tracking numbers each year of receipt needs.
    static func numbersNeeded(_ batch: [PreparedAppeal]) -> [Int: Int] {
        batch.reduce(into: [:]) { $0[$1.receivedDay.year, default: 0] += 1 }
    }

    /// Tracking codes in the batch's order, given the first number reserved for each year.
    static func codes(_ batch: [PreparedAppeal], first: [Int: Int]) -> [String] {
        codes(years: batch.map(\.receivedDay.year), first: first)
    }

    /// Tracking codes for appeals received in `years`, in order, given the first number reserved for each year.
    static func codes(years: [Int], first: [Int: Int]) -> [String] {
        var next = first
        return years.map { year in
            let number = next[year] ?? 1
            next[year] = number + 1
            return TrackingCode(year: year, number: number).description
        }
    }

    /// Every row the batch adds, table by table in an order that satisfies the foreign keys.
    static func tables(_ batch: [PreparedAppeal], codes: [String]) -> [Table] {
        var applicants = Table(name: "applicants", columns: [
            "id", "kind", "surname", "name", "patronymic", "organisation_name", "phones", "emails", "postal_address", "address_key",
            "social_status", "territory", "audience", "social_links", "contact_source", "publicity_consent", "search_text", "created_at", "updated_at"])
        var contacts = Table(name: "applicant_contacts", columns: ["id", "applicant_id", "kind", "value_key"])
        var appeals = Table(name: "appeals", columns: [
            "id", "tracking_code", "workflow", "status", "channel", "kind", "form", "urgency", "received_at", "registered_at",
            "closed_at", "applicant_id", "is_collective", "is_deputy_inquiry", "text", "address_text", "lat", "lon", "district",
            "office_id", "complained_unit_id", "redirected_to_unit_id", "repeat_of_id", "duplicate_of_id", "article11_ground",
            "registration_due", "redirect_due", "answer_due", "control_date", "extension_days", "extension_reason",
            "under_control", "external_id", "search_text", "created_at", "updated_at", "reply_channel"])
        var publications = Table(name: "public_appeals", columns: [
            "id", "listed", "text_public", "status_token_hash", "request_token", "service_code", "client_id", "lat", "lon", "district",
            "address_id", "media_url", "attributes", "created_at"])
        var coApplicants = Table(name: "appeal_co_applicants", columns: ["id", "appeal_id", "applicant_id"])
        var questions = Table(name: "questions", columns: [
            "id", "appeal_id", "position", "topic_code", "text", "executor_unit_id", "executor_user_id", "status", "result",
            "answer_text", "created_at", "updated_at"])
        var tasks = Table(name: "tasks", columns: [
            "id", "appeal_id", "key", "state", "status", "assignee_unit_id", "assignee_user_id", "due_at", "checklist", "entered_at",
            "next_alert_at", "created_by", "updated_at"])
        var history = Table(name: "history", columns: [
            "id", "entity", "entity_id", "appeal_id", "actor_id", "actor", "at", "action", "field", "from_value", "to_value", "comment",
            "note_key", "note_params"])
        var correspondence = Table(name: "correspondence", columns: [
            "id", "appeal_id", "direction", "channel", "sender", "recipient", "subject", "text", "message_id", "automatic", "at", "thread",
            "link", "reply_target", "remote_id"])
        var jobs = Table(name: "jobs", columns: ["id", "kind", "payload", "unique_key", "status", "run_at", "attempts", "max_attempts", "created_at"])
        let none: String? = nil
        let noID: UUID? = nil
        for (p, code) in zip(batch, codes) {
            let actorID = p.actor?.userID
            let actorName = p.actor?.login ?? "system"
            for a in p.newApplicants {
                let r = Applicant()
                ApplicantStore.fill(r, from: a.card)
                applicants.rows.append([a.id, r.kind, r.surname, r.name, r.patronymic, r.organisationName, r.phones, r.emails,
                                        r.postalAddress, r.addressKey, r.socialStatus, r.territory, r.audience, r.socialLinks,
                                        r.contactSource, r.publicityConsent, r.searchText, p.now, p.now])
                for (kind, key) in ApplicantStore.contactKeys(of: r) { contacts.rows.append([UUID.timeOrdered(), a.id, kind, key]) }
                history.rows.append([UUID.timeOrdered(), "applicant", a.id, noID, actorID, actorName, p.now, "create", none, none, none, none, none, none])
            }
            let registered = p.status != AppealTransitions.workflow.initial
            let v = p.v
            appeals.rows.append([
                p.id, code, AppealTransitions.workflow.key, p.status, v.channel.rawValue, v.kind.rawValue, v.form.rawValue,
                v.urgency.rawValue, v.receivedAt, registered ? p.now : nil, Date?.none, p.applicantID, p.isCollective,
                v.input.isDeputyInquiry ?? false, v.text, p.addressText, v.address?.lat, v.address?.lon, v.address?.district,
                p.officeID, p.complainedUnitID, noID, p.repeatOfID, noID, none, p.deadlines.registrationDue.iso,
                p.deadlines.redirectDue?.iso, p.deadlines.answerDue?.iso, p.deadlines.controlDate?.iso, 0, none, true, none,
                p.searchDocument(trackingCode: code), p.now, p.now, p.replyChannel,
            ])
            if let pub = p.publication {
                let point = v.address.flatMap { a in
                    a.lat.flatMap { lat in a.lon.map { pub.exactPoint ? (lat: lat, lon: $0) : PublicLocation.approximate(lat: lat, lon: $0) } }
                }
                let attributes = pub.attributes.isEmpty ? nil : (try? JSONEncoder().encode(pub.attributes)).map { String(decoding: $0, as: UTF8.self) }
                publications.rows.append([p.id, pub.listed, pub.textPublic, pub.statusTokenHash, pub.requestToken, pub.serviceCode, pub.clientID,
                                          point?.lat, point?.lon, v.address?.district, pub.addressID, pub.mediaURL, attributes, p.now])
            }
            for co in p.coApplicantIDs { coApplicants.rows.append([UUID.timeOrdered(), p.id, co]) }
            for (i, q) in p.questions.enumerated() {
                questions.rows.append([q.id, p.id, i + 1, q.topicCode, q.text, q.executorUnitID, noID, QuestionStatus.open.rawValue,
                                       none, none, p.now, p.now])
            }
            for t in p.tasks {
                tasks.rows.append([t.id, p.id, t.key, t.state, TaskStatus.open.rawValue, t.assigneeUnitID, t.assigneeUserID, t.dueAt,
                                   t.checklist, t.enteredAt, t.nextAlertAt, actorID, p.now])
            }
            history.rows.append([UUID.timeOrdered(), "appeal", p.id, p.id, actorID, actorName, p.now, "create", none, none, code, none, none, none])
            if registered {
                history.rows.append([UUID.timeOrdered(), "appeal", p.id, p.id, actorID, actorName, p.now, "transition", "status",
                                     AppealTransitions.workflow.initial, p.status, none, none, none])
            }
            for m in p.letters {
                correspondence.rows.append([m.id ?? UUID.timeOrdered(), p.id, m.direction, m.channel, m.sender, m.recipient, m.subject, m.text,
                                            m.messageID, m.automatic, m.at, m.thread, m.link, m.replyTarget, m.remoteID])
            }
            for n in p.notes {
                history.rows.append([UUID.timeOrdered(), "appeal", p.id, p.id, actorID, actorName, p.now, n.action, n.field, none, n.to, n.comment,
                                     n.note?.key, n.note?.encodedParams])
            }
            for j in p.jobs {
                jobs.rows.append([UUID.timeOrdered(), j.kind, j.payload, j.uniqueKey, JobQueue.Status.queued.rawValue, p.now, 0,
                                  RetryPolicy().maxAttempts, p.now])
            }
        }
        return [applicants, contacts, appeals, publications, coApplicants, questions, tasks, history, correspondence, jobs]
    }
}

/// Appeals that arrive while a batch is being written wait and go together in the next one.
typealias IntakeQueue = GroupCommit<PreparedAppeal, String>
