import Fluent
import Foundation
import OmbudDomain

/// Moves appeals through the workflow: the engine judges, this applies the consequences and records history.
enum AppealTransitions {
    static let workflow = WorkflowDefinition.federalLaw59

    static func calendar(around day: CivilDate, settings: Settings, db: any Database) async throws -> BusinessCalendar {
        let policy = settings.deadlinePolicy
        return try await CalendarStore.load(settings.calendarKey, from: day.adding(days: -14),
                                            to: day.adding(days: policy.answerDays + policy.maxExtensionDays + 30), db: db)
    }

    /// Registration starts the redirect and answer clocks.
    static func register(_ appeal: Appeal, settings: Settings, db: any Database, now: Date) async throws {
        let registered = CivilDate.of(now, in: settings.timeZone)
        let received = CivilDate.of(appeal.receivedAt, in: settings.timeZone)
        let calendar = try await calendar(around: registered, settings: settings, db: db)
        let deadlines = DeadlineRules.onRegistration(received: received, registered: registered,
                                                     policy: settings.deadlinePolicy, calendar: calendar)
        appeal.status = "registered"
        appeal.registeredAt = now
        appeal.registrationDue = deadlines.registrationDue.iso
        appeal.redirectDue = deadlines.redirectDue?.iso
        appeal.answerDue = deadlines.answerDue?.iso
        appeal.controlDate = deadlines.controlDate?.iso
    }

    static func transition(appealID: UUID, input: TransitionInput, actor: Actor, settings: Settings, store: Store, now: Date) async throws {
        var parsedGround: Article11Ground?
        if let raw = input.article11Ground {
            do { parsedGround = try Validate.choice(raw, field: "article11Ground") as Article11Ground } catch { throw error.appError }
        }
        let ground = parsedGround
        try await store.write { db in
            guard let appeal = try await Appeal.find(appealID, on: db) else { throw AppError.notFound(entity: "appeal", id: appealID.uuidString) }
            let questions = try await Question.query(on: db).filter(\.$appeal.$id == appealID).all()
            let units = UnitLookup(db: db)
            var targetID: UUID?
            var targetPath: [String] = []
            if input.unitCode != nil {
                targetID = try await units.id(input.unitCode, field: "unitCode")
                targetPath = try await units.path(targetID!)
            }
            var duplicateID: UUID?
            if let ref = input.duplicateOf {
                duplicateID = try await AppealQueries.resolve(ref, db: db, field: "duplicateOf")
                if duplicateID == appealID { throw AppError.invalid(field: "duplicateOf", reason: "an appeal cannot duplicate itself") }
            }
            let complained = try await appeal.complainedUnitID.asyncMap { try await OrgUnit.find($0, on: db)?.code } ?? nil
            let facts = AppealFacts(state: appeal.status, kind: AppealKind(rawValue: appeal.kind) ?? .statement,
                                    questionResults: questions.map { $0.result.flatMap(QuestionResult.init(rawValue:)) },
                                    complainedUnitCode: complained)
            let request = TransitionRequest(to: input.to, roles: actor.roles, article11Ground: ground, targetUnitPath: targetPath,
                                            reason: input.reason, hasDuplicateOf: duplicateID != nil)
            do throws(WorkflowError) { try WorkflowEngine.check(workflow, facts: facts, request: request) } catch { throw AppError(error) }

            let history = HistoryRecorder(db: db, actor: actor, at: now)
            let from = appeal.status
            if input.to == "registered" {
                try await register(appeal, settings: settings, db: db, now: now)
            }
            appeal.status = input.to
            switch input.to {
            case "redirected": appeal.redirectedToUnitID = targetID
            case "left-without-answer": appeal.article11Ground = ground?.rawValue
            case "merged": appeal.duplicateOfID = duplicateID
            default: break
            }
            let target = workflow.state(input.to)
            if let target {
                appeal.underControl = target.underControl
                if target.terminal { appeal.closedAt = now }
            }
            appeal.updatedAt = now
            try await appeal.save(on: db)
            try await history.record(entity: "appeal", id: appealID, appealID: appealID, action: "transition", field: "status",
                                     from: from, to: input.to, comment: input.comment ?? input.reason)

            // Questions follow the appeal where the outcome decides their result.
            let implied = target?.questionResult
            for question in questions {
                var changed: [(String, String?, String?)] = []
                if let implied, question.result == nil || question.result == QuestionResult.inWork.rawValue {
                    changed.append(("result", question.result, implied.rawValue))
                    question.result = implied.rawValue
                    question.status = QuestionStatus.done.rawValue
                }
                if input.to == "assigned", let targetID, question.executorUnitID == nil {
                    changed.append(("executorUnit", nil, input.unitCode))
                    question.executorUnitID = targetID
                }
                guard !changed.isEmpty else { continue }
                question.updatedAt = now
                try await question.save(on: db)
                try await history.changes(entity: "question", id: question.id!, appealID: appealID, changed)
            }
        }
    }

    static func extend(appealID: UUID, input: ExtensionInput, actor: Actor, settings: Settings, store: Store, now: Date) async throws {
        try await store.write { db in
            guard let appeal = try await Appeal.find(appealID, on: db) else { throw AppError.notFound(entity: "appeal", id: appealID.uuidString) }
            guard appeal.underControl else {
                throw AppError.conflict(code: "not-under-control", reason: "the appeal is no longer awaiting an answer", field: nil)
            }
            guard let registration = appeal.registeredAt else { throw AppError(DeadlineError.notRegistered) }
            let current = Deadlines(registrationDue: CivilDate(iso: appeal.registrationDue)!,
                                    redirectDue: appeal.redirectDue.flatMap(CivilDate.init(iso:)),
                                    answerDue: appeal.answerDue.flatMap(CivilDate.init(iso:)),
                                    controlDate: appeal.controlDate.flatMap(CivilDate.init(iso:)),
                                    extensionDays: appeal.extensionDays, extensionReason: appeal.extensionReason)
            let around = current.answerDue ?? CivilDate.of(registration, in: settings.timeZone)
            let calendar = try await calendar(around: around, settings: settings, db: db)
            let extended: Deadlines
            do throws(DeadlineError) {
                extended = try DeadlineRules.extend(current, byDays: input.days, reason: input.reason,
                                                    policy: settings.deadlinePolicy, calendar: calendar)
            } catch { throw AppError(error) }
            appeal.answerDue = extended.answerDue?.iso
            appeal.controlDate = extended.controlDate?.iso
            appeal.extensionDays = extended.extensionDays
            appeal.extensionReason = extended.extensionReason
            appeal.updatedAt = now
            try await appeal.save(on: db)
            let history = HistoryRecorder(db: db, actor: actor, at: now)
            try await history.changes(entity: "appeal", id: appealID, appealID: appealID, [
                ("answerDue", current.answerDue?.iso, extended.answerDue?.iso),
                ("controlDate", current.controlDate?.iso, extended.controlDate?.iso),
            ], comment: extended.extensionReason)
        }
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
