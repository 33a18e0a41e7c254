import Fluent
import Foundation
import OmbudDomain
import Vapor

/// The checklist questions of the topics chosen ("137" asks them per subtopic), on the staff form and the portal:
/// defined once on the topic (`TopicChecklist`, edited with the Open311 services), answered as `checklist[code]`,
/// checked, kept as "question: answer" lines and shown on the card.
enum ChecklistAnswers {
    /// The questions of these topics asked on `channel`, in the topics' order, each once.
    static func questions(topics codes: [String], channel: String, db: any Database) async throws -> [(topic: String, questions: [ChecklistQuestion])] {
        let codes = codes.filter { !$0.isEmpty }
        guard !codes.isEmpty else { return [] }
        let records = try await TopicRecord.query(on: db).filter(\.$id ~~ Set(codes)).all()
        var seen = Set<String>()
        var out: [(topic: String, questions: [ChecklistQuestion])] = []
        for code in codes {
            guard let record = records.first(where: { $0.id == code }) else { continue }
            let questions = Open311Catalogue.checklist(record).filter { $0.asked(on: channel) && seen.insert($0.code).inserted }
            if !questions.isEmpty { out.append((record.name, questions)) }
        }
        return out
    }

    /// The answers checked against the questions; a refusal names `checklist[code]`.
    static func lines(_ groups: [(topic: String, questions: [ChecklistQuestion])], answers: [String: String]) throws -> [String] {
        let questions = groups.flatMap(\.questions)
        // Only the questions asked: an answer left from a topic taken off the form is not an error.
        let given = answers.filter { key, _ in questions.contains { $0.code == key } }.mapValues { [$0] }
        do throws(TopicChecklist.AnswerError) { return try TopicChecklist.lines(questions, answers: given) } catch {
            throw error.missing ? AppError.missing(field: "checklist[\(error.code)]") : AppError.invalid(field: "checklist[\(error.code)]", reason: error.reason)
        }
    }

    static func store(_ lines: [String], appealID: UUID, store: Store, now: Date) async throws {
        guard !lines.isEmpty else { return }
        let json = String(decoding: try JSONEncoder().encode(lines), as: UTF8.self)
        try await store.write { db in
            let row = AppealAnswers()
            row.id = appealID
            row.lines = json
            row.createdAt = now
            try await row.create(on: db)
        }
    }

    static func stored(_ appealID: UUID, db: any Database) async throws -> [String] {
        guard let row = try await AppealAnswers.find(appealID, on: db) else { return [] }
        return (try? JSONDecoder().decode([String].self, from: Data(row.lines.utf8))) ?? []
    }

    /// The questions as a form shows them, with what was typed and the errors.
    static func context(_ groups: [(topic: String, questions: [ChecklistQuestion])], answers: [String: String], errors: [String: String]) -> [[String: Any]] {
        groups.map { group in
            ["topic": group.topic, "questions": group.questions.map { q -> [String: Any] in
                let value = answers[q.code] ?? ""
                let row: [String: Any?] = [
                    "code": q.code, "text": q.text, "required": q.required, "value": value, "error": errors["checklist[\(q.code)]"],
                    "list": q.datatype == .singlevaluelist || q.datatype == .multivaluelist, "long": q.datatype == .text,
                    "number": q.datatype == .number,
                    "values": q.values.map { ["key": $0.key, "name": $0.name, "selected": $0.key == value] },
                ]
                return row.present
            }]
        }
    }
}
