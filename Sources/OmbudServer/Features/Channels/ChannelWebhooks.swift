import Foundation
import OmbudDomain
import Vapor

/// Where the networks deliver: Telegram's webhook, VK's Callback API server, the SMS gateway's inbound hook. A request
/// without the right secret is refused before its body is read further and stores nothing; a delivery of something
/// already taken is answered as a success (so the network stops retrying) and stores nothing new.
struct ChannelWebhooks: RouteCollection {
    static let bodyLimit: ByteCount = "1mb"

    func boot(routes: any RoutesBuilder) throws {
        let hooks = routes.grouped("channels")
        hooks.on(.POST, "telegram", body: .collect(maxSize: Self.bodyLimit), use: telegram)
        hooks.on(.POST, "vk", body: .collect(maxSize: Self.bodyLimit), use: vk)
        hooks.on(.POST, "sms", body: .collect(maxSize: Self.bodyLimit), use: sms)
    }

    static func body(_ req: Request) -> [UInt8] { req.body.data.map { Array(buffer: $0) } ?? [] }

    /// The payload to read, without U+0000 (PostgreSQL cannot store it; the network cannot be asked to send it again).
    static func readable(_ body: [UInt8]) -> [UInt8] { NULScan.strippingJSON(body) }

    func telegram(req: Request) async throws -> Response {
        guard let bot = req.settings.channels.telegram else { throw AppError.notFound(entity: "channel", id: "telegram") }
        guard let sent = req.headers.first(name: Telegram.secretHeader), SessionPolicy.constantTimeEqual(sent, bot.secret) else {
            throw AppError.forbidden(reason: "the \(Telegram.secretHeader) header does not match OMBUD_TELEGRAM_SECRET")
        }
        return try await Self.take(req, network: "telegram") { try Telegram.message(fromUpdate: Self.readable(Self.body(req))) }
    }

    func vk(req: Request) async throws -> Response {
        guard let community = req.settings.channels.vk else { throw AppError.notFound(entity: "channel", id: "vk") }
        let body = Self.body(req)
        let envelope: (type: String, secret: String?, groupID: Int64?)
        do { envelope = try VK.secret(of: body) } catch let error as ChannelPayloadError { throw AppError.invalid(field: error.field, reason: error.reason) }
        guard envelope.groupID == community.groupID else {
            throw AppError.forbidden(reason: "the event is for community \(envelope.groupID.map(String.init) ?? "none"), not OMBUD_VK_GROUP_ID")
        }
        // VK sends the confirmation without the secret key; everything else must carry it.
        if envelope.type == "confirmation" { return Self.plain(community.confirmation) }
        guard let secret = envelope.secret, SessionPolicy.constantTimeEqual(secret, community.secret) else {
            throw AppError.forbidden(reason: "the event's secret does not match OMBUD_VK_SECRET")
        }
        return try await Self.take(req, network: "vk") {
            guard case let .message(message) = try VK.event(Self.readable(body)) else { throw ChannelSkip("a confirmation with the secret key") }
            return message
        }
    }

    func sms(req: Request) async throws -> Response {
        guard let gateway = req.settings.channels.sms else { throw AppError.notFound(entity: "channel", id: "sms") }
        let body = Self.body(req)
        guard let sent = req.headers.first(name: SMS.signatureHeader),
              SessionPolicy.constantTimeEqual(sent.lowercased(), ChannelDelivery.signature(body, secret: gateway.secret)) else {
            throw AppError.forbidden(reason: "the \(SMS.signatureHeader) header is not the body's HMAC-SHA256 with OMBUD_SMS_SECRET")
        }
        return try await Self.take(req, network: "sms") { try SMS.message(Self.readable(body), receivedAt: req.now) }
    }

    /// The message read by `read`, into the registry. Answered `ok` (VK insists on exactly that) or, for the SMS
    /// gateway, with what became of it.
    static func take(_ req: Request, network: String, read: () throws -> ChannelMessage) async throws -> Response {
        let outcome: String
        var code: String?
        do {
            let message = try read()
            switch try await ChannelGateway.receive(message, app: req.application, now: req.now) {
            case let .created(c): (outcome, code) = ("created", c)
            case let .added(c): (outcome, code) = ("added", c)
            case .duplicate: outcome = "duplicate"
            }
        } catch let skip as ChannelSkip {
            req.logger.info("\(network): skipped \(skip.reason)")
            outcome = "skipped"
        } catch let error as ChannelPayloadError {
            throw AppError.invalid(field: error.field, reason: error.reason)
        } catch let error as ValidationError {
            throw AppError.invalid(field: error.field, reason: error.reason)
        }
        if network == "sms" {
            var answer = ["status": outcome]
            answer["trackingCode"] = code
            return try await answer.encodeResponse(status: .ok, for: req)
        }
        return plain("ok")
    }

    static func plain(_ text: String) -> Response {
        Response(status: .ok, headers: ["Content-Type": "text/plain; charset=utf-8"], body: .init(string: text))
    }
}
