import Foundation

/// The spec's date-time: W3C (ISO 8601 subset) with a time zone, seconds optional.
public enum W3CDateTime {
    /// In the installation's zone with its offset, e.g. `2026-11-22T10:15:30+03:00`. Plain arithmetic, no Calendar or
    /// String(format:): a list of 1,000 requests writes 3,000 of these.
    public static func string(_ date: Date, zone: TimeZone) -> String {
        let offset = zone.secondsFromGMT(for: date)
        let local = Int(date.timeIntervalSince1970.rounded(.down)) + offset
        let days = Int((Double(local) / 86_400).rounded(.down))
        let seconds = local - days * 86_400
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : String(n) }
        let zoneText = offset == 0 ? "Z" : (offset < 0 ? "-" : "+") + two(abs(offset) / 3600) + ":" + two(abs(offset) % 3600 / 60)
        return CivilDate(dayNumber: days).iso + "T" + two(seconds / 3600) + ":" + two(seconds % 3600 / 60) + ":" + two(seconds % 60) + zoneText
    }

    /// `YYYY-MM-DDThh:mm[:ss[.s…]](Z|±hh:mm)`; nil for anything else, a date without a zone included.
    public static func parse(_ raw: String) -> Date? {
        let s = Array(raw.trimmed().utf8)
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= s.count, range.allSatisfy({ (48...57).contains(s[$0]) }) else { return nil }
            return range.reduce(0) { $0 * 10 + Int(s[$1] - 48) }
        }
        guard s.count >= 17, let year = number(0..<4), s[4] == 45, let month = number(5..<7), s[7] == 45, let day = number(8..<10),
              s[10] == 84 || s[10] == 116, let hour = number(11..<13), s[13] == 58, let minute = number(14..<16) else { return nil }
        var i = 16
        var second = 0.0
        if i < s.count, s[i] == 58 {
            guard let whole = number(i + 1..<i + 3) else { return nil }
            second = Double(whole)
            i += 3
            if i < s.count, s[i] == 46 {
                var j = i + 1
                var fraction = 0.0, scale = 0.1
                while j < s.count, (48...57).contains(s[j]) { fraction += Double(s[j] - 48) * scale; scale /= 10; j += 1 }
                guard j > i + 1 else { return nil }
                second += fraction
                i = j
            }
        }
        guard i < s.count else { return nil }
        var offset = 0
        if s[i] == 90 || s[i] == 122 {
            guard i + 1 == s.count else { return nil }
        } else if s[i] == 43 || s[i] == 45 {
            guard i + 6 == s.count, let h = number(i + 1..<i + 3), s[i + 3] == 58, let m = number(i + 4..<i + 6), h <= 23, m <= 59 else { return nil }
            offset = (h * 3600 + m * 60) * (s[i] == 45 ? -1 : 1)
        } else { return nil }
        guard (1...12).contains(month), (1...31).contains(day), hour <= 23, minute <= 59, second < 61 else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0)!
        guard let date = calendar.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute)),
              calendar.component(.day, from: date) == day else { return nil }
        return date.addingTimeInterval(second - Double(offset))
    }
}

/// `GET requests.{fmt}`: which requests a client asks for, checked as the spec and this server allow.
public struct GeoRequestQuery: Sendable, Equatable {
    public enum Status: String, Sendable, CaseIterable { case open, closed }

    /// The longest period one query may span, and the most requests one answer carries.
    public static let maxDays = 90
    public static let maxRecords = 1000

    /// When given, the other filters are ignored (as the spec says).
    public var ids: [String] = []
    public var serviceCodes: [String] = []
    public var start: Date
    public var end: Date
    public var statuses: Set<Status> = []

    /// Optional arguments: an empty parameter counts as a missing one.
    public static func parse(_ params: [String: String], now: Date) throws(GeoReportError) -> GeoRequestQuery {
        func list(_ key: String) -> [String] {
            (params[key] ?? "").split(separator: ",").map { $0.trimmed() }.filter { !$0.isEmpty }
        }
        func date(_ key: String) throws(GeoReportError) -> Date? {
            guard let raw = params[key]?.trimmed(), !raw.isEmpty else { return nil }
            guard let date = W3CDateTime.parse(raw) else {
                throw .invalid(key, "must be a W3C date-time with a time zone, e.g. 2026-01-31T09:00:00+03:00")
            }
            return date
        }
        let window = TimeInterval(maxDays * 86_400)
        var query = GeoRequestQuery(start: now.addingTimeInterval(-window), end: now)
        query.ids = list("service_request_id")
        guard query.ids.count <= maxRecords else { throw .invalid("service_request_id", "names more than \(maxRecords) requests") }
        guard query.ids.isEmpty else { return query }
        query.serviceCodes = list("service_code")
        for raw in list("status") {
            guard let status = Status(rawValue: raw.lowercased()) else { throw .invalid("status", "must be open or closed") }
            query.statuses.insert(status)
        }
        switch (try date("start_date"), try date("end_date")) {
        case (nil, nil): break
        case let (start?, nil): (query.start, query.end) = (start, min(now, start.addingTimeInterval(window)))
        case let (nil, end?): (query.start, query.end) = (end.addingTimeInterval(-window), end)
        case let (start?, end?):
            guard start <= end else { throw .invalid("start_date", "is after end_date") }
            guard end.timeIntervalSince(start) <= window else {
                throw .invalid("end_date", "is more than \(maxDays) days after start_date; ask for at most \(maxDays) days at a time")
            }
            (query.start, query.end) = (start, end)
        }
        return query
    }
}

/// `POST requests.{fmt}`: a new service request as the client sent it, checked.
public struct GeoNewRequest: Sendable, Equatable {
    public static let maxDescription = 4000

    public var serviceCode: String
    public var lat: Double?
    public var lon: Double?
    public var addressString: String?
    public var addressID: String?
    public var description: String?
    public var email: String?
    public var phone: String?
    public var firstName: String?
    public var lastName: String?
    public var deviceID: String?
    public var accountID: String?
    public var mediaURL: String?
    /// `attribute[code]` values; a multi-value list sends `attribute[code][]` once per value.
    public var attributes: [String: [String]]

    /// `fields` are the form's pairs in order (a key may repeat).
    public static func parse(_ fields: [(String, String)]) throws(GeoReportError) -> GeoNewRequest {
        var single: [String: String] = [:]
        var attributes: [String: [String]] = [:]
        for (key, value) in fields {
            if key.hasPrefix("attribute["), let close = key.firstIndex(of: "]") {
                let code = String(key[key.index(key.startIndex, offsetBy: 10)..<close])
                guard !code.isEmpty, code.count <= 100 else { throw .invalid("attribute", "has an empty or overlong code") }
                let text = value.trimmed()
                if !text.isEmpty { attributes[code, default: []].append(text) }
            } else if single[key] == nil {
                single[key] = value
            }
        }
        func text(_ key: String, max: Int = 200) throws(GeoReportError) -> String? {
            guard let value = single[key]?.trimmed(), !value.isEmpty else { return nil }
            guard value.count <= max else { throw .invalid(key, "is longer than \(max) characters") }
            return value
        }
        guard let code = try text("service_code", max: 100) else { throw .missing("service_code") }
        var request = GeoNewRequest(serviceCode: code, attributes: attributes)
        let lat = try text("lat", max: 40), lon = try text("long", max: 40)
        switch (lat, lon) {
        case (nil, nil): break
        case let (lat?, lon?):
            guard let y = Double(lat), (-90...90).contains(y) else { throw .invalid("lat", "must be a number between -90 and 90") }
            guard let x = Double(lon), (-180...180).contains(x) else { throw .invalid("long", "must be a number between -180 and 180") }
            (request.lat, request.lon) = (y, x)
        case (nil, _?): throw .missing("lat")
        case (_?, nil): throw .missing("long")
        }
        request.addressString = try text("address_string", max: 1000)
        request.addressID = try text("address_id", max: 200)
        guard request.lat != nil || request.addressString != nil || request.addressID != nil else {
            throw .init(400, "a location is required: lat and long, address_string or address_id")
        }
        request.description = try text("description", max: maxDescription)
        if let email = try text("email", max: 254) {
            do throws(ValidationError) { _ = try MailAddress(email, field: "email") } catch { throw .invalid("email", "is not an e-mail address") }
            request.email = email
        }
        request.phone = try text("phone", max: 40)
        if let phone = request.phone, phone.filter(\.isNumber).count < 5 { throw .invalid("phone", "is not a phone number") }
        request.firstName = try text("first_name")
        request.lastName = try text("last_name")
        request.deviceID = try text("device_id")
        request.accountID = try text("account_id")
        if let url = try text("media_url", max: 2000) {
            guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? ""), parsed.host?.isEmpty == false else {
                throw .invalid("media_url", "must be an absolute http or https URL")
            }
            request.mediaURL = url
        }
        return request
    }
}
