import Foundation
import Testing
@testable import OmbudDomain

@Suite struct StageControlTests {
    let moscow = TimeZone(identifier: "Europe/Moscow")!
    let calendar: BusinessCalendar
    let control = StageControl.federalLaw59
    init() throws { calendar = try SharedData.russianCalendar() }

    func at(_ iso: String, _ hour: Int = 0) -> Date { day(iso).start(in: moscow).addingTimeInterval(TimeInterval(hour * 3600)) }

    @Test func everyOpenStateOfTheShippedWorkflowCreatesATask() throws {
        try control.validate(in: .federalLaw59)
        for state in WorkflowDefinition.federalLaw59.openStates {
            #expect(!control.tasks(entering: state, at: at("2026-03-02"), controlDate: day("2026-04-02"), calendar: calendar, zone: moscow).isEmpty)
        }
        for state in WorkflowDefinition.federalLaw59.states where state.terminal {
            #expect(control.tasks(entering: state.key, at: at("2026-03-02"), controlDate: nil, calendar: calendar, zone: moscow).isEmpty)
        }
    }

    @Test func aDefinitionLeavingAnOpenStateWithoutATaskIsRefused() {
        let partial = StageControl(workflow: "59-fz", tasks: control.tasks.filter { $0.state != "awaiting-external" },
                                   timers: control.timers, answer: control.answer)
        #expect(throws: ValidationError(field: "tasks", reason: "the open state awaiting-external creates no task")) {
            try partial.validate(in: .federalLaw59)
        }
        let terminal = StageControl(workflow: "59-fz", tasks: control.tasks + [TaskTemplate(state: "closed", key: "x", assignee: .office, due: .none)],
                                    timers: control.timers, answer: control.answer)
        #expect(throws: ValidationError.self) { try terminal.validate(in: .federalLaw59) }
    }

    @Test func tasksFallDueAtTheStageLimitOrTheEndOfTheControlDate() {
        let received = control.tasks(entering: "received", at: at("2026-11-23", 10), controlDate: nil, calendar: calendar, zone: moscow)
        #expect(received.map(\.key) == ["register"])
        #expect(received[0].due == at("2026-11-27"))
        #expect(received[0].checklist.count == 3)
        let work = control.tasks(entering: "in-progress", at: at("2026-11-23", 10), controlDate: day("2026-12-21"), calendar: calendar, zone: moscow)
        #expect(work[0].due == at("2026-12-22") && work[0].assignee == .executor)
        // The call-back falls due three working days after the answer: Monday's answer by the end of Thursday.
        #expect(control.tasks(entering: "answered", at: at("2026-11-23", 10), controlDate: nil, calendar: calendar, zone: moscow)[0].due == at("2026-11-27"))
        #expect(control.tasks(entering: "feedback", at: at("2026-11-23"), controlDate: nil, calendar: calendar, zone: moscow)[0].due == nil)
    }

    /// The check of issue 4: registered on 29 December 2025, the 30-day answer deadline lands on 28 January 2026 across
    /// the New Year holidays; the 5-day reminder and the overdue escalation each fire exactly once for a worker that
    /// looks every 10 minutes through two months, across changes of state.
    @Test func answerDeadlineAcrossTheNewYearRemindsAndEscalatesOnce() {
        let deadlines = DeadlineRules.onRegistration(received: day("2025-12-29"), registered: day("2025-12-29"), policy: .federalLaw59,
                                                     calendar: calendar)
        #expect(deadlines.controlDate == day("2026-01-28"))
        // The appeal moves: registered 29 Dec → assigned 30 Dec → in progress 12 Jan; each stay has its own task, the
        // answer alerts are keyed by the control date, so a store with unique keys sends each once.
        let stays: [(String, Date)] = [("registered", at("2025-12-29", 10)), ("assigned", at("2025-12-30", 9)), ("in-progress", at("2026-01-12", 9))]
        var fired: [String: Date] = [:]
        var now = at("2025-12-29", 10)
        var checked: [Int: Date] = [:]
        while now < at("2026-03-01") {
            let stay = stays.lastIndex { $0.1 <= now }!
            let schedule = control.alerts(state: stays[stay].0, entered: stays[stay].1, controlDate: deadlines.controlDate,
                                          underControl: true, calendar: calendar, zone: moscow)
            for alert in StageControl.window(schedule, entered: stays[stay].1, checkedUntil: checked[stay], now: now).due {
                let key = alert.scope == .answer ? alert.key : "\(stay):\(alert.key)"
                #expect(fired[key] == nil, "\(key) fired twice")
                fired[key] = now
            }
            checked[stay] = now
            now = now.addingTimeInterval(600)
        }
        // Five days left: the morning of 24 January (a Saturday: a calendar-day reminder).
        #expect(fired["answer:2026-01-28:reminder"].map { $0 >= at("2026-01-24") && $0 < at("2026-01-24", 1) } == true)
        #expect(fired["answer:2026-01-28:due"].map { $0 >= at("2026-01-28") && $0 < at("2026-01-28", 1) } == true)
        // Overdue: the executor the morning after, the unit head a working day later, then the supervisor.
        #expect(fired["answer:2026-01-28:escalation-executor"].map { $0 >= at("2026-01-29") && $0 < at("2026-01-29", 1) } == true)
        #expect(fired["answer:2026-01-28:escalation-unit-head"].map { $0 >= at("2026-01-30") && $0 < at("2026-01-30", 1) } == true)
        #expect(fired["answer:2026-01-28:escalation-supervisor"].map { $0 >= at("2026-02-02") && $0 < at("2026-02-02", 1) } == true)
        // The redirect stage's own timer ran while the appeal was registered: it left on day 2, before any alert.
        #expect(!fired.keys.contains { $0.hasPrefix("0:stage") })
        #expect(fired.count == 5)
    }

    @Test func tasksGoToTheirRoleAndEndByTheMoveTaken() {
        let office = UUID(), unit = UUID(), head = UUID()
        let before = AppealPeople(officeID: office)
        #expect(before.assignee(.executor) == (office, nil) as (UUID?, UUID?))
        let assigned = AppealPeople(officeID: office, executorUnitID: unit, headUserID: head)
        #expect(assigned.assignee(.executor) == (unit, nil) as (UUID?, UUID?))
        #expect(assigned.assignee(.approver) == (unit, head) as (UUID?, UUID?))
        #expect(assigned.assignee(.office) == (office, nil) as (UUID?, UUID?))
        #expect(TaskStatus.closing(taskState: "in-progress", leaving: "in-progress", interrupted: false) == .done)
        #expect(TaskStatus.closing(taskState: "in-progress", leaving: "in-progress", interrupted: true) == .cancelled)
        #expect(TaskStatus.closing(taskState: nil, leaving: "in-progress", interrupted: false) == .cancelled)
        #expect(EscalationLevel.executor.andAbove == [.executor, .unitHead, .supervisor])
        #expect(EscalationLevel.supervisor.andAbove == [.supervisor])
    }

    @Test func anExtensionMovesTheAnswerAlertsToNewKeys() {
        let a = control.alerts(state: "in-progress", entered: at("2026-03-03"), controlDate: day("2026-04-02"), underControl: true, calendar: calendar, zone: moscow)
        let b = control.alerts(state: "in-progress", entered: at("2026-03-03"), controlDate: day("2026-05-04"), underControl: true, calendar: calendar, zone: moscow)
        #expect(Set(a.map(\.key)).isDisjoint(with: b.map(\.key)))
        let window = StageControl.window(b, entered: at("2026-03-03"), checkedUntil: at("2026-04-03"), now: at("2026-04-03", 1))
        #expect(window.due.isEmpty && window.next == at("2026-04-30"))
    }

    @Test func promisesMayNotBeDueInThePastAndSettleOnce() throws {
        #expect(throws: ValidationError(field: "dueDate", reason: "2026-11-21 is in the past")) {
            try PromiseRules.validate(text: "repair the roof", due: day("2026-11-21"), today: day("2026-11-22"))
        }
        #expect(throws: ValidationError.self) { try PromiseRules.validate(text: "  ", due: day("2026-12-01"), today: day("2026-11-22")) }
        #expect(try PromiseRules.validate(text: " repair ", due: day("2026-11-22"), today: day("2026-11-22")) == "repair")
        try PromiseRules.transition(from: .given, to: .inWork)
        try PromiseRules.transition(from: .inWork, to: .kept)
        #expect(throws: ValidationError.self) { try PromiseRules.transition(from: .kept, to: .broken) }
        #expect(throws: ValidationError.self) { try PromiseRules.transition(from: .inWork, to: .given) }
        let alerts = PromiseRules.alerts(due: day("2026-12-01"), calendar: calendar, zone: moscow)
        #expect(alerts.map(\.at) == [at("2026-11-30"), at("2026-12-01"), at("2026-12-02")])
        #expect(alerts.map { NotificationKind(promise: $0) } == [.promiseReminder, .promiseDue, .promiseOverdue])
    }

    @Test func mailIsRenderedForSMTP() throws {
        let message = MailMessage(from: try MailAddress("ombud@example.org", name: "Ombud"),
                                  to: try MailAddress("ivanova@example.org", name: "Иванова Анна"),
                                  subject: "Напоминание: 2026-000123 — осталось 5 дней", text: ".точка в начале\nвторая строка",
                                  messageID: "n1@ombud", date: Date(timeIntervalSince1970: 0))
        let raw = message.rendered()
        #expect(raw.contains("Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n"))
        #expect(raw.contains("Subject: =?UTF-8?B?"))
        #expect(raw.contains("To: =?UTF-8?B?0JjQstCw0L3QvtCy0LAg0JDQvdC90LA=?= <ivanova@example.org>"))
        #expect(raw.unicodeScalars.allSatisfy { $0.isASCII })
        #expect(!raw.split(separator: "\r\n").contains { $0.hasPrefix(".") || $0.count > 998 })
        let body = raw.components(separatedBy: "\r\n\r\n")[1].replacingOccurrences(of: "\r\n", with: "")
        #expect(String(data: Data(base64Encoded: body)!, encoding: .utf8) == ".точка в начале\nвторая строка")
        #expect(throws: ValidationError.self) { try MailAddress("a@b.c>\r\nRCPT TO:<x@y.z") }
        #expect(throws: ValidationError.self) { try MailAddress("no-at-sign") }
    }

    @Test func smtpRepliesAreReadLineByLine() throws {
        #expect(try SMTPReply.parse(["250-mail.example.org", "250-STARTTLS"]) == nil)
        let reply = try #require(try SMTPReply.parse(["250-mail.example.org", "250-STARTTLS", "250 AUTH PLAIN LOGIN"]))
        #expect(reply.code == 250 && reply.extensions == ["STARTTLS", "AUTH"])
        #expect(try SMTPReply.parse(["554 no"])?.isPositive == false)
        #expect(throws: ValidationError.self) { try SMTPReply.parse(["hello"]) }
    }
}

@Suite struct TimerDefinitionTests {
    @Test func theShippedTimersRoundTripThroughTheAdministratorsForm() throws {
        let control = StageControl.federalLaw59
        #expect(try control.replacing(with: control.timersInput, in: .federalLaw59) == control)
    }

    @Test func badTimersAreRefusedWithTheirPath() {
        let control = StageControl.federalLaw59
        func refused(_ input: TimersInput) -> String? {
            do { _ = try control.replacing(with: input, in: .federalLaw59); return nil } catch { return error.field }
        }
        #expect(refused(.init(timers: [.init(state: "received", limit: .init(amount: 3, unit: "calendar-days")),
                                       .init(state: "registered", limit: .init(amount: -7, unit: "calendar-days"))])) == "timers[1].limit.amount")
        #expect(refused(.init(timers: [.init(state: "received", stuckAfter: .init(amount: 2, unit: "fortnights"))])) == "timers[0].stuckAfter.unit")
        #expect(refused(.init(timers: [.init(state: "nowhere", stuckAfter: .init(amount: 2, unit: "hours"))])) == "timers[0].state")
        #expect(refused(.init(timers: [.init(state: "received", remindBefore: .init(amount: 1, unit: "hours"))])) == "timers[0].limit")
        #expect(refused(.init(timers: [.init(state: "received", limit: .init(amount: 1, unit: "hours"), escalation: ["mayor"])])) == "timers[0].escalation[0]")
        #expect(refused(.init(timers: [.init(state: "received"), .init(state: "received")])) == "timers[1].state")
        #expect(refused(.init(timers: [.init(state: "received", limit: .init(amount: Int.max, unit: "calendar-days"))])) == "timers[0].limit.amount")
        #expect(refused(.init(timers: [.init(state: "received", limit: .init(amount: 1_000_000_000, unit: "working-days"))])) == "timers[0].limit.amount")
        #expect(refused(.init(timers: [.init(state: "received", limit: .init(amount: 3, unit: "calendar-days"), escalation: ["executor", "executor"],
                                             escalateEvery: .init(amount: 1, unit: "hours"))])) == "timers[0].escalation")
        #expect(refused(.init(timers: [], answer: .init(remindBefore: .init(amount: 0, unit: "calendar-days"), escalation: ["executor"],
                                                         escalateEvery: .init(amount: 1, unit: "working-days")))) == "answer.remindBefore.amount")
        // Hours for urgent requests are fine.
        #expect(refused(.init(timers: [.init(state: "received", limit: .init(amount: 4, unit: "hours"), remindBefore: .init(amount: 1, unit: "hours"),
                                             escalation: ["executor"])])) == nil)
    }
}
