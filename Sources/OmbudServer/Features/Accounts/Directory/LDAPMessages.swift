import OmbudDomain
import SwiftASN1

/// The few LDAPv3 operations a domain login needs (RFC 4511), encoded and decoded with swift-asn1.
/// Requests are written in DER, which is valid BER; responses are read as BER.
enum LDAPMessages {
    struct Result: Equatable {
        var code: Int
        var matchedDN: String
        var message: String

        static let success = 0, sizeLimitExceeded = 4
        var isSuccess: Bool { code == Self.success }
    }

    struct Entry: Equatable {
        var dn: String
        /// Attribute values by lower-cased attribute name.
        var attributes: [String: [String]]
    }

    enum Response: Equatable {
        case bind(Result)
        case searchEntry(Entry)
        case searchDone(Result)
        /// Referrals, extended responses: not used by a login, skipped.
        case other(UInt)
    }

    enum Scope: Int { case base = 0, oneLevel = 1, subtree = 2 }

    struct DecodingError: Error, CustomStringConvertible {
        var description: String
    }

    private static func application(_ n: UInt) -> ASN1Identifier { ASN1Identifier(tagWithNumber: n, tagClass: .application) }
    private static func context(_ n: UInt) -> ASN1Identifier { ASN1Identifier(tagWithNumber: n, tagClass: .contextSpecific) }
    private static let enumerated = ASN1Identifier(tagWithNumber: 10, tagClass: .universal)

    // MARK: requests

    static func bind(id: Int, dn: String, password: String) throws -> [UInt8] {
        try message(id: id) { s in
            try s.appendConstructedNode(identifier: application(0)) { s in
                try s.serialize(3)
                octets(Array(dn.utf8), into: &s)
                octets(Array(password.utf8), into: &s, identifier: context(0))
            }
        }
    }

    static func search(id: Int, base: String, scope: Scope, filter: LDAPFilter, attributes: [String], sizeLimit: Int, timeLimit: Int) throws -> [UInt8] {
        try message(id: id) { s in
            try s.appendConstructedNode(identifier: application(3)) { s in
                octets(Array(base.utf8), into: &s)
                integer(scope.rawValue, into: &s, identifier: enumerated)
                integer(0, into: &s, identifier: enumerated)  // derefAliases: never
                try s.serialize(sizeLimit)
                try s.serialize(timeLimit)
                try s.serialize(false)  // typesOnly
                try encode(filter, into: &s)
                s.appendConstructedNode(identifier: .sequence) { s in
                    for a in attributes { octets(Array(a.utf8), into: &s) }
                }
            }
        }
    }

    static func unbind(id: Int) throws -> [UInt8] {
        try message(id: id) { s in s.appendPrimitiveNode(identifier: application(2)) { _ in } }
    }

    private static func message(id: Int, _ op: (inout DER.Serializer) throws -> Void) throws -> [UInt8] {
        var s = DER.Serializer()
        try s.appendConstructedNode(identifier: .sequence) { s in
            try s.serialize(id)
            try op(&s)
        }
        return s.serializedBytes
    }

    private static func octets(_ bytes: [UInt8], into s: inout DER.Serializer, identifier: ASN1Identifier = .octetString) {
        s.appendPrimitiveNode(identifier: identifier) { $0.append(contentsOf: bytes) }
    }

    /// A small non-negative INTEGER or ENUMERATED under any tag.
    private static func integer(_ value: Int, into s: inout DER.Serializer, identifier: ASN1Identifier) {
        precondition(value >= 0 && value < 128)
        s.appendPrimitiveNode(identifier: identifier) { $0.append(UInt8(value)) }
    }

    static func encoded(_ filter: LDAPFilter) throws -> [UInt8] {
        var s = DER.Serializer()
        try encode(filter, into: &s)
        return s.serializedBytes
    }

    static func encode(_ filter: LDAPFilter, into s: inout DER.Serializer) throws {
        func assertion(_ tag: UInt, _ attribute: String, _ value: [UInt8]) {
            s.appendConstructedNode(identifier: context(tag)) { s in
                octets(Array(attribute.utf8), into: &s)
                octets(value, into: &s)
            }
        }
        switch filter {
        case let .and(items), let .or(items):
            let tag: UInt = if case .and = filter { 0 } else { 1 }
            try s.appendConstructedNode(identifier: context(tag)) { s in
                for item in items { try encode(item, into: &s) }
            }
        case let .not(inner):
            try s.appendConstructedNode(identifier: context(2)) { s in try encode(inner, into: &s) }
        case let .equal(a, v): assertion(3, a, v)
        case let .greaterOrEqual(a, v): assertion(5, a, v)
        case let .lessOrEqual(a, v): assertion(6, a, v)
        case let .approx(a, v): assertion(8, a, v)
        case let .present(a): octets(Array(a.utf8), into: &s, identifier: context(7))
        case let .substrings(a, initial, any, final):
            s.appendConstructedNode(identifier: context(4)) { s in
                octets(Array(a.utf8), into: &s)
                s.appendConstructedNode(identifier: .sequence) { s in
                    if let initial { octets(initial, into: &s, identifier: context(0)) }
                    for part in any { octets(part, into: &s, identifier: context(1)) }
                    if let final { octets(final, into: &s, identifier: context(2)) }
                }
            }
        }
    }

    // MARK: responses

    /// Decodes one LDAPMessage: its id and operation.
    static func decode(_ bytes: [UInt8]) throws -> (id: Int, response: Response) {
        let root = try BER.parse(bytes)
        var parts = try children(root, "LDAPMessage").makeIterator()
        guard let idNode = parts.next(), let op = parts.next() else { throw DecodingError(description: "LDAPMessage without an operation") }
        let id = try Int(berEncoded: idNode)
        guard op.identifier.tagClass == .application else { return (id, .other(op.identifier.tagNumber)) }
        switch op.identifier.tagNumber {
        case 1: return (id, .bind(try result(op)))
        case 5: return (id, .searchDone(try result(op)))
        case 4:
            var fields = try children(op, "SearchResultEntry").makeIterator()
            guard let dnNode = fields.next(), let attributesNode = fields.next() else { throw DecodingError(description: "short SearchResultEntry") }
            var attributes: [String: [String]] = [:]
            for attribute in try children(attributesNode, "attributes") {
                var pair = try children(attribute, "attribute").makeIterator()
                guard let type = pair.next(), let values = pair.next() else { throw DecodingError(description: "short attribute") }
                attributes[try string(type).lowercased(), default: []] += try children(values, "values").map(string)
            }
            return (id, .searchEntry(Entry(dn: try string(dnNode), attributes: attributes)))
        default:
            return (id, .other(op.identifier.tagNumber))
        }
    }

    private static func result(_ node: ASN1Node) throws -> Result {
        var fields = try children(node, "LDAPResult").makeIterator()
        guard let code = fields.next(), let matched = fields.next(), let message = fields.next() else {
            throw DecodingError(description: "short LDAPResult")
        }
        guard case let .primitive(bytes) = code.content, !bytes.isEmpty, bytes.count <= 4 else { throw DecodingError(description: "bad resultCode") }
        return Result(code: bytes.reduce(0) { $0 << 8 | Int($1) }, matchedDN: try string(matched), message: try string(message))
    }

    private static func children(_ node: ASN1Node, _ what: String) throws -> ASN1NodeCollection {
        guard case let .constructed(nodes) = node.content else { throw DecodingError(description: "\(what) is not constructed") }
        return nodes
    }

    private static func string(_ node: ASN1Node) throws -> String {
        guard case let .primitive(bytes) = node.content else { throw DecodingError(description: "expected an OCTET STRING") }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The length of the first whole BER element in `bytes`, or nil while more bytes are needed.
    static func frameLength(_ bytes: some Collection<UInt8>) throws -> Int? {
        var i = bytes.startIndex
        guard i != bytes.endIndex else { return nil }
        i = bytes.index(after: i)  // LDAPMessage is a SEQUENCE: a one-byte tag
        guard i != bytes.endIndex else { return nil }
        let first = bytes[i]
        i = bytes.index(after: i)
        if first < 0x80 { return 2 + Int(first) }
        let count = Int(first & 0x7f)
        guard count > 0, count <= 4 else { throw DecodingError(description: "unsupported BER length") }
        var length = 0
        for _ in 0..<count {
            guard i != bytes.endIndex else { return nil }
            length = length << 8 | Int(bytes[i])
            i = bytes.index(after: i)
        }
        return 2 + count + length
    }
}
