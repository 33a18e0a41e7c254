import Fluent
import Foundation
import OmbudDomain
import Testing
import Vapor
import VaporTesting
@testable import OmbudServer

/// Stands in for the networks' APIs: records every call and answers as the network's documentation says it does.
final class NetworkRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var _calls: [ChannelCall] = []
    var answer: @Sendable (ChannelCall) -> (Int, String) = { call in
        if call.url.contains("/method/wall.createComment") { return (200, #"{"response": {"comment_id": 901}}"#) }
        if call.url.contains("/method/") { return (200, #"{"response": 501}"#) }
        if call.url.hasSuffix("/getFile") { return (200, #"{"ok": true, "result": {"file_id": "big", "file_path": "photos/file_7.jpg"}}"#) }
        if call.url.contains("/bot") { return (200, #"{"ok": true, "result": {"message_id": 77, "date": 1, "chat": {"id": 1, "type": "private"}}}"#) }
        return (202, #"{"id": "gw-out-1"}"#)
    }
    var files: [String: [UInt8]] = [:]

    var calls: [ChannelCall] { lock.withLock { _calls } }

    var transport: ChannelTransport {
        ChannelTransport(
            send: { call in
                self.lock.withLock { self._calls.append(call) }
                let (status, body) = self.answer(call)
                return (status, Array(body.utf8))
            },
            download: { url, limit in
                guard let bytes = self.files[url] else { throw Abort(.notFound) }
                return bytes.count > limit ? nil : bytes
            })
    }

    static func json(_ call: ChannelCall) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(call.body)) as? [String: Any]) ?? [:]
    }

    static func form(_ call: ChannelCall) -> [String: String] {
        var out: [String: String] = [:]
        for pair in String(decoding: call.body, as: UTF8.self).split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
            out[kv[0]] = kv.count > 1 ? kv[1].removingPercentEncoding : ""
        }
        return out
    }
}

extension OmbudServerSuite {
    @Suite struct ChannelTests {
        static func configure(_ settings: inout Settings) {
            settings.channels.telegram = .init(token: "123:TEST", secret: "tg-secret_1", api: "http://127.0.0.1:9")
            settings.channels.vk = .init(token: "vk-token", groupID: 229_000_111, secret: "vk-secret", confirmation: "c0nf1rm", api: "http://127.0.0.1:9")
            settings.channels.sms = .init(secret: "sms-shared-secret-123", outbound: "http://127.0.0.1:9/sms")
        }

        static func telegramUpdate(id: Int, message: Int, text: String, chat: Int64 = 5551234, extra: String = "") -> String {
            """
            {"update_id": \(id), "message": {"message_id": \(message), "date": 1795000000,
              "from": {"id": \(chat), "is_bot": false, "first_name": "Анна", "last_name": "Петрова", "username": "anna_p"},
              "chat": {"id": \(chat), "type": "private"}, "text": "\(text)"\(extra)}}
            """
        }

        func hook(_ ctx: TestContext, _ path: String, _ body: String, headers: [(String, String)], check: (TestingHTTPResponse) async throws -> Void) async throws {
            try await ctx.app.testing().test(.POST, path, beforeRequest: { req in
                for (name, value) in headers { req.headers.add(name: name, value: value) }
                req.headers.contentType = .json
                req.body = ByteBuffer(string: body)
            }, afterResponse: check)
        }

        /// Staff give the appeal a topic and an answer and approve it: the reply job is queued.
        func answer(_ ctx: TestContext, _ appealID: UUID, text: String) async throws -> JobRecord {
            try await ctx.post("/api/v1/appeals/\(appealID)/questions", ["topicCode": "0003.0009.0097.0689"]) { res in #expect(res.status == .created, "\(res.body.string)") }
            for step in [["to": "registered"], ["to": "assigned", "unitCode": "roads"], ["to": "in-progress"], ["to": "answer-drafted"]] {
                _ = try await ctx.transition(appealID, step)
            }
            let question = try #require(try await Question.query(on: ctx.app.db).filter(\.$appeal.$id == appealID).first())
            try await ctx.app.testing().test(.PATCH, "/api/v1/appeals/\(appealID)/questions/\(question.id!)", headers: ctx.auth, beforeRequest: { req in
                try req.content.encode(QuestionUpdate(result: "explained", answerText: text), as: .json)
            }) { res in #expect(res.status == .ok) }
            _ = try await ctx.transition(appealID, ["to": "on-approval"])
            _ = try await ctx.transition(appealID, ["to": "answered"])
            let jobs = try await JobRecord.query(on: ctx.app.db).filter(\.$kind == ReplyJob.kind).all()
            return try #require(jobs.first { $0.payload.contains(appealID.uuidString) })
        }

        @Test func aTelegramChatBecomesOneAppealAndTheApprovedAnswerGoesBackToIt() async throws {
            try await withOmbud(settings: Self.configure) { ctx, clock in
                let network = NetworkRecorder()
                ctx.app.channelTransport = network.transport
                let first = Self.telegramUpdate(id: 1, message: 17, text: "Во дворе не вывозят мусор")
                // A wrong or missing secret is refused and stores nothing.
                for headers in [[(Telegram.secretHeader, "guess")], []] {
                    try await hook(ctx, "/channels/telegram", first, headers: headers) { res in
                        #expect(res.status == .forbidden && res.body.string.contains("X-Telegram-Bot-Api-Secret-Token"))
                    }
                }
                #expect(try await ctx.appealCount() == 0)
                let secret = [(Telegram.secretHeader, "tg-secret_1")]
                try await hook(ctx, "/channels/telegram", first, headers: secret) { res in #expect(res.status == .ok) }
                // The same update delivered again, and the chat's next message, make no second appeal.
                try await hook(ctx, "/channels/telegram", first, headers: secret) { res in #expect(res.status == .ok) }
                try await hook(ctx, "/channels/telegram", Self.telegramUpdate(id: 2, message: 18, text: "И контейнер сломан"), headers: secret) { res in #expect(res.status == .ok) }
                // An edit is not a new message.
                try await hook(ctx, "/channels/telegram", #"{"update_id": 3, "edited_message": {"message_id": 17, "date": 1, "chat": {"id": 5551234, "type": "private"}, "text": "x"}}"#,
                               headers: secret) { res in #expect(res.status == .ok) }
                try await hook(ctx, "/channels/telegram", #"{"update_id": "x"}"#, headers: secret) { res in
                    #expect(res.status == .unprocessableEntity && res.body.string.contains("update"))
                }
                #expect(try await ctx.appealCount() == 1)
                let appeal = try #require(try await Appeal.query(on: ctx.app.db).first())
                #expect(appeal.channel == "social" && appeal.text == "Во дворе не вывозят мусор")
                let applicant = try #require(try await Applicant.find(appeal.$applicant.id, on: ctx.app.db))
                #expect(applicant.surname == "Петрова" && applicant.name == "Анна")
                #expect(applicant.socialLinks == ["tg://user?id=5551234", "https://t.me/anna_p"])
                #expect(try await AppealQueries.replyChannel(appeal.id!, db: ctx.app.db) == "social")
                let messages = try await CorrespondenceRecord.query(on: ctx.app.db).filter(\.$appealID == appeal.id!).sort(\.$at).all()
                #expect(messages.map(\.messageID) == ["telegram:5551234:17", "telegram:5551234:18"])
                #expect(messages.allSatisfy { $0.thread == "telegram:5551234:5551234" && $0.sender == "telegram:5551234" })

                // The author is told the code in the same chat, once.
                let notices = try await JobRecord.query(on: ctx.app.db).filter(\.$kind == ChannelNotice.kind).all()
                #expect(notices.count == 1)
                try await ChannelNotice.run(try #require(notices.first), app: ctx.app)
                let notice = NetworkRecorder.json(try #require(network.calls.last))
                #expect(notice["chat_id"] as? Int == 5551234 && (notice["text"] as? String)?.contains(appeal.trackingCode) == true)

                // act: the answer is approved
                let job = try await answer(ctx, appeal.id!, text: "Мусор вывезут завтра до 12:00.")
                try await ReplyJob.run(job, app: ctx.app)
                // check: sendMessage to the chat, as a reply to the first message
                let answers = { network.calls.filter { ($0.url.hasSuffix("/sendMessage")) && String(decoding: $0.body, as: UTF8.self).contains("Мусор вывезут") } }
                let sent = answers()
                #expect(sent.count == 1)
                let body = NetworkRecorder.json(try #require(sent.first))
                #expect(sent.first?.url == "http://127.0.0.1:9/bot123:TEST/sendMessage")
                #expect(body["chat_id"] as? Int == 5551234)
                #expect((body["text"] as? String)?.contains("Мусор вывезут завтра до 12:00.") == true)
                #expect((body["text"] as? String)?.contains("письмо") == false)  // no "reply to this mail" in a chat
                #expect((body["reply_parameters"] as? [String: Any])?["message_id"] as? Int == 18)
                let out = try #require(try await CorrespondenceRecord.query(on: ctx.app.db).filter(\.$direction == "out").filter(\.$automatic == false).first())
                #expect(out.remoteID == "77" && out.recipient == "telegram:5551234")
                #expect(try await HistoryEntry.query(on: ctx.app.db).filter(\.$action == "reply-sent").count() == 1)
                // A retried job sends nothing twice.
                try await ReplyJob.run(job, app: ctx.app)
                #expect(answers().count == 1)
                // The same person in a public group: another thread, another appeal, the same card (by their Telegram id).
                let group = Self.telegramUpdate(id: 9, message: 3, text: "Во дворе опять мусор").replacingOccurrences(of: #""chat": {"id": 5551234, "type": "private"}"#,
                                                                                                                        with: #""chat": {"id": -100777, "type": "supergroup", "username": "city"}"#)
                try await hook(ctx, "/channels/telegram", group, headers: secret) { res in #expect(res.status == .ok) }
                let other = try #require(try await Appeal.query(on: ctx.app.db).filter(\.$id != appeal.id!).first())
                #expect(other.$applicant.id == applicant.id)
                #expect(try await CorrespondenceRecord.query(on: ctx.app.db).filter(\.$appealID == other.id!).first()?.link == "https://t.me/city/3")
                // Answered in the group, where others read it: no greeting by name.
                let groupJob = try await answer(ctx, other.id!, text: "Контейнеры заменят.")
                try await ReplyJob.run(groupJob, app: ctx.app)
                let inGroup = NetworkRecorder.json(try #require(network.calls.last))
                #expect(inGroup["chat_id"] as? Int == -100777 && (inGroup["text"] as? String)?.contains("Контейнеры заменят.") == true)
                #expect((inGroup["text"] as? String)?.contains("Анна") == false)
                _ = clock
            }
        }

        @Test func aVKWallCommentIsAnsweredUnderItAndARefusalIsRecorded() async throws {
            try await withOmbud(settings: Self.configure) { ctx, _ in
                let network = NetworkRecorder()
                ctx.app.channelTransport = network.transport
                // The Callback API server is confirmed with the community's code; another community's request is refused.
                try await hook(ctx, "/channels/vk", #"{"type": "confirmation", "group_id": 229000111}"#, headers: []) { res in
                    #expect(res.status == .ok && res.body.string == "c0nf1rm")
                }
                try await hook(ctx, "/channels/vk", #"{"type": "confirmation", "group_id": 1}"#, headers: []) { res in #expect(res.status == .forbidden) }
                let comment = #"{"type": "wall_reply_new", "event_id": "ev1", "v": "5.199", "group_id": 229000111, "secret": "vk-secret", "object": {"id": 801, "from_id": 42, "date": 1795000000, "text": "Когда починят фонарь у школы?", "post_id": 77, "owner_id": -229000111}}"#
                try await hook(ctx, "/channels/vk", comment.replacingOccurrences(of: "vk-secret", with: "nope"), headers: []) { res in #expect(res.status == .forbidden) }
                #expect(try await ctx.appealCount() == 0)
                try await hook(ctx, "/channels/vk", comment, headers: []) { res in #expect(res.status == .ok && res.body.string == "ok") }
                try await hook(ctx, "/channels/vk", comment, headers: []) { res in #expect(res.status == .ok && res.body.string == "ok") }
                #expect(try await ctx.appealCount() == 1)
                let appeal = try #require(try await Appeal.query(on: ctx.app.db).first())
                var applicant = try #require(try await Applicant.find(appeal.$applicant.id, on: ctx.app.db))
                #expect(applicant.socialLinks == ["https://vk.com/id42"] && applicant.name == "id42")
                // The Callback API gives no name: users.get does, and the card takes it.
                network.answer = { _ in (200, #"{"response": [{"id": 42, "first_name": "Олег", "last_name": "Смирнов"}]}"#) }
                let profile = try #require(try await JobRecord.query(on: ctx.app.db).filter(\.$kind == ChannelProfile.kind).first())
                try await ChannelProfile.run(profile, app: ctx.app)
                #expect(NetworkRecorder.form(try #require(network.calls.last))["user_ids"] == "42")
                applicant = try #require(try await Applicant.find(appeal.$applicant.id, on: ctx.app.db))
                #expect(applicant.name == "Олег" && applicant.surname == "Смирнов")
                network.answer = NetworkRecorder().answer
                let inbound = try #require(try await CorrespondenceRecord.query(on: ctx.app.db).first())
                #expect(inbound.link == "https://vk.com/wall-229000111_77?reply=801")

                let job = try await answer(ctx, appeal.id!, text: "Фонарь заменят на этой неделе.")
                try await ReplyJob.run(job, app: ctx.app)
                let call = try #require(network.calls.first { $0.url.hasSuffix("/method/wall.createComment") })
                let form = NetworkRecorder.form(call)
                #expect(form["owner_id"] == "-229000111" && form["post_id"] == "77" && form["reply_to_comment"] == "801")
                #expect(form["from_group"] == "229000111" && form["access_token"] == "vk-token" && form["v"] == VK.version)
                #expect(form["message"]?.contains("Фонарь заменят на этой неделе.") == true)

                // A message in the community's dialogue: VK refuses to write to the user for good — recorded, not retried.
                let dm = #"{"type": "message_new", "group_id": 229000111, "secret": "vk-secret", "object": {"message": {"id": 0, "date": 1795000000, "peer_id": 3131, "from_id": 3131, "text": "Нет отопления", "conversation_message_id": 5}}}"#
                try await hook(ctx, "/channels/vk", dm, headers: []) { res in #expect(res.status == .ok) }
                let second = try #require(try await Appeal.query(on: ctx.app.db).filter(\.$id != appeal.id!).first())
                network.answer = { _ in (200, #"{"error": {"error_code": 901, "error_msg": "Can't send messages for users without permission"}}"#) }
                let refused = try await answer(ctx, second.id!, text: "Отопление включат.")
                await #expect(throws: PermanentFailure.self) { try await ReplyJob.run(refused, app: ctx.app) }
                let failure = try #require(try await HistoryEntry.query(on: ctx.app.db).filter(\.$appealID == second.id!).filter(\.$action == "reply-failed").first())
                // The reader reads that it was not delivered, in their language; the technical reason stays in the note's detail.
                #expect(failure.noteKey == "deliveryFailed" && failure.noteParams?.contains("VK 901") == true)
                let dmCall = try #require(network.calls.last)
                #expect(dmCall.url.hasSuffix("/method/messages.send") && NetworkRecorder.form(dmCall)["peer_id"] == "3131")
            }
        }

        @Test func messagesOfOneThreadArrivingTogetherMakeOneAppeal() async throws {
            try await withOmbud(settings: Self.configure) { ctx, clock in
                // An album: three updates of one chat at once, and one of them delivered twice.
                let updates = (0..<3).map { Self.telegramUpdate(id: 100 + $0, message: 60 + $0, text: "Фото \($0 + 1)") } + [Self.telegramUpdate(id: 100, message: 60, text: "Фото 1")]
                let outcomes = try await withThrowingTaskGroup(of: ChannelGateway.Outcome.self) { group in
                    for update in updates {
                        group.addTask { try await ChannelGateway.receive(try Telegram.message(fromUpdate: Array(update.utf8)), app: ctx.app, now: clock.now) }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(try await ctx.appealCount() == 1)
                #expect(try await Applicant.query(on: ctx.app.db).count() == 1)
                #expect(outcomes.filter { if case .created = $0 { true } else { false } }.count == 1 && outcomes.contains(.duplicate))
                #expect(try await CorrespondenceRecord.query(on: ctx.app.db).count() == 3)
            }
        }

        @Test func anSMSIsSignedBothWaysAndItsFieldsAreChecked() async throws {
            try await withOmbud(settings: Self.configure) { ctx, _ in
                let network = NetworkRecorder()
                ctx.app.channelTransport = network.transport
                let secret = "sms-shared-secret-123"
                func signed(_ body: String) -> [(String, String)] { [(SMS.signatureHeader, ChannelDelivery.signature(Array(body.utf8), secret: secret))] }
                let body = #"{"id": "gw-1", "from": "8 921 555-12-34", "text": "Нет горячей воды, Ленина 3", "time": "2026-11-23T10:00:00+03:00"}"#
                try await hook(ctx, "/channels/sms", body, headers: [(SMS.signatureHeader, "sha256=00")]) { res in #expect(res.status == .forbidden) }
                try await hook(ctx, "/channels/sms", body, headers: []) { res in #expect(res.status == .forbidden) }
                #expect(try await ctx.appealCount() == 0)
                var code = ""
                try await hook(ctx, "/channels/sms", body, headers: signed(body)) { res in
                    #expect(res.status == .ok)
                    let answer = try res.content.decode([String: String].self)
                    #expect(answer["status"] == "created")
                    code = answer["trackingCode"] ?? ""
                }
                try await hook(ctx, "/channels/sms", body, headers: signed(body)) { res in #expect(res.body.string.contains("duplicate")) }
                let bad = #"{"id": "gw-2", "from": "nobody", "text": "x"}"#
                try await hook(ctx, "/channels/sms", bad, headers: signed(bad)) { res in
                    #expect(res.status == .unprocessableEntity && res.body.string.contains("\"field\":\"from\""))
                }
                let appeal = try #require(try await Appeal.query(on: ctx.app.db).filter(\.$trackingCode == code).first())
                #expect(appeal.channel == "sms")
                let applicant = try #require(try await Applicant.find(appeal.$applicant.id, on: ctx.app.db))
                #expect(applicant.phones == ["+79215551234"])
                let job = try await answer(ctx, appeal.id!, text: "Воду дадут к вечеру.")
                try await ReplyJob.run(job, app: ctx.app)
                let call = try #require(network.calls.first)
                #expect(call.url == "http://127.0.0.1:9/sms")
                #expect(call.headers[SMS.signatureHeader] == ChannelDelivery.signature(call.body, secret: secret))
                let sent = NetworkRecorder.json(call)
                #expect(sent["to"] as? String == "+79215551234" && (sent["text"] as? String)?.contains("Воду дадут к вечеру.") == true)
                // A phone call whose caller asked for the answer by SMS: it goes to the card's phone.
                let phoned = try await ctx.createAppeal(["channel": "phone", "replyChannel": "sms", "text": "Перезвоните или напишите",
                                                       "applicant": AnyEncodable(["surname": AnyEncodable("Лебедев"), "phone": AnyEncodable("8 (911) 222-33-44")])])
                let callJob = try await answer(ctx, phoned.id, text: "Напишем в СМС.")
                try await ReplyJob.run(callJob, app: ctx.app)
                let texted = NetworkRecorder.json(try #require(network.calls.last))
                #expect(texted["to"] as? String == "+79112223344" && (texted["text"] as? String)?.contains("Напишем в СМС.") == true)
                // The gateway down: tried again later, and the last try is recorded.
                network.answer = { _ in (503, "") }
                let again = try await answer(ctx, try await secondSMSAppeal(ctx, signed: signed), text: "Ответ")
                again.attempts = again.maxAttempts - 1
                await #expect(throws: (any Error).self) { try await ReplyJob.run(again, app: ctx.app) }
                #expect(try await HistoryEntry.query(on: ctx.app.db).filter(\.$action == "reply-failed").count() == 0)
                again.attempts = again.maxAttempts
                await #expect(throws: (any Error).self) { try await ReplyJob.run(again, app: ctx.app) }
                let failed = try await HistoryEntry.query(on: ctx.app.db).filter(\.$action == "reply-failed").first()
                #expect(failed?.noteKey == "deliveryFailed" && failed?.noteParams?.contains("HTTP 503") == true)
            }
        }

        @Test func anAnswerTheNetworkRefusedIsListedForAdministratorsWithARetry() async throws {
            try await withOmbud(settings: Self.configure) { ctx, _ in
                let network = NetworkRecorder()
                network.answer = { call in
                    call.url.contains("messages.send") ? (200, #"{"error": {"error_code": 901, "error_msg": "Can't send messages for users without permission"}}"#)
                                                       : (200, #"{"response": [{"id": 3131, "first_name": "Нина", "last_name": "Орлова"}]}"#)
                }
                ctx.app.channelTransport = network.transport
                let dm = #"{"type": "message_new", "group_id": 229000111, "secret": "vk-secret", "object": {"message": {"id": 0, "date": 1795000000, "peer_id": 3131, "from_id": 3131, "text": "Нет отопления", "conversation_message_id": 5}}}"#
                try await hook(ctx, "/channels/vk", dm, headers: []) { res in #expect(res.status == .ok) }
                let appeal = try #require(try await Appeal.query(on: ctx.app.db).first())
                // act: the worker runs the notice (refused for good) and fetches the name
                try await Worker(app: ctx.app).runOnce()
                // check
                let failed = try #require(try await JobRecord.query(on: ctx.app.db).filter(\.$kind == ChannelNotice.kind).first())
                #expect(failed.status == "failed" && failed.attempts == 1 && failed.lastError?.contains("VK 901") == true)
                let admin = try await Browser.signedIn(ctx, login: "admin2", roles: ["administrator"])
                try await admin.send(.GET, "/admin/channels")
                #expect(admin.html.contains(appeal.trackingCode) && admin.html.contains("VK 901") && admin.html.contains("/admin/channels/jobs/\(failed.id!)/retry"))
                #expect(admin.html.contains("/channels/vk") && admin.html.contains("включён"))
                let retried = try await admin.send(.POST, "/admin/channels/jobs/\(failed.id!)/retry", form: ["_csrf": try #require(admin.csrf)])
                #expect(retried.status == .ok)
                #expect(try await JobRecord.find(failed.id, on: ctx.app.db)?.status == "queued")
                // Someone without the right to manage jobs does not see the page.
                let reception = try await Browser.signedIn(ctx, login: "op", roles: ["reception"])
                #expect(try await reception.send(.GET, "/admin/channels").status == .forbidden)
            }
        }

        @Test func channelSettingsNameTheVariableThatIsWrong() throws {
            func refused(_ env: [String: String]) -> String? {
                do { _ = try ChannelSettings.fromEnvironment(env); return nil } catch { return error.field }
            }
            let on = try ChannelSettings.fromEnvironment(["OMBUD_TELEGRAM_TOKEN": "1:A", "OMBUD_TELEGRAM_SECRET": "s_1-x", "OMBUD_VK_TOKEN": "t",
                                                          "OMBUD_VK_GROUP_ID": "7", "OMBUD_VK_SECRET": "k", "OMBUD_VK_CONFIRMATION": "c",
                                                          "OMBUD_SMS_SECRET": String(repeating: "s", count: 16), "OMBUD_REPEAT_RADIUS_M": "300"])
            #expect(on.telegram?.api == "https://api.telegram.org" && on.vk?.groupID == 7 && on.sms?.outbound == nil && on.repeatContacts.radius == 300)
            #expect(try ChannelSettings.fromEnvironment([:]).telegram == nil)
            #expect(refused(["OMBUD_TELEGRAM_TOKEN": "1:A"]) == "OMBUD_TELEGRAM_SECRET")
            #expect(refused(["OMBUD_TELEGRAM_TOKEN": "1:A", "OMBUD_TELEGRAM_SECRET": "has space"]) == "OMBUD_TELEGRAM_SECRET")
            #expect(refused(["OMBUD_TELEGRAM_TOKEN": "1:A", "OMBUD_TELEGRAM_SECRET": "s", "OMBUD_TELEGRAM_API": "ftp://x"]) == "OMBUD_TELEGRAM_API")
            #expect(refused(["OMBUD_VK_TOKEN": "t", "OMBUD_VK_GROUP_ID": "club7"]) == "OMBUD_VK_GROUP_ID")
            #expect(refused(["OMBUD_SMS_URL": "https://gw.example/sms"]) == "OMBUD_SMS_SECRET")
            #expect(refused(["OMBUD_SMS_SECRET": "short"]) == "OMBUD_SMS_SECRET")
            #expect(refused(["OMBUD_REPEAT_RADIUS_M": "-1"]) == "OMBUD_REPEAT_RADIUS_M")
        }

        func secondSMSAppeal(_ ctx: TestContext, signed: (String) -> [(String, String)]) async throws -> UUID {
            let body = #"{"id": "gw-9", "from": "+7 921 000-00-09", "text": "Шум ночью"}"#
            var code = ""
            try await hook(ctx, "/channels/sms", body, headers: signed(body)) { res in code = (try? res.content.decode([String: String].self))?["trackingCode"] ?? "" }
            return try #require(try await Appeal.query(on: ctx.app.db).filter(\.$trackingCode == code).first()?.id)
        }

        @Test func aPhotoIsFetchedThroughGetFileAndAnOversizedFileIsNot() async throws {
            try await withOmbud(settings: Self.configure) { ctx, _ in
                let network = NetworkRecorder()
                let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array(repeating: 0, count: 64)
                network.files["http://127.0.0.1:9/file/bot123:TEST/photos/file_7.jpg"] = png
                ctx.app.channelTransport = network.transport
                let extra = #", "photo": [{"file_id": "big", "file_unique_id": "u", "width": 800, "height": 600, "file_size": 72}], "document": {"file_id": "huge", "file_name": "video.mp4", "file_size": 900000000}"#
                try await hook(ctx, "/channels/telegram", Self.telegramUpdate(id: 5, message: 30, text: "Яма", extra: extra),
                               headers: [(Telegram.secretHeader, "tg-secret_1")]) { res in #expect(res.status == .ok) }
                let jobs = try await JobRecord.query(on: ctx.app.db).filter(\.$kind == ChannelFiles.kind).all()
                #expect(jobs.count == 1)
                try await ChannelFiles.run(try #require(jobs.first), app: ctx.app)
                let files = try await Attachment.query(on: ctx.app.db).all()
                #expect(files.map(\.fileName) == ["photo-30.jpg"] && files.first?.size == png.count)
                #expect(try await HistoryEntry.query(on: ctx.app.db).filter(\.$action == "file-refused").first()?.toValue == "video.mp4")
                #expect(!VK.isFileHost("http://169.254.169.254/latest", api: "https://api.vk.com"))
                #expect(VK.isFileHost("https://sun9-1.userapi.com/x.jpg", api: "https://api.vk.com"))
            }
        }
    }
}
