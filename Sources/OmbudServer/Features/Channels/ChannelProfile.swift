import Fluent
import Foundation
import OmbudDomain
import Vapor

/// VK's Callback API names its author by number only: a card made from it is named `id42` until this job asks
/// `users.get` for the person's name and writes it on the card (audited like any change), unless staff renamed the
/// card in the meantime.
enum ChannelProfile {
    static let kind = "channel.profile"

    struct Payload: Codable {
        var applicant: UUID
        var userID: String
    }

    static func placeholder(_ userID: String) -> String { "id\(userID)" }

    static func job(applicantID: UUID, userID: String) throws -> JobQueue.Planned {
        try .init(kind: kind, payload: Payload(applicant: applicantID, userID: userID), uniqueKey: "\(kind):\(applicantID.uuidString)")
    }

    static func run(_ job: JobRecord, app: Application) async throws {
        let payload = try job.decode(Payload.self)
        guard let vk = app.ombudSettings.channels.vk else { return }
        let answer = try await app.channelTransport.send(VK.usersGet(api: vk.api, token: vk.token, userID: payload.userID))
        guard let name = VK.name(usersGetAnswer: answer.body) else {
            switch VK.result(status: answer.status, body: answer.body) {
            case let .failed(reason): throw PermanentFailure(reason: reason)
            case let .retry(reason): throw Abort(.badGateway, reason: reason)
            case .sent: return  // a deleted or hidden profile: the card keeps its number
            }
        }
        guard let card = try await Applicant.find(payload.applicant, on: app.store.db), card.surname == nil,
              card.name == placeholder(payload.userID) else { return }
        _ = try await ApplicantUpdate.apply(id: payload.applicant, input: ApplicantInput(surname: name.last, name: name.first),
                                            actor: ChannelGateway.actor("vk"), store: app.store, now: app.clock.now())
    }
}
