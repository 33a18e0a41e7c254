import Foundation

/// A search filter of LDAP (RFC 4511 §4.5.1) parsed from its text form (RFC 4515), e.g.
/// `(&(objectClass=person)(uid={login}))`. Values are raw bytes, as the protocol carries them.
public indirect enum LDAPFilter: Sendable, Equatable {
    case and([LDAPFilter])
    case or([LDAPFilter])
    case not(LDAPFilter)
    case equal(String, [UInt8])
    case greaterOrEqual(String, [UInt8])
    case lessOrEqual(String, [UInt8])
    case approx(String, [UInt8])
    case present(String)
    /// `attr=initial*any*any*final`; empty parts are absent.
    case substrings(String, initial: [UInt8]?, any: [[UInt8]], final: [UInt8]?)

    /// RFC 4515 §3: escapes a value so that nothing a user types can change the filter's structure.
    public static func escape(_ value: String) -> String {
        var out: [UInt8] = []
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "*"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "\\"), 0:
                out.append(UInt8(ascii: "\\"))
                out.append(contentsOf: [byte].hexString.utf8)
            default:
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The configured template with each `{name}` replaced by its escaped value.
    public static func fill(_ template: String, _ values: [String: String]) -> String {
        values.reduce(template) { $0.replacingOccurrences(of: "{\($1.key)}", with: escape($1.value)) }
    }

    public static func parse(_ text: String) throws(ValidationError) -> LDAPFilter {
        var parser = Parser(bytes: Array(text.utf8))
        let filter = try parser.filter()
        guard parser.index == parser.bytes.count else { throw parser.error("unexpected text after the filter") }
        return filter
    }

    private struct Parser {
        let bytes: [UInt8]
        var index = 0

        func error(_ reason: String) -> ValidationError {
            ValidationError(field: "filter", reason: "\(reason) at position \(index + 1)")
        }

        mutating func expect(_ c: Character) throws(ValidationError) {
            guard index < bytes.count, bytes[index] == c.asciiValue! else { throw error("expected \(c)") }
            index += 1
        }

        mutating func filter() throws(ValidationError) -> LDAPFilter {
            try expect("(")
            guard index < bytes.count else { throw error("unfinished filter") }
            let result: LDAPFilter
            switch bytes[index] {
            case UInt8(ascii: "&"): index += 1; result = .and(try list())
            case UInt8(ascii: "|"): index += 1; result = .or(try list())
            case UInt8(ascii: "!"): index += 1; result = .not(try filter())
            default: result = try item()
            }
            try expect(")")
            return result
        }

        mutating func list() throws(ValidationError) -> [LDAPFilter] {
            var items: [LDAPFilter] = []
            while index < bytes.count, bytes[index] == UInt8(ascii: "(") { items.append(try filter()) }
            guard !items.isEmpty else { throw error("expected at least one filter") }
            return items
        }

        mutating func item() throws(ValidationError) -> LDAPFilter {
            let start = index
            while index < bytes.count, isAttributeByte(bytes[index]) { index += 1 }
            guard index > start else { throw error("expected an attribute name") }
            let attribute = String(decoding: bytes[start..<index], as: UTF8.self)
            guard index < bytes.count else { throw error("unfinished filter") }
            var op = bytes[index]
            if op == UInt8(ascii: ">") || op == UInt8(ascii: "<") || op == UInt8(ascii: "~") {
                index += 1
                try expect("=")
            } else {
                try expect("=")
                op = UInt8(ascii: "=")
            }
            // The value up to the closing parenthesis, split on unescaped stars.
            var parts: [[UInt8]] = [[]]
            while index < bytes.count, bytes[index] != UInt8(ascii: ")") {
                let b = bytes[index]
                if b == UInt8(ascii: "(") { throw error("unescaped ( in a value") }
                if b == UInt8(ascii: "*") {
                    parts.append([])
                    index += 1
                } else if b == UInt8(ascii: "\\") {
                    guard index + 2 < bytes.count, let byte = UInt8(String(decoding: bytes[(index + 1)...(index + 2)], as: UTF8.self), radix: 16) else {
                        throw error("a backslash must be followed by two hex digits")
                    }
                    parts[parts.count - 1].append(byte)
                    index += 3
                } else {
                    parts[parts.count - 1].append(b)
                    index += 1
                }
            }
            switch op {
            case UInt8(ascii: ">"), UInt8(ascii: "<"), UInt8(ascii: "~"):
                guard parts.count == 1 else { throw error("* is only allowed with =") }
                return op == UInt8(ascii: ">") ? .greaterOrEqual(attribute, parts[0])
                    : op == UInt8(ascii: "<") ? .lessOrEqual(attribute, parts[0]) : .approx(attribute, parts[0])
            default:
                if parts.count == 1 { return .equal(attribute, parts[0]) }
                if parts.count == 2, parts[0].isEmpty, parts[1].isEmpty { return .present(attribute) }
                return .substrings(attribute, initial: parts.first!.isEmpty ? nil : parts.first!,
                                   any: parts.dropFirst().dropLast().filter { !$0.isEmpty },
                                   final: parts.last!.isEmpty ? nil : parts.last!)
            }
        }

        func isAttributeByte(_ b: UInt8) -> Bool {
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b == UInt8(ascii: "-")
                || b == UInt8(ascii: ".") || b == UInt8(ascii: ";")
        }
    }
}
