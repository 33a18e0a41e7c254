import Foundation

/// One answer of the Open311 GeoReport v2 API as a tree, written as XML or as JSON by the spec's "Spark convention":
/// an XML element per member, a list as repeated elements inside its wrapper, `null` as an empty element.
/// Keeping one tree for both formats is what keeps the two formats of one answer the same.
public indirect enum GeoNode: Sendable, Equatable {
    case text(String)
    case bool(Bool)
    case int(Int)
    case double(Double)
    case null
    /// Members in the order the spec lists them.
    case object([(String, GeoNode)])
    /// Items, each written in XML as an element named `item`.
    case list(item: String, [GeoNode])

    public static func == (a: GeoNode, b: GeoNode) -> Bool {
        switch (a, b) {
        case let (.text(x), .text(y)): x == y
        case let (.bool(x), .bool(y)): x == y
        case let (.int(x), .int(y)): x == y
        case let (.double(x), .double(y)): x == y
        case (.null, .null): true
        case let (.object(x), .object(y)): x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        case let (.list(i, x), .list(j, y)): i == j && x == y
        default: false
        }
    }

    /// A text, or `null` when there is none.
    public static func optional(_ text: String?) -> GeoNode { text.map(GeoNode.text) ?? .null }

    /// A member of an object, or nil when this is not an object or has no such member.
    public subscript(_ key: String) -> GeoNode? {
        guard case let .object(members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }
}

public enum GeoFormat: String, Sendable, CaseIterable {
    case xml, json

    public var contentType: String { self == .xml ? "text/xml; charset=utf-8" : "application/json; charset=utf-8" }

    /// `services.json` → ("services", .json); nil without a known format: the spec always names one.
    public static func split(_ file: String) -> (name: String, format: GeoFormat)? {
        guard let dot = file.lastIndex(of: ".") else { return nil }
        guard let format = GeoFormat(rawValue: file[file.index(after: dot)...].lowercased()) else { return nil }
        return (String(file[..<dot]), format)
    }

    /// The whole document: `root` names the XML root element (the JSON has none).
    public func render(_ node: GeoNode, root: String) -> String {
        switch self {
        case .json: return GeoFormat.json(node)
        case .xml:
            var out = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
            GeoFormat.xml(node, name: root, into: &out)
            return out
        }
    }

    static func json(_ node: GeoNode) -> String {
        var out = ""
        json(node, into: &out)
        return out
    }

    /// Written into one buffer: a list of 1,000 requests is some 20,000 values.
    static func json(_ node: GeoNode, into out: inout String) {
        switch node {
        case let .text(s): jsonString(s, into: &out)
        case let .bool(b): out += b ? "true" : "false"
        case let .int(i): out += String(i)
        case let .double(d): out += d.isFinite ? "\(d)" : "null"
        case .null: out += "null"
        case let .object(members):
            out += "{"
            for (i, (key, value)) in members.enumerated() {
                if i > 0 { out += "," }
                jsonString(key, into: &out)
                out += ":"
                json(value, into: &out)
            }
            out += "}"
        case let .list(_, items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                json(item, into: &out)
            }
            out += "]"
        }
    }

    static func jsonString(_ s: String, into out: inout String) {
        out += "\""
        // Most texts need no escaping: appended whole. (0xE2 leads U+2028 and U+2029.)
        guard s.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || $0 == 0x3C || $0 == 0xE2 }) else {
            out += s
            out += "\""
            return
        }
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            // `<` escaped too, so that JSON pasted into a page can never close a script element.
            case "<": out += "\\u003c"
            case _ where scalar.value < 0x20 || scalar.value == 0x2028 || scalar.value == 0x2029:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    static func xml(_ node: GeoNode, name: String, into out: inout String) {
        switch node {
        case .null: out += "<\(name)/>"
        case let .text(s): out += "<\(name)>\(xmlEscaped(s))</\(name)>"
        case let .bool(b): out += "<\(name)>\(b)</\(name)>"
        case let .int(i): out += "<\(name)>\(i)</\(name)>"
        case let .double(d): out += "<\(name)>\(d)</\(name)>"
        case let .object(members):
            out += "<\(name)>"
            for (key, value) in members { xml(value, name: key, into: &out) }
            out += "</\(name)>"
        case let .list(item, items):
            out += "<\(name)>"
            for value in items { xml(value, name: item, into: &out) }
            out += "</\(name)>"
        }
    }

    /// Text as XML 1.0 character data: the five markup characters escaped, characters XML cannot carry dropped.
    public static func xmlEscaped(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 < 0x20 || $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 || $0 == 0xEF }) else { return s }
        var out = ""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            case _ where scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF: continue
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

/// An error answer: the spec's list of `{code, description}`, with the HTTP status it goes out with.
public struct GeoReportError: Error, Sendable, Equatable {
    public let status: Int
    public let description: String

    public init(_ status: Int, _ description: String) {
        self.status = status
        self.description = description
    }

    public static func missing(_ field: String) -> GeoReportError { .init(400, "\(field) is required") }
    public static func invalid(_ field: String, _ reason: String) -> GeoReportError { .init(400, "\(field) \(reason)") }

    public var node: GeoNode {
        .list(item: "error", [.object([("code", .int(status)), ("description", .text(description))])])
    }
    public static let root = "errors"
}
