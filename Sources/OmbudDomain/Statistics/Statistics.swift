import Foundation

/// What a statistics table is grouped by. Appeal-level dimensions put each appeal in one group; `topic`, `executor`,
/// `assignee` and `result` are the questions' and put an appeal in the group of each of its questions (once per group).
public enum StatsDimension: Hashable, Sendable, CustomStringConvertible {
    /// The question's topic; with a level, rolled up to the classifier's level 1–5.
    case topic(level: Int?)
    case office, executor, district, channel, status, kind, assignee
    /// The outcome of the question's consideration (`supported`, `explained`, `not-supported`…; "" while in work).
    case result
    case day, week, month, quarter, year

    public static let names = ["topic", "office", "executor", "district", "channel", "status", "kind", "assignee", "result",
                               "day", "week", "month", "quarter", "year"]

    public init(parsing raw: String, field: String = "groupBy") throws(ValidationError) {
        let text = raw.trimmed()
        if text == "topic" { self = .topic(level: nil); return }
        if text.hasPrefix("topic:") {
            guard let level = Int(text.dropFirst(6)), (1...5).contains(level) else {
                throw ValidationError(field: field, reason: "topic:N takes a classifier level from 1 to 5, not \(text.dropFirst(6))")
            }
            self = .topic(level: level)
            return
        }
        switch text {
        case "office": self = .office
        case "executor": self = .executor
        case "district": self = .district
        case "channel": self = .channel
        case "status": self = .status
        case "kind": self = .kind
        case "assignee": self = .assignee
        case "result": self = .result
        case "day": self = .day
        case "week": self = .week
        case "month": self = .month
        case "quarter": self = .quarter
        case "year": self = .year
        default:
            throw ValidationError(field: field, reason: "unknown dimension \(text); known: \(Self.names.joined(separator: ", "))")
        }
    }

    public var description: String {
        switch self {
        case let .topic(level?): "topic:\(level)"
        case .topic(nil): "topic"
        case .office: "office"
        case .executor: "executor"
        case .district: "district"
        case .channel: "channel"
        case .status: "status"
        case .kind: "kind"
        case .assignee: "assignee"
        case .result: "result"
        case .day: "day"
        case .week: "week"
        case .month: "month"
        case .quarter: "quarter"
        case .year: "year"
        }
    }

    /// The key a row's value is reported under: `topic` for every topic level.
    public var key: String {
        if case .topic = self { return "topic" }
        return description
    }

    /// A period of the day of receipt.
    public var isPeriod: Bool { [.day, .week, .month, .quarter, .year].contains(self) }

    /// Taken from the appeal's questions rather than the appeal.
    public var isQuestionLevel: Bool {
        switch self {
        case .topic, .executor, .assignee, .result: true
        default: false
        }
    }
}

public enum StatsMeasure: String, CaseIterable, Sendable {
    case count, open, closed, overdue, onTimeShare, medianDaysToClose, p90DaysToClose, avgRating, satisfiedShare, extended,
         redirected

    /// Needs the durations of closed appeals, not only sums.
    public var needsDurations: Bool { self == .medianDaysToClose || self == .p90DaysToClose }
}

/// A validated `groupBy` and `measures`.
public struct StatsSpec: Sendable, Equatable {
    public let groupBy: [StatsDimension]
    public let measures: [StatsMeasure]

    public init(groupBy: [StatsDimension], measures: [StatsMeasure]) {
        self.groupBy = groupBy
        self.measures = measures
    }

    /// `groupBy`: zero to two dimensions (zero gives only the total); `measures`: one or more, `count` by default.
    public static func parse(groupBy: String?, measures: String?) throws(ValidationError) -> StatsSpec {
        let dimensions = try (groupBy ?? "").split(separator: ",").map(String.init).filter { !$0.trimmed().isEmpty }
            .map { (raw) throws(ValidationError) in try StatsDimension(parsing: raw) }
        guard dimensions.count <= 2 else { throw ValidationError(field: "groupBy", reason: "takes at most two dimensions") }
        if dimensions.count == 2, dimensions[0].key == dimensions[1].key {
            throw ValidationError(field: "groupBy", reason: "names \(dimensions[0].key) twice")
        }
        var parsed: [StatsMeasure] = []
        for raw in (measures ?? "count").split(separator: ",").map({ $0.trimmed() }) where !raw.isEmpty {
            guard let measure = StatsMeasure(rawValue: raw) else {
                throw ValidationError(field: "measures", reason: "unknown measure \(raw); known: \(StatsMeasure.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if !parsed.contains(measure) { parsed.append(measure) }
        }
        guard !parsed.isEmpty else { throw ValidationError(field: "measures", reason: "is required") }
        return StatsSpec(groupBy: dimensions, measures: parsed)
    }
}

/// The additive part of a group's figures: sums that add up when groups are merged (days into months, say).
public struct StatsTally: Sendable, Equatable {
    public var count = 0
    public var open = 0
    public var closed = 0
    /// Open past the control date, or closed after it.
    public var overdue = 0
    /// Closed on or before the control date (or closed with none).
    public var closedOnTime = 0
    public var extended = 0
    public var redirected = 0
    /// Over each appeal's latest rating.
    public var ratingSum = 0
    public var rated = 0
    public var satisfied = 0
    /// Days from receipt to closing of each closed appeal, when a percentile is asked for.
    public var daysToClose: [Double] = []

    public init() {}

    public static func += (a: inout StatsTally, b: StatsTally) {
        a.count += b.count
        a.open += b.open
        a.closed += b.closed
        a.overdue += b.overdue
        a.closedOnTime += b.closedOnTime
        a.extended += b.extended
        a.redirected += b.redirected
        a.ratingSum += b.ratingSum
        a.rated += b.rated
        a.satisfied += b.satisfied
        a.daysToClose += b.daysToClose
    }

    /// Closed after the control date.
    public var closedLate: Int { closed - closedOnTime }
    /// Open past the control date now (`overdue` also counts those closed late).
    public var openOverdue: Int { max(overdue - closedLate, 0) }

    /// A rating this high (of 5) counts as satisfied.
    public static let satisfiedScore = 4

    /// The measure's value; nil where it has no meaning (a share of nothing, a median of no closed appeal).
    public func value(_ measure: StatsMeasure) -> Double? {
        switch measure {
        case .count: Double(count)
        case .open: Double(open)
        case .closed: Double(closed)
        case .overdue: Double(overdue)
        case .extended: Double(extended)
        case .redirected: Double(redirected)
        case .onTimeShare: closed == 0 ? nil : Self.rounded(Double(closedOnTime) / Double(closed), places: 4)
        case .avgRating: rated == 0 ? nil : Self.rounded(Double(ratingSum) / Double(rated), places: 2)
        case .satisfiedShare: rated == 0 ? nil : Self.rounded(Double(satisfied) / Double(rated), places: 4)
        case .medianDaysToClose: Percentile.of(daysToClose, 0.5).map { Self.rounded($0, places: 2) }
        case .p90DaysToClose: Percentile.of(daysToClose, 0.9).map { Self.rounded($0, places: 2) }
        }
    }

    public static func rounded(_ value: Double, places: Int) -> Double {
        let scale = pow(10, Double(places))
        return (value * scale).rounded() / scale
    }
}

public enum Percentile {
    /// The p-th percentile by linear interpolation between closest ranks (Excel's PERCENTILE.INC, NumPy's default).
    public static func inclusive(_ sorted: [Double], _ p: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let rank = p * Double(sorted.count - 1)
        let low = Int(rank.rounded(.down))
        let high = min(low + 1, sorted.count - 1)
        return sorted[low] + (sorted[high] - sorted[low]) * (rank - Double(low))
    }

    /// The same of values in any order, in linear time: the two closest ranks are selected, not the whole list sorted
    /// (a million durations sort in a tenth of a second).
    public static func of(_ values: [Double], _ p: Double) -> Double? {
        guard !values.isEmpty else { return nil }
        var a = values
        let rank = p * Double(a.count - 1)
        let low = Int(rank.rounded(.down))
        select(&a, low)
        // Everything after `low` is no smaller than it: the next rank is their least.
        let high = low + 1 < a.count ? a[(low + 1)...].min() ?? a[low] : a[low]
        return a[low] + (high - a[low]) * (rank - Double(low))
    }

    /// Moves the k-th smallest value to index k, smaller ones before it and the others after (Hoare's selection).
    static func select(_ a: inout [Double], _ k: Int) {
        var lo = 0
        var hi = a.count - 1
        while lo < hi {
            let pivot = Swift.max(Swift.min(a[lo], a[hi]), Swift.min(Swift.max(a[lo], a[hi]), a[(lo + hi) / 2]))
            var i = lo
            var j = hi
            while i <= j {
                while a[i] < pivot { i += 1 }
                while a[j] > pivot { j -= 1 }
                if i <= j {
                    a.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            if k <= j { hi = j } else if k >= i { lo = i } else { return }
        }
    }
}

/// Codes of the periods a day of receipt falls in.
public enum StatsPeriod {
    /// `2015-03-01`, `2015-W09` (ISO week), `2015-03`, `2015-Q1`, `2015`; nil for a dimension that is not a period.
    public static func code(_ dimension: StatsDimension, of day: CivilDate) -> String? {
        switch dimension {
        case .day: return day.iso
        case .week:
            let (year, week) = isoWeek(day)
            return String(format: "%04d-W%02d", year, week)
        case .month: return String(format: "%04d-%02d", day.year, day.month)
        case .quarter: return String(format: "%04d-Q%d", day.year, (day.month - 1) / 3 + 1)
        case .year: return String(format: "%04d", day.year)
        default: return nil
        }
    }

    /// The ISO 8601 week-numbering year and week: weeks start on Monday, week 1 holds the year's first Thursday.
    public static func isoWeek(_ day: CivilDate) -> (year: Int, week: Int) {
        let thursday = day.adding(days: 4 - day.weekday.rawValue) // Monday is 1
        let firstOfYear = CivilDate(year: thursday.year, month: 1, day: 1) ?? thursday
        return (thursday.year, firstOfYear.days(until: thursday) / 7 + 1)
    }
}

/// A time zone's offsets from UTC over a span, for databases that cannot convert to a named zone (SQLite): the local
/// day of a moment is the UTC day of the moment plus the offset in force then.
public struct OffsetSpan: Sendable, Equatable {
    /// The span ends before this moment (nil: the last span, open-ended).
    public let until: Date?
    public let seconds: Int

    public init(until: Date?, seconds: Int) {
        self.until = until
        self.seconds = seconds
    }

    /// The offsets in force from `from` to `to`, in order; one span for a zone without transitions in between.
    public static func spans(_ zone: TimeZone, from: Date, to: Date) -> [OffsetSpan] {
        var spans: [OffsetSpan] = []
        var moment = from
        while let next = zone.nextDaylightSavingTimeTransition(after: moment), next < to, spans.count < 2000 {
            spans.append(OffsetSpan(until: next, seconds: zone.secondsFromGMT(for: moment)))
            moment = next
        }
        spans.append(OffsetSpan(until: nil, seconds: zone.secondsFromGMT(for: moment)))
        return spans
    }
}

/// Square cells of about `meters` over a box of the map, for the hotspot grid: the step in latitude is the same
/// everywhere, the step in longitude is widened by the box's middle latitude so cells stay square on the ground.
public struct MapGrid: Sendable, Equatable {
    public struct Box: Sendable, Equatable {
        public let minLon, minLat, maxLon, maxLat: Double

        public init(minLon: Double, minLat: Double, maxLon: Double, maxLat: Double) {
            self.minLon = minLon
            self.minLat = minLat
            self.maxLon = maxLon
            self.maxLat = maxLat
        }

        /// Everything Web Mercator draws.
        public static let world = Box(minLon: -180, minLat: -85, maxLon: 180, maxLat: 85)

        /// `minLon,minLat,maxLon,maxLat` in degrees, as Open311 and most map libraries write a box.
        public init(parsing raw: String, field: String = "bbox") throws(ValidationError) {
            let numbers = raw.split(separator: ",", omittingEmptySubsequences: false).map { Double($0.trimmed()) }
            guard numbers.count == 4, let minLon = numbers[0], let minLat = numbers[1], let maxLon = numbers[2], let maxLat = numbers[3],
                  [minLon, minLat, maxLon, maxLat].allSatisfy(\.isFinite) else {
                throw ValidationError(field: field, reason: "expected four numbers: minLon,minLat,maxLon,maxLat")
            }
            guard (-180...180).contains(minLon), (-180...180).contains(maxLon), (-90...90).contains(minLat), (-90...90).contains(maxLat) else {
                throw ValidationError(field: field, reason: "longitudes are within ±180 and latitudes within ±90")
            }
            guard minLon < maxLon, minLat < maxLat else { throw ValidationError(field: field, reason: "the minimum must be below the maximum") }
            self.init(minLon: minLon, minLat: minLat, maxLon: maxLon, maxLat: maxLat)
        }
    }

    public static let metersPerDegree = 111_320.0
    public static let maxCells = 250_000
    public static let minMeters = 100.0

    public let box: Box
    public let meters: Double
    public let latStep: Double
    public let lonStep: Double

    public init(box: Box, meters: Double, field: String = "cell") throws(ValidationError) {
        // Not finer than 100 m: a cell holding one appeal would place it within a few metres, and the statistics
        // show no addresses.
        guard meters.isFinite, (Self.minMeters...200_000).contains(meters) else {
            throw ValidationError(field: field, reason: "must be between \(Int(Self.minMeters)) and 200000 metres")
        }
        self.box = box
        self.meters = meters
        latStep = meters / Self.metersPerDegree
        let middle = (box.minLat + box.maxLat) / 2 * .pi / 180
        lonStep = meters / (Self.metersPerDegree * max(cos(middle), 0.01))
        let cells = ((box.maxLat - box.minLat) / latStep).rounded(.up) * ((box.maxLon - box.minLon) / lonStep).rounded(.up)
        guard cells <= Double(Self.maxCells) else {
            throw ValidationError(field: field, reason: "is too small for this box: more than \(Self.maxCells) cells")
        }
    }

    /// The cell a point falls in (row from the south, column from the west).
    public func cell(lat: Double, lon: Double) -> (y: Int, x: Int) {
        (Int(((lat - box.minLat) / latStep).rounded(.down)), Int(((lon - box.minLon) / lonStep).rounded(.down)))
    }

    /// The middle of a cell, rounded to six decimals (about ten centimetres).
    public func center(y: Int, x: Int) -> (lat: Double, lon: Double) {
        (StatsTally.rounded(box.minLat + (Double(y) + 0.5) * latStep, places: 6), StatsTally.rounded(box.minLon + (Double(x) + 0.5) * lonStep, places: 6))
    }
}
