import Foundation

public enum CSVError: Error, Equatable {
    /// A quoted field that never closes; `line` is where the field started.
    case unterminatedQuote(line: Int)
    /// Something other than a comma or line end right after a closing quote.
    case unexpectedCharacterAfterQuote(line: Int)
}

/// RFC 4180 CSV, read from UTF-8 bytes because imports carry tens of thousands of long appeal texts.
///
/// Rows end with CRLF, LF or a lone CR. Completely empty lines are skipped (spreadsheets leave them
/// at the end of exports); a row holding one empty value must be written as `""`.
/// A quote inside an unquoted field is kept literally, as real exports contain things like `12" pipe`.
public struct CSVReader: Sendable {
    private let bytes: [UInt8]
    private var position: Int
    private var line = 1
    private var scratch: [UInt8] = []

    public init(text: String) {
        bytes = Array(text.utf8)
        position = bytes.starts(with: Self.bom) ? Self.bom.count : 0
    }

    public static func parse(_ text: String) throws -> [[String]] {
        var reader = CSVReader(text: text)
        var rows: [[String]] = []
        while let row = try reader.nextRow() { rows.append(row) }
        return rows
    }

    /// Rows keyed by the (trimmed) header row; short rows are padded with "", extra cells dropped,
    /// and a repeated header name keeps its first column.
    public static func records(_ text: String) throws -> [[String: String]] {
        var reader = CSVReader(text: text)
        guard let header = try reader.nextRow() else { return [] }
        let names = header.map { $0.trimmingCharacters(in: .whitespaces) }
        var records: [[String: String]] = []
        while let row = try reader.nextRow() {
            var record: [String: String] = [:]
            for (column, name) in names.enumerated() where record[name] == nil {
                record[name] = column < row.count ? row[column] : ""
            }
            records.append(record)
        }
        return records
    }

    public mutating func nextRow() throws -> [String]? {
        while position < bytes.count, isLineEnd(bytes[position]) { consumeLineEnd() }
        guard position < bytes.count else { return nil }
        var row: [String] = []
        while true {
            row.append(bytes[position] == quote ? try quotedField() : unquotedField())
            guard position < bytes.count else { return row }
            if bytes[position] == comma {
                position += 1
                if position == bytes.count { row.append(""); return row }
                continue
            }
            consumeLineEnd()
            return row
        }
    }

    // MARK: - Fields

    private static let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
    private let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n")

    private func isLineEnd(_ b: UInt8) -> Bool { b == cr || b == lf }

    private mutating func consumeLineEnd() {
        if bytes[position] == cr, position + 1 < bytes.count, bytes[position + 1] == lf { position += 1 }
        position += 1
        line += 1
    }

    /// Stops at a comma or line end without consuming it.
    private mutating func unquotedField() -> String {
        let start = position
        while position < bytes.count {
            let b = bytes[position]
            if b == comma || b == cr || b == lf { break }
            position += 1
        }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    /// Starts at the opening quote; leaves the position just after the closing one.
    private mutating func quotedField() throws -> String {
        let startLine = line
        position += 1
        var segment = position
        scratch.removeAll(keepingCapacity: true)
        while position < bytes.count {
            let b = bytes[position]
            if b == lf { line += 1 }
            guard b == quote else { position += 1; continue }
            scratch.append(contentsOf: bytes[segment..<position])
            position += 1
            if position < bytes.count, bytes[position] == quote {
                // "" is an escaped quote: keep one and carry on inside the field.
                segment = position
                position += 1
                continue
            }
            if position < bytes.count, bytes[position] != comma, !isLineEnd(bytes[position]) {
                throw CSVError.unexpectedCharacterAfterQuote(line: line)
            }
            return String(decoding: scratch, as: UTF8.self)
        }
        throw CSVError.unterminatedQuote(line: startLine)
    }
}
