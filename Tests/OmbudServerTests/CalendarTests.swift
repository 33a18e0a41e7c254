import Fluent
import Foundation
import OmbudDomain
import Testing
import Vapor
import VaporTesting
@testable import OmbudServer

extension OmbudServerSuite {
    @Suite struct CalendarTests {
        static let iran1404 = """
            # Solar Hijri year 1404: the fixed holidays
            1404-01-01,Nowruz
            1404-01-02,Nowruz
            1404-01-03,Nowruz
            1404-01-04,Nowruz
            1404-01-12,Islamic Republic Day
            1404-01-13,Nature Day
            1404-03-14,Death of Khomeini
            1404-03-15,15 Khordad uprising
            1404-11-22,Revolution Day
            1404-12-29,Oil nationalisation
            """

        @Test func theRussianCalendarIsListedWithItsWeekendAndYears() async throws {
            try await withOmbud { ctx, _ in
                try await ctx.get("/api/v1/calendars") { res in
                    let calendars = try res.content.decode([CalendarView].self)
                    let ru = try #require(calendars.first { $0.key == "ru" })
                    #expect(ru.weekend == ["saturday", "sunday"] && ru.system == "gregorian" && ru.years == [2024, 2025, 2026, 2027])
                }
                try await ctx.get("/api/v1/calendars/ru?year=2026") { res in
                    let ru = try res.content.decode(CalendarView.self)
                    #expect(ru.days?.first?.date == "2026-01-01" && ru.days?.allSatisfy { $0.date.hasPrefix("2026") } == true)
                }
            }
        }

        @Test func aSolarHijriCalendarIsCreatedLoadedAndUsedForWorkingDays() async throws {
            try await withOmbud { ctx, _ in
                // act
                try await ctx.post("/api/v1/calendars", ["key": "ir", "name": "تقویم رسمی ایران", "system": "solar-hijri"]) { res in
                    #expect(res.status == .created, "\(res.body.string)")
                    let created = try res.content.decode(CalendarView.self)
                    #expect(created.weekend == ["friday"])
                }
                try await ctx.raw(.POST, "/api/v1/calendars/ir/years", body: Self.iran1404, contentType: "text/csv") { res in
                    #expect(res.status == .ok, "\(res.body.string)")
                    let loaded = try res.content.decode(CalendarView.self)
                    #expect(loaded.years == [1404])
                }
                // check
                try await ctx.get("/api/v1/calendars/ir?year=1404") { res in
                    let ir = try res.content.decode(CalendarView.self)
                    #expect(ir.days?.count == 10)
                    let first = try #require(ir.days?.first)
                    #expect(first.date == "2025-03-21" && first.localDate == "1404-01-01" && first.holiday == "Nowruz")
                }
                let calendar = try await ctx.app.store.references.calendar("ir", db: ctx.app.db)
                #expect(!calendar.isWorkingDay(CivilDate(iso: "2025-03-22")!))  // Nowruz, a Saturday
                #expect(calendar.isWorkingDay(CivilDate(iso: "2025-03-29")!))  // an ordinary Saturday
                #expect(!calendar.isWorkingDay(CivilDate(iso: "2025-03-28")!))  // Friday
                // A regional holiday given in Solar Hijri digits, then taken back.
                try await ctx.post("/api/v1/calendars/ir/days", ["date": "۱۴۰۴-۰۲-۱۰", "holiday": "روز ملی خلیج فارس"]) { res in
                    #expect(res.status == .created)
                    let day = try res.content.decode(CalendarDayView.self)
                    #expect(day.date == "2025-04-30")
                }
                #expect(try await !ctx.app.store.references.calendar("ir", db: ctx.app.db).isWorkingDay(CivilDate(iso: "2025-04-30")!))
                try await ctx.raw(.DELETE, "/api/v1/calendars/ir/days/1404-02-10", body: "") { #expect($0.status == .noContent) }
                try await ctx.raw(.DELETE, "/api/v1/calendars/ir/days/1404-02-10", body: "") { #expect($0.status == .notFound) }
                let actions = try await AuditRecord.query(on: ctx.app.db).filter(\.$entity == "calendar").all().map(\.action)
                #expect(actions == ["calendar.create", "calendar.import", "calendar.day", "calendar.day-removed"])
            }
        }

        @Test func aRegionalHolidayMovesTheDeadlines() async throws {
            try await withOmbud { ctx, _ in
                let before = try await ctx.app.store.references.calendar("ru", db: ctx.app.db)
                #expect(before.isWorkingDay(CivilDate(iso: "2026-12-01")!))
                try await ctx.post("/api/v1/calendars/ru/days", ["date": "2026-12-01", "holiday": "День города"]) { #expect($0.status == .created) }
                let after = try await ctx.app.store.references.calendar("ru", db: ctx.app.db)
                #expect(!after.isWorkingDay(CivilDate(iso: "2026-12-01")!))
                #expect(after.addingWorkingDays(1, to: CivilDate(iso: "2026-11-30")!) == CivilDate(iso: "2026-12-02")!)
                // A transferred working Saturday.
                try await ctx.post("/api/v1/calendars/ru/days", ["date": "2026-12-05", "kind": "working"]) { #expect($0.status == .created) }
                #expect(try await ctx.app.store.references.calendar("ru", db: ctx.app.db).isWorkingDay(CivilDate(iso: "2026-12-05")!))
            }
        }

        @Test func badCalendarInputIsNamedAndChangesNothing() async throws {
            try await withOmbud { ctx, _ in
                try await ctx.post("/api/v1/calendars", ["key": "ir", "name": "Iran", "system": "solar-hijri"]) { #expect($0.status == .created) }
                let count = try await CalendarDayRecord.query(on: ctx.app.db).count()
                try await ctx.raw(.POST, "/api/v1/calendars/ir/years", body: "1404-01-01,Nowruz\n1404-13-01,Nothing", contentType: "text/csv") { res in
                    #expect(res.status == .unprocessableEntity && res.body.string.contains(#""field":"line 2""#))
                }
                try await ctx.raw(.POST, "/api/v1/calendars/ru/years", body: #"<calendar year="2030"><days><day d="02.30" t="1"/></days></calendar>"#,
                                  contentType: "application/xml") { res in
                    #expect(res.status == .unprocessableEntity && res.body.string.contains(#""field":"body""#))
                }
                #expect(try await CalendarDayRecord.query(on: ctx.app.db).count() == count)
                for (body, field) in [(#"{"key":"xx","name":"X","weekend":["funday"]}"#, "weekend[0]"),
                                      (#"{"key":"Bad Key","name":"X"}"#, "key"),
                                      (#"{"key":"xx","name":"X","system":"lunar"}"#, "system"),
                                      (#"{"key":"xx"}"#, "name")] {
                    try await ctx.raw(.POST, "/api/v1/calendars", body: body) { res in
                        #expect(res.status == .unprocessableEntity && res.body.string.contains(#""field":"\#(field)""#), "\(body): \(res.body.string)")
                    }
                }
                try await ctx.post("/api/v1/calendars", ["key": "ir", "name": "Again"]) { #expect($0.status == .conflict) }
                for (body, field) in [(#"{"date":"2026-02-30"}"#, "date"), (#"{"date":"2026-03-01","kind":"holiday"}"#, "kind"), (#"{}"#, "date")] {
                    try await ctx.raw(.POST, "/api/v1/calendars/ru/days", body: body) { res in
                        #expect(res.status == .unprocessableEntity && res.body.string.contains(#""field":"\#(field)""#), "\(body)")
                    }
                }
                try await ctx.get("/api/v1/calendars/nowhere") { #expect($0.status == .notFound) }
            }
        }
    }
}
