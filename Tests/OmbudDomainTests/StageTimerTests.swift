import Foundation
import OmbudDomain
import Testing

struct StageTimerTests {
    let moscow = TimeZone(identifier: "Europe/Moscow")!
    let calendar = BusinessCalendar()

    func at(_ iso: String, _ hour: Int = 0, _ minute: Int = 0) -> Date {
        CivilDate(iso: iso)!.start(in: moscow).addingTimeInterval(TimeInterval(hour * 3600 + minute * 60))
    }

    @Test func limitsMustBePositive() {
        #expect(throws: ValidationError(field: "amount", reason: "must be a positive number of calendar-days")) { try TimeLimit(-3, .calendarDays) }
        #expect(throws: ValidationError.self) { try TimeLimit(0, .hours) }
    }

    @Test func daysRunToMidnightWorkingDaysSkipTheWeekendHoursAreExact() {
        let monday = at("2026-11-23", 14, 30)
        #expect(TimeLimit.days(3).end(from: monday, calendar: calendar, zone: moscow) == at("2026-11-27"))
        #expect(TimeLimit.workingDays(5).end(from: monday, calendar: calendar, zone: moscow) == at("2026-12-01"))
        #expect(TimeLimit.hours(4).end(from: monday, calendar: calendar, zone: moscow) == at("2026-11-23", 18, 30))
        #expect(TimeLimit.days(2).before(at("2026-11-27"), calendar: calendar, zone: moscow) == at("2026-11-25"))
    }

    @Test func anOutsideRequestWithoutAnswerIsRaisedOnDay25() {
        let timer = StageTimer.federalLaw59.first { $0.state == "awaiting-external" }!
        let sent = at("2026-01-10", 11)
        let alerts = timer.alerts(entered: sent, calendar: calendar, zone: moscow)
        #expect(alerts == [.init(kind: .stuck, at: at("2026-02-04"))])
        let schedule = StageControl.federalLaw59.alerts(state: "awaiting-external", entered: sent, controlDate: nil, underControl: false,
                                                        calendar: calendar, zone: moscow)
        #expect(StageControl.window(schedule, entered: sent, checkedUntil: nil, now: at("2026-02-03", 23, 59)).due.isEmpty)
        #expect(StageControl.window(schedule, entered: sent, checkedUntil: nil, now: at("2026-02-04", 9)).due.map(\.kind) == [.stuck])
    }

    @Test func reminderDueAndEscalationFireOnceEachInOrder() {
        let timer = StageTimer.federalLaw59.first { $0.state == "registered" }!
        let registered = at("2026-11-23", 10)  // Monday: redirect within 7 days → end of Monday 30th
        let alerts = timer.alerts(entered: registered, calendar: calendar, zone: moscow)
        #expect(alerts.map(\.kind) == [.reminder, .due, .escalation(.executor), .escalation(.unitHead), .escalation(.supervisor)])
        #expect(alerts[1].at == at("2026-11-30"))  // the morning of the last day
        #expect(alerts[2].at == at("2026-12-01"))  // overdue once it has passed
        #expect(alerts[0].at == at("2026-11-29"))
        #expect(alerts[3].at == at("2026-12-02") && alerts[4].at == at("2026-12-03"))
        // A worker that runs every few minutes sends each alert once: it remembers up to when it looked.
        let schedule = alerts.map { ScheduledAlert(scope: .stage, kind: $0.kind, at: $0.at, key: "\($0.kind)") }
        var checked: Date?
        var sent: [StageTimer.Alert.Kind] = []
        var now = registered
        while now < at("2026-12-10") {
            sent += StageControl.window(schedule, entered: registered, checkedUntil: checked, now: now).due.map(\.kind)
            checked = now
            now = now.addingTimeInterval(7 * 60)
        }
        #expect(sent == alerts.map(\.kind))
    }

    @Test func definitionsAreCheckedAgainstTheWorkflow() throws {
        for timer in StageTimer.federalLaw59 { try timer.validate(in: .federalLaw59) }
        #expect(throws: ValidationError(field: "state", reason: "no state nowhere in 59-fz")) {
            try StageTimer(state: "nowhere", stuckAfter: .days(1)).validate(in: .federalLaw59)
        }
        #expect(throws: ValidationError(field: "limit", reason: "reminders and escalation need a time limit")) {
            try StageTimer(state: "assigned", escalation: [.executor]).validate(in: .federalLaw59)
        }
        #expect(throws: ValidationError(field: "escalateEvery", reason: "several escalation levels need the time between them")) {
            try StageTimer(state: "assigned", limit: .days(3), escalation: [.executor, .supervisor]).validate(in: .federalLaw59)
        }
    }
}
