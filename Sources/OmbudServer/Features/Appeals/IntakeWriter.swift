import Fluent
import Foundation
import OmbudDomain
import SQLKit

/// Writes a batch of prepared appeals in one transaction with one multi-row INSERT per table,
/// so that the cost of a commit and of each round trip is shared by the whole batch.
enum IntakeWriter {
    static func write(_ batch: [PreparedAppeal], db: any Database) async throws -> [String] {
        let sql = db as! any SQLDatabase
        // Tracking numbers, per year of receipt, in the batch's order.
        var codes = [String](repeating: "", count: batch.count)
        for (year, indexes) in Dictionary(grouping: batch.indices, by: { batch[$0].receivedDay.year }) {
            let last = try await AppealIntake.reserveTrackingNumbers(year: year, count: indexes.count, db: db)
            for (offset, index) in indexes.sorted().enumerated() {
                codes[index] = TrackingCode(year: year, number: last - indexes.count + 1 + offset).description
            }
        }

        var applicants: [[any SQLExpression]] = []
        var contacts: [[any SQLExpression]] = []
        var appeals: [[any SQLExpression]] = []
        var coApplicants: [[any SQLExpression]] = []
        var questions: [[any SQLExpression]] = []
        var history: [[any SQLExpression]] = []
        for (p, code) in zip(batch, codes) {
            let actorID = p.actor?.userID
            let actorName = p.actor?.login ?? "system"
            for a in p.newApplicants {
                let record = Applicant()
                ApplicantStore.fill(record, from: a.card)
                applicants.append([b(a.id), b(record.kind), b(record.surname), b(record.name), b(record.patronymic), b(record.organisationName),
                                   b(record.phones), b(record.emails), b(record.postalAddress), b(record.addressKey), b(record.socialStatus),
                                   b(record.territory), b(record.audience), b(record.socialLinks), b(record.contactSource),
                                   b(record.searchText), b(p.now), b(p.now)])
                for key in record.phones.compactMap(TextNormalizer.phoneKey) { contacts.append([b(UUID()), b(a.id), b("phone"), b(key)]) }
                for key in record.emails { contacts.append([b(UUID()), b(a.id), b("email"), b(key)]) }
                history.append([b(UUID()), b("applicant"), b(a.id), b(UUID?.none), b(actorID), b(actorName), b(p.now), b("create"),
                                b(String?.none), b(String?.none), b(String?.none), b(String?.none)])
            }
            let document = p.searchDocument(trackingCode: code)
            let registered = p.status != AppealTransitions.workflow.initial
            appeals.append([
                b(p.id), b(code), b(AppealTransitions.workflow.key), b(p.status), b(p.v.channel.rawValue), b(p.v.kind.rawValue),
                b(p.v.form.rawValue), b(p.v.urgency.rawValue), b(p.v.receivedAt), b(registered ? p.now : nil), b(Date?.none),
                b(p.applicantID), b(p.isCollective), b(p.v.input.isDeputyInquiry ?? false), b(p.v.text), b(p.addressText),
                b(p.v.address?.lat), b(p.v.address?.lon), b(p.v.address?.district), b(p.officeID), b(p.complainedUnitID),
                b(UUID?.none), b(p.repeatOfID), b(UUID?.none), b(String?.none), b(p.deadlines.registrationDue.iso),
                b(p.deadlines.redirectDue?.iso), b(p.deadlines.answerDue?.iso), b(p.deadlines.controlDate?.iso), b(0), b(String?.none),
                b(true), b(String?.none), b(document), b(p.now), b(p.now),
            ])
            for co in p.coApplicantIDs { coApplicants.append([b(UUID()), b(p.id), b(co)]) }
            for (i, q) in p.questions.enumerated() {
                questions.append([b(q.id), b(p.id), b(i + 1), b(q.topicCode), b(q.text), b(q.executorUnitID), b(UUID?.none),
                                  b(QuestionStatus.open.rawValue), b(String?.none), b(String?.none), b(p.now), b(p.now)])
            }
            history.append([b(UUID()), b("appeal"), b(p.id), b(p.id), b(actorID), b(actorName), b(p.now), b("create"),
                            b(String?.none), b(String?.none), b(code), b(String?.none)])
            if registered {
                history.append([b(UUID()), b("appeal"), b(p.id), b(p.id), b(actorID), b(actorName), b(p.now), b("transition"),
                                b("status"), b(AppealTransitions.workflow.initial), b(p.status), b(String?.none)])
            }
        }
        try await insert(sql, "applicants", ["id", "kind", "surname", "name", "patronymic", "organisation_name", "phones", "emails",
                                             "postal_address", "address_key", "social_status", "territory", "audience", "social_links",
                                             "contact_source", "search_text", "created_at", "updated_at"], applicants)
        try await insert(sql, "applicant_contacts", ["id", "applicant_id", "kind", "value_key"], contacts)
        try await insert(sql, "appeals", ["id", "tracking_code", "workflow", "status", "channel", "kind", "form", "urgency", "received_at",
                                          "registered_at", "closed_at", "applicant_id", "is_collective", "is_deputy_inquiry", "text",
                                          "address_text", "lat", "lon", "district", "office_id", "complained_unit_id",
                                          "redirected_to_unit_id", "repeat_of_id", "duplicate_of_id", "article11_ground",
                                          "registration_due", "redirect_due", "answer_due", "control_date", "extension_days",
                                          "extension_reason", "under_control", "external_id", "search_text", "created_at", "updated_at"], appeals)
        try await insert(sql, "appeal_co_applicants", ["id", "appeal_id", "applicant_id"], coApplicants)
        try await insert(sql, "questions", ["id", "appeal_id", "position", "topic_code", "text", "executor_unit_id", "executor_user_id",
                                            "status", "result", "answer_text", "created_at", "updated_at"], questions)
        try await insert(sql, "history", ["id", "entity", "entity_id", "appeal_id", "actor_id", "actor", "at", "action", "field",
                                          "from_value", "to_value", "comment"], history)
        return codes
    }

    private static func b<T: Encodable & Sendable>(_ value: T) -> any SQLExpression { SQLBind(value) }

    /// Multi-row INSERTs, chunked below the engines' limits on bound parameters.
    private static func insert(_ sql: any SQLDatabase, _ table: String, _ columns: [String], _ rows: [[any SQLExpression]]) async throws {
        let perStatement = max(1, 30_000 / columns.count)
        for start in stride(from: 0, to: rows.count, by: perStatement) {
            var builder = sql.insert(into: table).columns(columns)
            for row in rows[start..<min(start + perStatement, rows.count)] { builder = builder.values(row) }
            try await builder.run()
        }
    }
}

/// Group commit: appeals that arrive while a batch is being written wait and go together in the next one.
/// Under load many appeals share one transaction; alone, an appeal is written at once.
actor IntakeQueue {
    typealias Writer = @Sendable ([PreparedAppeal]) async throws -> [String]
    private let writer: Writer
    private let maxBatch: Int
    private var pending: [(PreparedAppeal, CheckedContinuation<String, any Error>)] = []
    private var draining = false

    init(maxBatch: Int = 64, writer: @escaping Writer) {
        self.maxBatch = maxBatch
        self.writer = writer
    }

    func submit(_ appeal: PreparedAppeal) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            pending.append((appeal, continuation))
            if !draining {
                draining = true
                Task { await drain() }
            }
        }
    }

    private func drain() async {
        while !pending.isEmpty {
            let batch = Array(pending.prefix(maxBatch))
            pending.removeFirst(batch.count)
            do {
                let codes = try await writer(batch.map(\.0))
                for ((_, continuation), code) in zip(batch, codes) { continuation.resume(returning: code) }
            } catch where batch.count > 1 {
                // One bad appeal must not fail the others: write them one by one.
                for (appeal, continuation) in batch {
                    do { continuation.resume(returning: try await writer([appeal])[0]) } catch { continuation.resume(throwing: error) }
                }
            } catch {
                batch[0].1.resume(throwing: error)
            }
        }
        draining = false
    }
}
