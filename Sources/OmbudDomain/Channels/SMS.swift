import Foundation

/// Ombud's SMS gateway protocol, for an operator's gateway or a small adapter in front of one. Both ways the body is
/// JSON and carries `X-Ombud-Signature: sha256=<hex HMAC-SHA256 of the body with the shared secret>`.
/// In: `{"id": "gateway's message id", "from": "+79…", "text": "…", "time": "2026-11-23T10:00:00+03:00"}`.
/// Out: `{"id": "Ombud's message id", "to": "+79…", "text": "…"}`; a 2xx answer means the gateway took it.
public enum SMS {
    public static let signatureHeader = "X-Ombud-Signature"
    /// Longer texts are refused: an SMS appeal is a few concatenated messages at most.
    public static let maxInboundText = 2_000

    struct Inbound: Decodable {
        var id: String?
        var from: String?
        var text: String?
        var time: String?
    }

    public static func message(_ body: [UInt8], receivedAt: Date) throws -> ChannelMessage {
        let inbound: Inbound
        do { inbound = try JSONDecoder().decode(Inbound.self, from: Data(body)) } catch {
            throw ChannelPayloadError(field: "body", reason: "not an SMS message: \(JSONProblem.describe(error))")
        }
        guard let id = inbound.id?.trimmed(), !id.isEmpty, id.count <= 200 else { throw ChannelPayloadError(field: "id", reason: "missing") }
        guard let phone = inbound.from.flatMap(phoneNumber) else { throw ChannelPayloadError(field: "from", reason: "not a phone number") }
        let text = (inbound.text ?? "").trimmed()
        guard !text.isEmpty else { throw ChannelPayloadError(field: "text", reason: "empty") }
        guard text.count <= maxInboundText else { throw ChannelPayloadError(field: "text", reason: "longer than \(maxInboundText) characters") }
        var sentAt = receivedAt
        if let time = inbound.time?.trimmed(), !time.isEmpty {
            guard let parsed = W3CDateTime.parse(time) else { throw ChannelPayloadError(field: "time", reason: "not an ISO 8601 date and time") }
            sentAt = parsed
        }
        return ChannelMessage(network: "sms", messageKey: "sms:\(id)", thread: "sms:\(phone)", author: SocialIdentity(network: "sms", id: phone),
                              text: text, sentAt: sentAt, replyTarget: .sms(phone: phone))
    }

    /// `+` and the digits, Russian `8…` written as `+7…`; nil for what is not a phone number.
    public static func phoneNumber(_ text: String) -> String? {
        guard text.count <= 32, text.allSatisfy({ $0.isNumber || " +-()".contains($0) }),
              let key = TextNormalizer.phoneKey(TextNormalizer.latinDigits(text)), (7...15).contains(key.count) else { return nil }
        return "+" + key
    }

    /// The outbound call, unsigned (the server signs the body).
    public static func send(url: String, id: String, to phone: String, text: String) -> ChannelCall {
        .json(url, ["id": id, "to": phone, "text": text])
    }

    public static func result(status: Int, body: [UInt8]) -> DeliveryResult {
        let answer = String(decoding: body.prefix(300), as: UTF8.self)
        guard case .sent = DeliveryResult.http(status: status, body: answer) else { return .http(status: status, body: answer) }
        let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]
        return .sent(remoteID: object?["id"].map { "\($0)" })
    }
}
