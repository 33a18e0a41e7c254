import Foundation

/// Finds the character U+0000 in what a request sends. PostgreSQL refuses it in text (a 500 there) and SQLite would
/// store it, so every input is refused with the field that holds it. Each function returns that field's name (nil
/// when there is none); they are cheap when there is no NUL, which is nearly always.
public enum NULScan {
    public static let reason = "must not contain the character U+0000 (NUL)"

    /// A JSON document: the path of the first string (or key) holding U+0000, as `applicant.surname` or
    /// `questions[0].text`; `body` when the document cannot be read (its decoder then names the fault).
    public static func json(_ bytes: [UInt8]) -> String? {
        guard mayHoldEscapedNUL(bytes) else { return nil }
        guard let value = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) else { return "body" }
        return path(in: value, at: "")
    }

    /// An `application/x-www-form-urlencoded` body or a query string: the name of the first pair holding U+0000.
    public static func form(_ text: String) -> String? {
        guard text.contains("%00") || text.contains("\u{0}") else { return nil }
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = decode(String(parts[0])), value = parts.count > 1 ? decode(String(parts[1])) : ""
            if name.contains("\u{0}") || value.contains("\u{0}") {
                let clean = name.replacingOccurrences(of: "\u{0}", with: "")
                return clean.isEmpty ? "query" : clean
            }
        }
        return nil
    }

    /// A JSON document with every escaped U+0000 (`\u0000`) removed from its strings: what a network's webhook
    /// delivers is taken without it rather than refused, since the citizen who wrote it cannot send it again.
    public static func strippingJSON(_ bytes: [UInt8]) -> [UInt8] {
        guard mayHoldEscapedNUL(bytes) else { return bytes }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        var backslashes = 0
        let pattern = Array("u0000".utf8)
        while i < bytes.count {
            let byte = bytes[i]
            if byte == UInt8(ascii: "\\"), backslashes % 2 == 0, i + 5 < bytes.count, bytes[(i + 1)...(i + 5)].elementsEqual(pattern) {
                i += 6
                continue
            }
            backslashes = byte == UInt8(ascii: "\\") ? backslashes + 1 : 0
            if byte != 0 { out.append(byte) }
            i += 1
        }
        return out
    }

    /// A URL path, percent-encoded or not.
    public static func path(_ path: String) -> Bool {
        path.contains("\u{0}") || path.range(of: "%00", options: .caseInsensitive) != nil
    }

    private static func decode(_ text: String) -> String {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? text
    }

    /// `\u0000` preceded by an even number of backslashes (an odd number escapes the backslash itself).
    private static func mayHoldEscapedNUL(_ bytes: [UInt8]) -> Bool {
        let pattern = Array("u0000".utf8)
        var i = 1
        while i + pattern.count <= bytes.count {
            if bytes[i - 1] == UInt8(ascii: "\\"), bytes[i..<(i + pattern.count)].elementsEqual(pattern) {
                var backslashes = 0
                var j = i - 1
                while j >= 0, bytes[j] == UInt8(ascii: "\\") { backslashes += 1; j -= 1 }
                if backslashes % 2 == 1 { return true }
            }
            i += 1
        }
        return bytes.contains(0)
    }

    private static func path(in value: Any, at prefix: String) -> String? {
        switch value {
        case let text as String:
            return text.contains("\u{0}") ? (prefix.isEmpty ? "body" : prefix) : nil
        case let list as [Any]:
            for (index, element) in list.enumerated() {
                if let found = path(in: element, at: "\(prefix)[\(index)]") { return found }
            }
            return nil
        case let object as [String: Any]:
            for key in object.keys.sorted() {
                let name = key.replacingOccurrences(of: "\u{0}", with: "")
                let here = prefix.isEmpty ? name : "\(prefix).\(name)"
                if key.contains("\u{0}") { return here.isEmpty ? "body" : here }
                if let value = object[key], let found = path(in: value, at: here) { return found }
            }
            return nil
        default:
            return nil
        }
    }
}
