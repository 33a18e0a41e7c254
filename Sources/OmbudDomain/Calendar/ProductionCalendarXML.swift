/// Reads the production-calendar format of the xmlcalendar project:
/// `<calendar year="2025">`, `<holiday id="1" title="…"/>`, `<day d="MM.DD" t="1|2|3" h="id" f="MM.DD"/>`
/// where t=1 is a day off, t=2 a shortened working day, t=3 a working weekend day.
public enum ProductionCalendarXML {
    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    public struct Year: Sendable, Equatable {
        public let year: Int
        public let days: [BusinessCalendar.Day]
    }

    public static func parse(_ xml: String) throws -> Year {
        guard let calendarTag = elements(named: "calendar", in: xml).first,
              let yearText = calendarTag["year"], let year = Int(yearText), (1900...2200).contains(year) else {
            throw ParseError(message: "no <calendar year=\"YYYY\"> element")
        }
        var holidays: [String: String] = [:]
        for holiday in elements(named: "holiday", in: xml) {
            if let id = holiday["id"] { holidays[id] = holiday["title"] }
        }
        var days: [BusinessCalendar.Day] = []
        for element in elements(named: "day", in: xml) {
            guard let d = element["d"] else { throw ParseError(message: "a <day> without d") }
            let parts = d.split(separator: ".")
            guard parts.count == 2, let month = Int(parts[0]), let day = Int(parts[1]),
                  let date = CivilDate(year: year, month: month, day: day) else {
                throw ParseError(message: "invalid date d=\"\(d)\" in \(year)")
            }
            let kind: BusinessCalendar.DayKind
            switch element["t"] {
            case "1": kind = .nonWorking
            case "2": kind = .shortened
            case "3": kind = .working
            default: throw ParseError(message: "invalid day type t=\"\(element["t"] ?? "")\" for \(d)")
            }
            days.append(.init(date: date, kind: kind, holiday: element["h"].flatMap { holidays[$0] }))
        }
        return Year(year: year, days: days)
    }

    /// Attributes of each `<name …>` tag. The format is flat and machine-written, so a tag scanner is enough.
    static func elements(named name: String, in xml: String) -> [[String: String]] {
        var result: [[String: String]] = []
        var rest = xml[...]
        while let open = rest.range(of: "<\(name)") {
            let after = rest[open.upperBound...]
            guard let next = after.first, next == " " || next == ">" || next == "/" || next == "\n" || next == "\t",
                  let close = after.firstIndex(of: ">") else {
                rest = after
                continue
            }
            result.append(attributes(String(after[..<close])))
            rest = after[close...]
        }
        return result
    }

    static func attributes(_ text: String) -> [String: String] {
        var attributes: [String: String] = [:]
        var rest = text[...]
        while let eq = rest.firstIndex(of: "=") {
            let key = rest[..<eq].trimmed()
            var valueStart = rest.index(after: eq)
            guard valueStart < rest.endIndex else { break }
            let quote = rest[valueStart]
            guard quote == "\"" || quote == "'" else { break }
            valueStart = rest.index(after: valueStart)
            guard let end = rest[valueStart...].firstIndex(of: quote) else { break }
            attributes[key] = unescape(String(rest[valueStart..<end]))
            rest = rest[rest.index(after: end)...]
        }
        return attributes
    }

    static func unescape(_ s: String) -> String {
        s.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}

import Foundation
