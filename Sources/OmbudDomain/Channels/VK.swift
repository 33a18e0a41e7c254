import Foundation

/// VK's Callback API as Ombud uses it: the server is confirmed by answering the `confirmation` event with the code the
/// community's settings show; every other event carries the community's secret key and is answered `ok`. Messages to
/// the community (`message_new`) are answered by `messages.send`, comments on its wall (`wall_reply_new`) under the
/// comment by `wall.createComment`. https://dev.vk.com/ru/api/callback/getting-started
public enum VK {
    public static let version = "5.199"
    /// A message's text is at most 4,096 characters.
    public static let messageLimit = 4096

    /// One Callback API request.
    public enum Event: Sendable, Equatable {
        case confirmation(groupID: Int64)
        case message(ChannelMessage)
    }

    struct Envelope: Decodable {
        var type: String
        var group_id: Int64?
        var secret: String?
        var event_id: String?
    }

    struct Message: Decodable {
        var id: Int64?
        var date: Int64
        var peer_id: Int64
        var from_id: Int64
        var text: String?
        var conversation_message_id: Int64?
        var attachments: [Attachment]?
        var geo: Geo?
    }

    struct Comment: Decodable {
        var id: Int64
        var from_id: Int64
        var date: Int64
        var text: String?
        var post_id: Int64
        var owner_id: Int64
        var attachments: [Attachment]?
    }

    struct Attachment: Decodable {
        var type: String
        var photo: Photo?
        var doc: Doc?
        var audio_message: AudioMessage?
    }

    struct Photo: Decodable {
        var id: Int64?
        var sizes: [Size]?
        struct Size: Decodable {
            var url: String
            var width: Int?
            var height: Int?
        }
    }

    struct Doc: Decodable {
        var title: String?
        var size: Int?
        var url: String?
    }

    struct AudioMessage: Decodable {
        var link_ogg: String?
        var link_mp3: String?
    }

    struct Geo: Decodable {
        var coordinates: Coordinates?
        struct Coordinates: Decodable {
            var latitude: Double
            var longitude: Double
        }
    }

    struct MessageObject: Decodable { var message: Message }
    struct Body<Object: Decodable>: Decodable { var object: Object }

    /// The secret key the request carries (nil when it carries none); checked before anything is read further.
    public static func secret(of body: [UInt8]) throws -> (type: String, secret: String?, groupID: Int64?) {
        do {
            let envelope = try JSONDecoder().decode(Envelope.self, from: Data(body))
            return (envelope.type, envelope.secret, envelope.group_id)
        } catch {
            throw ChannelPayloadError(field: "type", reason: "not a VK Callback API event: \(JSONProblem.describe(error))")
        }
    }

    /// The event a request carries; `ChannelSkip` for events Ombud does not take (edits, typing, the community's own
    /// messages and comments, which are our answers).
    public static func event(_ body: [UInt8]) throws -> Event {
        let envelope = try secret(of: body)
        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            do { return try JSONDecoder().decode(Body<T>.self, from: Data(body)).object } catch {
                throw ChannelPayloadError(field: "object", reason: "not a \(envelope.type) object: \(JSONProblem.describe(error))")
            }
        }
        switch envelope.type {
        case "confirmation":
            guard let group = envelope.groupID else { throw ChannelPayloadError(field: "group_id", reason: "missing") }
            return .confirmation(groupID: group)
        case "message_new":
            // Since API 5.103 the object holds the message and the client's abilities; before, it was the message.
            let message: Message
            if let wrapped = try? decode(MessageObject.self) { message = wrapped.message } else { message = try decode(Message.self) }
            guard message.from_id > 0 else { throw ChannelSkip("a message from a community") }
            let text = (message.text ?? "").trimmed()
            let files = self.files(message.attachments ?? [], prefix: "vk-\(message.peer_id)-\(message.conversation_message_id ?? message.id ?? 0)")
            guard !text.isEmpty || !files.isEmpty || message.geo?.coordinates != nil else { throw ChannelSkip("a message with nothing to read") }
            let id = message.conversation_message_id.map { "c\($0)" } ?? message.id.map { "m\($0)" } ?? "d\(message.date)"
            return .message(ChannelMessage(
                network: "vk", messageKey: "vk:\(message.peer_id):\(id)", thread: "vk:\(message.peer_id):\(message.from_id)",
                author: SocialIdentity(network: "vk", id: String(message.from_id)), text: text,
                sentAt: Date(timeIntervalSince1970: TimeInterval(message.date)), files: files,
                point: message.geo?.coordinates.map { ($0.latitude, $0.longitude) }, replyTarget: .vkMessage(peerID: message.peer_id)))
        case "wall_reply_new":
            let comment = try decode(Comment.self)
            guard comment.from_id > 0 else { throw ChannelSkip("a comment by a community") }
            let text = (comment.text ?? "").trimmed()
            let files = self.files(comment.attachments ?? [], prefix: "vk-wall\(comment.owner_id)_\(comment.post_id)-\(comment.id)")
            guard !text.isEmpty || !files.isEmpty else { throw ChannelSkip("a comment with nothing to read") }
            let post = "wall\(comment.owner_id)_\(comment.post_id)"
            return .message(ChannelMessage(
                network: "vk", messageKey: "vk:\(post):\(comment.id)", thread: "vk:\(post):\(comment.from_id)",
                author: SocialIdentity(network: "vk", id: String(comment.from_id)), link: "https://vk.com/\(post)?reply=\(comment.id)",
                text: text, sentAt: Date(timeIntervalSince1970: TimeInterval(comment.date)), files: files,
                replyTarget: .vkComment(ownerID: comment.owner_id, postID: comment.post_id, commentID: comment.id)))
        default:
            throw ChannelSkip("an event of type \(envelope.type)")
        }
    }

    static func files(_ attachments: [Attachment], prefix: String) -> [ChannelFile] {
        attachments.enumerated().compactMap { i, a in
            switch a.type {
            case "photo":
                // The largest size offered.
                guard let size = a.photo?.sizes?.max(by: { ($0.width ?? 0) * ($0.height ?? 0) < ($1.width ?? 0) * ($1.height ?? 0) }) else { return nil }
                return ChannelFile(ref: size.url, name: "\(prefix)-\(i + 1).jpg", size: nil)
            case "doc":
                guard let doc = a.doc, let url = doc.url else { return nil }
                return ChannelFile(ref: url, name: doc.title ?? "\(prefix)-\(i + 1)", size: doc.size)
            case "audio_message":
                guard let link = a.audio_message?.link_mp3 ?? a.audio_message?.link_ogg else { return nil }
                return ChannelFile(ref: link, name: "\(prefix)-\(i + 1)." + (a.audio_message?.link_mp3 != nil ? "mp3" : "ogg"), size: nil)
            default:
                return nil
            }
        }
    }

    /// `messages.send`. `random_id` makes VK drop a repeat of the same send (a retried job), so it is derived from `key`.
    public static func sendMessage(api: String, token: String, peerID: Int64, text: String, key: String) -> ChannelCall {
        .form(trimmedBase(api) + "/method/messages.send", [
            ("peer_id", String(peerID)), ("message", text), ("random_id", String(randomID(key))),
            ("access_token", token), ("v", version),
        ])
    }

    /// `wall.createComment` under the citizen's comment, as the community; `guid` keeps a retried call from posting twice.
    public static func createComment(api: String, token: String, groupID: Int64, ownerID: Int64, postID: Int64, replyTo: Int64,
                                     text: String, key: String) -> ChannelCall {
        .form(trimmedBase(api) + "/method/wall.createComment", [
            ("owner_id", String(ownerID)), ("post_id", String(postID)), ("from_group", String(groupID)), ("reply_to_comment", String(replyTo)),
            ("message", text), ("guid", key), ("access_token", token), ("v", version),
        ])
    }

    /// Whether a file address in an event may be fetched: VK serves files from its own domains over HTTPS; `api`'s host
    /// (a proxy, or a test's server) is allowed too. Anything else in a payload is never fetched.
    public static func isFileHost(_ url: String, api: String?) -> Bool {
        guard let parsed = URL(string: url), let host = parsed.host?.lowercased(), let scheme = parsed.scheme?.lowercased(),
              ["http", "https"].contains(scheme) else { return false }
        if let api, URL(string: api)?.host?.lowercased() == host { return true }
        return scheme == "https" && ["vk.com", "vk.me", "userapi.com", "vkuser.net", "vk-cdn.net"].contains { host == $0 || host.hasSuffix("." + $0) }
    }

    /// `users.get`: the author's name, which the Callback API does not carry.
    public static func usersGet(api: String, token: String, userID: String) -> ChannelCall {
        .form(trimmedBase(api) + "/method/users.get", [("user_ids", userID), ("access_token", token), ("v", version)])
    }

    /// The first and last name from `users.get`'s answer (`{"response": [{"id", "first_name", "last_name"}]}`).
    public static func name(usersGetAnswer body: [UInt8]) -> (first: String, last: String?)? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
              let user = (object["response"] as? [[String: Any]])?.first,
              let first = (user["first_name"] as? String)?.trimmed(), !first.isEmpty, first.count <= 100 else { return nil }
        let last = (user["last_name"] as? String)?.trimmed()
        return (first, last.flatMap { $0.isEmpty || $0.count > 100 ? nil : $0 })
    }

    /// A stable positive 31-bit number for a key (FNV-1a).
    static func randomID(_ key: String) -> Int32 {
        var hash: UInt32 = 2_166_136_261
        for byte in key.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return Int32(bitPattern: hash & 0x7FFF_FFFF)
    }

    /// VK's answer: `{"response": …}` or `{"error": {"error_code": …, "error_msg": …}}`. Too many requests, flood
    /// control and VK's internal errors are tried again; the rest (no permission to write to the user, a bad token) not.
    public static func result(status: Int, body: [UInt8]) -> DeliveryResult {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            return .http(status: status, body: String(decoding: body.prefix(300), as: UTF8.self)).unlessSent("not a VK API answer")
        }
        if let error = object["error"] as? [String: Any] {
            let code = (error["error_code"] as? NSNumber)?.intValue ?? 0
            let reason = "VK \(code): \((error["error_msg"] as? String) ?? "no message")"
            return [1, 6, 9, 10].contains(code) ? .retry(reason: reason) : .failed(reason: reason)
        }
        switch object["response"] {
        case let id as NSNumber: return .sent(remoteID: "\(id.int64Value)")
        case let comment as [String: Any]: return .sent(remoteID: (comment["comment_id"] as? NSNumber).map { "\($0.int64Value)" })
        case .some: return .sent(remoteID: nil)
        case nil: return .retry(reason: "a VK answer with neither response nor error")
        }
    }
}
