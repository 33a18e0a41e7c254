import Foundation
import OmbudDomain

/// The social networks and the SMS gateway Ombud takes appeals from and answers through; each is off until its
/// variables are set. The API addresses are settings so that tests (and a proxy, where a centre needs one) can stand in.
struct ChannelSettings: Sendable {
    struct TelegramBot: Sendable {
        var token: String
        /// What Telegram must send in `X-Telegram-Bot-Api-Secret-Token` (given to `setWebhook`).
        var secret: String
        var api = "https://api.telegram.org"
    }

    struct VKCommunity: Sendable {
        var token: String
        var groupID: Int64
        /// The community's "secret key" of the Callback API: every event carries it.
        var secret: String
        /// The string the Callback API's `confirmation` event must be answered with.
        var confirmation: String
        var api = "https://api.vk.com"
    }

    struct SMSGateway: Sendable {
        /// Signs both ways (HMAC-SHA256 of the body).
        var secret: String
        /// Where answers are posted; nil takes SMS in only.
        var outbound: String?
    }

    var telegram: TelegramBot?
    var vk: VKCommunity?
    var sms: SMSGateway?
    var repeatContacts = RepeatContactRule()

    static func fromEnvironment(_ env: [String: String]) throws(ValidationError) -> ChannelSettings {
        func value(_ name: String) -> String? { env[name].flatMap { $0.trimmed().isEmpty ? nil : $0.trimmed() } }
        func url(_ name: String) throws(ValidationError) -> String? {
            guard let raw = value(name) else { return nil }
            guard let parsed = URL(string: raw), ["http", "https"].contains(parsed.scheme?.lowercased() ?? ""), parsed.host != nil else {
                throw ValidationError(field: name, reason: "an http(s) address")
            }
            return raw
        }
        func required(_ name: String, with other: String) throws(ValidationError) -> String {
            guard let v = value(name) else { throw ValidationError(field: name, reason: "required with \(other)") }
            return v
        }
        var settings = ChannelSettings()
        if let token = value("OMBUD_TELEGRAM_TOKEN") {
            let secret = try required("OMBUD_TELEGRAM_SECRET", with: "OMBUD_TELEGRAM_TOKEN")
            // Telegram's rule for secret_token: 1–256 characters of A–Z, a–z, 0–9, _ and -.
            guard secret.count <= 256, secret.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) else {
                throw ValidationError(field: "OMBUD_TELEGRAM_SECRET", reason: "1 to 256 characters of A-Z, a-z, 0-9, _ and -")
            }
            settings.telegram = TelegramBot(token: token, secret: secret)
            if let api = try url("OMBUD_TELEGRAM_API") { settings.telegram?.api = api }
        }
        if let token = value("OMBUD_VK_TOKEN") {
            guard let group = Int64(try required("OMBUD_VK_GROUP_ID", with: "OMBUD_VK_TOKEN")), group > 0 else {
                throw ValidationError(field: "OMBUD_VK_GROUP_ID", reason: "the community's number")
            }
            settings.vk = VKCommunity(token: token, groupID: group, secret: try required("OMBUD_VK_SECRET", with: "OMBUD_VK_TOKEN"),
                                      confirmation: try required("OMBUD_VK_CONFIRMATION", with: "OMBUD_VK_TOKEN"))
            if let api = try url("OMBUD_VK_API") { settings.vk?.api = api }
        }
        if let secret = value("OMBUD_SMS_SECRET") {
            guard secret.utf8.count >= 16 else { throw ValidationError(field: "OMBUD_SMS_SECRET", reason: "at least 16 characters") }
            settings.sms = SMSGateway(secret: secret, outbound: try url("OMBUD_SMS_URL"))
        } else if value("OMBUD_SMS_URL") != nil {
            throw ValidationError(field: "OMBUD_SMS_SECRET", reason: "required with OMBUD_SMS_URL")
        }
        if let raw = value("OMBUD_REPEAT_RADIUS_M") {
            guard let metres = Double(raw), (0...5_000).contains(metres) else { throw ValidationError(field: "OMBUD_REPEAT_RADIUS_M", reason: "0 to 5000 metres") }
            settings.repeatContacts.radius = metres
        }
        return settings
    }
}
