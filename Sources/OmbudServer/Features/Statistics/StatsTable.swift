import Fluent
import Foundation
import OmbudDomain
import SQLKit
import Vapor

/// A dimension's value as the API shows it: a stable code and a name in the reader's language.
struct StatsValue: Content, Equatable {
    var code: String
    var name: String
}

struct StatsRowView: Content {
    var dimensions: [String: StatsValue]
    var measures: [String: Double?]
}

struct StatsTotalView: Content {
    var measures: [String: Double?]
}

/// The answer of `GET /api/v1/stats`.
struct StatsTableView: Content {
    var groupBy: [String]
    var measures: [String]
    var rows: [StatsRowView]
    var total: StatsTotalView
}

extension StatsTableView {
    /// Names every code in `language` and sorts the rows by the first measure, largest first (then by the codes).
    static func make(_ result: StatsQuery.Result, spec: StatsSpec, req: Request) async throws -> StatsTableView {
        let names = try await StatsNames.load(spec: spec, codes: result.rows.map(\.codes), req: req)
        func measures(_ tally: StatsTally) -> [String: Double?] {
            Dictionary(uniqueKeysWithValues: spec.measures.map { ($0.rawValue, tally.value($0)) })
        }
        let first = spec.measures[0]
        let sorted = result.rows.sorted { a, b in
            let x = a.tally.value(first) ?? -.infinity, y = b.tally.value(first) ?? -.infinity
            return x != y ? x > y : a.codes.lexicographicallyPrecedes(b.codes)
        }
        return StatsTableView(
            groupBy: spec.groupBy.map(\.description), measures: spec.measures.map(\.rawValue),
            rows: sorted.map { row in
                StatsRowView(dimensions: Dictionary(uniqueKeysWithValues: zip(spec.groupBy, row.codes).map { dimension, code in
                    (dimension.key, names.value(dimension, code))
                }), measures: measures(row.tally))
            },
            total: StatsTotalView(measures: measures(result.total)))
    }

    /// The dimensions' keys (`topic` for `topic:2`), as `rows` are keyed.
    var keys: [String] { groupBy.map { String($0.split(separator: ":")[0]) } }

    /// The same table for a spreadsheet: per dimension its code and its name, then the measures.
    func header(req: Request) -> [String] {
        keys.flatMap { key -> [String] in
            let name = req.catalogued("statsDimensions", key)
            return ["\(name) (\(req.text("stats", "code")))", name]
        } + measures.map { req.catalogued("statsMeasures", $0) }
    }

    /// The rows, then the total (named in the first dimension's name column).
    func cells(totalName: String) -> [[Cell]] {
        func numbers(_ values: [String: Double?]) -> [Cell] { measures.map { values[$0].flatMap { $0 }.map(Cell.number) ?? .empty } }
        var totalRow = keys.flatMap { _ in [Cell.empty, Cell.empty] }
        if totalRow.count > 1 { totalRow[1] = .text(totalName) }
        return rows.map { row in
            keys.flatMap { key -> [Cell] in
                let value = row.dimensions[key]
                return [.text(value?.code ?? ""), .text(value?.name ?? "")]
            } + numbers(row.measures)
        } + [totalRow + numbers(total.measures)]
    }
}

/// The names of the codes a table shows, in the reader's language.
struct StatsNames {
    var topics: [String: String] = [:]
    /// By id in upper case (SQLite keeps ids so; PostgreSQL writes them in lower case): the unit's code and name, the
    /// user's login and name.
    var units: [String: StatsValue] = [:]
    var users: [String: StatsValue] = [:]
    /// Whose language the names are in.
    let req: Request
    /// For the Gregorian periods asked for (day, month, year), made once per table.
    var periods: [String: DateFormatter] = [:]

    static func load(spec: StatsSpec, codes: [[String]], req: Request) async throws -> StatsNames {
        var names = StatsNames(req: req)
        for dimension in spec.groupBy where [.day, .month, .year].contains(dimension) {
            names.periods[dimension.key] = Self.periodFormatter(dimension, language: req.language)
        }
        for (index, dimension) in spec.groupBy.enumerated() {
            let values = Array(Set(codes.map { $0[index] }).subtracting([""]))
            guard !values.isEmpty else { continue }
            switch dimension {
            case .topic:
                for topic in try await TopicRecord.query(on: req.db).filter(\.$id ~~ values).all() {
                    names.topics[topic.id ?? ""] = topic.name
                }
            case .office, .executor:
                for unit in try await OrgUnit.query(on: req.db).filter(\.$id ~~ values.compactMap(UUID.init(uuidString:))).all() {
                    if let id = unit.id { names.units[id.uuidString] = StatsValue(code: unit.code, name: unit.name) }
                }
            case .assignee:
                for user in try await User.query(on: req.db).filter(\.$id ~~ values.compactMap(UUID.init(uuidString:))).all() {
                    if let id = user.id { names.users[id.uuidString] = StatsValue(code: user.login, name: user.fullName) }
                }
            default: break
            }
        }
        return names
    }

    /// Units and users are shown by their code and login, not their ids.
    func value(_ dimension: StatsDimension, _ code: String) -> StatsValue {
        switch dimension {
        case .office, .executor: units[code.uppercased()] ?? StatsValue(code: code, name: name(dimension, code))
        case .assignee: users[code.uppercased()] ?? StatsValue(code: code, name: name(dimension, code))
        default: StatsValue(code: code, name: name(dimension, code))
        }
    }

    func name(_ dimension: StatsDimension, _ code: String) -> String {
        guard !code.isEmpty else { return req.text("stats", "notSet") }
        switch dimension {
        case .topic: return topics[code] ?? code
        case .office, .executor, .assignee, .district: return code
        case .channel: return req.catalogued("channels", code)
        case .status: return req.catalogued("states", code)
        case .kind: return req.catalogued("kinds", code)
        case .result: return req.catalogued("results", code)
        case .day, .month, .year:
            let parts = code.split(separator: "-").compactMap { Int($0) }
            guard let formatter = periods[dimension.key], let year = parts.first,
                  let date = CivilDate(year: year, month: parts.count > 1 ? parts[1] : 1, day: parts.count > 2 ? parts[2] : 1)
            else { return code }
            return formatter.string(from: date.start(in: formatter.timeZone))
        case .week:
            let parts = code.split(separator: "-W")
            guard parts.count == 2, let year = Int(parts[0]), let week = Int(parts[1]) else { return code }
            return req.text("stats", "week", ["year": year, "week": week])
        case .quarter:
            let parts = code.split(separator: "-Q")
            guard parts.count == 2, let year = Int(parts[0]), let quarter = Int(parts[1]) else { return code }
            return req.text("stats", "quarter", ["year": year, "quarter": quarter])
        }
    }

    /// "1 марта 2015", "март 2015", "2015" — Gregorian periods named in the language (Persian digits in Persian).
    static func periodFormatter(_ dimension: StatsDimension, language: UILanguage) -> DateFormatter {
        let formatter = DateFormatter()
        formatter.calendar = Calendar(identifier: .gregorian)
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.locale = Locale(identifier: language.rawValue)
        switch dimension {
        case .day: formatter.setLocalizedDateFormatFromTemplate("dMMMMy")
        case .month: formatter.setLocalizedDateFormatFromTemplate("LLLLy")
        default: formatter.setLocalizedDateFormatFromTemplate("y")
        }
        return formatter
    }
}
