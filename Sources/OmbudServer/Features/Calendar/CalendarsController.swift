import Fluent
import Foundation
import OmbudDomain
import Vapor

struct CalendarView: Content {
    var key: String
    var name: String
    var system: String
    var weekend: [String]
    /// Years (of the calendar's own system) that have data.
    var years: [Int]
    var days: [CalendarDayView]?
}

struct CalendarDayView: Content {
    /// Gregorian `YYYY-MM-DD`.
    var date: String
    /// The same day in a Solar Hijri calendar's own dates.
    var localDate: String?
    var kind: String
    var holiday: String?
}

struct CalendarInput: Content {
    var key: String?
    var name: String?
    var system: String?
    var weekend: [String]?
}

struct CalendarDayInput: Content {
    /// In the calendar's system: Gregorian `YYYY-MM-DD`, or Solar Hijri (Latin or Persian digits).
    var date: String?
    var kind: String?
    var holiday: String?
}

/// Business calendars: everyone reads them (deadlines depend on them); administrators create calendars, load years
/// and add regional holidays or transferred working days. Every change is in the audit log.
struct CalendarsController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let calendars = routes.grouped("calendars")
        calendars.get(use: list)
        calendars.get(":key", use: show)
        let manage = calendars.grouped(Require(.calendarsManage))
        manage.post(use: create)
        manage.post(":key", "days", use: setDay)
        manage.delete(":key", "days", ":date", use: removeDay)
        manage.on(.POST, ":key", "years", body: .collect(maxSize: "2mb"), use: importYear)
    }

    func list(req: Request) async throws -> [CalendarView] {
        var views: [CalendarView] = []
        for record in try await CalendarRecord.query(on: req.db).sort(\.$key).all() {
            views.append(try await view(record, db: req.db, days: nil))
        }
        return views
    }

    func show(req: Request) async throws -> CalendarView {
        let record = try await calendar(req)
        var query = CalendarDayRecord.query(on: req.db).filter(\.$calendar == record.key).sort(\.$date)
        if let year = req.query[Int.self, at: "year"] {
            guard let range = record.calendarSystem.days(ofYear: year) else {
                throw AppError.invalid(field: "year", reason: "\(year) is not a year of the \(record.system) calendar")
            }
            query = query.filter(\.$date >= range.lowerBound.iso).filter(\.$date <= range.upperBound.iso)
        }
        return try await view(record, db: req.db, days: try await query.all())
    }

    func create(req: Request) async throws -> Response {
        let input = try req.content.decode(CalendarInput.self)
        let key: String
        do throws(ValidationError) { key = try RoleDefinition.validateKey(input.key) } catch { throw error.appError }
        guard let name = input.name?.trimmed(), !name.isEmpty else { throw AppError.missing(field: "name") }
        let system = try input.system.map { raw in
            guard let system = CalendarSystem(rawValue: raw) else {
                throw AppError.invalid(field: "system", reason: "one of " + CalendarSystem.allCases.map(\.rawValue).joined(separator: ", "))
            }
            return system
        } ?? .gregorian
        var weekend = system.defaultWeekend
        if let names = input.weekend {
            weekend = []
            for (i, name) in names.enumerated() {
                guard let day = Weekday(name: name) else { throw AppError.invalid(field: "weekend[\(i)]", reason: "not a weekday: \(name)") }
                weekend.insert(day)
            }
        }
        let now = req.now
        let record = CalendarRecord(key: key, name: name, system: system, weekend: weekend, now: now)
        try await req.store.writeReferences { db in
            guard try await CalendarRecord.query(on: db).filter(\.$key == key).first() == nil else {
                throw AppError.conflict(code: "exists", reason: "calendar \(key) already exists", field: "key")
            }
            try await record.create(on: db)
        }
        try await req.audit("calendar.create", entity: "calendar", entityID: key, details: "\(system.rawValue), weekend \(record.weekend.joined(separator: " "))")
        return try await view(record, db: req.db, days: nil).encodeResponse(status: .created, for: req)
    }

    func setDay(req: Request) async throws -> Response {
        let record = try await calendar(req)
        let input = try req.content.decode(CalendarDayInput.self)
        let date = try Self.date(input.date, system: record.calendarSystem, field: "date")
        let kind = try Self.kind(input.kind)
        let holiday = input.holiday?.trimmed()
        let name = holiday?.isEmpty == false ? holiday : nil
        try await CalendarStore.setDay(.init(date: date, kind: kind, holiday: name), key: record.key, store: req.store)
        try await req.audit("calendar.day", entity: "calendar", entityID: record.key, details: "\(date.iso) \(kind.rawValue) \(name ?? "")")
        let day = CalendarDayView(date: date.iso, localDate: record.calendarSystem.localDate(date), kind: kind.rawValue, holiday: name)
        return try await day.encodeResponse(status: .created, for: req)
    }

    func removeDay(req: Request) async throws -> HTTPStatus {
        let record = try await calendar(req)
        let date = try Self.date(req.parameters.get("date"), system: record.calendarSystem, field: "date")
        guard try await CalendarStore.removeDay(date, key: record.key, store: req.store) else {
            throw AppError.notFound(entity: "calendar day", id: date.iso)
        }
        try await req.audit("calendar.day-removed", entity: "calendar", entityID: record.key, details: date.iso)
        return .noContent
    }

    /// A year of data as a file: production-calendar XML for a Gregorian calendar, holiday lines for a Solar Hijri one.
    func importYear(req: Request) async throws -> CalendarView {
        let record = try await calendar(req)
        guard let body = req.body.string, !body.isEmpty else { throw AppError.missing(field: "body") }
        try await Self.importYears(body, into: record, req: req)
        return try await view(record, db: req.db, days: nil)
    }

    /// Loads the years a file holds into the calendar (the API's body, or a file uploaded on the calendars page).
    static func importYears(_ body: String, into record: CalendarRecord, req: Request) async throws {
        // A file is read as text, past the request decoders that refuse U+0000: refused here, before any row.
        try NULGuard.refuse(body, field: "body")
        let years: [Int]
        if record.calendarSystem == .solarHijri {
            let days: [BusinessCalendar.Day]
            do throws(ValidationError) { days = try SolarHijriHolidays.parse(body) } catch { throw error.appError }
            years = try await CalendarStore.importSolarHijri(days, key: record.key, store: req.store)
        } else {
            let year: ProductionCalendarXML.Year
            do { year = try ProductionCalendarXML.parse(body) } catch let error as ProductionCalendarXML.ParseError {
                throw AppError.invalid(field: "body", reason: error.message)
            }
            _ = try await CalendarStore.importYear(year, key: record.key, store: req.store)
            years = [year.year]
        }
        try await req.audit("calendar.import", entity: "calendar", entityID: record.key, details: years.map(String.init).joined(separator: " "))
    }

    // MARK: helpers

    private func calendar(_ req: Request) async throws -> CalendarRecord {
        let key = req.parameters.get("key") ?? ""
        guard let record = try await CalendarRecord.query(on: req.db).filter(\.$key == key).first() else {
            throw AppError.notFound(entity: "calendar", id: key)
        }
        return record
    }

    private func view(_ record: CalendarRecord, db: any Database, days: [CalendarDayRecord]?) async throws -> CalendarView {
        let system = record.calendarSystem
        return CalendarView(key: record.key, name: record.name, system: record.system, weekend: record.weekend,
                            years: try await CalendarStore.years(record.key, system: system, db: db),
                            days: days?.map { d in
                                CalendarDayView(date: d.date, localDate: CivilDate(iso: d.date).flatMap(system.localDate), kind: d.kind, holiday: d.holiday)
                            })
    }

    static func date(_ raw: String?, system: CalendarSystem, field: String) throws -> CivilDate {
        guard let raw = raw?.trimmed(), !raw.isEmpty else { throw AppError.missing(field: field) }
        if system == .solarHijri {
            guard let date = SolarHijriDate(iso: raw) else { throw AppError.invalid(field: field, reason: "\(raw) is not a Solar Hijri date (YYYY-MM-DD)") }
            return date.civilDate
        }
        guard let date = CivilDate(iso: raw) else { throw AppError.invalid(field: field, reason: "\(raw) is not a date (YYYY-MM-DD)") }
        return date
    }

    static func kind(_ raw: String?) throws -> BusinessCalendar.DayKind {
        guard let raw else { return .nonWorking }
        guard let kind = BusinessCalendar.DayKind(rawValue: raw) else {
            throw AppError.invalid(field: "kind", reason: "one of non-working, working, shortened")
        }
        return kind
    }
}
