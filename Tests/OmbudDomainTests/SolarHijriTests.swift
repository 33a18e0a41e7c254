import OmbudDomain
import Testing

struct SolarHijriTests {
    func civil(_ iso: String) -> CivilDate { CivilDate(iso: iso)! }

    @Test func knownDaysConvertBothWays() {
        let known: [(String, String)] = [
            ("2024-03-20", "1403-01-01"),  // Nowruz 1403
            ("2025-03-21", "1404-01-01"),  // Nowruz 1404, after the leap year 1403
            ("2025-03-20", "1403-12-30"),  // 30 Esfand of a leap year
            ("2026-03-21", "1405-01-01"),
            ("2026-11-22", "1405-09-01"),  // 1 Azar
            ("1979-02-11", "1357-11-22"),  // 22 Bahman
            ("2000-01-01", "1378-10-11"),
            ("2023-09-23", "1402-07-01"),  // the first 30-day month
        ]
        for (gregorian, jalali) in known {
            #expect(SolarHijriDate(civil(gregorian)).iso == jalali, "\(gregorian)")
            #expect(SolarHijriDate(iso: jalali)?.civilDate == civil(gregorian), "\(jalali)")
        }
    }

    @Test func everyDayOfTwoCenturiesRoundTripsAndDaysFollowOneAnother() {
        var previous = SolarHijriDate(civil("1899-12-31"))
        for n in civil("1900-01-01").dayNumber...civil("2100-12-31").dayNumber {
            let day = CivilDate(dayNumber: n)
            let jalali = SolarHijriDate(day)
            #expect(jalali.civilDate == day)
            // The next day is the next date of the Solar Hijri calendar too.
            if previous.day == SolarHijriDate.daysIn(month: previous.month, year: previous.year) {
                #expect(jalali.day == 1 && (jalali.month == previous.month + 1 || (jalali.month == 1 && jalali.year == previous.year + 1)))
            } else {
                #expect(jalali.year == previous.year && jalali.month == previous.month && jalali.day == previous.day + 1)
            }
            previous = jalali
        }
    }

    @Test func leapYearsAndMonthLengths() {
        #expect(SolarHijriDate.isLeap(1403) && !SolarHijriDate.isLeap(1404) && SolarHijriDate.isLeap(1399))
        #expect(SolarHijriDate(year: 1404, month: 12, day: 30) == nil)
        #expect(SolarHijriDate(year: 1403, month: 12, day: 30) != nil)
        #expect(SolarHijriDate(year: 1404, month: 7, day: 31) == nil)
        #expect(SolarHijriDate(year: 1404, month: 13, day: 1) == nil)
    }

    @Test func persianDigitsInAndOut() {
        #expect(SolarHijriDate.persianDigits("1405-09-01") == "۱۴۰۵-۰۹-۰۱")
        #expect(SolarHijriDate(iso: "۱۴۰۵-۰۹-۰۱")?.iso == "1405-09-01")
        #expect(SolarHijriDate(iso: "١٤٠٥-٠٩-٠١")?.iso == "1405-09-01")
    }

    @Test func holidaysLoadAsYearlyDataWithAFridayWeekend() throws {
        let days = try SolarHijriHolidays.parse("""
            # 1404
            1404-01-01,Nowruz
            1404-01-02,Nowruz
            ۱۴۰۴-۰۱-۱۲,Islamic Republic Day
            1404-12-29,Oil nationalisation
            """)
        #expect(days.count == 4 && days[0].date == civil("2025-03-21") && days[0].holiday == "Nowruz")
        let calendar = BusinessCalendar(weekend: SolarHijriHolidays.weekend, days: days)
        #expect(!calendar.isWorkingDay(civil("2025-03-21")))  // Nowruz (also a Friday)
        #expect(!calendar.isWorkingDay(civil("2025-03-22")))  // Nowruz, a Saturday
        #expect(calendar.isWorkingDay(civil("2025-03-23")))  // Sunday is a working day in Iran
        #expect(!calendar.isWorkingDay(civil("2025-03-28")))  // Friday
        // Working-day arithmetic over Nowruz: 3 working days after 1403-12-28 (Tue 2025-03-18).
        #expect(calendar.addingWorkingDays(3, to: civil("2025-03-18")) == civil("2025-03-23"))
    }

    @Test func aBadDateNamesItsLine() {
        #expect(throws: ValidationError(field: "line 2", reason: "1404-13-01 is not a Solar Hijri date (YYYY-MM-DD)")) {
            try SolarHijriHolidays.parse("1404-01-01,Nowruz\n1404-13-01,Nothing")
        }
        #expect(throws: ValidationError(field: "file", reason: "no holidays in the file")) { try SolarHijriHolidays.parse("# empty\n") }
    }
}
