import Foundation

/// Why a message could not be read; the mail gateway keeps such a message in quarantine with this reason.
public struct MailParseError: Error, Equatable, Sendable, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// Header fields of a message or of a MIME part (RFC 5322 §2.2): names compared without case, folded lines unfolded.
public struct MailHeaders: Sendable, Equatable {
    public var fields: [(name: String, value: String)]

    public static func == (a: MailHeaders, b: MailHeaders) -> Bool {
        a.fields.count == b.fields.count && zip(a.fields, b.fields).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    public init(fields: [(name: String, value: String)] = []) { self.fields = fields }

    /// The first field of this name, unfolded, as raw text (encoded words not decoded).
    public subscript(_ name: String) -> String? {
        fields.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    public func all(_ name: String) -> [String] {
        fields.filter { $0.name.caseInsensitiveCompare(name) == .orderedSame }.map(\.value)
    }

    /// Header bytes as Latin-1 (each byte one character), so that 8-bit headers survive to be decoded later.
    static func parse(_ bytes: ArraySlice<UInt8>) throws(MailParseError) -> MailHeaders {
        let text = String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
        var fields: [(name: String, value: String)] = []
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let line = line.hasSuffix("\r") ? line.dropLast() : line
            if line.isEmpty { continue }
            if line.first == " " || line.first == "\t" {
                guard !fields.isEmpty else { throw MailParseError("the message starts with a continuation line, not a header field") }
                fields[fields.count - 1].value += " " + line.trimmed()
                continue
            }
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else {
                // A line that is no field ends a damaged header section: what came before is kept.
                if fields.isEmpty { throw MailParseError("no header fields: this is not a mail message") }
                continue
            }
            let name = String(line[..<colon]).trimmed()
            guard name.unicodeScalars.allSatisfy({ $0.value > 32 && $0.value < 127 }) else {
                if fields.isEmpty { throw MailParseError("no header fields: this is not a mail message") }
                continue
            }
            fields.append((name, String(line[line.index(after: colon)...]).trimmed()))
        }
        return MailHeaders(fields: fields)
    }
}

/// `type/subtype; name=value; …` of Content-Type and Content-Disposition, parameters in RFC 2231 form too.
public struct MIMEValue: Sendable, Equatable {
    public var value: String
    public var parameters: [String: String]

    public static func parse(_ raw: String?) -> MIMEValue {
        guard let raw else { return MIMEValue(value: "", parameters: [:]) }
        var parts: [String] = []
        var current = ""
        var quoted = false
        for c in raw {
            if c == "\"" { quoted.toggle() }
            if c == ";" && !quoted { parts.append(current); current = "" } else { current.append(c) }
        }
        parts.append(current)
        var parameters: [String: String] = [:]
        var continued: [String: [(Int, String, Bool)]] = [:]
        for part in parts.dropFirst() {
            guard let eq = part.firstIndex(of: "=") else { continue }
            var name = part[..<eq].trimmed().lowercased()
            var value = part[part.index(after: eq)...].trimmed()
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()).replacingOccurrences(of: "\\\"", with: "\"") }
            // RFC 2231: name*=charset'lang'%XX…, and name*0*=…, name*1*=… pieces.
            let extended = name.hasSuffix("*")
            if extended { name.removeLast() }
            if let star = name.firstIndex(of: "*"), let index = Int(name[name.index(after: star)...]) {
                continued[String(name[..<star]), default: []].append((index, value, extended))
                continue
            }
            parameters[name] = extended ? rfc2231(value) ?? value : value
        }
        for (name, pieces) in continued {
            let sorted = pieces.sorted { $0.0 < $1.0 }
            guard let first = sorted.first, first.2 else {
                parameters[name] = sorted.map(\.1).joined()
                continue
            }
            let charset = first.1.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
            let joined = sorted.enumerated().map { i, p in i == 0 && charset.count == 3 ? String(charset[2]) : p.1 }.joined()
            parameters[name] = percentDecoded(joined, charset: charset.count == 3 ? String(charset[0]) : "utf-8") ?? joined
        }
        return MIMEValue(value: parts[0].trimmed().lowercased(), parameters: parameters)
    }

    static func rfc2231(_ value: String) -> String? {
        let pieces = value.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
        guard pieces.count == 3 else { return percentDecoded(value, charset: "utf-8") }
        return percentDecoded(String(pieces[2]), charset: String(pieces[0]))
    }

    static func percentDecoded(_ text: String, charset: String) -> String? {
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == 0x25, utf8.count >= 2, let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return MailCharset.decode(bytes, charset: charset.isEmpty ? "utf-8" : charset)
    }
}

/// Content transfer encodings (RFC 2045 §6): lenient, as mail from the wild needs.
public enum TransferEncoding {
    public static func decode(_ body: ArraySlice<UInt8>, encoding raw: String?) -> [UInt8] {
        switch (raw ?? "").trimmed().lowercased() {
        case "base64": return base64(body)
        case "quoted-printable": return quotedPrintable(body)
        default: return Array(body)
        }
    }

    /// Whitespace and line breaks skipped; stray characters ignored; a missing padding tolerated.
    public static func base64(_ body: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(body.count * 3 / 4)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in body {
            let value: UInt32
            switch byte {
            case 65...90: value = UInt32(byte - 65)
            case 97...122: value = UInt32(byte - 71)
            case 48...57: value = UInt32(byte + 4)
            case 43, 45: value = 62
            case 47, 95: value = 63
            default: continue
            }
            buffer = buffer << 6 | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        return out
    }

    /// `=XX` bytes, `=` at the end of a line joins it to the next; an invalid escape is kept as written.
    public static func quotedPrintable(_ body: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(body.count)
        let bytes = Array(body)
        var i = 0
        func hex(_ b: UInt8) -> UInt8? {
            switch b {
            case 48...57: b - 48
            case 65...70: b - 55
            case 97...102: b - 87
            default: nil
            }
        }
        while i < bytes.count {
            let b = bytes[i]
            if b == 0x3D {
                if i + 2 < bytes.count, let h = hex(bytes[i + 1]), let l = hex(bytes[i + 2]) {
                    out.append(h << 4 | l)
                    i += 3
                    continue
                }
                // Soft line break: "=" then optional spaces then CRLF or LF.
                var j = i + 1
                while j < bytes.count, bytes[j] == 0x20 || bytes[j] == 0x09 { j += 1 }
                if j < bytes.count, bytes[j] == 0x0D { j += 1 }
                if j < bytes.count, bytes[j] == 0x0A { i = j + 1; continue }
                if j == bytes.count { break }
            }
            out.append(b)
            i += 1
        }
        return out
    }
}

/// RFC 2047 encoded words in header text: `=?charset?B?…?=` and `=?charset?Q?…?=`; whitespace between two encoded
/// words is dropped, raw 8-bit text (common from Russian mailers) is read as UTF-8, or failing that Windows-1251.
public enum EncodedWords {
    public static func decode(_ raw: String) -> String {
        let latin1 = Array(raw.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) })
        let text = raw.unicodeScalars.contains(where: { $0.value > 0xFF }) ? raw : eightBit(latin1)
        var out = ""
        var rest = Substring(text)
        var lastWasEncoded = false
        while let start = rest.range(of: "=?") {
            let before = rest[..<start.lowerBound]
            guard let word = encodedWord(rest[start.lowerBound...]) else {
                out += before + "=?"
                rest = rest[start.upperBound...]
                lastWasEncoded = false
                continue
            }
            if !(lastWasEncoded && before.allSatisfy(\.isWhitespace)) { out += before }
            out += word.text
            rest = rest[word.end...]
            lastWasEncoded = true
        }
        out += rest
        return out
    }

    private static func eightBit(_ bytes: [UInt8]) -> String {
        guard bytes.contains(where: { $0 >= 0x80 }) else { return String(decoding: bytes, as: UTF8.self) }
        if let utf8 = String(bytes: bytes, encoding: .utf8) { return utf8 }
        return MailCharset.decode(bytes, charset: "windows-1251") ?? String(decoding: bytes, as: UTF8.self)
    }

    private static func encodedWord(_ s: Substring) -> (text: String, end: Substring.Index)? {
        let parts = s.dropFirst(2).split(separator: "?", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 4, parts[3].hasPrefix("="), parts[0].count <= 40, parts[2].count <= 2000 else { return nil }
        let charset = parts[0].split(separator: "*").first.map(String.init) ?? ""  // RFC 2231 language suffix
        let payload = Array(parts[2].utf8)
        let bytes: [UInt8]
        switch parts[1].uppercased() {
        case "B": bytes = TransferEncoding.base64(payload[...])
        case "Q": bytes = TransferEncoding.quotedPrintable(payload.map { $0 == 0x5F ? 0x20 : $0 }[...])
        default: return nil
        }
        guard let text = MailCharset.decode(bytes, charset: charset) else { return nil }
        return (text, parts[3].index(after: parts[3].startIndex))
    }
}
