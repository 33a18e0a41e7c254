import Fluent
import Foundation
import OmbudDomain

/// Adding questions to an appeal and recording their executor, result and answer.
enum QuestionEditing {
    static func add(appealID: UUID, input: QuestionInput, actor: Actor, store: Store, now: Date) async throws {
        do { _ = try Validate.text(input.text, field: "text", required: false) } catch { throw error.appError }
        try await store.write { db in
            guard let appeal = try await Appeal.find(appealID, on: db) else { throw AppError.notFound(entity: "appeal", id: appealID.uuidString) }
            guard AppealTransitions.workflow.isOpen(appeal.status) else {
                throw AppError.conflict(code: "appeal-closed", reason: "questions cannot be added to a closed appeal", field: nil)
            }
            try await TopicStore.requireAssignable([input.topicCode], db: db, field: "topicCode")
            let count = try await Question.query(on: db).filter(\.$appeal.$id == appealID).count()
            let question = Question()
            question.$appeal.id = appealID
            question.position = count + 1
            question.topicCode = input.topicCode.trimmingCharacters(in: .whitespaces)
            question.text = input.text?.trimmed() ?? ""
            question.executorUnitID = try await UnitLookup(db: db).id(input.executorUnitCode, field: "executorUnitCode")
            question.status = QuestionStatus.open.rawValue
            question.createdAt = now
            question.updatedAt = now
            try await question.create(on: db)
            try await HistoryRecorder(db: db, actor: actor, at: now)
                .record(entity: "question", id: question.requireID(), appealID: appealID, action: "create", to: question.topicCode)
        }
    }

    static func update(appealID: UUID, questionID: UUID, input: QuestionUpdate, actor: Actor, store: Store, now: Date) async throws {
        var parsedResult: QuestionResult?
        var parsedStatus: QuestionStatus?
        do {
            if input.result != nil { parsedResult = try Validate.choice(input.result, field: "result") as QuestionResult }
            if input.status != nil { parsedStatus = try Validate.choice(input.status, field: "status") as QuestionStatus }
            _ = try Validate.text(input.answerText, field: "answerText", required: false)
        } catch { throw error.appError }
        let result = parsedResult
        let status = parsedStatus
        try await store.write { db in
            guard let question = try await Question.query(on: db).filter(\.$id == questionID).filter(\.$appeal.$id == appealID).first() else {
                throw AppError.notFound(entity: "question", id: questionID.uuidString)
            }
            var changes: [(String, String?, String?)] = []
            if let code = input.topicCode {
                try await TopicStore.requireAssignable([code], db: db, field: "topicCode")
                changes.append(("topicCode", question.topicCode, code))
                question.topicCode = code
            }
            if let text = input.text {
                changes.append(("text", question.text, text))
                question.text = text
            }
            if input.executorUnitCode != nil {
                let unitID = try await UnitLookup(db: db).id(input.executorUnitCode, field: "executorUnitCode")
                changes.append(("executorUnit", question.executorUnitID?.uuidString, unitID?.uuidString))
                question.executorUnitID = unitID
            }
            if let userID = input.executorUserId {
                guard try await User.find(userID, on: db) != nil else {
                    throw AppError.invalid(field: "executorUserId", reason: "unknown user")
                }
                changes.append(("executorUser", question.executorUserID?.uuidString, userID.uuidString))
                question.executorUserID = userID
            }
            if let status {
                changes.append(("status", question.status, status.rawValue))
                question.status = status.rawValue
            }
            if let result {
                changes.append(("result", question.result, result.rawValue))
                question.result = result.rawValue
                if result.isFinal && status == nil { question.status = QuestionStatus.done.rawValue }
            }
            if let answer = input.answerText {
                changes.append(("answerText", question.answerText, answer))
                question.answerText = answer
            }
            question.updatedAt = now
            try await question.save(on: db)
            try await HistoryRecorder(db: db, actor: actor, at: now).changes(entity: "question", id: questionID, appealID: appealID, changes)
            if input.executorUnitCode != nil || input.executorUserId != nil {
                let questions = try await Question.query(on: db).filter(\.$appeal.$id == appealID).all()
                try await TaskStore.followExecutor(appealID: appealID, questions: questions, now: now, db: db)
            }
        }
    }
}
