import Foundation
import Testing
@testable import OmbudDomain

/// The Russian production calendars are read from ../shared/data, as an installation would load them.
enum SharedData {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/data")

    static func russianCalendar() throws -> BusinessCalendar {
        var calendar = BusinessCalendar()
        for year in 2024...2027 {
            let xml = try String(contentsOf: root.appendingPathComponent("ru-production-calendar/ru-\(year)-calendar.xml"), encoding: .utf8)
            for day in try ProductionCalendarXML.parse(xml).days { calendar.add(day) }
        }
        return calendar
    }
}

func day(_ iso: String) -> CivilDate { CivilDate(iso: iso)! }

@Suite struct DeadlineTests {
    let calendar: BusinessCalendar
    init() throws { calendar = try SharedData.russianCalendar() }

    @Test func answerDueCountsCalendarDaysFromTheDayAfterRegistration() {
        // act
        let d = DeadlineRules.onRegistration(received: day("2026-03-02"), registered: day("2026-03-03"), policy: .federalLaw59, calendar: calendar)
        // check
        #expect(d.registrationDue == day("2026-03-05"))
        #expect(d.redirectDue == day("2026-03-10"))
        #expect(d.answerDue == day("2026-04-02"))
        #expect(d.controlDate == day("2026-04-02"))
    }

    @Test func registeredOn29DecemberLandsOn28JanuaryAcrossNewYear() {
        let d = DeadlineRules.onRegistration(received: day("2025-12-26"), registered: day("2025-12-29"), policy: .federalLaw59, calendar: calendar)
        #expect(d.answerDue == day("2026-01-28"))
        #expect(d.controlDate == day("2026-01-28"))
    }

    @Test func controlDateOnNewYearHolidayMovesBackToLastWorkingDay() {
        // 2025-12-02 + 30 = 2026-01-01 (holiday); 31 December 2025 is a transferred day off, so the 30th.
        let d = DeadlineRules.onRegistration(received: day("2025-12-01"), registered: day("2025-12-02"), policy: .federalLaw59, calendar: calendar)
        #expect(d.answerDue == day("2026-01-01"))
        #expect(d.controlDate == day("2025-12-30"))
    }

    @Test func forwardPolicyMovesPastTheNewYearHolidays() {
        var policy = DeadlinePolicy.federalLaw59
        policy.shift = .next
        let d = DeadlineRules.onRegistration(received: day("2025-12-01"), registered: day("2025-12-02"), policy: policy, calendar: calendar)
        #expect(d.controlDate == day("2026-01-12"))
    }

    @Test func mayHolidays2025() {
        // 2025-04-01 + 30 = 2025-05-01 (holiday), 30 April is a shortened working day.
        let d = DeadlineRules.onRegistration(received: day("2025-04-01"), registered: day("2025-04-01"), policy: .federalLaw59, calendar: calendar)
        #expect(d.controlDate == day("2025-04-30"))
        #expect(calendar.isWorkingDay(day("2025-04-30")))
        #expect(!calendar.isWorkingDay(day("2025-05-08")))
        var next = DeadlinePolicy.federalLaw59
        next.shift = .next
        #expect(DeadlineRules.controlDate(for: day("2025-05-08"), policy: next, calendar: calendar) == day("2025-05-12"))
    }

    @Test func novemberHolidays2025And2026() {
        // 2025: 2–4 November off (4th is the holiday, 3rd transferred); 1 November is a working Saturday.
        #expect(!calendar.isWorkingDay(day("2025-11-03")))
        #expect(!calendar.isWorkingDay(day("2025-11-04")))
        #expect(calendar.isWorkingDay(day("2025-11-01")))
        #expect(DeadlineRules.controlDate(for: day("2025-11-04"), policy: .federalLaw59, calendar: calendar) == day("2025-11-01"))
        // 2026: 4 November is a Wednesday holiday.
        #expect(DeadlineRules.controlDate(for: day("2026-11-04"), policy: .federalLaw59, calendar: calendar) == day("2026-11-03"))
    }

    @Test func oneExtensionOnlyWithReason() throws {
        // setup
        let d = DeadlineRules.onRegistration(received: day("2026-02-02"), registered: day("2026-02-02"), policy: .federalLaw59, calendar: calendar)
        // act
        let extended = try DeadlineRules.extend(d, byDays: 30, reason: "запрос в другой орган", policy: .federalLaw59, calendar: calendar)
        // check
        #expect(extended.answerDue == day("2026-04-03"))
        #expect(extended.extensionDays == 30)
        #expect(throws: DeadlineError.alreadyExtended) {
            try DeadlineRules.extend(extended, byDays: 5, reason: "ещё", policy: .federalLaw59, calendar: calendar)
        }
        #expect(throws: DeadlineError.extensionOutOfRange(maximum: 30)) {
            try DeadlineRules.extend(d, byDays: 31, reason: "x", policy: .federalLaw59, calendar: calendar)
        }
        #expect(throws: DeadlineError.reasonRequired) {
            try DeadlineRules.extend(d, byDays: 10, reason: "  ", policy: .federalLaw59, calendar: calendar)
        }
    }

    @Test func overdueOnlyAfterTheControlDateAndWhileOpen() {
        let d = Deadlines(registrationDue: day("2026-01-10"), controlDate: day("2026-02-10"))
        #expect(!DeadlineRules.isOverdue(d, isOpen: true, today: day("2026-02-10")))
        #expect(DeadlineRules.isOverdue(d, isOpen: true, today: day("2026-02-11")))
        #expect(!DeadlineRules.isOverdue(d, isOpen: false, today: day("2026-03-01")))
    }
}

@Suite struct CalendarTests {
    @Test func workingDayCountsMatchTheOfficialTotals() throws {
        let calendar = try SharedData.russianCalendar()
        #expect(calendar.workingDays(from: day("2025-01-01"), through: day("2025-12-31")) == 247)
        #expect(calendar.workingDays(from: day("2026-01-01"), through: day("2026-12-31")) == 247)
        #expect(calendar.workingDays(from: day("2024-01-01"), through: day("2024-12-31")) == 248)
    }

    @Test func workingDayArithmetic() throws {
        let calendar = try SharedData.russianCalendar()
        #expect(calendar.addingWorkingDays(1, to: day("2025-12-30")) == day("2026-01-12"))
        #expect(calendar.addingWorkingDays(-1, to: day("2026-01-12")) == day("2025-12-30"))
    }

    @Test func invalidDateInCalendarFileIsRejected() {
        let xml = #"<calendar year="2025"><days><day d="02.30" t="1"/></days></calendar>"#
        #expect(throws: ProductionCalendarXML.ParseError.self) { try ProductionCalendarXML.parse(xml) }
        #expect(throws: ProductionCalendarXML.ParseError.self) { try ProductionCalendarXML.parse(#"<calendar><days/></calendar>"#) }
        #expect(throws: ProductionCalendarXML.ParseError.self) {
            try ProductionCalendarXML.parse(#"<calendar year="2025"><days><day d="01.02" t="9"/></days></calendar>"#)
        }
    }

    @Test func civilDateRoundTripsAndWeekdays() {
        #expect(day("2026-11-22").weekday == .sunday)
        #expect(CivilDate(dayNumber: day("2024-02-29").dayNumber) == day("2024-02-29"))
        #expect(CivilDate(iso: "2025-02-29") == nil)
        #expect(CivilDate(iso: "2025-1-01") == nil)
        let moscow = TimeZone(identifier: "Europe/Moscow")!
        // 22:30 UTC on the 31st is already the 1st in Moscow.
        #expect(CivilDate.of(Date(timeIntervalSince1970: 1_767_220_200), in: moscow) == day("2026-01-01"))
    }

    @Test func jalaliStyleWeekendIsData() {
        let calendar = BusinessCalendar(weekend: [.friday], days: [.init(date: day("2026-03-21"), kind: .nonWorking, holiday: "Nowruz")])
        #expect(!calendar.isWorkingDay(day("2026-03-20"))) // Friday
        #expect(calendar.isWorkingDay(day("2026-03-22"))) // Sunday
        #expect(!calendar.isWorkingDay(day("2026-03-21")))
    }
}
