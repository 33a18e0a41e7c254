import Fluent
import Foundation
import OmbudDomain
import Vapor

/// The author of a new appeal from a social network or SMS is told at once that it is registered and under which
/// code, in the same chat; the answer comes there later. Nothing is sent where the network cannot send (SMS in only).
enum ChannelNotice {
    static let kind = "channel.notice"

    struct Payload: Codable {
        var appeal: UUID
        var target: ReplyTarget
    }

    static func job(appealID: UUID, target: ReplyTarget) throws -> JobQueue.Planned {
        try .init(kind: kind, payload: Payload(appeal: appealID, target: target), uniqueKey: "\(kind):\(appealID.uuidString)")
    }

    static func run(_ job: JobRecord, app: Application) async throws {
        let payload = try job.decode(Payload.self)
        guard ChannelDelivery.canSend(to: payload.target, settings: app.ombudSettings.channels),
              let code = try await AppealQueries.trackingCodes([payload.appeal], db: app.store.db)[payload.appeal] else { return }
        let text = app.pages.text("reply", "registered", language: .ru).replacingOccurrences(of: "{code}", with: code)
        try await ChannelDelivery.deliver(text, to: payload.target, appealID: payload.appeal, channel: payload.target.network == "sms" ? .sms : .social,
                                          purpose: "notice", job: job, app: app)
    }
}
