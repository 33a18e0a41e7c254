/// Which days an organisation works. Weekends come from the week pattern; holidays and transfers
/// come from data (the production calendar), never from code.
public struct BusinessCalendar: Sendable, Equatable {
    public enum DayKind: String, Codable, Sendable {
        case nonWorking = "non-working"
        case working
        case shortened
    }

    public struct Day: Sendable, Equatable, Codable {
        public let date: CivilDate
        public let kind: DayKind
        public let holiday: String?
        public init(date: CivilDate, kind: DayKind, holiday: String? = nil) {
            self.date = date; self.kind = kind; self.holiday = holiday
        }
    }

    public var weekend: Set<Weekday>
    public private(set) var exceptions: [CivilDate: DayKind] = [:]

    public init(weekend: Set<Weekday> = [.saturday, .sunday], days: [Day] = []) {
        self.weekend = weekend
        for day in days { exceptions[day.date] = day.kind }
    }

    public mutating func add(_ day: Day) { exceptions[day.date] = day.kind }

    public func isWorkingDay(_ date: CivilDate) -> Bool {
        switch exceptions[date] {
        case .nonWorking: return false
        case .working, .shortened: return true
        case nil: return !weekend.contains(date.weekday)
        }
    }

    public func previousWorkingDay(onOrBefore date: CivilDate) -> CivilDate {
        var d = date
        // A year has far fewer than 60 consecutive days off; the bound guards against a corrupt calendar.
        for _ in 0..<60 where !isWorkingDay(d) { d = d.adding(days: -1) }
        return d
    }

    public func nextWorkingDay(onOrAfter date: CivilDate) -> CivilDate {
        var d = date
        for _ in 0..<60 where !isWorkingDay(d) { d = d.adding(days: 1) }
        return d
    }

    /// The date `count` working days after `date` (the start day itself not counted).
    public func addingWorkingDays(_ count: Int, to date: CivilDate) -> CivilDate {
        var d = date
        var left = count
        let step = count >= 0 ? 1 : -1
        while left != 0 {
            d = d.adding(days: step)
            if isWorkingDay(d) { left -= step }
        }
        return d
    }

    public func workingDays(from start: CivilDate, through end: CivilDate) -> Int {
        guard start <= end else { return 0 }
        return (start.dayNumber...end.dayNumber).filter { isWorkingDay(CivilDate(dayNumber: $0)) }.count
    }
}
