import Fluent
import Foundation
import OmbudDomain
import Vapor

struct WorkflowView: Content {
    var key: String
    var initial: String
    var states: [WorkflowDefinition.State]
    var transitions: [WorkflowDefinition.Transition]
    var tasks: [TaskTemplate]
    var timers: [TimersInput.Timer]
    var answer: TimersInput.Answer?
}

/// The workflow as data, for a viewer: states, transitions, the tasks each state creates and the timers; administrators
/// with `deadlines.manage` replace the timers.
struct WorkflowController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let workflow = routes.grouped("workflow")
        workflow.grouped(Require(.appealsRead)).get(use: show)
        workflow.grouped(Require(.deadlinesManage)).put("timers", use: replaceTimers)
    }

    func show(req: Request) async throws -> WorkflowView {
        Self.view(try await req.store.references.stageControl(db: req.db))
    }

    /// Replaces every timer (and the answer alerts, when given). Open tasks take the new limits at once: their due
    /// moments are recomputed and the workers look at their alerts again.
    func replaceTimers(req: Request) async throws -> WorkflowView {
        let input = try req.content.decode(TimersInput.self)
        let current = try await req.store.references.stageControl(db: req.db)  // its answer alerts stay unless given
        let control: StageControl
        do throws(ValidationError) {
            control = try current.replacing(with: input, in: AppealTransitions.workflow)
        } catch { throw error.appError }
        let stored = String(decoding: try JSONEncoder().encode(control.timersInput), as: UTF8.self)
        let actor = try req.actor
        let now = req.now
        let settings = req.settings
        let calendar = try await req.store.references.calendar(settings.calendarKey, db: req.db)
        try await req.store.writeReferences { db in
            let record = try await StageControlRecord.query(on: db).filter(\.$workflow == control.workflow).first() ?? StageControlRecord()
            if record.id == nil {
                record.id = UUID.timeOrdered(at: now)
                record.workflow = control.workflow
            }
            record.timers = stored
            record.updatedBy = actor.login
            record.updatedAt = now
            try await record.save(on: db)
            try await TaskStore.timersChanged(control, calendar: calendar, zone: settings.timeZone, now: now, db: db)
        }
        try await req.audit("workflow.timers", entity: "workflow", entityID: control.workflow, details: stored)
        return Self.view(control)
    }

    static func view(_ control: StageControl) -> WorkflowView {
        let workflow = AppealTransitions.workflow
        let timers = control.timersInput
        return WorkflowView(key: workflow.key, initial: workflow.initial, states: workflow.states, transitions: workflow.transitions,
                            tasks: control.tasks, timers: timers.timers, answer: timers.answer)
    }
}
