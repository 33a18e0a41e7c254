import Fluent
import Foundation
import OmbudDomain
import Vapor

/// Sends a text to a citizen through a social network or the SMS gateway, in parts the network accepts. Every part
/// sent is recorded in the correspondence under a key of its own, so a retried job sends only the parts still missing
/// (and VK's `random_id`/`guid`, derived from the same key, drop a repeat VK already took). A refusal for good (a
/// blocked bot, no permission to write) and the last failed try are recorded in the appeal's history.
enum ChannelDelivery {
    /// Where the answer to this appeal goes on `channel`: the target of the citizen's last message there, or, for SMS,
    /// the applicant's phone.
    static func target(appealID: UUID, channel: AppealChannel, applicant: Applicant?, db: any Database) async throws -> ReplyTarget? {
        let rows = try await CorrespondenceRecord.query(on: db).filter(\.$appealID == appealID).filter(\.$direction == "in")
            .filter(\.$replyTarget != nil).sort(\.$at, .descending).all()
        for row in rows {
            guard let target = try? JSONDecoder().decode(ReplyTarget.self, from: Data((row.replyTarget ?? "").utf8)) else { continue }
            if (channel == .sms) == (target.network == "sms") { return target }
        }
        if channel == .sms, let phone = applicant?.phones.lazy.compactMap(SMS.phoneNumber).first { return .sms(phone: phone) }
        return nil
    }

    static func sms(_ settings: ChannelSettings) -> ChannelSettings.SMSGateway? { settings.sms.flatMap { $0.outbound == nil ? nil : $0 } }

    /// Whether Ombud is set up to send to `target`'s network (SMS may be set up to take messages only).
    static func canSend(to target: ReplyTarget, settings: ChannelSettings) -> Bool {
        switch target {
        case .telegram: settings.telegram != nil
        case .vkMessage, .vkComment: settings.vk != nil
        case .sms: sms(settings) != nil
        }
    }

    /// The call that sends part `index` of an answer; nil when the network is not configured to send.
    static func call(_ part: String, index: Int, to target: ReplyTarget, key: String, settings: ChannelSettings) -> ChannelCall? {
        switch target {
        case let .telegram(chat, message):
            guard let bot = settings.telegram else { return nil }
            return Telegram.sendMessage(api: bot.api, token: bot.token, chatID: chat, replyTo: index == 0 ? message : nil, text: part)
        case let .vkMessage(peer):
            guard let vk = settings.vk else { return nil }
            return VK.sendMessage(api: vk.api, token: vk.token, peerID: peer, text: part, key: "\(key):\(index)")
        case let .vkComment(owner, post, comment):
            guard let vk = settings.vk else { return nil }
            return VK.createComment(api: vk.api, token: vk.token, groupID: vk.groupID, ownerID: owner, postID: post, replyTo: comment,
                                    text: part, key: "\(key):\(index)")
        case let .sms(phone):
            guard let gateway = sms(settings), let url = gateway.outbound else { return nil }
            var call = SMS.send(url: url, id: "\(key):\(index)", to: phone, text: part)
            call.headers[SMS.signatureHeader] = signature(call.body, secret: gateway.secret)
            return call
        }
    }

    static func signature(_ body: [UInt8], secret: String) -> String {
        "sha256=" + Data(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))).hexString
    }

    static func result(_ target: ReplyTarget, status: Int, body: [UInt8]) -> DeliveryResult {
        switch target {
        case .telegram: Telegram.result(status: status, body: body)
        case .vkMessage, .vkComment: VK.result(status: status, body: body)
        case .sms: SMS.result(status: status, body: body)
        }
    }

    /// Sends `text` as the job `job` (its id keys the parts); throws to have the job tried again, `PermanentFailure`
    /// when no retry can help.
    static func deliver(_ text: String, to target: ReplyTarget, appealID: UUID, channel: AppealChannel, purpose: String,
                        job: JobRecord, app: Application) async throws {
        let settings = app.ombudSettings.channels
        let key = try job.requireID().uuidString.lowercased()
        let actor = ChannelGateway.actor(target.network)
        let store = app.store
        func failed(_ reason: String, final: Bool) async throws -> any Error {
            // A transport error may quote the address, and Telegram's holds the bot's token; a gateway's answer may quote
            // the phone: neither goes into the history, which every reader of the appeal sees.
            var secrets: [(String, String)] = [settings.telegram?.token, settings.vk?.token].compactMap { $0 }.map { ($0, "<token>") }
            if case let .sms(phone) = target { secrets += [phone, String(phone.dropFirst()), "8" + phone.dropFirst(2)].map { ($0, "<phone>") } }
            let reason = secrets.reduce(reason) { $0.replacingOccurrences(of: $1.0, with: $1.1) }
            if final || job.attempts >= job.maxAttempts {
                try await store.write { db in
                    try await HistoryRecorder(db: db, actor: actor, at: app.clock.now())
                        .record(entity: "appeal", id: appealID, appealID: appealID, action: "\(purpose)-failed", to: target.network,
                                note: HistoryText(key: "deliveryFailed", params: ["channel": target.network, "detail": reason]))
                }
            }
            return final ? PermanentFailure(reason: reason) : Abort(.badGateway, reason: reason)
        }
        for (i, part) in ChannelText.chunks(text, limit: target.messageLimit).enumerated() {
            let partID = "out:\(key):\(i)"
            if try await CorrespondenceRecord.query(on: store.db).filter(\.$messageID == partID).first() != nil { continue }
            guard let call = call(part, index: i, to: target, key: key, settings: settings) else {
                throw try await failed("\(target.network) is not configured to send", final: true)
            }
            let answer: (status: Int, body: [UInt8])
            do { answer = try await app.channelTransport.send(call) } catch {
                throw try await failed("\(target.network) unreachable: \(error)", final: false)
            }
            switch result(target, status: answer.status, body: answer.body) {
            case let .retry(reason): throw try await failed(reason, final: false)
            case let .failed(reason): throw try await failed(reason, final: true)
            case let .sent(remoteID):
                let now = app.clock.now()
                try await store.write { db in
                    let row = CorrespondenceRecord(appealID: appealID, direction: "out", channel: channel.rawValue, text: part, at: now,
                                                   automatic: purpose != "reply")
                    row.recipient = target.recipient
                    row.messageID = partID
                    row.remoteID = remoteID
                    row.replyTarget = String(decoding: try JSONEncoder().encode(target), as: UTF8.self)
                    try await row.create(on: db)
                }
            }
        }
        try await store.write { db in
            try await HistoryRecorder(db: db, actor: actor, at: app.clock.now())
                .record(entity: "appeal", id: appealID, appealID: appealID, action: "\(purpose)-sent", to: target.network)
        }
    }
}
