import Fluent
import Foundation
import OmbudDomain

/// A business calendar: its weekend and date system; its non-working days and transfers are `calendar_days`.
final class CalendarRecord: Model, @unchecked Sendable {
    static let schema = "calendars"
    @ID(key: .id) var id: UUID?
    @Field(key: "key") var key: String
    @Field(key: "name") var name: String
    /// `gregorian` or `solar-hijri`.
    @Field(key: "system") var system: String
    /// Weekday names (`saturday`, `sunday`; `friday` in Iran).
    @Field(key: "weekend") var weekend: [String]
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "updated_at") var updatedAt: Date

    init() {}
    init(key: String, name: String, system: CalendarSystem, weekend: Set<Weekday>, now: Date) {
        id = UUID.timeOrdered(at: now)
        self.key = key
        self.name = name
        self.system = system.rawValue
        self.weekend = weekend.sorted { $0.rawValue < $1.rawValue }.map(\.name)
        createdAt = now
        updatedAt = now
    }

    var weekendDays: Set<Weekday> { Set(weekend.compactMap(Weekday.init(name:))) }
    var calendarSystem: CalendarSystem { CalendarSystem(rawValue: system) ?? .gregorian }
}
