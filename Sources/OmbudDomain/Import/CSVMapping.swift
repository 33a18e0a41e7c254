import Foundation

/// How another system's CSV export maps onto Ombud's appeals (`ombud import csv --mapping MAP.json`): which column
/// holds which field, how its dates are written, and how its values translate.
public struct CSVMapping: Sendable {
    public static let fieldNames = ["externalId", "receivedAt", "registeredAt", "controlDate", "closedAt", "category", "executor",
                                    "district", "address", "lat", "lon", "channel", "text", "status", "kind"]
    /// Fields whose values are Ombud's own words, translatable with `values`.
    public static let valueFields = ["status", "channel", "kind"]

    public let source: String
    public let timeZone: TimeZone
    public let dates: [DatePattern]
    /// Ombud field → the source's column.
    public let fields: [String: String]
    /// Ombud field → source value → Ombud value (`*`: any other).
    public let values: [String: [String: String]]

    struct File: Decodable {
        var source: String?
        var timezone: String?
        var dateFormats: [String]?
        var fields: [String: String]?
        var values: [String: [String: String]]?
    }

    /// Reads and checks a mapping file; the error names the setting.
    /// - Parameter known: whether a value is one of Ombud's for a field of `valueFields`.
    public init(json: Data, known: (String, String) -> Bool) throws(ValidationError) {
        let file: File
        do { file = try JSONDecoder().decode(File.self, from: json) } catch {
            throw ValidationError(field: "mapping", reason: "is not a mapping file: \(error)")
        }
        guard let source = file.source?.trimmed(), !source.isEmpty else { throw ValidationError(field: "source", reason: "is required") }
        guard source.count <= 40 else { throw ValidationError(field: "source", reason: "is longer than 40 characters") }
        self.source = source
        let zone = file.timezone?.trimmed() ?? "UTC"
        guard let timeZone = TimeZone(identifier: zone) else { throw ValidationError(field: "timezone", reason: "unknown time zone \(zone)") }
        self.timeZone = timeZone
        dates = try (file.dateFormats ?? []).enumerated().map { (index, pattern) throws(ValidationError) in
            try DatePattern(pattern, field: "dateFormats[\(index)]")
        }
        let fields = file.fields ?? [:]
        for key in fields.keys.sorted() where !Self.fieldNames.contains(key) {
            throw ValidationError(field: "fields.\(key)", reason: "unknown field; known: \(Self.fieldNames.joined(separator: ", "))")
        }
        for key in ["externalId", "receivedAt"] where fields[key]?.trimmed().isEmpty ?? true {
            throw ValidationError(field: "fields.\(key)", reason: "is required")
        }
        self.fields = fields
        let values = file.values ?? [:]
        for (field, map) in values.sorted(by: { $0.key < $1.key }) {
            guard Self.valueFields.contains(field) else {
                throw ValidationError(field: "values.\(field)", reason: "only \(Self.valueFields.joined(separator: ", ")) take values")
            }
            for (from, to) in map.sorted(by: { $0.key < $1.key }) where !known(field, to) {
                throw ValidationError(field: "values.\(field).\(from)", reason: "\(to) is not an Ombud \(field)")
            }
        }
        self.values = values
    }

    /// The columns the mapping names that the file's header lacks.
    public func missingColumns(header: [String]) -> [String] {
        let present = Set(header.map { $0.trimmed() })
        return fields.values.filter { !present.contains($0.trimmed()) }.sorted()
    }

    /// A source value translated by `values` (trimmed; `*` for any other); nil when it has no translation.
    public func translate(_ field: String, _ raw: String) -> String? {
        guard let map = values[field] else { return raw }
        return map[raw] ?? map["*"]
    }

    /// Parses a date or a moment: the patterns in order, then ISO 8601 (with or without a time and an offset).
    /// Without an offset, the time is local to the mapping's zone.
    public func moment(_ raw: String) -> Date? {
        let text = raw.trimmed()
        guard !text.isEmpty else { return nil }
        for pattern in dates {
            if let parts = pattern.parse(text) { return parts.moment(in: timeZone) }
        }
        return DatePattern.iso(text)?.moment(in: timeZone)
    }

    /// A day (a control date): the local day of the moment.
    public func day(_ raw: String) -> CivilDate? {
        let text = raw.trimmed()
        guard !text.isEmpty else { return nil }
        for pattern in dates {
            if let parts = pattern.parse(text) { return parts.day }
        }
        return DatePattern.iso(text)?.day
    }
}

/// The date and time a text names, before a time zone makes it a moment.
public struct DateParts: Sendable, Equatable {
    public var day: CivilDate
    public var seconds: Double
    /// From UTC, when the text said.
    public var offset: Int?

    public init(day: CivilDate, seconds: Double, offset: Int?) {
        self.day = day
        self.seconds = seconds
        self.offset = offset
    }

    public func moment(in zone: TimeZone) -> Date {
        let local = Double(day.dayNumber) * 86_400 + seconds
        if let offset { return Date(timeIntervalSince1970: local - Double(offset)) }
        // The zone's offset at that local time: guessed from UTC, then corrected once (right except inside a DST gap).
        let guess = Double(zone.secondsFromGMT(for: Date(timeIntervalSince1970: local)))
        let offset = Double(zone.secondsFromGMT(for: Date(timeIntervalSince1970: local - guess)))
        return Date(timeIntervalSince1970: local - offset)
    }
}

/// A Unicode date pattern (`MM/dd/yyyy hh:mm:ss a`, `dd.MM.yyyy HH:mm`, `yyyy-MM-dd'T'HH:mm:ss.SSS`), parsed without
/// Foundation's formatters, which are far too slow for a million rows. Supported: y, M (numeric), d, H, h, m, s, S,
/// a (AM/PM), quoted literals and any other character as itself.
public struct DatePattern: Sendable, Equatable {
    enum Token: Sendable, Equatable {
        case year, month, day, hour24, hour12, minute, second, fraction, ampm
        case literal([UInt8])
    }

    let tokens: [Token]
    public let text: String

    public init(_ pattern: String, field: String = "dateFormats") throws(ValidationError) {
        text = pattern
        var tokens: [Token] = []
        let chars = Array(pattern)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "'" {
                var literal = ""
                i += 1
                while i < chars.count, chars[i] != "'" { literal.append(chars[i]); i += 1 }
                i += 1
                tokens.append(.literal(Array((literal.isEmpty ? "'" : literal).utf8)))
                continue
            }
            var run = 1
            while i + run < chars.count, chars[i + run] == c { run += 1 }
            let token: Token
            switch c {
            case "y", "u":
                guard run != 2 else { throw ValidationError(field: field, reason: "two-digit years (yy) are not supported; use yyyy") }
                token = .year
            case "M", "L":
                guard run <= 2 else { throw ValidationError(field: field, reason: "month names (MMM) are not supported; use MM") }
                token = .month
            case "d": token = .day
            case "H": token = .hour24
            case "h": token = .hour12
            case "m": token = .minute
            case "s": token = .second
            case "S": token = .fraction
            case "a": token = .ampm
            default:
                guard !c.isLetter else { throw ValidationError(field: field, reason: "the pattern letter \(c) is not supported") }
                token = .literal(Array(String(repeating: c, count: run).utf8))
            }
            tokens.append(token)
            i += run
        }
        guard tokens.contains(.year), tokens.contains(.month), tokens.contains(.day) else {
            throw ValidationError(field: field, reason: "needs the year, month and day (y, M, d)")
        }
        self.tokens = tokens
    }

    public func parse(_ text: String) -> DateParts? {
        let bytes = Array(text.utf8)
        var i = 0
        var year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0
        var fraction = 0.0
        var pm: Bool?
        func number(max digits: Int) -> Int? {
            var value = 0, n = 0
            while i < bytes.count, n < digits, bytes[i] >= 0x30, bytes[i] <= 0x39 {
                value = value * 10 + Int(bytes[i] - 0x30)
                i += 1
                n += 1
            }
            return n == 0 ? nil : value
        }
        for token in tokens {
            switch token {
            case .year: guard let v = number(max: 4) else { return nil }; year = v
            case .month: guard let v = number(max: 2) else { return nil }; month = v
            case .day: guard let v = number(max: 2) else { return nil }; day = v
            case .hour24, .hour12: guard let v = number(max: 2) else { return nil }; hour = v
            case .minute: guard let v = number(max: 2) else { return nil }; minute = v
            case .second: guard let v = number(max: 2) else { return nil }; second = v
            case .fraction:
                let start = i
                guard let v = number(max: 9) else { return nil }
                fraction = Double(v) / pow(10, Double(i - start))
            case .ampm:
                guard i + 1 < bytes.count else { return nil }
                let first = bytes[i] | 0x20, second = bytes[i + 1] | 0x20
                guard second == 0x6D, first == 0x61 || first == 0x70 else { return nil }
                pm = first == 0x70
                i += 2
            case let .literal(literal):
                guard bytes.count - i >= literal.count, Array(bytes[i..<i + literal.count]) == literal else { return nil }
                i += literal.count
            }
        }
        guard i == bytes.count else { return nil }
        if let pm {
            guard (1...12).contains(hour) else { return nil }
            hour = hour % 12 + (pm ? 12 : 0)
        }
        guard tokens.contains(.year) ? year >= 1000 : true, let date = CivilDate(year: year, month: month, day: day),
              hour < 24, minute < 60, second < 61 else { return nil }
        return DateParts(day: date, seconds: Double(hour * 3600 + minute * 60 + second) + fraction, offset: nil)
    }

    /// `2015-03-01`, `2015-03-01T12:30`, `2015-03-01 12:30:45.123`, each optionally followed by `Z` or `±hh:mm`.
    public static func iso(_ text: String) -> DateParts? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 10, bytes[4] == 0x2D, bytes[7] == 0x2D else { return nil }
        func digits(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= bytes.count else { return nil }
            var value = 0
            for b in bytes[range] {
                guard b >= 0x30, b <= 0x39 else { return nil }
                value = value * 10 + Int(b - 0x30)
            }
            return value
        }
        guard let year = digits(0..<4), let month = digits(5..<7), let dayNumber = digits(8..<10),
              let day = CivilDate(year: year, month: month, day: dayNumber) else { return nil }
        if bytes.count == 10 { return DateParts(day: day, seconds: 0, offset: nil) }
        guard bytes[10] == 0x54 || bytes[10] == 0x20, let hour = digits(11..<13), bytes.count >= 16, bytes[13] == 0x3A,
              let minute = digits(14..<16), hour < 24, minute < 60 else { return nil }
        var i = 16
        var seconds = Double(hour * 3600 + minute * 60)
        if i < bytes.count, bytes[i] == 0x3A {
            guard let s = digits(i + 1..<i + 3), s < 61 else { return nil }
            seconds += Double(s)
            i += 3
            if i < bytes.count, bytes[i] == 0x2E || bytes[i] == 0x2C {
                i += 1
                var scale = 0.1
                let start = i
                while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 { seconds += Double(bytes[i] - 0x30) * scale; scale /= 10; i += 1 }
                guard i > start else { return nil }
            }
        }
        if i == bytes.count { return DateParts(day: day, seconds: seconds, offset: nil) }
        if bytes[i] == 0x5A, i + 1 == bytes.count { return DateParts(day: day, seconds: seconds, offset: 0) }
        guard bytes[i] == 0x2B || bytes[i] == 0x2D, let h = digits(i + 1..<i + 3) else { return nil }
        var j = i + 3
        if j < bytes.count, bytes[j] == 0x3A { j += 1 }
        guard let m = digits(j..<j + 2), j + 2 == bytes.count else { return nil }
        return DateParts(day: day, seconds: seconds, offset: (bytes[i] == 0x2D ? -1 : 1) * (h * 3600 + m * 60))
    }
}

/// One row of another system's export, mapped and checked: what `ombud import csv` stores as an appeal.
public struct MappedAppeal: Sendable, Equatable {
    public var externalID: String
    public var receivedAt: Date
    public var registeredAt: Date?
    public var controlDate: CivilDate?
    /// Set when the status is final.
    public var closedAt: Date?
    public var status: String
    public var channel: String
    public var kind: String
    public var category: String?
    public var executor: String?
    public var district: String?
    public var address: String?
    public var lat: Double?
    public var lon: Double?
    public var text: String
}

extension CSVMapping {
    /// The column index of each mapped field in a file with this header.
    public func columns(header: [String]) -> [String: Int] {
        let index = Dictionary(header.enumerated().map { ($0.element.trimmed(), $0.offset) }, uniquingKeysWith: { first, _ in first })
        return fields.compactMapValues { index[$0.trimmed()] }
    }

    /// A row as an appeal, or why it is refused.
    /// - Parameter terminal: whether an Ombud status is final (nil: not a status).
    public func appeal(_ row: [String], columns: [String: Int], terminal: (String) -> Bool?) -> Result<MappedAppeal, ValidationError> {
        func value(_ field: String) -> String? {
            guard let column = columns[field], column < row.count else { return nil }
            let text = row[column].trimmed()
            return text.isEmpty ? nil : text
        }
        func refuse(_ field: String, _ reason: String) -> Result<MappedAppeal, ValidationError> {
            .failure(ValidationError(field: field, reason: reason))
        }
        func ombudValue(_ field: String, default fallback: String) -> Result<String, ValidationError> {
            guard let raw = value(field) else {
                guard let map = values[field] else { return .success(fallback) }
                return map["*"].map { .success($0) } ?? .success(fallback)
            }
            guard let translated = translate(field, raw) else {
                return .failure(ValidationError(field: field, reason: "no value in the mapping for \(raw)"))
            }
            return .success(translated)
        }
        guard let externalID = value("externalId") else { return refuse("externalId", "is empty") }
        guard externalID.count <= 200 else { return refuse("externalId", "is longer than 200 characters") }
        guard let rawReceived = value("receivedAt") else { return refuse("receivedAt", "is empty") }
        guard let receivedAt = moment(rawReceived) else { return refuse("receivedAt", "cannot read \(rawReceived) as a date") }
        var registeredAt: Date?
        if let raw = value("registeredAt") {
            guard let moment = moment(raw) else { return refuse("registeredAt", "cannot read \(raw) as a date") }
            registeredAt = moment
        }
        var controlDate: CivilDate?
        if let raw = value("controlDate") {
            guard let day = day(raw) else { return refuse("controlDate", "cannot read \(raw) as a date") }
            controlDate = day
        }
        var closedAt: Date?
        if let raw = value("closedAt") {
            guard let moment = moment(raw) else { return refuse("closedAt", "cannot read \(raw) as a date") }
            guard moment >= receivedAt else { return refuse("closedAt", "is before receivedAt") }
            closedAt = moment
        }
        let status: String
        if fields["status"] == nil {
            status = closedAt == nil ? "in-progress" : "closed"
        } else {
            switch ombudValue("status", default: "in-progress") {
            case let .success(value): status = value
            case let .failure(error): return .failure(error)
            }
        }
        guard let final = terminal(status) else { return refuse("status", "\(status) is not an Ombud status") }
        if final {
            guard closedAt != nil else { return refuse("closedAt", "is required for the final status \(status)") }
        } else {
            closedAt = nil
        }
        var words: [String: String] = [:]
        for (field, fallback) in [("channel", "other"), ("kind", "statement")] {
            switch ombudValue(field, default: fallback) {
            case let .success(value): words[field] = value
            case let .failure(error): return .failure(error)
            }
        }
        guard let channel = words["channel"], AppealChannel(rawValue: channel) != nil else { return refuse("channel", "\(words["channel"] ?? "") is not an Ombud channel") }
        guard let kind = words["kind"], AppealKind(rawValue: kind) != nil else { return refuse("kind", "\(words["kind"] ?? "") is not an Ombud kind") }
        var lat: Double?, lon: Double?
        if let rawLat = value("lat"), let rawLon = value("lon") {
            guard let y = Double(rawLat), (-90...90).contains(y) else { return refuse("lat", "\(rawLat) is not a latitude") }
            guard let x = Double(rawLon), (-180...180).contains(x) else { return refuse("lon", "\(rawLon) is not a longitude") }
            (lat, lon) = (y, x)
        }
        return .success(MappedAppeal(
            externalID: externalID, receivedAt: receivedAt, registeredAt: registeredAt, controlDate: controlDate, closedAt: closedAt,
            status: status, channel: channel, kind: kind, category: value("category").map { String($0.prefix(500)) },
            executor: value("executor").map { String($0.prefix(300)) }, district: value("district").map { String($0.prefix(200)) },
            address: value("address").map { String($0.prefix(1000)) }, lat: lat, lon: lon, text: value("text") ?? ""))
    }

    /// A stable code for a value of `source` (a topic or a unit made from it): the source's letters and a hash of
    /// the value, so that the same value finds the same topic in every run.
    public static func code(source: String, value: String?) -> String {
        let slug = String(source.lowercased().unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) && $0.isASCII }
            .map(Character.init).prefix(20))
        let base = slug.isEmpty ? "import" : slug
        guard let value else { return base }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325 // FNV-1a, 64 bits
        for byte in value.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return base + "." + String(hash, radix: 16)
    }
}
