import Foundation
import Vapor

/// Real appeals from the St Petersburg portal slice, turned into `POST /api/v1/appeals` bodies.
enum AppealData {
    /// Reads `spb_gorod_appeals_dev.csv.gz` (through `gzip -dc`) and returns one JSON body per row with a text.
    static func bodies(csvGz path: String) throws -> [ByteBuffer] {
        let bytes = [UInt8](try Subprocess.tool("gzip", ["-dc", path], mergeErrors: false))
        let rows = CSV.parse(bytes)
        guard let header = rows.first else { throw BenchError("\(path) is empty") }
        func column(_ name: String) throws(BenchError) -> Int {
            guard let index = header.firstIndex(of: name) else { throw BenchError("\(path) has no column \(name)") }
            return index
        }
        let text = try column("text"), address = try column("address"), lat = try column("latitude"), lon = try column("longitude")
        let district = try column("district"), category = try column("category"), reason = try column("reason")

        let encoder = JSONEncoder()
        var bodies: [ByteBuffer] = []
        for (i, row) in rows.dropFirst().enumerated() where row.count == header.count {
            let appealText = row[text].trimmingCharacters(in: .whitespacesAndNewlines)
            guard !appealText.isEmpty else { continue }
            let latitude = Double(row[lat]), longitude = Double(row[lon])
            let hasPoint = latitude != nil && longitude != nil
            let body = AppealBody(
                channel: "web",
                text: appealText,
                kind: "statement",
                register: true,
                applicant: .init(surname: surnames[i % surnames.count], name: names[(i / surnames.count) % names.count],
                                 phone: String(format: "+7 921 %03d %02d %02d", 100 + i % 900, (i / 900) % 100, i % 97)),
                questions: [.init(topicCode: topic(category: row[category]), text: nonEmpty(row[reason]) ?? "Вопрос заявителя")],
                address: .init(text: nonEmpty(row[address]), lat: hasPoint ? latitude : nil, lon: hasPoint ? longitude : nil,
                               district: nonEmpty(row[district])))
            bodies.append(ByteBuffer(data: try encoder.encode(body)))
        }
        guard !bodies.isEmpty else { throw BenchError("\(path) has no appeal texts") }
        return bodies
    }

    /// Landscaping goes to "Комплексное благоустройство"; everything else (blocks of flats, facades, roofs…) to
    /// "Содержание общего имущества", so that `topic=0005.0005` selects a real subset.
    static func topic(category: String) -> String {
        category == "Благоустройство" ? "0003.0009.0097.0689" : "0005.0005.0056.1168"
    }

    private static func nonEmpty(_ value: String) -> String? {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }

    private static let surnames = ["Иванов", "Смирнова", "Кузнецов", "Попова", "Васильев", "Петрова", "Соколов", "Михайлова",
                                   "Новиков", "Фёдорова", "Морозов", "Волкова", "Алексеев", "Лебедева", "Семёнов", "Егорова"]
    private static let names = ["Александр", "Мария", "Дмитрий", "Анна", "Сергей", "Елена", "Андрей", "Ольга", "Никита",
                                "Татьяна", "Михаил", "Наталья", "Иван"]
}

/// The JSON body of `POST /api/v1/appeals` as the benchmark sends it.
struct AppealBody: Encodable {
    struct Applicant: Encodable { var surname: String, name: String, phone: String }
    struct Question: Encodable { var topicCode: String, text: String }
    struct Address: Encodable { var text: String?, lat: Double?, lon: Double?, district: String? }

    var channel: String
    var text: String
    var kind: String
    var register: Bool
    var applicant: Applicant
    var questions: [Question]
    var address: Address
}

/// A small RFC 4180 reader: commas, double quotes with "" escapes, newlines inside quoted fields, LF or CRLF rows.
enum CSV {
    static func parse(_ bytes: [UInt8]) -> [[String]] {
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), lf = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")
        var rows: [[String]] = []
        var row: [String] = []
        var field: [UInt8] = []
        var quoted = false
        var i = 0
        func endField() {
            row.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
        }
        while i < bytes.count {
            let byte = bytes[i]
            i += 1
            if quoted {
                if byte != quote {
                    field.append(byte)
                } else if i < bytes.count && bytes[i] == quote {
                    field.append(quote)
                    i += 1
                } else {
                    quoted = false
                }
                continue
            }
            switch byte {
            case quote: quoted = true
            case comma: endField()
            case cr where i < bytes.count && bytes[i] == lf: continue
            case lf:
                endField()
                rows.append(row)
                row.removeAll(keepingCapacity: true)
            default: field.append(byte)
            }
        }
        if !field.isEmpty || !row.isEmpty {
            endField()
            rows.append(row)
        }
        return rows
    }
}
