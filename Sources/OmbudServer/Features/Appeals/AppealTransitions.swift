import Fluent
import Foundation
import OmbudDomain

/// Moves appeals through the workflow: the engine judges, this applies the consequences and records history.
enum AppealTransitions {
    static let workflow = WorkflowDefinition.federalLaw59

    /// Registration starts the redirect and answer clocks.
    static func register(_ appeal: Appeal, settings: Settings, calendar: BusinessCalendar, now: Date) {
        appeal.status = "registered"
        appeal.registeredAt = now
        appeal.deadlines = DeadlineRules.onRegistration(received: CivilDate.of(appeal.receivedAt, in: settings.timeZone),
                                                        registered: CivilDate.of(now, in: settings.timeZone),
                                                        policy: settings.deadlinePolicy, calendar: calendar)
    }

    static func transition(appealID: UUID, input: TransitionInput, actor: Actor, settings: Settings, store: Store, now: Date) async throws {
        var parsedGround: Article11Ground?
        if let raw = input.article11Ground.nonBlank {
            do { parsedGround = try Validate.choice(raw, field: "article11Ground") as Article11Ground } catch { throw error.appError }
        }
        let ground = parsedGround
        let calendar = try await store.references.calendar(settings.calendarKey, db: store.db)
        let control = try await store.references.stageControl(db: store.db)
        try await store.write { db in
            guard let appeal = try await Appeal.find(appealID, on: db) else { throw AppError.notFound(entity: "appeal", id: appealID.uuidString) }
            let questions = try await Question.query(on: db).filter(\.$appeal.$id == appealID).all()
            let units = UnitLookup(db: db)
            // Blank means absent: a move that needs a unit then names `unitCode` as missing.
            let targetID = try await units.id(input.unitCode, field: "unitCode")
            let targetPath = try await targetID.asyncMap { try await units.path($0) } ?? []
            var duplicateID: UUID?
            if let ref = input.duplicateOf.nonBlank {
                duplicateID = try await AppealQueries.resolve(ref, visibleTo: actor, references: try await store.references.current(db: db),
                                                              db: db, field: "duplicateOf")
                if duplicateID == appealID { throw AppError.invalid(field: "duplicateOf", reason: "an appeal cannot duplicate itself") }
            }
            // The person assigned must work in the unit assigned (or below it).
            var executorUser: User?
            if let userID = input.executorUserId {
                // Someone who answers appeals (by role), active, in the unit named (or below it).
                guard input.to == "assigned", let user = try await User.find(userID, on: db), user.isActive,
                      !Set(user.roles).isDisjoint(with: RoleKey.answering) else {
                    throw AppError.invalid(field: "executorUserId", reason: "no active executor with this id can be assigned here")
                }
                guard let targetUnit = targetPath.first else { throw AppError.missing(field: "unitCode") }
                var inUnit = false
                for unitID in user.unitIDs where !inUnit { inUnit = try await units.path(unitID).contains(targetUnit) }
                guard inUnit else { throw AppError.invalid(field: "executorUserId", reason: "\(user.login) does not work in \(targetUnit)") }
                executorUser = user
            }
            let complained = try await appeal.complainedUnitID.asyncMap { try await OrgUnit.find($0, on: db)?.code } ?? nil
            let facts = AppealFacts(state: appeal.status, kind: AppealKind(rawValue: appeal.kind) ?? .statement,
                                    questionResults: questions.map { $0.result.flatMap(QuestionResult.init(rawValue:)) },
                                    complainedUnitCode: complained)
            let request = TransitionRequest(to: input.to, roles: actor.roles, article11Ground: ground, targetUnitPath: targetPath,
                                            reason: input.reason, hasDuplicateOf: duplicateID != nil)
            let taken: WorkflowDefinition.Transition
            do throws(WorkflowError) { taken = try WorkflowEngine.check(workflow, facts: facts, request: request) } catch { throw AppError(error) }

            let history = HistoryRecorder(db: db, actor: actor, at: now)
            let from = appeal.status
            if input.to == "registered" {
                register(appeal, settings: settings, calendar: calendar, now: now)
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
                    changed.append(("executorUnit", nil, targetID.uuidString))
                    question.executorUnitID = targetID
                }
                if let executorUser, question.executorUserID == nil {
                    changed.append(("executorUser", nil, try executorUser.requireID().uuidString))
                    question.executorUserID = try executorUser.requireID()
                }
                guard !changed.isEmpty else { continue }
                question.updatedAt = now
                try await question.save(on: db)
                try await history.changes(entity: "question", id: try question.requireID(), appealID: appealID, changed)
            }
            try await TaskStore.enter(appeal, from: from, interrupted: taken.from.contains("*"), questions: questions, actor: actor,
                                      control: control, calendar: calendar,
                                      zone: settings.timeZone, now: now, db: db)
            // The approved answer goes back by the reply channel: its job is queued with the move itself.
            if input.to == "answered" { try await ReplyJob.enqueue(appealID: appealID, now: now, db: db) }
        }
    }

    static func extend(appealID: UUID, input: ExtensionInput, actor: Actor, settings: Settings, store: Store, now: Date) async throws {
        let calendar = try await store.references.calendar(settings.calendarKey, db: store.db)
        try await store.write { db in
            guard let appeal = try await Appeal.find(appealID, on: db) else { throw AppError.notFound(entity: "appeal", id: appealID.uuidString) }
            guard appeal.underControl else {
                throw AppError.conflict(code: "not-under-control", reason: "the appeal is no longer awaiting an answer", field: nil)
            }
            let current = appeal.deadlines
            let extended: Deadlines
            do throws(DeadlineError) {
                extended = try DeadlineRules.extend(current, byDays: input.days, reason: input.reason,
                                                    policy: settings.deadlinePolicy, calendar: calendar)
            } catch { throw AppError(error) }
            appeal.deadlines = extended
            appeal.updatedAt = now
            try await appeal.save(on: db)
            try await TaskStore.controlDateMoved(appeal, zone: settings.timeZone, now: now, db: db)
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
