/// A date of the Solar Hijri (Jalali) calendar, official in Iran: the year begins at Nowruz (the March equinox),
/// months 1–6 have 31 days, 7–11 have 30, Esfand (12) 29 or 30.
///
/// The arithmetic is Borkowski's, with the table of breaks in the 33-year cycle that the `jalaali` libraries use;
/// it agrees with the astronomical calendar for Solar Hijri years -61 to 3177.
public struct SolarHijriDate: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    public static let validYears = -61..<3178

    public init?(year: Int, month: Int, day: Int) {
        guard Self.validYears.contains(year), (1...12).contains(month), day >= 1,
              day <= Self.daysIn(month: month, year: year) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// `YYYY-MM-DD`, with Latin or Persian/Arabic digits.
    public init?(iso: String) {
        let parts = String(String.UnicodeScalarView(iso.unicodeScalars.map { TextNormalizer.asciiDigit($0) ?? $0 })).split(separator: "-")
        guard parts.count == 3, let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]) else { return nil }
        self.init(year: y, month: m, day: d)
    }

    /// The Gregorian day this date falls on.
    public init(_ date: CivilDate) {
        var jy = date.year - 621
        let cycle = Self.cycle(jy)
        var k = date.dayNumber - Self.nowruz(jy, march: cycle.march)
        if k >= 0 {
            if k <= 185 {
                year = jy; month = 1 + k / 31; day = k % 31 + 1
                return
            }
            k -= 186
        } else {
            jy -= 1
            k += 179
            if cycle.leap == 1 { k += 1 }
        }
        year = jy
        month = 7 + k / 30
        day = k % 30 + 1
    }

    public var civilDate: CivilDate {
        let cycle = Self.cycle(year)
        return CivilDate(dayNumber: Self.nowruz(year, march: cycle.march) + (month - 1) * 31 - month / 7 * (month - 7) + day - 1)
    }

    public var iso: String { CivilDate.iso(year: year, month: month, day: day) }

    public var description: String { iso }

    public static func < (a: SolarHijriDate, b: SolarHijriDate) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }

    public static func isLeap(_ year: Int) -> Bool { validYears.contains(year) && cycle(year).leap == 0 }

    public static func daysIn(month: Int, year: Int) -> Int {
        month <= 6 ? 31 : month <= 11 ? 30 : isLeap(year) ? 30 : 29
    }

    /// `۱۴۰۵-۰۹-۰۱`: the same text with Persian digits.
    public static func persianDigits(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { scalar in
            (0x30...0x39).contains(scalar.value) ? Unicode.Scalar(scalar.value - 0x30 + 0x06F0)! : scalar
        }))
    }

    // MARK: arithmetic

    private static let breaks = [-61, 9, 38, 199, 426, 686, 756, 818, 1111, 1181, 1210, 1635, 2060, 2097, 2192, 2262, 2324, 2394, 2456, 3178]

    /// For year `jy`: `leap` (0 in a leap year, else years since the last leap year) and the day of March of Nowruz.
    private static func cycle(_ jy: Int) -> (leap: Int, march: Int) {
        let gy = jy + 621
        var leapJ = -14
        var jp = breaks[0]
        var jump = 0
        for jm in breaks.dropFirst() {
            jump = jm - jp
            if jy < jm { break }
            leapJ += jump / 33 * 8 + (jump % 33) / 4
            jp = jm
        }
        var n = jy - jp
        leapJ += n / 33 * 8 + (n % 33 + 3) / 4
        if jump % 33 == 4 && jump - n == 4 { leapJ += 1 }
        let leapG = gy / 4 - (gy / 100 + 1) * 3 / 4 - 150
        let march = 20 + leapJ - leapG
        if jump - n < 6 { n = n - jump + (jump + 4) / 33 * 33 }
        var leap = ((n + 1) % 33 - 1) % 4
        if leap == -1 { leap = 4 }
        return (leap, march)
    }

    /// Days since 1970-01-01 of Nowruz (1 Farvardin) of Solar Hijri year `jy`.
    private static func nowruz(_ jy: Int, march: Int) -> Int {
        CivilDate(year: jy + 621, month: 3, day: march)!.dayNumber
    }
}

/// Iran's public holidays for a year, as the yearly data an administrator loads: one line per day off,
/// `YYYY-MM-DD,name` with a Solar Hijri date (Latin or Persian digits), `#` for comments. The lunar holidays move
/// every year and depend on the official sighting of the moon, so they come from this data, never from code.
public enum SolarHijriHolidays {
    /// Fridays are the weekend in Iran; many offices also close on Thursdays, which an installation can add.
    public static let weekend: Set<Weekday> = [.friday]

    public static func parse(_ text: String) throws(ValidationError) -> [BusinessCalendar.Day] {
        var days: [BusinessCalendar.Day] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmed()
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            let fields = line.split(separator: ",", maxSplits: 1).map { $0.trimmed() }
            guard let date = SolarHijriDate(iso: fields[0]) else {
                throw ValidationError(field: "line \(index + 1)", reason: "\(fields[0]) is not a Solar Hijri date (YYYY-MM-DD)")
            }
            let name = fields.count > 1 && !fields[1].isEmpty ? fields[1] : nil
            days.append(BusinessCalendar.Day(date: date.civilDate, kind: .nonWorking, holiday: name))
        }
        guard !days.isEmpty else { throw ValidationError(field: "file", reason: "no holidays in the file") }
        return days
    }
}

extension CalendarSystem {
    /// The usual weekend: Saturday and Sunday, Friday in Iran.
    public var defaultWeekend: Set<Weekday> { self == .solarHijri ? SolarHijriHolidays.weekend : [.saturday, .sunday] }

    /// The Gregorian days of `year` counted in this system; nil for a year the system cannot hold.
    public func days(ofYear year: Int) -> ClosedRange<CivilDate>? {
        switch self {
        case .gregorian:
            guard let first = CivilDate(year: year, month: 1, day: 1), let last = CivilDate(year: year, month: 12, day: 31) else { return nil }
            return first...last
        case .solarHijri:
            guard let first = SolarHijriDate(year: year, month: 1, day: 1), let next = SolarHijriDate(year: year + 1, month: 1, day: 1) else { return nil }
            return first.civilDate...next.civilDate.adding(days: -1)
        }
    }

    /// The year of `date` in this system.
    public func year(of date: CivilDate) -> Int { self == .solarHijri ? SolarHijriDate(date).year : date.year }

    /// `date` written in this system's dates, when they differ from the Gregorian ones.
    public func localDate(_ date: CivilDate) -> String? { self == .solarHijri ? SolarHijriDate(date).iso : nil }
}
