import Foundation
import OmbudDomain
import Testing

struct StatisticsTests {
    @Test func dimensionsAndMeasuresParseOrNameTheField() throws {
        let spec = try StatsSpec.parse(groupBy: "topic:2, month", measures: "count,medianDaysToClose,count")
        #expect(spec.groupBy == [.topic(level: 2), .month])
        #expect(spec.measures == [.count, .medianDaysToClose])
        #expect(try StatsSpec.parse(groupBy: nil, measures: nil) == StatsSpec(groupBy: [], measures: [.count]))
        for (groupBy, measures, field) in [("colour", "count", "groupBy"), ("topic:9", "count", "groupBy"), ("topic:x", "count", "groupBy"),
                                           ("day,month,year", "count", "groupBy"), ("topic,topic:2", "count", "groupBy"),
                                           ("day", "count,speed", "measures"), ("day", " , ", "measures")] {
            #expect(throws: ValidationError.self) { try StatsSpec.parse(groupBy: groupBy, measures: measures) }
            do { _ = try StatsSpec.parse(groupBy: groupBy, measures: measures) } catch { #expect(error.field == field, "\(groupBy) \(measures)") }
        }
        #expect(StatsDimension.topic(level: 3).key == "topic")
        #expect(StatsDimension.executor.isQuestionLevel && !StatsDimension.office.isQuestionLevel && StatsDimension.week.isPeriod)
    }

    @Test func percentilesInterpolateLikeSpreadsheets() {
        #expect(Percentile.inclusive([], 0.5) == nil)
        #expect(Percentile.inclusive([7], 0.9) == 7)
        #expect(Percentile.inclusive([1, 2, 3, 4], 0.5) == 2.5)
        #expect(Percentile.inclusive([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9) == 9.1)
        #expect(Percentile.inclusive([0.5, 1.5, 10], 0.5) == 1.5)
        // Selection gives what sorting gives, with repeats and in any order.
        #expect(Percentile.of([], 0.5) == nil && Percentile.of([7], 0.9) == 7)
        var generator = SystemRandomNumberGenerator()
        for size in [1, 2, 3, 10, 101, 1000] {
            let values = (0..<size).map { _ in Double(Int.random(in: 0..<max(size / 3, 1), using: &generator)) + 0.25 }
            for p in [0, 0.1, 0.5, 0.9, 0.99, 1] {
                #expect(Percentile.of(values, p) == Percentile.inclusive(values.sorted(), p), "\(size) values, p \(p)")
            }
        }
    }

    @Test func tallyAddsUpAndSharesHaveNoValueWithoutABase() {
        var a = StatsTally()
        a.count = 3; a.closed = 2; a.closedOnTime = 1; a.daysToClose = [4, 1]
        var b = StatsTally()
        b.count = 1; b.closed = 1; b.closedOnTime = 1; b.rated = 2; b.ratingSum = 9; b.satisfied = 2; b.daysToClose = [2.5]
        #expect(a.value(.avgRating) == nil && a.value(.satisfiedShare) == nil)
        a += b
        #expect(a.value(.count) == 4)
        #expect(a.value(.onTimeShare) == 0.6667)
        #expect(a.value(.medianDaysToClose) == 2.5)
        #expect(a.value(.avgRating) == 4.5)
        #expect(a.value(.satisfiedShare) == 1)
        #expect(StatsTally().value(.onTimeShare) == nil && StatsTally().value(.p90DaysToClose) == nil)
    }

    @Test func periodCodesFollowISOWeeksAcrossYearEnds() {
        func code(_ d: StatsDimension, _ iso: String) -> String? { StatsPeriod.code(d, of: CivilDate(iso: iso)!) }
        #expect(code(.day, "2015-03-01") == "2015-03-01")
        #expect(code(.month, "2015-03-01") == "2015-03")
        #expect(code(.quarter, "2015-03-31") == "2015-Q1" && code(.quarter, "2015-10-01") == "2015-Q4")
        #expect(code(.year, "2015-03-01") == "2015")
        #expect(code(.week, "2015-03-01") == "2015-W09")     // a Sunday
        #expect(code(.week, "2015-03-02") == "2015-W10")     // the next Monday
        #expect(code(.week, "2021-01-03") == "2020-W53")     // 2020 had 53 weeks
        #expect(code(.week, "2024-12-30") == "2025-W01")     // Monday of the first week of 2025
        #expect(code(.week, "2026-01-01") == "2026-W01")
        #expect(code(.office, "2026-01-01") == nil)
    }

    @Test func offsetSpansFollowDaylightSavingTransitions() throws {
        let utc = ISO8601DateFormatter()
        let from = try #require(utc.date(from: "2024-01-01T00:00:00Z")), to = try #require(utc.date(from: "2025-01-01T00:00:00Z"))
        let moscow = OffsetSpan.spans(try #require(TimeZone(identifier: "Europe/Moscow")), from: from, to: to)
        #expect(moscow == [OffsetSpan(until: nil, seconds: 3 * 3600)])
        let boston = OffsetSpan.spans(try #require(TimeZone(identifier: "America/New_York")), from: from, to: to)
        #expect(boston.map(\.seconds) == [-5 * 3600, -4 * 3600, -5 * 3600])
        #expect(boston[0].until == utc.date(from: "2024-03-10T07:00:00Z"))
        #expect(boston[1].until == utc.date(from: "2024-11-03T06:00:00Z"))
    }
}
