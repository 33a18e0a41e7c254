import Foundation

/// RFC 4180 CSV read as a stream of byte chunks, for files too large to hold: a file of a million appeals is read
/// a few megabytes at a time. Same rules as `CSVReader` (CRLF, LF or CR line ends, empty lines skipped, a byte order
/// mark ignored, a quote inside an unquoted field kept); each row comes with the line it starts on.
public struct CSVStream {
    private let next: () throws -> [UInt8]?
    private var buffer: [UInt8] = []
    private var position = 0
    private var finished = false
    private var line = 1
    private var started = false

    /// `next` gives the next chunk of the file, nil at its end.
    public init(next: @escaping () throws -> [UInt8]?) {
        self.next = next
    }

    /// The next row and the line it starts on; nil at the end of the file.
    public mutating func nextRow() throws -> (line: Int, fields: [String])? {
        while true {
            if let row = try parse() { return row }
            if finished { return nil }
            try refill()
        }
    }

    private mutating func refill() throws {
        if position > 0 {
            buffer.removeFirst(position)
            position = 0
        }
        if let chunk = try next() {
            buffer += chunk
            if !started, buffer.count >= 3 {
                if buffer.starts(with: [0xEF, 0xBB, 0xBF]) { buffer.removeFirst(3) }
                started = true
            }
        } else {
            finished = true
            if !started, buffer.starts(with: [0xEF, 0xBB, 0xBF]) { buffer.removeFirst(3) }
            started = true
        }
    }

    /// A whole row from the buffer, or nil when the buffer ends inside it (and more may come).
    private mutating func parse() throws -> (line: Int, fields: [String])? {
        guard started || finished else { return nil }
        var i = position
        var lines = line
        let count = buffer.count
        // Skip empty lines.
        while i < count, buffer[i] == 0x0A || buffer[i] == 0x0D {
            if buffer[i] == 0x0D, i + 1 < count, buffer[i + 1] == 0x0A { i += 1 } else if buffer[i] == 0x0D, i + 1 == count, !finished { return nil }
            i += 1
            lines += 1
        }
        guard i < count else {
            if finished { position = i; line = lines }
            return nil
        }
        let startLine = lines
        var fields: [String] = []
        var field: [UInt8] = []
        while true {
            field.removeAll(keepingCapacity: true)
            if i < count, buffer[i] == 0x22 {
                // A quoted field: up to the quote that is not doubled.
                let quoteLine = lines
                i += 1
                var closed = false
                while i < count {
                    let byte = buffer[i]
                    if byte == 0x22 {
                        if i + 1 < count, buffer[i + 1] == 0x22 { field.append(0x22); i += 2; continue }
                        if i + 1 == count, !finished { return nil }
                        i += 1
                        closed = true
                        break
                    }
                    if byte == 0x0A || (byte == 0x0D && !(i + 1 < count && buffer[i + 1] == 0x0A)) { lines += 1 }
                    field.append(byte)
                    i += 1
                }
                if !closed {
                    if finished { throw CSVError.unterminatedQuote(line: quoteLine) }
                    return nil
                }
                if i < count, buffer[i] != 0x2C, buffer[i] != 0x0A, buffer[i] != 0x0D { throw CSVError.unexpectedCharacterAfterQuote(line: lines) }
            } else {
                let start = i
                while i < count, buffer[i] != 0x2C, buffer[i] != 0x0A, buffer[i] != 0x0D { i += 1 }
                if i == count, !finished { return nil }
                field.append(contentsOf: buffer[start..<i])
            }
            fields.append(String(decoding: field, as: UTF8.self))
            if i == count {
                guard finished else { return nil }
                position = i
                line = lines
                return (startLine, fields)
            }
            if buffer[i] == 0x2C {
                i += 1
                if i == count {
                    guard finished else { return nil }
                    fields.append("")
                    position = i
                    line = lines
                    return (startLine, fields)
                }
                continue
            }
            // A line end.
            if buffer[i] == 0x0D {
                if i + 1 == count, !finished { return nil }
                if i + 1 < count, buffer[i + 1] == 0x0A { i += 1 }
            }
            i += 1
            lines += 1
            position = i
            line = lines
            return (startLine, fields)
        }
    }
}
