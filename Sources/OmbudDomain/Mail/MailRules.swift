import Foundation

/// The text of an HTML-only mail: scripts and styles dropped, block ends as line breaks, entities decoded.
public enum HTMLText {
    public static func plain(_ html: String) -> String {
        var out = ""
        var rest = Substring(html)
        while let open = rest.firstIndex(of: "<") {
            out += entities(rest[..<open])
            guard let close = rest[open...].firstIndex(of: ">") else { rest = rest[rest.endIndex...]; break }
            let tag = rest[rest.index(after: open)..<close].lowercased()
            let name = tag.split(whereSeparator: { $0 == " " || $0 == "/" || $0 == "\n" || $0 == "\t" }).first.map(String.init) ?? ""
            rest = rest[rest.index(after: close)...]
            if name == "script" || name == "style" || name == "head" {
                // Skip to the matching end tag.
                if let end = rest.range(of: "</\(name)", options: .caseInsensitive) {
                    rest = rest[end.upperBound...]
                    if let gt = rest.firstIndex(of: ">") { rest = rest[rest.index(after: gt)...] }
                } else {
                    rest = rest[rest.endIndex...]
                }
                continue
            }
            if ["br", "p", "/p", "div", "/div", "tr", "/tr", "li", "h1", "h2", "h3", "/h1", "/h2", "/h3", "blockquote", "/blockquote"].contains(name) {
                out += "\n"
            }
        }
        out += entities(rest)
        // Collapse runs of spaces and of blank lines.
        let lines = out.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\u{A0}" || $0 == "\r" }).joined(separator: " ")
        }
        var result: [String] = []
        for line in lines where !(line.isEmpty && (result.last?.isEmpty ?? true)) { result.append(line) }
        return result.joined(separator: "\n").trimmed()
    }

    static let named: [String: String] = ["amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": "\u{A0}", "laquo": "«",
                                          "raquo": "»", "mdash": "—", "ndash": "–", "hellip": "…", "copy": "©", "numero": "№"]

    static func entities(_ text: Substring) -> String {
        guard text.contains("&") else { return String(text) }
        var out = ""
        var rest = text
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            let after = rest[rest.index(after: amp)...]
            if let semi = after.prefix(10).firstIndex(of: ";") {
                let entity = String(after[..<semi])
                var scalar: Unicode.Scalar?
                if entity.hasPrefix("#x") || entity.hasPrefix("#X") { scalar = UInt32(entity.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init) }
                else if entity.hasPrefix("#") { scalar = UInt32(entity.dropFirst()).flatMap(Unicode.Scalar.init) }
                if let scalar { out.unicodeScalars.append(scalar); rest = after[after.index(after: semi)...]; continue }
                if let text = named[entity.lowercased()] { out += text; rest = after[after.index(after: semi)...]; continue }
            }
            out += "&"
            rest = after
        }
        return out + rest
    }
}

/// What the mail gateway decides from headers alone.
public enum MailRules {
    /// Automatic mail (RFC 3834 `Auto-Submitted`, `Precedence: bulk/junk/list/auto_reply`, Microsoft's and others'
    /// auto-reply flags, bounces with an empty return path) is never answered: answering it starts a mail loop.
    public static func isAutomatic(_ headers: MailHeaders) -> Bool {
        if let auto = headers["Auto-Submitted"]?.trimmed().lowercased(), !auto.isEmpty, !auto.hasPrefix("no") { return true }
        if let precedence = headers["Precedence"]?.trimmed().lowercased(), ["bulk", "junk", "list", "auto_reply", "auto-reply"].contains(precedence) {
            return true
        }
        if headers["X-Autoreply"] != nil || headers["X-Autorespond"] != nil { return true }
        if let suppress = headers["X-Auto-Response-Suppress"]?.lowercased(), suppress.contains("all") || suppress.contains("oof") {
            return true
        }
        if let path = headers["Return-Path"]?.trimmed(), path == "<>" { return true }
        return false
    }

    /// The appeal a message belongs to: a tracking code in the subject (`Re: [2026-000123] …`), else one carried by
    /// the ids of our own messages it replies to (`<appeal-2026-000123.…@host>`).
    public static func trackingCode(subject: String, threadIDs: [String]) -> TrackingCode? {
        if let code = codes(in: subject).first { return code }
        for id in threadIDs.reversed() where id.hasPrefix("appeal-") {
            if let code = codes(in: String(id.dropFirst("appeal-".count).prefix(11))).first { return code }
        }
        return nil
    }

    /// `YYYY-NNNNNN` tokens, not part of a longer number.
    static func codes(in text: String) -> [TrackingCode] {
        let chars = Array(text)
        var found: [TrackingCode] = []
        var i = 0
        while i + 11 <= chars.count {
            let window = chars[i..<i + 11]
            let digitsOK = window.enumerated().allSatisfy { k, c in k == 4 ? c == "-" : (c.isASCII && c.isNumber) }
            let before = i == 0 || !(chars[i - 1].isNumber || chars[i - 1] == "-")
            let after = i + 11 == chars.count || !chars[i + 11].isNumber
            if digitsOK, before, after, let code = TrackingCode(String(window)) {
                found.append(code)
                i += 11
            } else {
                i += 1
            }
        }
        return found
    }

    /// The Message-ID of our mail about an appeal: replies carry it back in In-Reply-To and References.
    public static func messageID(code: TrackingCode, unique: String, host: String) -> String {
        "appeal-\(code).\(unique)@\(host)"
    }
}
