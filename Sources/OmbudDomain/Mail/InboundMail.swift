import Foundation

/// One received message as the mail gateway needs it: who sent it, its subject and threading headers, its text
/// (from text/plain, else from the HTML), and its attachments.
public struct InboundMail: Sendable, Equatable {
    public struct Attachment: Sendable, Equatable {
        public var fileName: String
        public var contentType: String
        public var data: [UInt8]
    }

    public var headers: MailHeaders
    public var fromAddress: String?
    public var fromName: String?
    public var subject: String
    public var messageID: String?
    /// In-Reply-To and References, in order, without angle brackets.
    public var threadIDs: [String]
    public var text: String
    public var attachments: [Attachment]

    public static let maxDepth = 10
    public static let maxHeaderBytes = 256 * 1024

    public static func parse(_ raw: [UInt8]) throws(MailParseError) -> InboundMail {
        guard !raw.isEmpty else { throw MailParseError("the message is empty") }
        let (headerBytes, body) = split(raw[...])
        guard headerBytes.count <= maxHeaderBytes else { throw MailParseError("the header section is larger than 256 KB") }
        let headers = try MailHeaders.parse(headerBytes)
        var texts: (plain: [String], html: [String]) = ([], [])
        var attachments: [Attachment] = []
        try walk(headers: headers, body: body, depth: 0, texts: &texts, attachments: &attachments)
        let text = !texts.plain.isEmpty ? texts.plain.joined(separator: "\n\n") : texts.html.map(HTMLText.plain).joined(separator: "\n\n")
        let from = headers["From"].flatMap { MailboxParser.first(EncodedWords.decode($0)) }
        // U+0000 (from `=00` or base64) cannot be stored and means nothing in a text: a citizen's mail is taken without it.
        func clean(_ value: String) -> String { value.contains("\u{0}") ? value.replacingOccurrences(of: "\u{0}", with: "") : value }
        return InboundMail(
            headers: headers, fromAddress: from.map { clean($0.address) }, fromName: from?.name.map(clean),
            subject: clean(headers["Subject"].map { EncodedWords.decode($0).trimmed() } ?? ""),
            messageID: headers["Message-ID"].flatMap { MailboxParser.ids($0).first }.map(clean),
            threadIDs: (headers.all("In-Reply-To") + headers.all("References")).flatMap(MailboxParser.ids).map(clean),
            text: clean(text.trimmed()), attachments: attachments.map { var a = $0; a.fileName = clean(a.fileName); return a })
    }

    /// Headers and body, split at the first empty line (CRLF or LF); a message with no body is all headers.
    static func split(_ bytes: ArraySlice<UInt8>) -> (ArraySlice<UInt8>, ArraySlice<UInt8>) {
        var i = bytes.startIndex
        var lineStart = true
        while i < bytes.endIndex {
            if lineStart {
                if bytes[i] == 0x0A { return (bytes[bytes.startIndex..<i], bytes[(i + 1)...]) }
                if bytes[i] == 0x0D, i + 1 < bytes.endIndex, bytes[i + 1] == 0x0A { return (bytes[bytes.startIndex..<i], bytes[(i + 2)...]) }
            }
            lineStart = bytes[i] == 0x0A
            i += 1
        }
        return (bytes, bytes[bytes.endIndex...])
    }

    private static func walk(headers: MailHeaders, body: ArraySlice<UInt8>, depth: Int, texts: inout (plain: [String], html: [String]),
                             attachments: inout [Attachment]) throws(MailParseError) {
        guard depth <= maxDepth else { throw MailParseError("MIME parts nested deeper than \(maxDepth) levels") }
        let type = MIMEValue.parse(headers["Content-Type"])
        let mediaType = type.value.isEmpty ? "text/plain" : type.value
        let disposition = MIMEValue.parse(headers["Content-Disposition"])
        if mediaType.hasPrefix("multipart/") {
            guard let boundary = type.parameters["boundary"], !boundary.isEmpty else {
                throw MailParseError("a multipart part has no boundary parameter")
            }
            let parts = try multipart(body, boundary: boundary)
            for part in parts where mediaType != "multipart/alternative" || !part.isEmpty {
                let (h, b) = split(part)
                try walk(headers: try MailHeaders.parse(h), body: b, depth: depth + 1, texts: &texts, attachments: &attachments)
            }
            return
        }
        if mediaType == "message/rfc822" {
            let (h, b) = split(body)
            if let inner = try? MailHeaders.parse(h) {
                try walk(headers: inner, body: b, depth: depth + 1, texts: &texts, attachments: &attachments)
                return
            }
        }
        let data = TransferEncoding.decode(body, encoding: headers["Content-Transfer-Encoding"])
        let name = disposition.parameters["filename"] ?? type.parameters["name"]
        let isAttachment = disposition.value == "attachment" || (name != nil && disposition.value != "inline")
            || !(mediaType == "text/plain" || mediaType == "text/html")
        if isAttachment {
            let fileName = name.map(EncodedWords.decode).flatMap { $0.trimmed().isEmpty ? nil : $0.trimmed() }
                ?? "attachment-\(attachments.count + 1)"
            attachments.append(Attachment(fileName: fileName, contentType: mediaType, data: data))
            return
        }
        let text = MailCharset.decode(data, charset: type.parameters["charset"]) ?? String(decoding: data, as: UTF8.self)
        if mediaType == "text/html" { texts.html.append(text) } else { texts.plain.append(text) }
    }

    /// The parts between `--boundary` lines, up to the closing `--boundary--` (or the end, for a cut-off message).
    static func multipart(_ body: ArraySlice<UInt8>, boundary: String) throws(MailParseError) -> [ArraySlice<UInt8>] {
        let marker = Array(("--" + boundary).utf8)
        var parts: [ArraySlice<UInt8>] = []
        var start: Int?
        var i = body.startIndex
        var found = false
        while i < body.endIndex {
            let lineEnd = body[i...].firstIndex(of: 0x0A) ?? body.endIndex
            var line = body[i..<lineEnd]
            if line.last == 0x0D { line = line.dropLast() }
            if line.starts(with: marker) {
                let rest = line.dropFirst(marker.count)
                let closing = rest.starts(with: [0x2D, 0x2D])
                if closing || rest.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
                    found = true
                    if let s = start {
                        // The line break before the boundary belongs to the boundary.
                        var end = i
                        if end > s, body[end - 1] == 0x0A { end -= 1 }
                        if end > s, body[end - 1] == 0x0D { end -= 1 }
                        parts.append(body[s..<end])
                    }
                    if closing { return parts }
                    start = lineEnd < body.endIndex ? lineEnd + 1 : body.endIndex
                }
            }
            i = lineEnd < body.endIndex ? lineEnd + 1 : body.endIndex
        }
        guard found else { throw MailParseError("the multipart boundary \(boundary) never appears in the body") }
        if let s = start, s < body.endIndex { parts.append(body[s...]) }
        return parts
    }
}

/// Addresses and message ids from header text.
public enum MailboxParser {
    /// The first mailbox of `Name <a@b>`, `a@b (Name)` or `a@b`.
    public static func first(_ text: String) -> (address: String, name: String?)? {
        if let open = text.lastIndex(of: "<"), let close = text[open...].firstIndex(of: ">") {
            let address = text[text.index(after: open)..<close].trimmed()
            guard address.contains("@") else { return nil }
            var name = text[..<open].trimmed()
            if name.hasPrefix("\""), name.hasSuffix("\""), name.count >= 2 { name = String(name.dropFirst().dropLast()) }
            return (address, name.isEmpty ? nil : name)
        }
        let word = text.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" }).first { $0.contains("@") }
        guard let word else { return nil }
        return (String(word).trimmingCharacters(in: CharacterSet(charactersIn: "()<>\"")), nil)
    }

    /// A display name as a card's name: three words are «Фамилия Имя Отчество», two are "Name Surname"; none, the mailbox.
    public static func cardName(display: String?, email: String) -> (surname: String?, name: String?) {
        let words = (display ?? "").split(separator: " ").map(String.init).filter { !$0.contains("@") }
        switch words.count {
        case 0: return (nil, String(email.split(separator: "@").first ?? Substring(email)))
        case 1: return (nil, words[0])
        case 2: return (words[1], words[0])
        default: return (words[0], words[1...].joined(separator: " "))
        }
    }

    /// `<id>` tokens of Message-ID, In-Reply-To and References.
    public static func ids(_ text: String) -> [String] {
        var out: [String] = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "<"), let close = rest[open...].firstIndex(of: ">") {
            let id = rest[rest.index(after: open)..<close].trimmed()
            if !id.isEmpty { out.append(id) }
            rest = rest[rest.index(after: close)...]
        }
        return out
    }
}
