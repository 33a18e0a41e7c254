import Foundation

/// The Telegram Bot API as Ombud uses it: updates arrive at the webhook (`setWebhook` with a `secret_token`, which
/// Telegram echoes in `X-Telegram-Bot-Api-Secret-Token`), answers go out by `sendMessage`, files come by `getFile`.
/// https://core.telegram.org/bots/api
public enum Telegram {
    public static let secretHeader = "X-Telegram-Bot-Api-Secret-Token"
    /// A message's text is at most 4,096 characters.
    public static let messageLimit = 4096

    struct Update: Decodable {
        var update_id: Int64
        var message: Message?
        var edited_message: Message?
    }

    struct Message: Decodable {
        var message_id: Int
        var from: User?
        var chat: Chat
        var date: Int64
        var text: String?
        var caption: String?
        var photo: [File]?
        var document: File?
        var voice: File?
        var audio: File?
        var video: File?
        var location: Location?
    }

    struct User: Decodable {
        var id: Int64
        var is_bot: Bool?
        var first_name: String?
        var last_name: String?
        var username: String?
    }

    struct Chat: Decodable {
        var id: Int64
        var type: String
        var username: String?
    }

    struct File: Decodable {
        var file_id: String
        var file_name: String?
        var mime_type: String?
        var file_size: Int?
    }

    struct Location: Decodable {
        var latitude: Double
        var longitude: Double
    }

    /// The message an update carries; `ChannelSkip` for updates that are not a citizen's new message (edits, channel
    /// posts, buttons, other bots — our own answers among them, so the bot never talks to itself).
    public static func message(fromUpdate body: [UInt8]) throws -> ChannelMessage {
        let update: Update
        do { update = try JSONDecoder().decode(Update.self, from: Data(body)) } catch {
            throw ChannelPayloadError(field: "update", reason: "not a Telegram Update: \(JSONProblem.describe(error))")
        }
        guard let message = update.message else {
            throw ChannelSkip(update.edited_message != nil ? "an edited message (the first version is kept)" : "not a new message")
        }
        guard let from = message.from else { throw ChannelSkip("a message without an author") }
        if from.is_bot == true { throw ChannelSkip("a message from a bot") }
        var files: [ChannelFile] = []
        // A photo comes in several sizes: the largest is the last.
        if let photo = message.photo?.last { files.append(ChannelFile(ref: photo.file_id, name: "photo-\(message.message_id).jpg", size: photo.file_size)) }
        for (file, fallback) in [(message.document, "document"), (message.voice, "voice-\(message.message_id).ogg"),
                                 (message.audio, "audio"), (message.video, "video-\(message.message_id).mp4")] {
            if let file { files.append(ChannelFile(ref: file.file_id, name: file.file_name ?? fallback, size: file.file_size)) }
        }
        let text = (message.text ?? message.caption ?? "").trimmed()
        guard !text.isEmpty || !files.isEmpty || message.location != nil else { throw ChannelSkip("a message with nothing to read (a sticker, a service note)") }
        let author = SocialIdentity(network: "telegram", id: String(from.id), username: from.username)
        let name = [from.first_name, from.last_name].compactMap { $0?.trimmed().nonEmptyText }.joined(separator: " ").nonEmptyText
        // In a public group the message has an address of its own; a private chat's has none.
        let link = message.chat.type != "private" ? message.chat.username.map { "https://t.me/\($0)/\(message.message_id)" } : nil
        return ChannelMessage(network: "telegram", messageKey: "telegram:\(message.chat.id):\(message.message_id)",
                              thread: "telegram:\(message.chat.id):\(from.id)", author: author, authorName: name, link: link, text: text,
                              sentAt: Date(timeIntervalSince1970: TimeInterval(message.date)), files: files,
                              point: message.location.map { ($0.latitude, $0.longitude) },
                              replyTarget: .telegram(chatID: message.chat.id, messageID: message.message_id))
    }

    /// `sendMessage`: plain text (no parse mode, so nothing in the answer is read as markup), as a reply to the
    /// citizen's message when it still exists.
    public static func sendMessage(api: String, token: String, chatID: Int64, replyTo: Int?, text: String) -> ChannelCall {
        var body: [String: Any] = ["chat_id": chatID, "text": text]
        if let replyTo { body["reply_parameters"] = ["message_id": replyTo, "allow_sending_without_reply": true] }
        return .json(url(api: api, token: token, method: "sendMessage"), body)
    }

    public static func getFile(api: String, token: String, fileID: String) -> ChannelCall {
        .json(url(api: api, token: token, method: "getFile"), ["file_id": fileID])
    }

    /// Where a file's bytes are, from `getFile`'s answer (`result.file_path`).
    public static func fileURL(api: String, token: String, getFileAnswer body: [UInt8]) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any], object["ok"] as? Bool == true,
              let path = (object["result"] as? [String: Any])?["file_path"] as? String, !path.contains("..") else { return nil }
        return trimmedBase(api) + "/file/bot\(token)/" + path
    }

    static func url(api: String, token: String, method: String) -> String { trimmedBase(api) + "/bot\(token)/\(method)" }

    /// The Bot API's answer: `{"ok": true, "result": {...}}` or `{"ok": false, "error_code": …, "description": …}`.
    /// Flood control (429) and server errors are tried again; a blocked bot or a deleted chat is not.
    public static func result(status: Int, body: [UInt8]) -> DeliveryResult {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any], let ok = object["ok"] as? Bool else {
            return .http(status: status, body: String(decoding: body.prefix(300), as: UTF8.self)).unlessSent("not a Bot API answer")
        }
        if ok {
            let id = ((object["result"] as? [String: Any])?["message_id"] as? NSNumber).map { "\($0.intValue)" }
            return .sent(remoteID: id)
        }
        let code = (object["error_code"] as? NSNumber)?.intValue ?? status
        let reason = "Telegram \(code): \((object["description"] as? String) ?? "no description")"
        return code == 429 || code >= 500 ? .retry(reason: reason) : .failed(reason: reason)
    }
}

extension DeliveryResult {
    /// A 2xx answer in an unexpected shape is not proof of delivery: tried again.
    func unlessSent(_ reason: String) -> DeliveryResult {
        if case .sent = self { return .retry(reason: reason) }
        return self
    }
}

func trimmedBase(_ api: String) -> String {
    var base = api.trimmed()
    while base.hasSuffix("/") { base.removeLast() }
    return base
}

enum JSONProblem {
    static func describe(_ error: any Error) -> String {
        switch error as? DecodingError {
        case let .keyNotFound(key, context)?: return "missing \((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))"
        case let .typeMismatch(_, context)?, let .valueNotFound(_, context)?:
            return "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        case .dataCorrupted?: return "not JSON"
        default: return "unreadable"
        }
    }
}
