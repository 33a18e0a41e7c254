import Fluent
import Foundation
import OmbudDomain

/// Business calendars live in the database, loaded from production-calendar files by command;
/// deadline arithmetic reads them through `ReferenceCache`.
enum CalendarStore {
    /// Replaces a year of a calendar; returns the number of exception days stored.
    static func importYear(_ year: ProductionCalendarXML.Year, key: String, store: Store) async throws -> Int {
        try await store.writeReferences { db in
            try await CalendarDayRecord.query(on: db).filter(\.$calendar == key)
                .filter(\.$date >= "\(year.year)-01-01").filter(\.$date <= "\(year.year)-12-31").delete()
            for day in year.days {
                let record = CalendarDayRecord()
                record.calendar = key
                record.date = day.date.iso
                record.kind = day.kind.rawValue
                record.holiday = day.holiday
                try await record.create(on: db)
            }
            return year.days.count
        }
    }

    static func years(_ key: String, db: any Database) async throws -> [Int] {
        let dates = try await CalendarDayRecord.query(on: db).filter(\.$calendar == key).all(\.$date)
        return Set(dates.compactMap { Int($0.prefix(4)) }).sorted()
    }
}
