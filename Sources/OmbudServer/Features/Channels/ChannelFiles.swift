import Fluent
import Foundation
import OmbudDomain
import Vapor

/// A file that came with a social network's message, fetched into the appeal's attachments by a job: Telegram's
/// through `getFile`, VK's from VK's own hosts only (`VK.isFileHost`).
enum ChannelFiles {
    static let kind = "channel.file"

    struct Payload: Codable {
        var appeal: UUID
        var network: String
        var file: ChannelFile
    }

    static func job(appealID: UUID, network: String, file: ChannelFile) throws -> JobQueue.Planned {
        try .init(kind: kind, payload: Payload(appeal: appealID, network: network, file: file),
                  uniqueKey: "\(kind):\(appealID.uuidString):\(Tokens.hash(file.ref).prefix(16))")
    }

    static func run(_ job: JobRecord, app: Application) async throws {
        let payload = try job.decode(Payload.self)
        let settings = app.ombudSettings
        let transport = app.channelTransport
        var url: String?
        switch payload.network {
        case "telegram":
            guard let bot = settings.channels.telegram else { throw PermanentFailure(reason: "Telegram is not configured (OMBUD_TELEGRAM_TOKEN)") }
            let answer = try await transport.send(Telegram.getFile(api: bot.api, token: bot.token, fileID: payload.file.ref))
            url = Telegram.fileURL(api: bot.api, token: bot.token, getFileAnswer: answer.body)
            if url == nil {
                if case let .failed(reason) = Telegram.result(status: answer.status, body: answer.body) { throw PermanentFailure(reason: reason) }
                throw Abort(.badGateway, reason: "getFile gave no file path (HTTP \(answer.status))")
            }
        default:
            guard VK.isFileHost(payload.file.ref, api: settings.channels.vk?.api) else {
                throw PermanentFailure(reason: "a file address outside the network's hosts: \(payload.file.ref.prefix(200))")
            }
            url = payload.file.ref
        }
        let actor = ChannelGateway.actor(payload.network)
        guard let url, let bytes = try await transport.download(url, settings.attachmentLimit) else {
            try await app.store.write { db in
                try await HistoryRecorder(db: db, actor: actor, at: app.clock.now())
                    .record(entity: "appeal", id: payload.appeal, appealID: payload.appeal, action: "file-refused", field: "attachments",
                            to: payload.file.name,
                            note: HistoryText(key: "fileTooLarge", params: ["mb": String(settings.attachmentLimit / 1_048_576)]))
            }
            return
        }
        do {
            _ = try await AttachmentStore.save(appealID: payload.appeal, fileName: payload.file.name, data: ByteBuffer(bytes: bytes), actor: actor,
                                               settings: settings, store: app.store, now: app.clock.now())
        } catch let error as AppError where error.field != nil {
            // A file the rules refuse (a program, a bad name): another try would be refused the same way.
            throw PermanentFailure(reason: error.reason)
        }
    }
}

/// A job failure that no retry can mend (a refused recipient, a refused file): the job fails at once.
struct PermanentFailure: Error, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}
