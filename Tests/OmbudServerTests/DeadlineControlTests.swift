import Fluent
import Foundation
import OmbudDomain
import Testing
import Vapor
import VaporTesting
@testable import OmbudServer

/// People of a small organisation: an executor in the roads department, its head, and a supervisor over the city.
struct Staff {
    let executor: HTTPHeaders
    let head: HTTPHeaders
    let supervisor: HTTPHeaders

    static func make(_ ctx: TestContext) async throws -> Staff {
        let executor = try await ctx.user("ivanov", roles: ["executor"], units: ["roads"])
        let head = try await ctx.user("petrov", roles: ["approver"], units: ["roads"])
        let supervisor = try await ctx.user("sidorova", roles: ["supervisor"], units: ["city"])
        try await ctx.send(.POST, "/api/v1/org-units/roads/officials", ctx.auth,
                           body: #"{"fullName":"Петров П. П.","position":"Начальник отдела","isHead":true,"userLogin":"petrov"}"#) {
            #expect($0.status == .created, "\($0.body.string)")
        }
        return Staff(executor: executor, head: head, supervisor: supervisor)
    }
}

extension TestContext {
    func notifications(_ login: String, kind: NotificationKind? = nil) async throws -> [NotificationRecord] {
        let user = try #require(try await User.query(on: app.db).filter(\.$login == login).first())
        var query = NotificationRecord.query(on: app.db).filter(\.$user.$id == user.id!)
        if let kind { query = query.filter(\.$kind == kind.rawValue) }
        return try await query.sort(\.$createdAt).all()
    }

    /// Moves the clock forward in steps, letting a worker look at each one, as `ombud serve` does every few seconds.
    func live(until end: Date, step: TimeInterval = 3600, clock: MutableClock) async throws {
        let worker = Worker(app: app, name: "test")
        while clock.now < end {
            clock.now = min(end, clock.now.addingTimeInterval(step))
            while try await worker.runOnce() > 0 {}
        }
    }

    func openTasks(_ appealID: UUID) async throws -> [TaskRecord] {
        try await TaskRecord.query(on: app.db).filter(\.$appeal.$id == appealID).filter(\.$status == "open").all()
    }
}

extension OmbudServerSuite {
    @Suite struct DeadlineControlTests {
        static let moscow = TimeZone(identifier: "Europe/Moscow")!
        static func at(_ iso: String, _ hour: Int = 0) -> Date {
            CivilDate(iso: iso)!.start(in: moscow).addingTimeInterval(TimeInterval(hour * 3600))
        }

        func appeal(_ ctx: TestContext, register: Bool = true) async throws -> AppealView {
            try await ctx.createAppeal([
                "channel": "letter", "kind": "complaint", "text": "Не убирают снег во дворе", "officeCode": "hq", "register": AnyEncodable(register),
                "applicant": AnyEncodable(["surname": "Смирнова", "name": "Ольга"] as [String: AnyEncodable]),
                "questions": AnyEncodable([["topicCode": "0003.0009.0097.0689", "executorUnitCode": "roads"] as [String: AnyEncodable]]),
            ])
        }

        /// "No process without a task": every state on the way creates its task and closes the last one; an open
        /// appeal never stands without an open task, and a stage's task cannot be ticked off to leave it bare.
        @Test func everyOpenAppealHasAnOpenTaskAllTheWay() async throws {
            try await withOmbud { ctx, _ in
                let created = try await appeal(ctx, register: false)
                #expect(created.tasks.map(\.key) == ["register"])
                #expect(created.tasks[0].assigneeUnitCode == "hq" && created.tasks[0].checklist.count == 3)
                #expect(created.tasks[0].title == "Зарегистрировать обращение")
                let id = created.id
                var keys: [String] = []
                for (to, extra) in [("registered", [:]), ("assigned", ["unitCode": "roads"]), ("in-progress", [:]), ("awaiting-external", [:]),
                                    ("in-progress", [:]), ("answer-drafted", [:]), ("on-approval", [:])] as [(String, [String: String])] {
                    _ = try await ctx.transition(id, ["to": to].merging(extra) { a, _ in a })
                    let open = try await ctx.openTasks(id)
                    #expect(open.count == 1 && open[0].state == to, "\(to): \(open.map(\.key))")
                    keys.append(open[0].key)
                    #expect(try await TaskStore.appealsWithoutOpenTask(db: ctx.app.db).isEmpty)
                }
                #expect(keys == ["route", "take-into-work", "prepare-answer", "obtain-external-answer", "prepare-answer", "send-for-approval", "approve-answer"])
                let open = try await ctx.openTasks(id)[0]
                #expect(open.assigneeUnitID != nil)
                // The stage's task cannot be closed by hand; a task added by hand can.
                try await ctx.send(.PATCH, "/api/v1/tasks/\(open.id!)", ctx.auth, body: #"{"status":"done"}"#) {
                    #expect($0.status == .conflict && $0.body.string.contains("stage-task"))
                }
                try await ctx.send(.PATCH, "/api/v1/tasks/\(open.id!)", ctx.auth, body: #"{"checklist":[{"index":0,"done":true},{"index":7,"done":true}]}"#) {
                    #expect($0.status == .unprocessableEntity && $0.body.string.contains("checklist[1].index"))
                }
                try await ctx.send(.PATCH, "/api/v1/tasks/\(open.id!)", ctx.auth, body: #"{"checklist":[{"index":0,"done":true}]}"#) { res in
                    let task = try res.content.decode(TaskView.self)
                    #expect(task.checklist[0].done && task.checklist[0].doneBy == "tester" && !task.checklist[1].done)
                }
                var manual: TaskView?
                try await ctx.send(.POST, "/api/v1/appeals/\(id)/tasks", ctx.auth, body: #"{"title":"Позвонить заявителю","dueDate":"2020-01-01"}"#) {
                    #expect($0.status == .unprocessableEntity && $0.body.string.contains("dueDate"))
                }
                try await ctx.send(.POST, "/api/v1/appeals/\(id)/tasks", ctx.auth, body: #"{"title":"Позвонить заявителю","checklist":["Позвонить"]}"#) { res in
                    #expect(res.status == .created)
                    manual = try res.content.decode(TaskView.self)
                }
                try await ctx.send(.PATCH, "/api/v1/tasks/\(manual!.id)", ctx.auth, body: #"{"status":"done"}"#) { #expect($0.status == .ok) }
                // Answering closes the approval and opens the feedback task; closing the appeal leaves no open task.
                let question = try #require(try await Question.query(on: ctx.app.db).filter(\.$appeal.$id == id).first())
                try await ctx.send(.PATCH, "/api/v1/appeals/\(id)/questions/\(question.id!)", ctx.auth, body: #"{"result":"explained","answerText":"Убрано"}"#) {
                    #expect($0.status == .ok)
                }
                _ = try await ctx.transition(id, ["to": "answered"])
                #expect(try await ctx.openTasks(id).map(\.key) == ["collect-feedback"])
                _ = try await ctx.transition(id, ["to": "closed"])
                #expect(try await ctx.openTasks(id).isEmpty)
                let all = try await TaskRecord.query(on: ctx.app.db).filter(\.$appeal.$id == id).all()
                #expect(all.count == 10 && all.allSatisfy { $0.closedAt != nil }, "\(all.map { "\($0.key):\($0.status)" })")
                try await ctx.get("/api/v1/appeals/\(id)") { res in
                    let card = try res.content.decode(AppealView.self)
                    #expect(card.tasks.count == 10 && card.tasks.allSatisfy { $0.status != "open" })
                }
            }
        }

        /// The check of issue 4: registered on 29 December 2025, the answer is controlled on 28 January 2026 across
        /// the New Year holidays; the 5-day reminder, the due-day notice and each step of the overdue escalation
        /// (executor → head of unit → supervisor) reach their people exactly once, on the right day.
        @Test func theNewYearDeadlineRemindsAndEscalatesOnceEach() async throws {
            try await withOmbud(now: Self.at("2025-12-29", 10)) { ctx, clock in
                let staff = try await Staff.make(ctx)
                let created = try await appeal(ctx)
                #expect(created.deadlines.controlDate == "2026-01-28")
                _ = try await ctx.transition(created.id, ["to": "assigned", "unitCode": "roads"])
                clock.now = Self.at("2025-12-30", 10)
                _ = try await ctx.transition(created.id, ["to": "in-progress"])
                let task = try #require(try await ctx.openTasks(created.id).first)
                #expect(task.dueAt == Self.at("2026-01-29"))
                try await ctx.live(until: Self.at("2026-02-06"), clock: clock)

                func once(_ login: String, _ kind: NotificationKind, on day: String) async throws {
                    let sent = try await ctx.notifications(login, kind: kind)
                    #expect(sent.count == 1, "\(login) \(kind): \(sent.count)")
                    if let first = sent.first { #expect(CivilDate.of(first.createdAt, in: Self.moscow).iso == day, "\(login) \(kind)") }
                }
                try await once("ivanov", .answerReminder, on: "2026-01-24")
                try await once("ivanov", .answerDue, on: "2026-01-28")
                try await once("ivanov", .answerEscalation, on: "2026-01-29")
                try await once("petrov", .answerEscalation, on: "2026-01-30")
                try await once("sidorova", .answerEscalation, on: "2026-02-02")
                #expect(try await ctx.notifications("petrov", kind: .answerReminder).isEmpty)
                #expect(try await ctx.notifications("sidorova").count == 1)
                let reminder = try #require(try await ctx.notifications("ivanov", kind: .answerReminder).first)
                #expect(reminder.subject.contains(created.trackingCode) && reminder.body.contains("28.01.2026"))
                #expect(reminder.emailStatus == "none")  // no mail server configured: the app only
                // Overdue tasks are listed for the unit; the executor reads their notifications.
                try await ctx.send(.GET, "/api/v1/tasks?assignee=unit&overdue=true", staff.executor) { res in
                    let page = try res.content.decode(TaskPage.self)
                    #expect(page.total == 1 && page.items[0].overdue && page.items[0].key == "prepare-answer")
                }
                try await ctx.send(.GET, "/api/v1/notifications", staff.executor) { res in
                    let list = try res.content.decode(NotificationList.self)
                    #expect(list.items.count == 3 && list.unread == 3)
                }
            }
        }

        /// An outside body's answer awaited for 25 days raises the "stuck" alert on the morning of day 25, once.
        @Test func anExternalRequestWithoutAnswerRaisesItsAlertOnDay25() async throws {
            try await withOmbud(now: Self.at("2026-03-02", 9)) { ctx, clock in
                let staff = try await Staff.make(ctx)
                let created = try await appeal(ctx)
                _ = try await ctx.transition(created.id, ["to": "assigned", "unitCode": "roads"])
                _ = try await ctx.transition(created.id, ["to": "in-progress"])
                clock.now = Self.at("2026-03-02", 10)
                _ = try await ctx.transition(created.id, ["to": "awaiting-external"])
                try await ctx.live(until: Self.at("2026-03-26", 23), clock: clock)
                #expect(try await ctx.notifications("ivanov", kind: .stageStuck).isEmpty)
                try await ctx.live(until: Self.at("2026-03-28", 12), clock: clock)
                let stuck = try await ctx.notifications("ivanov", kind: .stageStuck)
                #expect(stuck.count == 1)
                #expect(stuck.first.map { CivilDate.of($0.createdAt, in: Self.moscow).iso } == "2026-03-27")
                // The executor sees it, unread, and marks it read.
                try await ctx.send(.GET, "/api/v1/notifications?unread=true", staff.executor) { res in
                    let list = try res.content.decode(NotificationList.self)
                    #expect(list.unread >= 1 && list.items.contains { $0.kind == "stage-stuck" })
                }
                try await ctx.send(.POST, "/api/v1/notifications/read", staff.executor, body: "{}") { #expect($0.status == .ok) }
                try await ctx.send(.GET, "/api/v1/notifications?unread=true", staff.executor) { res in
                    let list = try res.content.decode(NotificationList.self)
                    #expect(list.unread == 0)
                }
            }
        }

        /// Promises: a due date in the past is refused; the register filters; the responsible person is reminded
        /// before, on and after the due date, once each; a settled promise stays settled; the card shows it.
        @Test func promisesAreRemindedAndListed() async throws {
            try await withOmbud(now: Self.at("2026-11-23", 10)) { ctx, clock in
                let staff = try await Staff.make(ctx)
                let created = try await appeal(ctx)
                try await ctx.send(.POST, "/api/v1/appeals/\(created.id)/promises", ctx.auth, body: #"{"text":"Убрать снег","dueDate":"2026-11-20"}"#) {
                    #expect($0.status == .unprocessableEntity && $0.body.string.contains("dueDate"))
                }
                try await ctx.send(.POST, "/api/v1/appeals/\(created.id)/promises", ctx.auth, body: #"{"text":" ","dueDate":"2026-12-01"}"#) {
                    #expect($0.status == .unprocessableEntity && $0.body.string.contains("text"))
                }
                var promise: PromiseView?
                try await ctx.send(.POST, "/api/v1/appeals/\(created.id)/promises", ctx.auth,
                                   body: #"{"text":"Убрать снег во дворе до 1 декабря","dueDate":"2026-12-01","responsibleLogin":"ivanov","unitCode":"roads"}"#) { res in
                    #expect(res.status == .created, "\(res.body.string)")
                    promise = try res.content.decode(PromiseView.self)
                }
                let id = try #require(promise).id
                #expect(promise?.status == "given" && promise?.responsibleName == "ivanov" && promise?.applicantId != nil)
                try await ctx.live(until: Self.at("2026-12-03", 12), clock: clock)
                #expect(try await ctx.notifications("ivanov", kind: .promiseReminder).count == 1)
                #expect(try await ctx.notifications("ivanov", kind: .promiseDue).count == 1)
                #expect(try await ctx.notifications("ivanov", kind: .promiseOverdue).count == 1)
                #expect(try await ctx.notifications("petrov", kind: .promiseOverdue).count == 1)
                try await ctx.send(.GET, "/api/v1/promises?overdue=true&responsible=ivanov", staff.supervisor) { res in
                    let page = try res.content.decode(PromisePage.self)
                    #expect(page.total == 1 && page.items[0].overdue && page.items[0].trackingCode == created.trackingCode)
                }
                try await ctx.send(.GET, "/api/v1/promises?status=kept", ctx.auth) { res in
                    let page = try res.content.decode(PromisePage.self)
                    #expect(page.total == 0)
                }
                try await ctx.send(.GET, "/api/v1/promises?status=forgotten", ctx.auth) { #expect($0.status == .unprocessableEntity) }
                try await ctx.send(.PATCH, "/api/v1/promises/\(id)", ctx.auth, body: #"{"status":"kept"}"#) { res in
                    let kept = try res.content.decode(PromiseView.self)
                    #expect(kept.status == "kept")
                }
                try await ctx.send(.PATCH, "/api/v1/promises/\(id)", ctx.auth, body: #"{"status":"broken"}"#) {
                    #expect($0.status == .conflict)
                }
                try await ctx.get("/api/v1/appeals/\(created.id)") { res in
                    let decoded = try res.content.decode(AppealView.self)
                    #expect(decoded.promises.map(\.status) == ["kept"])
                }
                let applicant = try #require(created.applicant).id
                try await ctx.get("/api/v1/applicants/\(applicant)") { res in
                    let decoded = try res.content.decode(ApplicantCard.self)
                    #expect(decoded.promises.map(\.id) == [id])
                }
                try await ctx.get("/api/v1/appeals/\(created.id)/history") { res in
                    let decoded = try res.content.decode([HistoryView].self)
                    #expect(decoded.contains { $0.entity == "promise" && $0.field == "status" })
                }
            }
        }

        /// A mail server that is down: the notification stays in the app, its mail is retried with backoff, then
        /// shown as failed with the reason; an administrator sees it and can send it again.
        @Test func aMailServerThatIsDownLosesNothing() async throws {
            try await withOmbud(now: Self.at("2026-11-23", 10), settings: { s in
                s.smtp = SMTPSettings(host: "127.0.0.1", port: 9, security: .none, from: try! MailAddress("ombud@example.org"))
            }) { ctx, clock in
                let staff = try await Staff.make(ctx)
                try await ctx.send(.PUT, "/api/v1/me/notification-settings", staff.executor, body: #"{"email":"not an address"}"#) {
                    #expect($0.status == .unprocessableEntity && $0.body.string.contains("email"))
                }
                try await ctx.send(.PUT, "/api/v1/me/notification-settings", staff.executor, body: #"{"email":"ivanov@example.org","language":"en"}"#) {
                    #expect($0.status == .ok)
                }
                let created = try await appeal(ctx)
                try await ctx.send(.POST, "/api/v1/appeals/\(created.id)/tasks", ctx.auth, body: #"{"title":"Выехать на место","assigneeLogin":"ivanov"}"#) {
                    #expect($0.status == .created)
                }
                try await ctx.live(until: clock.now.addingTimeInterval(3 * 86_400), step: 600, clock: clock)
                let sent = try await ctx.notifications("ivanov", kind: .taskAssigned)
                #expect(sent.count == 1)
                let note = try #require(sent.first)
                #expect(note.subject == "New task on appeal \(created.trackingCode)")
                #expect(note.emailStatus == "failed" && note.emailError?.contains("cannot be reached") == true)
                let job = try #require(try await JobRecord.query(on: ctx.app.db).filter(\.$kind == MailJob.kind).first())
                #expect(job.status == "failed" && job.attempts == job.maxAttempts)
                try await ctx.get("/api/v1/notifications?email=failed") { res in
                    let decoded = try res.content.decode(NotificationList.self)
                    #expect(decoded.items.map(\.id) == [note.id!])
                }
                try await ctx.send(.GET, "/api/v1/notifications?email=failed", staff.executor) { #expect($0.status == .forbidden) }
                try await ctx.post("/api/v1/jobs/\(job.id!)/retry", [String: String]()) { #expect($0.status == .ok) }
            }
        }

        /// Administrators edit the texts; a template that does not parse is refused; a Persian reader gets Persian
        /// text with Solar Hijri dates in Persian digits.
        @Test func templatesAreEditableAndSpeakTheReadersLanguage() async throws {
            try await withOmbud(now: Self.at("2026-11-23", 10)) { ctx, clock in
                let staff = try await Staff.make(ctx)
                try await ctx.send(.PUT, "/api/v1/notification-templates/task-assigned/ru", ctx.auth, body: #"{"subject":"{{#appeal}}","body":"x"}"#) {
                    #expect($0.status == .unprocessableEntity && $0.body.string.contains("subject"))
                }
                try await ctx.send(.PUT, "/api/v1/notification-templates/no-such-kind/ru", ctx.auth, body: #"{"subject":"a","body":"b"}"#) {
                    #expect($0.status == .notFound)
                }
                try await ctx.send(.PUT, "/api/v1/notification-templates/task-assigned/ru", staff.executor, body: #"{"subject":"a","body":"b"}"#) {
                    #expect($0.status == .forbidden)
                }
                try await ctx.send(.PUT, "/api/v1/notification-templates/task-assigned/ru", ctx.auth,
                                   body: #"{"subject":"Задача: {{task}} <{{appeal}}>","body":"Срок {{due}}"}"#) { #expect($0.status == .ok) }
                try await ctx.send(.PUT, "/api/v1/me/notification-settings", staff.head, body: #"{"language":"fa"}"#) { #expect($0.status == .ok) }
                let created = try await appeal(ctx)
                for login in ["ivanov", "petrov"] {
                    try await ctx.send(.POST, "/api/v1/appeals/\(created.id)/tasks", ctx.auth,
                                       body: #"{"title":"Выехать на место","assigneeLogin":"\#(login)","dueDate":"2026-12-01"}"#) { #expect($0.status == .created) }
                }
                try await ctx.live(until: clock.now.addingTimeInterval(60), step: 60, clock: clock)
                let ru = try #require(try await ctx.notifications("ivanov", kind: .taskAssigned).first)
                #expect(ru.subject == "Задача: Выехать на место <\(created.trackingCode)>")  // plain text: nothing escaped
                #expect(ru.body == "Срок 01.12.2026")
                let fa = try #require(try await ctx.notifications("petrov", kind: .taskAssigned).first)
                #expect(fa.subject.hasPrefix("وظیفهٔ جدید"))
                #expect(fa.body.contains("۱۴۰۵/۰۹/۱۰"))  // 1 December 2026 = 10 Azar 1405
                try await ctx.get("/api/v1/notification-templates") { res in
                    let all = try res.content.decode([TemplateView].self)
                    #expect(all.count == NotificationKind.allCases.count * 3)
                    #expect(all.filter(\.custom).map(\.kind) == ["task-assigned"])
                }
            }
        }
    }
}

extension OmbudServerSuite.DeadlineControlTests {
    /// Administrators see the workflow with its tasks and timers and replace the timers; a negative duration or an
    /// unknown state is refused with its path and changes nothing; open tasks take the new limits at once.
    @Test func timersAreDataAdministratorsChange() async throws {
        try await withOmbud(now: Self.at("2026-11-23", 10)) { ctx, clock in
            let staff = try await Staff.make(ctx)
            var shipped: WorkflowView?
            try await ctx.send(.GET, "/api/v1/workflow", staff.executor) { res in
                shipped = try res.content.decode(WorkflowView.self)
            }
            let workflow = try #require(shipped)
            #expect(workflow.states.count == 16 && workflow.tasks.count == 9)
            #expect(workflow.timers.first { $0.state == "awaiting-external" }?.stuckAfter == .init(amount: 25, unit: "calendar-days"))
            #expect(workflow.answer?.remindBefore == .init(amount: 5, unit: "calendar-days"))

            let created = try await appeal(ctx, register: false)
            #expect(created.tasks[0].dueAt == Self.at("2026-11-27"))
            var timers = workflow.timers
            timers[0].limit = .init(amount: -3, unit: "calendar-days")
            try await ctx.send(.PUT, "/api/v1/workflow/timers", ctx.auth, body: String(decoding: try JSONEncoder().encode(TimersInput(timers: timers)), as: UTF8.self)) {
                #expect($0.status == .unprocessableEntity && $0.body.string.contains("timers[0].limit.amount"), "\($0.body.string)")
            }
            try await ctx.send(.PUT, "/api/v1/workflow/timers", ctx.auth, body: #"{"timers":[{"state":"limbo","stuckAfter":{"amount":1,"unit":"hours"}}]}"#) {
                #expect($0.status == .unprocessableEntity && $0.body.string.contains("timers[0].state"))
            }
            try await ctx.send(.PUT, "/api/v1/workflow/timers", staff.executor, body: #"{"timers":[]}"#) { #expect($0.status == .forbidden) }
            // An urgent organisation: register within 4 hours, remind an hour before.
            timers[0] = .init(state: "received", limit: .init(amount: 4, unit: "hours"), remindBefore: .init(amount: 1, unit: "hours"),
                              escalation: ["executor", "unit-head"], escalateEvery: .init(amount: 1, unit: "hours"))
            try await ctx.send(.PUT, "/api/v1/workflow/timers", ctx.auth, body: String(decoding: try JSONEncoder().encode(TimersInput(timers: timers)), as: UTF8.self)) {
                #expect($0.status == .ok, "\($0.body.string)")
            }
            try await ctx.get("/api/v1/appeals/\(created.id)") { res in
                let card = try res.content.decode(AppealView.self)
                #expect(card.tasks[0].dueAt == Self.at("2026-11-23", 14))
            }
            try await ctx.send(.GET, "/api/v1/workflow", staff.executor) { res in
                let now = try res.content.decode(WorkflowView.self)
                #expect(now.timers[0].limit == .init(amount: 4, unit: "hours"))
            }
        }
    }
}

extension OmbudServerSuite.DeadlineControlTests {
    /// Tasks and promises go only to people who can open the appeal; paging is bounded; an appeal outside the
    /// reader's scope is not revealed by the promise register; an overdue promise's text can still be corrected.
    @Test func assignmentsStayInsideTheAppealsScope() async throws {
        try await withOmbud(now: Self.at("2026-11-23", 10)) { ctx, clock in
            let staff = try await Staff.make(ctx)
            let police = try await ctx.user("sergeev", roles: ["executor"], units: ["police"])
            let created = try await appeal(ctx)
            try await ctx.send(.POST, "/api/v1/appeals/\(created.id)/tasks", ctx.auth, body: #"{"title":"Проверить","assigneeLogin":"sergeev"}"#) {
                #expect($0.status == .unprocessableEntity && $0.body.string.contains("assigneeLogin"), "\($0.body.string)")
            }
            try await ctx.send(.POST, "/api/v1/appeals/\(created.id)/tasks", ctx.auth, body: #"{"title":"Проверить","unitCode":"police"}"#) {
                #expect($0.status == .unprocessableEntity && $0.body.string.contains("unitCode"))
            }
            try await ctx.send(.POST, "/api/v1/appeals/\(created.id)/promises", ctx.auth,
                               body: #"{"text":"Позвонить","dueDate":"2026-11-25","responsibleLogin":"sergeev"}"#) {
                #expect($0.status == .unprocessableEntity && $0.body.string.contains("responsibleLogin"))
            }
            for path in ["/api/v1/tasks?offset=9223372036854775807", "/api/v1/promises?offset=9223372036854775807", "/api/v1/tasks?limit=0"] {
                try await ctx.send(.GET, path, ctx.auth) { #expect($0.status == .unprocessableEntity, "\(path)") }
            }
            // Outside the reader's scope an appeal is refused exactly like one that does not exist.
            var outside: [String: String] = [:], unknown: [String: String] = [:]
            try await ctx.send(.GET, "/api/v1/promises?appeal=\(created.trackingCode)", police) {
                #expect($0.status == .unprocessableEntity)
                outside = try JSONDecoder().decode([String: String].self, from: Data($0.body.string.replacingOccurrences(of: created.trackingCode, with: "2031-999999").utf8))
            }
            try await ctx.send(.GET, "/api/v1/promises?appeal=2031-999999", police) {
                #expect($0.status == .unprocessableEntity)
                unknown = try JSONDecoder().decode([String: String].self, from: Data($0.body.string.utf8))
            }
            #expect(!outside.isEmpty && outside == unknown)

            // Reassigned, a task is announced to its new person once, without the alerts of the past.
            var task: TaskView?
            try await ctx.send(.POST, "/api/v1/appeals/\(created.id)/tasks", ctx.auth, body: #"{"title":"Выехать","assigneeLogin":"ivanov"}"#) { res in
                task = try res.content.decode(TaskView.self)
            }
            try await ctx.live(until: clock.now.addingTimeInterval(600), step: 300, clock: clock)
            try await ctx.send(.PATCH, "/api/v1/tasks/\(task!.id)", ctx.auth, body: #"{"assigneeLogin":"petrov"}"#) { #expect($0.status == .ok) }
            try await ctx.live(until: clock.now.addingTimeInterval(600), step: 300, clock: clock)
            #expect(try await ctx.notifications("ivanov", kind: .taskAssigned).count == 1)
            #expect(try await ctx.notifications("petrov", kind: .taskAssigned).count == 1)
            #expect(try await ctx.notifications("petrov").count == 1)

            // An overdue promise: its text can be corrected, a new date must not be in the past.
            var promise: PromiseView?
            try await ctx.send(.POST, "/api/v1/appeals/\(created.id)/promises", ctx.auth, body: #"{"text":"Позвонить","dueDate":"2026-11-24"}"#) { res in
                promise = try res.content.decode(PromiseView.self)
            }
            clock.now = Self.at("2026-11-27", 10)
            try await ctx.send(.PATCH, "/api/v1/promises/\(promise!.id)", ctx.auth, body: #"{"text":"Позвонить заявителю"}"#) {
                #expect($0.status == .ok, "\($0.body.string)")
            }
            try await ctx.send(.PATCH, "/api/v1/promises/\(promise!.id)", ctx.auth, body: #"{"dueDate":"2026-11-26"}"#) {
                #expect($0.status == .unprocessableEntity && $0.body.string.contains("dueDate"))
            }
            _ = staff
        }
    }

    /// Shortening a limit after the fact: a task already past the new limit gets its due notice and escalation now.
    @Test func shortenedTimersApplyToWaitingTasks() async throws {
        try await withOmbud(now: Self.at("2026-11-23", 10)) { ctx, clock in
            let staff = try await Staff.make(ctx)
            let reception = try await ctx.user("orlova", roles: ["reception"], units: ["roads"])
            _ = (staff, reception)
            _ = try await ctx.createAppeal(["channel": "letter", "text": "Письмо", "officeCode": "roads"])
            try await ctx.live(until: Self.at("2026-11-24", 12), clock: clock)
            #expect(try await ctx.notifications("orlova").isEmpty)  // 3 days to register: nothing yet
            try await ctx.send(.PUT, "/api/v1/workflow/timers", ctx.auth,
                               body: #"{"timers":[{"state":"received","limit":{"amount":4,"unit":"hours"},"escalation":["executor","unit-head"],"escalateEvery":{"amount":1,"unit":"hours"}}]}"#) {
                #expect($0.status == .ok, "\($0.body.string)")
            }
            try await ctx.live(until: clock.now.addingTimeInterval(60), step: 60, clock: clock)
            #expect(try await ctx.notifications("orlova", kind: .stageDue).count == 1)
            #expect(try await ctx.notifications("orlova", kind: .stageEscalation).count == 1)
            #expect(try await ctx.notifications("petrov", kind: .stageEscalation).count == 1)
            try await ctx.live(until: clock.now.addingTimeInterval(3600), step: 600, clock: clock)
            #expect(try await ctx.notifications("orlova").count == 2)  // nothing twice
            // The answer alerts were not given: they stay as they were.
            try await ctx.send(.GET, "/api/v1/workflow", ctx.auth) { res in
                let workflow = try res.content.decode(WorkflowView.self)
                #expect(workflow.answer?.remindBefore == .init(amount: 5, unit: "calendar-days"))
            }
        }
    }
}

extension OmbudServerSuite.DeadlineControlTests {
    /// Appeals open before migration 006 get the task of their state, with no alert from the past sent.
    @Test func theMigrationGivesEveryOpenAppealTheTaskOfItsState() async throws {
        try await withOmbud(now: Self.at("2026-11-23", 10)) { ctx, clock in
            let received = try await appeal(ctx, register: false)
            let registered = try await appeal(ctx)
            _ = try await ctx.transition(registered.id, ["to": "withdrawn", "reason": "Отозвано заявителем"])
            let open = try await appeal(ctx)
            _ = try await ctx.transition(open.id, ["to": "assigned", "unitCode": "roads"])
            try await TaskRecord.query(on: ctx.app.db).delete()  // as it was before the migration
            #expect(try await TaskStore.appealsWithoutOpenTask(db: ctx.app.db).count == 2)
            try await CreateDeadlineControl().backfillTasks(db: ctx.app.db)
            #expect(try await TaskStore.appealsWithoutOpenTask(db: ctx.app.db).isEmpty)
            #expect(try await ctx.openTasks(received.id).map(\.key) == ["register"])
            #expect(try await ctx.openTasks(open.id).map(\.key) == ["take-into-work"])
            #expect(try await ctx.openTasks(registered.id).isEmpty)
            // Alerts are counted from the migration on: nothing that fell due before it is sent.
            #expect(try await TaskRecord.query(on: ctx.app.db).all().allSatisfy { $0.alertsCheckedUntil != nil })
            _ = clock
        }
    }
}
