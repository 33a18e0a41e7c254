import Foundation

/// A saved report: a statistics question (dimensions, measures, filters, a period relative to the day it runs), how
/// it is drawn, whom it is shared with and how often it is mailed. Each reader runs it within their own scope.
public struct ReportDefinition: Codable, Sendable, Equatable {
    public var name: String
    /// As `/api/v1/stats` takes them: `groupBy` and `measures`, comma-separated.
    public var groupBy: String
    public var measures: String
    /// The list's filters (`status`, `channel`, `office`, `executor`, `topic`, `overdue`, `q`, `bbox`).
    public var filters: [String: String]
    public var period: ReportPeriod
    public var chart: ReportChart
    /// Role keys whose holders (with `stats.read`) may open and run the report; the owner always may.
    public var sharedWith: [String]
    public var schedule: ReportSchedule?

    public init(name: String, groupBy: String, measures: String, filters: [String: String] = [:], period: ReportPeriod = .days(30),
                chart: ReportChart = .bar, sharedWith: [String] = [], schedule: ReportSchedule? = nil) {
        self.name = name
        self.groupBy = groupBy
        self.measures = measures
        self.filters = filters
        self.period = period
        self.chart = chart
        self.sharedWith = sharedWith
        self.schedule = schedule
    }

    /// Whether a holder of these roles may open the report (its owner always may).
    public func isShared(with roles: [String]) -> Bool { !Set(sharedWith).isDisjoint(with: roles) }

    public static let filterKeys: Set<String> = ["status", "channel", "office", "executor", "topic", "overdue", "q", "bbox"]

    /// The definition with blank filters dropped and names trimmed, or the first fault, named by its field.
    public func validated(roles: Set<String>) throws(ValidationError) -> ReportDefinition {
        var out = self
        out.name = name.trimmed()
        guard (1...200).contains(out.name.count) else { throw ValidationError(field: "name", reason: "1 to 200 characters") }
        let spec = try StatsSpec.parse(groupBy: groupBy, measures: measures)
        out.groupBy = spec.groupBy.map(\.description).joined(separator: ",")
        out.measures = spec.measures.map(\.rawValue).joined(separator: ",")
        out.filters = filters.mapValues { $0.trimmed() }.filter { !$0.value.isEmpty }
        if let unknown = out.filters.keys.sorted().first(where: { !Self.filterKeys.contains($0) }) {
            throw ValidationError(field: "filters.\(unknown)", reason: "is not a filter; known: \(Self.filterKeys.sorted().joined(separator: ", "))")
        }
        if let overdue = out.filters["overdue"], overdue != "true", overdue != "false" {
            throw ValidationError(field: "filters.overdue", reason: "true or false")
        }
        if let raw = out.filters["bbox"] { _ = try MapGrid.Box(parsing: raw, field: "filters.bbox") }
        if case let .between(from, to) = period, to < from { throw ValidationError(field: "period", reason: "ends before it starts") }
        out.sharedWith = Array(Set(sharedWith.map { $0.trimmed() }.filter { !$0.isEmpty })).sorted()
        if let unknown = out.sharedWith.first(where: { !roles.contains($0) }) {
            throw ValidationError(field: "sharedWith", reason: "no role \(unknown)")
        }
        if var schedule = out.schedule {
            schedule.recipients = Array(Set(schedule.recipients.map { $0.trimmed() }.filter { !$0.isEmpty })).sorted()
            guard schedule.recipients.count <= 50 else { throw ValidationError(field: "schedule.recipients", reason: "at most 50") }
            out.schedule = schedule
        }
        return out
    }
}

/// The days a report covers, counted back from the day it runs (in the installation's time zone), or fixed days.
public enum ReportPeriod: Sendable, Equatable, Codable {
    /// The last N days, today included.
    case days(Int)
    /// The previous calendar week (Monday to Sunday), month, quarter; the year so far.
    case previousWeek, previousMonth, previousQuarter, yearToDate
    case between(CivilDate, CivilDate)
    case all

    public static let presets: [ReportPeriod] = [.days(7), .days(30), .days(90), .days(365), .previousWeek, .previousMonth, .previousQuarter, .yearToDate, .all]

    /// `7d` … `365d`, `previous-week`, `previous-month`, `previous-quarter`, `year-to-date`, `all`, or `YYYY-MM-DD..YYYY-MM-DD`.
    public var code: String {
        switch self {
        case let .days(n): "\(n)d"
        case .previousWeek: "previous-week"
        case .previousMonth: "previous-month"
        case .previousQuarter: "previous-quarter"
        case .yearToDate: "year-to-date"
        case let .between(from, to): "\(from.iso)..\(to.iso)"
        case .all: "all"
        }
    }

    public init(code raw: String) throws(ValidationError) {
        let code = raw.trimmed().lowercased()
        switch code {
        case "previous-week": self = .previousWeek
        case "previous-month": self = .previousMonth
        case "previous-quarter": self = .previousQuarter
        case "year-to-date": self = .yearToDate
        case "all": self = .all
        default:
            if code.hasSuffix("d"), let n = Int(code.dropLast()), (1...3660).contains(n) {
                self = .days(n)
            } else if let range = code.range(of: ".."), let from = CivilDate(iso: String(code[..<range.lowerBound])),
                      let to = CivilDate(iso: String(code[range.upperBound...])) {
                guard from <= to else { throw ValidationError(field: "period", reason: "ends before it starts") }
                self = .between(from, to)
            } else {
                throw ValidationError(field: "period", reason: "one of 7d…3660d, previous-week, previous-month, previous-quarter, year-to-date, all, or FROM..TO")
            }
        }
    }

    public init(from decoder: any Decoder) throws {
        try self.init(code: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(code)
    }

    /// The first and last day covered when run on `today` (nil: no bound).
    public func days(today: CivilDate) -> (from: CivilDate?, to: CivilDate?) {
        switch self {
        case let .days(n): return (today.adding(days: 1 - n), today)
        case .previousWeek:
            let monday = today.adding(days: 1 - today.weekday.rawValue)
            return (monday.adding(days: -7), monday.adding(days: -1))
        case .previousMonth:
            let first = CivilDate(year: today.year, month: today.month, day: 1) ?? today
            let previous = first.adding(days: -1)
            return (CivilDate(year: previous.year, month: previous.month, day: 1), previous)
        case .previousQuarter:
            let quarterStart = CivilDate(year: today.year, month: (today.month - 1) / 3 * 3 + 1, day: 1) ?? today
            let end = quarterStart.adding(days: -1)
            return (CivilDate(year: end.year, month: (end.month - 1) / 3 * 3 + 1, day: 1), end)
        case .yearToDate: return (CivilDate(year: today.year, month: 1, day: 1), today)
        case let .between(from, to): return (from, to)
        case .all: return (nil, nil)
        }
    }
}

public enum ReportChart: String, Codable, Sendable, CaseIterable {
    case bar, line, table
}

/// When a report is mailed: every Monday or on the 1st of every month, at 07:00 in the installation's time zone, to
/// the users named (each gets it within their own scope).
public struct ReportSchedule: Codable, Sendable, Equatable {
    public enum Every: String, Codable, Sendable, CaseIterable { case week, month }
    public var every: Every
    /// Logins.
    public var recipients: [String]

    public init(every: Every, recipients: [String]) {
        self.every = every
        self.recipients = recipients
    }

    public static let hour = 7

    /// The first sending moment strictly after `moment`.
    public func next(after moment: Date, zone: TimeZone) -> Date {
        let today = CivilDate.of(moment, in: zone)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        // 07:00 by the wall clock, also on a day the clocks change.
        func at(_ day: CivilDate) -> Date {
            calendar.date(bySettingHour: Self.hour, minute: 0, second: 0, of: day.start(in: zone)) ?? day.start(in: zone).addingTimeInterval(TimeInterval(Self.hour * 3600))
        }
        switch every {
        case .week:
            let monday = today.adding(days: 1 - today.weekday.rawValue)
            return at(monday) > moment ? at(monday) : at(monday.adding(days: 7))
        case .month:
            let first = CivilDate(year: today.year, month: today.month, day: 1) ?? today
            if at(first) > moment { return at(first) }
            let nextMonth = first.adding(days: 32)
            return at(CivilDate(year: nextMonth.year, month: nextMonth.month, day: 1) ?? nextMonth)
        }
    }
}
