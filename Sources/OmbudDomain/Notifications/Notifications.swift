import Foundation

/// What a notification is about; each kind has a template per language that administrators may edit.
public enum NotificationKind: String, Sendable, Codable, CaseIterable {
    case taskAssigned = "task-assigned"
    case stageReminder = "stage-reminder"
    case stageDue = "stage-due"
    case stageEscalation = "stage-escalation"
    case stageStuck = "stage-stuck"
    case answerReminder = "answer-reminder"
    case answerDue = "answer-due"
    case answerEscalation = "answer-escalation"
    case promiseReminder = "promise-reminder"
    case promiseDue = "promise-due"
    case promiseOverdue = "promise-overdue"

    /// The kind of an alert of the appeal's schedule.
    public init(_ alert: ScheduledAlert) {
        switch (alert.scope, alert.kind) {
        case (.stage, .reminder): self = .stageReminder
        case (.stage, .due): self = .stageDue
        case (.stage, .escalation): self = .stageEscalation
        case (.stage, .stuck): self = .stageStuck
        case (.answer, .reminder): self = .answerReminder
        case (.answer, .due), (.answer, .stuck): self = .answerDue
        case (.answer, .escalation): self = .answerEscalation
        }
    }

    /// The kind of a promise's alert.
    public init(promise alert: ScheduledAlert) {
        switch alert.kind {
        case .reminder: self = .promiseReminder
        case .due, .stuck: self = .promiseDue
        case .escalation: self = .promiseOverdue
        }
    }
}

/// The languages of the interface and of notifications. Persian is written right to left.
public enum UILanguage: String, Sendable, Codable, CaseIterable {
    case ru, en, fa
    public var direction: String { self == .fa ? "rtl" : "ltr" }
}

/// Whether a notification's e-mail went out.
public enum DeliveryStatus: String, Sendable, Codable, CaseIterable {
    /// The user gets no e-mail for this kind, or has no address.
    case none
    case pending
    case sent
    /// Every attempt failed; the notification stays in the app, and an administrator can send it again.
    case failed
}

/// An e-mail address as RFC 5321 accepts it in MAIL FROM / RCPT TO without SMTPUTF8: printable ASCII, local@domain,
/// no spaces, brackets or line breaks.
public struct MailAddress: Sendable, Equatable, CustomStringConvertible {
    public let address: String
    public let name: String?

    public init(_ raw: String, name: String? = nil, field: String = "email") throws(ValidationError) {
        let address = raw.trimmed()
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        let forbidden = CharacterSet.whitespacesAndNewlines.union(CharacterSet(charactersIn: "<>()[],;:\"\\"))
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."), !parts[1].hasSuffix("."),
              address.utf8.count <= 254, address.unicodeScalars.allSatisfy({ !forbidden.contains($0) && (33...126).contains($0.value) })
        else { throw ValidationError(field: field, reason: "\(raw) is not an e-mail address") }
        self.address = address
        self.name = name.map { $0.trimmed() }.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// For a header: the display name as an RFC 2047 word when it is not plain ASCII, quoted when it holds specials.
    public var description: String {
        guard let name else { return "<\(address)>" }
        let plain = name.unicodeScalars.allSatisfy { (32...126).contains($0.value) }
        guard plain else { return "\(MailMessage.encodedWord(name)) <\(address)>" }
        let atom = name.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || " !#$%&'*+-/=?^_`{|}~".unicodeScalars.contains($0) }
        if atom { return "\(name) <\(address)>" }
        let quoted = name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return "\"\(quoted)\" <\(address)>"
    }
}

/// A file sent with a mail.
public struct MailAttachment: Sendable, Equatable {
    public var name: String
    public var mediaType: String
    public var data: Data

    public init(name: String, mediaType: String, data: Data) {
        self.name = name
        self.mediaType = mediaType
        self.data = data
    }
}

/// A plain-text e-mail as RFC 5322 and MIME want it: headers in ASCII (RFC 2047 words for the rest), the UTF-8 body in
/// base64 so no line is too long and no line starts with a dot, CRLF line ends; with attachments, multipart/mixed.
public struct MailMessage: Sendable, Equatable {
    public var from: MailAddress
    public var to: MailAddress
    public var subject: String
    public var text: String
    public var messageID: String
    public var date: Date
    /// Ids of the messages this one answers, oldest first: `References`, and the last as `In-Reply-To`.
    public var references: [String] = []
    /// Files sent with the text (a scheduled report's workbook): the message becomes multipart/mixed.
    public var attachments: [MailAttachment] = []

    public init(from: MailAddress, to: MailAddress, subject: String, text: String, messageID: String, date: Date) {
        self.from = from
        self.to = to
        self.subject = subject
        self.text = text
        self.messageID = messageID
        self.date = date
    }

    public func rendered() -> String {
        var headers = [
            "Date: \(Self.rfc5322Date(date))",
            "From: \(from)",
            "To: \(to)",
            "Subject: \(Self.encodedWord(subject.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")))",
            "Message-ID: <\(messageID)>",
        ]
        let ids = references.filter { id in !id.contains(where: { $0 == "<" || $0 == ">" || $0.isWhitespace }) }
        if let last = ids.last {
            headers += ["In-Reply-To: <\(last)>", "References: " + ids.suffix(10).map { "<\($0)>" }.joined(separator: "\r\n ")]
        }
        let lines: Data.Base64EncodingOptions = [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed]
        let body = Data(text.utf8).base64EncodedString(options: lines)
        guard !attachments.isEmpty else {
            headers += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=UTF-8", "Content-Transfer-Encoding: base64",
                        "Auto-Submitted: auto-generated"]
            return headers.joined(separator: "\r\n") + "\r\n\r\n" + body + "\r\n"
        }
        // Base64 never contains "=_", so the boundary cannot occur in a part.
        let boundary = "=_ombud_" + messageID.filter { $0.isASCII && ($0.isLetter || $0.isNumber) }.prefix(40)
        headers += ["MIME-Version: 1.0", "Content-Type: multipart/mixed; boundary=\"\(boundary)\"", "Auto-Submitted: auto-generated"]
        var parts = ["--\(boundary)\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n\(body)\r\n"]
        for file in attachments {
            let name = file.name.replacingOccurrences(of: "\"", with: "").replacingOccurrences(of: "\r", with: "").replacingOccurrences(of: "\n", with: "")
            // An ASCII name as is; any other in RFC 2231's form, which mail readers and Python's email prefer.
            let disposition = name.unicodeScalars.allSatisfy({ $0.isASCII && $0.value >= 32 }) ? "filename=\"\(name)\""
                : "filename*=UTF-8''" + (name.addingPercentEncoding(withAllowedCharacters: Self.attrChar) ?? "attachment")
            parts.append("--\(boundary)\r\nContent-Type: \(file.mediaType)\r\nContent-Transfer-Encoding: base64\r\n"
                + "Content-Disposition: attachment; \(disposition)\r\n\r\n"
                + file.data.base64EncodedString(options: lines) + "\r\n")
        }
        return headers.joined(separator: "\r\n") + "\r\n\r\n" + parts.joined() + "--\(boundary)--\r\n"
    }

    /// What RFC 2231 leaves unencoded in a parameter's value (letters and digits of ASCII only, and a few marks).
    static let attrChar = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_")

    /// RFC 2047: ASCII text as is, anything else as `=?UTF-8?B?…?=` words of at most 75 characters, never splitting a character.
    public static func encodedWord(_ text: String) -> String {
        if text.unicodeScalars.allSatisfy({ $0.isASCII && $0.value >= 32 }) { return text }
        var words: [String] = []
        var chunk = ""
        for character in text {
            if (chunk + String(character)).utf8.count > 45 {
                words.append(chunk)
                chunk = ""
            }
            chunk.append(character)
        }
        if !chunk.isEmpty { words.append(chunk) }
        return words.map { "=?UTF-8?B?\(Data($0.utf8).base64EncodedString())?=" }.joined(separator: "\r\n ")
    }

    public static func rfc5322Date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }
}

/// One reply of an SMTP server (RFC 5321 §4.2): a three-digit code, lines joined; `250-…` lines continue it.
public struct SMTPReply: Sendable, Equatable {
    public let code: Int
    public let lines: [String]

    public var isPositive: Bool { (200..<400).contains(code) }
    public var text: String { "\(code) " + lines.joined(separator: " / ") }

    /// Parses accumulated lines; nil while the last line read is a continuation.
    public static func parse(_ raw: [String]) throws(ValidationError) -> SMTPReply? {
        guard let last = raw.last else { return nil }
        var lines: [String] = []
        var code: Int?
        for line in raw {
            let bytes = Array(line.utf8)
            guard bytes.count >= 3, let value = Int(String(decoding: bytes[0..<3], as: UTF8.self)), (200...599).contains(value),
                  bytes.count == 3 || bytes[3] == UInt8(ascii: " ") || bytes[3] == UInt8(ascii: "-")
            else { throw ValidationError(field: "smtp", reason: "not an SMTP reply: \(line.prefix(80))") }
            if let code, code != value { throw ValidationError(field: "smtp", reason: "a reply mixes codes \(code) and \(value)") }
            code = value
            lines.append(bytes.count > 4 ? String(decoding: bytes[4...], as: UTF8.self) : "")
        }
        let lastBytes = Array(last.utf8)
        if lastBytes.count > 3, lastBytes[3] == UInt8(ascii: "-") { return nil }
        guard let code else { return nil }
        return SMTPReply(code: code, lines: lines)
    }

    /// The extensions an EHLO reply announces (the first line is the greeting), upper-cased.
    public var extensions: Set<String> {
        Set(lines.dropFirst().map { $0.split(separator: " ").first.map { $0.uppercased() } ?? "" })
    }
}
