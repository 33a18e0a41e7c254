import Fluent
import Foundation
import OmbudDomain

/// Calendars as records: each has its own weekend and date system (Gregorian, or Solar Hijri for display and for its
/// yearly holiday data). `ru` is seeded; so is any calendar the days table already names. Administrators get the new
/// `calendars.manage` permission.
struct CreateCalendars: AsyncMigration {
    func prepare(on db: any Database) async throws {
        try await db.schema("calendars").id()
            .field("key", .string, .required).unique(on: "key")
            .field("name", .string, .required)
            .field("system", .string, .required)
            .field("weekend", .array(of: .string), .required)
            .field("created_at", .datetime, .required)
            .field("updated_at", .datetime, .required)
            .create()
        let now = Date()
        var keys = Set(try await CalendarDayRecord.query(on: db).all(\.$calendar))
        keys.insert("ru")
        for key in keys.sorted() {
            let name = key == "ru" ? "Производственный календарь РФ" : key
            try await CalendarRecord(key: key, name: name, system: .gregorian, weekend: [.saturday, .sunday], now: now).create(on: db)
        }
        try await PermissionGrants.grantToAdministrators(.calendarsManage, db: db)
    }

    func revert(on db: any Database) async throws {
        try await PermissionGrants.revokeEverywhere(.calendarsManage, db: db)
        try await db.schema("calendars").delete()
    }
}
