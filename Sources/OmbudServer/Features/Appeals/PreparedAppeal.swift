import Foundation
import OmbudDomain

/// An appeal resolved and checked against the database, waiting only for its tracking number.
/// Preparing reads; only writing needs the write lock, so many appeals prepare in parallel.
struct PreparedAppeal: Sendable {
    struct NewApplicant: Sendable {
        let id: UUID
        let card: ApplicantStore.Validated
    }

    struct NewQuestion: Sendable {
        let id: UUID
        let topicCode: String
        let text: String
        let executorUnitID: UUID?
        let executorUnitCode: String?
    }

    let id: UUID
    let v: AppealIntake.Validated
    let actor: Actor?
    let newApplicants: [NewApplicant]
    let applicantID: UUID?
    let applicant: ApplicantSummary?
    let coApplicantIDs: [UUID]
    let coApplicants: [ApplicantSummary]
    let questions: [NewQuestion]
    let officeID: UUID?
    let complainedUnitID: UUID?
    let repeatOfID: UUID?
    let receivedDay: CivilDate
    let status: String
    let deadlines: Deadlines
    let now: Date

    /// The tasks of the appeal's first state.
    var tasks: [PlannedTask] = []

    /// What the public may see of it and how its author finds it again: written with the appeal, or not at all.
    var publication: Publication?

    /// Written in the appeal's own transaction: the message it came as, what the history says of it, and the jobs it
    /// starts (fetching its files, telling its author the code) — so an appeal never exists without the way to answer.
    var letters: [CorrespondenceRecord] = []
    var notes: [HistoryNote] = []
    var jobs: [JobQueue.Planned] = []

    struct Publication: Sendable {
        var listed: Bool
        var textPublic: Bool
        var statusTokenHash: String?
        var requestToken: String?
        var serviceCode: String?
        var clientID: UUID?
        var addressID: String?
        var mediaURL: String?
        /// Open311 attribute answers, one line each.
        var attributes: [String] = []
        /// Open311 requests read back the point their client sent; others show only an approximate one.
        var exactPoint = false
    }

    /// The indexed words of everything but the tracking code, stemmed while preparing, outside the write lock.
    var searchBody = ""

    func searchDocument(trackingCode: String) -> String {
        let code = TextNormalizer.searchDocument([trackingCode])
        return searchBody.isEmpty ? code : code + " " + searchBody
    }

    /// The API view of the appeal as written: no need to read it back.
    func view(trackingCode: String, roles: Set<String>, today: CivilDate, translate: TaskViews.Translate) -> AppealView {
        let registered = status != AppealTransitions.workflow.initial
        return AppealView(
            id: id, trackingCode: trackingCode, status: status, channel: v.channel.rawValue, replyChannel: replyChannel, kind: v.kind.rawValue,
            form: v.form.rawValue, urgency: v.urgency.rawValue, receivedAt: v.receivedAt, registeredAt: registered ? now : nil,
            closedAt: nil, applicant: applicant, coApplicants: coApplicants, isCollective: isCollective,
            isDeputyInquiry: v.input.isDeputyInquiry ?? false, text: v.text,
            address: v.address.map { AddressView(text: addressText, lat: $0.lat, lon: $0.lon, district: $0.district) },
            officeCode: officeID == nil ? nil : v.input.officeCode?.trimmingCharacters(in: .whitespaces),
            complainedUnitCode: complainedUnitID == nil ? nil : v.input.complainedUnitCode?.trimmingCharacters(in: .whitespaces),
            redirectedToUnitCode: nil, repeatOf: repeatOfCode, duplicateOf: nil, article11Ground: nil,
            deadlines: DeadlinesView(deadlines, underControl: true, today: today),
            overdue: DeadlineRules.isOverdue(deadlines, isOpen: true, today: today),
            questions: questions.enumerated().map { i, q in
                QuestionView(id: q.id, position: i + 1, topicCode: q.topicCode, text: q.text, executorUnitCode: q.executorUnitCode,
                             executorUserId: nil, status: QuestionStatus.open.rawValue, result: nil, answerText: nil)
            },
            allowedTransitions: WorkflowEngine.allowedTargets(AppealTransitions.workflow, from: status, roles: roles),
            tasks: tasks.map { t in
                let unitCode = t.assigneeUnitID == nil ? nil : t.assigneeUnitID == officeID
                    ? v.input.officeCode?.trimmingCharacters(in: .whitespaces)
                    : questions.first { $0.executorUnitID == t.assigneeUnitID }?.executorUnitCode
                return TaskView(id: t.id, appealId: id, trackingCode: trackingCode, key: t.key, title: translate("tasks", t.key), state: t.state,
                                status: TaskStatus.open.rawValue, assigneeUnitCode: unitCode, assigneeUserId: t.assigneeUserID,
                                assigneeName: nil, dueAt: t.dueAt, overdue: t.dueAt.map { $0 <= now } ?? false, enteredAt: t.enteredAt,
                                closedAt: nil, checklist: t.checklist.map {
                                    ChecklistItemView(label: $0.label, text: translate("checklist", $0.label), done: false)
                                })
            })
    }

    var isCollective: Bool { v.input.isCollective ?? !coApplicantIDs.isEmpty }
    var addressText: String? { v.address?.text?.trimmed() }
    var repeatOfCode: String?
    var replyChannel: String?
}
