import Foundation

/// One message from a social network or the SMS gateway, whatever its wire shape: what becomes an appeal (or joins
/// the open appeal of its thread), who wrote it, and where an answer goes.
public struct ChannelMessage: Sendable, Equatable {
    /// `telegram`, `vk` or `sms`.
    public var network: String
    /// Unique per message: a message delivered twice (a webhook's retry, a replayed update) is stored once by it.
    public var messageKey: String
    /// Messages of one author in one place (a chat, a post's comments) — they join the same open appeal.
    public var thread: String
    /// The author as the network knows them.
    public var author: SocialIdentity
    /// The author's display name, when the network gives one.
    public var authorName: String?
    /// The message itself on the network (a wall comment, a public chat's message); nil for private messages.
    public var link: String?
    public var text: String
    public var sentAt: Date
    public var files: [ChannelFile]
    /// A point the author shared.
    public var point: (lat: Double, lon: Double)?
    public var replyTarget: ReplyTarget

    public init(network: String, messageKey: String, thread: String, author: SocialIdentity, authorName: String? = nil, link: String? = nil,
                text: String, sentAt: Date, files: [ChannelFile] = [], point: (lat: Double, lon: Double)? = nil, replyTarget: ReplyTarget) {
        self.network = network
        self.messageKey = messageKey
        self.thread = thread
        self.author = author
        self.authorName = authorName
        self.link = link
        self.text = text
        self.sentAt = sentAt
        self.files = files
        self.point = point
        self.replyTarget = replyTarget
    }

    public static func == (a: ChannelMessage, b: ChannelMessage) -> Bool {
        a.network == b.network && a.messageKey == b.messageKey && a.thread == b.thread && a.author == b.author && a.authorName == b.authorName
            && a.link == b.link && a.text == b.text && a.sentAt == b.sentAt && a.files == b.files && a.point?.lat == b.point?.lat
            && a.point?.lon == b.point?.lon && a.replyTarget == b.replyTarget
    }
}

/// A person on a network or a phone: the canonical link kept on the applicant's card and the key their card is found by.
public struct SocialIdentity: Sendable, Equatable {
    public var network: String
    public var id: String
    /// `@name` on Telegram.
    public var username: String?

    public init(network: String, id: String, username: String? = nil) {
        self.network = network
        self.id = id
        self.username = username
    }

    /// The links shown on the card: the permanent one first (a username can change hands).
    public var links: [String] {
        switch network {
        case "telegram": return ["tg://user?id=\(id)"] + (username.map { ["https://t.me/\($0)"] } ?? [])
        case "vk": return ["https://vk.com/id\(id)"]
        default: return []
        }
    }

    /// The key of the applicant's contact (`telegram:123`, `vk:123`), from a link as stored on a card.
    public static func contactKey(link: String) -> String? {
        let link = link.trimmed()
        if let id = link.wholeMatch(of: /tg:\/\/user\?id=(\d+)/)?.1 { return "telegram:\(id)" }
        if let id = link.wholeMatch(of: /(?i)(?:https?:\/\/)?(?:m\.)?vk\.com\/id(\d+)/)?.1 { return "vk:\(id)" }
        return nil
    }

    public var contactKey: String? { links.first.flatMap(Self.contactKey(link:)) }
}

/// A file that came with a message: fetched later through the network's API (Telegram's `file_id`, VK's URL).
public struct ChannelFile: Sendable, Equatable, Codable {
    public var ref: String
    public var name: String
    /// As the network declares it; a file past the attachment limit is not fetched at all.
    public var size: Int?

    public init(ref: String, name: String, size: Int?) {
        self.ref = ref
        self.name = name
        self.size = size
    }
}

/// Where the answer to a message goes: the same chat, the same dialogue, under the same comment, to the same phone.
public enum ReplyTarget: Sendable, Equatable, Codable {
    case telegram(chatID: Int64, messageID: Int?)
    case vkMessage(peerID: Int64)
    case vkComment(ownerID: Int64, postID: Int64, commentID: Int64)
    case sms(phone: String)

    /// The longest part the network takes in one message.
    public var messageLimit: Int {
        switch self {
        case .telegram: Telegram.messageLimit
        case .vkMessage, .vkComment: VK.messageLimit
        case .sms: SMS.maxInboundText
        }
    }

    /// Where an answer went, as the correspondence records it.
    public var recipient: String {
        switch self {
        case let .telegram(chat, _): "telegram:\(chat)"
        case let .vkMessage(peer): "vk:\(peer)"
        case let .vkComment(owner, post, comment): "https://vk.com/wall\(owner)_\(post)?reply=\(comment)"
        case let .sms(phone): phone
        }
    }

    /// Read by others than the citizen: a group chat (Telegram's are negative ids, VK's start at 2,000,000,000) or a
    /// comment thread on a wall.
    public var isShared: Bool {
        switch self {
        case let .telegram(chat, _): chat < 0
        case let .vkMessage(peer): peer >= 2_000_000_000
        case .vkComment: true
        case .sms: false
        }
    }

    public var network: String {
        switch self {
        case .telegram: "telegram"
        case .vkMessage, .vkComment: "vk"
        case .sms: "sms"
        }
    }
}

/// What the network said to a send: sent (with its id for the message), worth another try later, or refused for good.
public enum DeliveryResult: Sendable, Equatable {
    case sent(remoteID: String?)
    case retry(reason: String)
    case failed(reason: String)

    /// The usual reading of an HTTP status for an API that gave no better answer.
    public static func http(status: Int, body: String) -> DeliveryResult {
        let detail = "HTTP \(status)" + (body.isEmpty ? "" : ": " + String(body.prefix(300)))
        switch status {
        case 200..<300: return .sent(remoteID: nil)
        case 408, 425, 429, 500...: return .retry(reason: detail)
        default: return .failed(reason: detail)
        }
    }
}

/// An HTTP request to a network's API, described without sending it.
public struct ChannelCall: Sendable, Equatable {
    public var url: String
    public var contentType: String
    public var body: [UInt8]
    public var headers: [String: String]

    public init(url: String, contentType: String, body: [UInt8], headers: [String: String] = [:]) {
        self.url = url
        self.contentType = contentType
        self.body = body
        self.headers = headers
    }

    /// A JSON body with keys in a stable order (what tests compare and what signatures are taken over).
    static func json(_ url: String, _ object: [String: Any], headers: [String: String] = [:]) -> ChannelCall {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return ChannelCall(url: url, contentType: "application/json", body: Array(data), headers: headers)
    }

    static func form(_ url: String, _ fields: [(String, String)]) -> ChannelCall {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let body = fields.map { "\($0)=\($1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
        return ChannelCall(url: url, contentType: "application/x-www-form-urlencoded", body: Array(body.utf8))
    }
}

public enum ChannelText {
    /// A long answer in parts of at most `limit` UTF-16 code units (how Telegram and VK count a message's length; an
    /// emoji is two or more), cut at a paragraph, else a line, else a space.
    public static func chunks(_ text: String, limit: Int) -> [String] {
        var parts: [String] = []
        var rest = Substring(text.trimmed())
        while rest.utf16.count > limit {
            var units = 0
            let window = rest.prefix { units += $0.utf16.count; return units <= limit }
            let cut = window.range(of: "\n\n", options: .backwards)?.lowerBound
                ?? window.lastIndex(of: "\n") ?? window.lastIndex(of: " ")
            let end = cut.flatMap { $0 > window.startIndex ? $0 : nil } ?? window.endIndex
            parts.append(String(rest[..<end]).trimmed())
            rest = rest[end...].drop(while: { $0.isWhitespace })
        }
        if !rest.isEmpty { parts.append(String(rest)) }
        return parts.filter { !$0.isEmpty }
    }
}

/// A webhook's payload that is not a message to take: kept out of the registry, answered 200 so the network stops
/// sending it.
public struct ChannelSkip: Error, Sendable, Equatable {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
}

/// A payload that is not what the network's documentation describes: answered 400.
public struct ChannelPayloadError: Error, Sendable, Equatable {
    public var field: String
    public var reason: String
    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }
}
