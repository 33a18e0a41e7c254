import Foundation
import OmbudDomain
import Testing

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
private func json(_ call: ChannelCall) throws -> [String: Any] {
    try #require(JSONSerialization.jsonObject(with: Data(call.body)) as? [String: Any])
}
private func form(_ call: ChannelCall) -> [String: String] {
    var out: [String: String] = [:]
    for pair in String(decoding: call.body, as: UTF8.self).split(separator: "&") {
        let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
        out[kv[0]] = kv.count > 1 ? kv[1].removingPercentEncoding : ""
    }
    return out
}

@Suite struct TelegramTests {
    static let update = """
    {"update_id": 900001, "message": {"message_id": 17, "date": 1763884800,
      "from": {"id": 5551234, "is_bot": false, "first_name": "Анна", "last_name": "Петрова", "username": "anna_p", "language_code": "ru"},
      "chat": {"id": 5551234, "type": "private", "first_name": "Анна"},
      "text": "Во дворе на Садовой, 5 не вывозят мусор"}}
    """

    @Test func aPrivateMessageIsAnAppealOfItsChatsThread() throws {
        let m = try Telegram.message(fromUpdate: bytes(Self.update))
        #expect(m.network == "telegram")
        #expect(m.messageKey == "telegram:5551234:17")
        #expect(m.thread == "telegram:5551234:5551234")
        #expect(m.author.links == ["tg://user?id=5551234", "https://t.me/anna_p"])
        #expect(m.authorName == "Анна Петрова")
        #expect(m.link == nil)
        #expect(m.text == "Во дворе на Садовой, 5 не вывозят мусор")
        #expect(m.sentAt == Date(timeIntervalSince1970: 1_763_884_800))
        #expect(m.replyTarget == .telegram(chatID: 5551234, messageID: 17))
    }

    @Test func aPhotoWithACaptionAndAPointInAPublicGroup() throws {
        let m = try Telegram.message(fromUpdate: bytes("""
        {"update_id": 2, "message": {"message_id": 40, "date": 1763884800, "from": {"id": 7, "is_bot": false, "first_name": "Ali"},
          "chat": {"id": -100123, "type": "supergroup", "username": "city_chat"}, "caption": "Яма",
          "photo": [{"file_id": "small", "file_unique_id": "a", "width": 90, "height": 90, "file_size": 1000},
                    {"file_id": "big", "file_unique_id": "b", "width": 1280, "height": 960, "file_size": 200000}],
          "location": {"latitude": 59.93, "longitude": 30.31}}}
        """))
        #expect(m.files == [ChannelFile(ref: "big", name: "photo-40.jpg", size: 200_000)])
        #expect(m.text == "Яма")
        #expect(m.link == "https://t.me/city_chat/40")
        #expect(m.thread == "telegram:-100123:7")
        #expect(m.point?.lat == 59.93)
    }

    @Test func editsBotsAndStickersAreNotAppeals() throws {
        #expect(throws: ChannelSkip.self) { try Telegram.message(fromUpdate: bytes(#"{"update_id": 3, "edited_message": {"message_id": 1, "date": 1, "chat": {"id": 1, "type": "private"}, "text": "x"}}"#)) }
        #expect(throws: ChannelSkip.self) { try Telegram.message(fromUpdate: bytes(#"{"update_id": 3, "message": {"message_id": 1, "date": 1, "from": {"id": 9, "is_bot": true}, "chat": {"id": 1, "type": "private"}, "text": "x"}}"#)) }
        #expect(throws: ChannelSkip.self) { try Telegram.message(fromUpdate: bytes(#"{"update_id": 3, "message": {"message_id": 1, "date": 1, "from": {"id": 9}, "chat": {"id": 1, "type": "private"}, "sticker": {}}}"#)) }
        #expect(throws: ChannelPayloadError.self) { try Telegram.message(fromUpdate: bytes(#"{"message": 1}"#)) }
        #expect(throws: ChannelPayloadError.self) { try Telegram.message(fromUpdate: bytes("<xml/>")) }
    }

    @Test func theAnswerIsPlainTextRepliedToTheCitizensMessage() throws {
        let call = Telegram.sendMessage(api: "http://127.0.0.1:9/", token: "123:ABC", chatID: 5551234, replyTo: 17, text: "<b>Ответ</b>")
        #expect(call.url == "http://127.0.0.1:9/bot123:ABC/sendMessage")
        let body = try json(call)
        #expect(body["chat_id"] as? Int == 5551234)
        #expect(body["text"] as? String == "<b>Ответ</b>")
        #expect(body["parse_mode"] == nil)
        #expect((body["reply_parameters"] as? [String: Any])?["message_id"] as? Int == 17)
    }

    @Test func floodControlIsTriedAgainABlockedBotIsNot() {
        #expect(Telegram.result(status: 200, body: bytes(#"{"ok":true,"result":{"message_id":99,"date":1,"chat":{"id":1,"type":"private"}}}"#)) == .sent(remoteID: "99"))
        #expect(Telegram.result(status: 429, body: bytes(#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 5","parameters":{"retry_after":5}}"#))
            == .retry(reason: "Telegram 429: Too Many Requests: retry after 5"))
        #expect(Telegram.result(status: 403, body: bytes(#"{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}"#))
            == .failed(reason: "Telegram 403: Forbidden: bot was blocked by the user"))
        #expect(Telegram.result(status: 502, body: bytes("<html>Bad Gateway</html>")) == .retry(reason: "HTTP 502: <html>Bad Gateway</html>"))
        #expect(Telegram.result(status: 200, body: bytes("<html>")) == .retry(reason: "not a Bot API answer"))
    }

    @Test func aFilesPathComesFromGetFile() {
        #expect(Telegram.fileURL(api: "https://api.telegram.org", token: "1:A", getFileAnswer: bytes(#"{"ok":true,"result":{"file_id":"x","file_path":"photos/file_1.jpg"}}"#))
            == "https://api.telegram.org/file/bot1:A/photos/file_1.jpg")
        #expect(Telegram.fileURL(api: "https://api.telegram.org", token: "1:A", getFileAnswer: bytes(#"{"ok":true,"result":{"file_path":"../../etc/passwd"}}"#)) == nil)
    }
}

@Suite struct VKTests {
    @Test func theConfirmationNamesTheCommunity() throws {
        #expect(try VK.event(bytes(#"{"type": "confirmation", "group_id": 229000111}"#)) == .confirmation(groupID: 229_000_111))
        #expect(try VK.secret(of: bytes(#"{"type": "message_new", "group_id": 1, "secret": "s3"}"#)).secret == "s3")
    }

    @Test func aMessageToTheCommunityOldAndNewShapes() throws {
        let new = #"""
        {"type": "message_new", "event_id": "e1", "v": "5.199", "group_id": 1, "secret": "s",
         "object": {"message": {"id": 0, "date": 1763884800, "peer_id": 2000000001, "from_id": 3131, "text": "Не горит фонарь",
           "conversation_message_id": 55, "attachments": [{"type": "doc", "doc": {"title": "акт.pdf", "size": 1200, "ext": "pdf", "url": "https://vk.com/doc1_2"}},
           {"type": "photo", "photo": {"sizes": [{"type": "s", "url": "https://sun9.userapi.com/s.jpg", "width": 75, "height": 50},
                                                 {"type": "w", "url": "https://sun9.userapi.com/w.jpg", "width": 2560, "height": 1700}]}}],
           "geo": {"type": "point", "coordinates": {"latitude": 59.9, "longitude": 30.3}}},
          "client_info": {"keyboard": true}}}
        """#
        guard case let .message(m) = try VK.event(bytes(new)) else { Issue.record("not a message"); return }
        #expect(m.messageKey == "vk:2000000001:c55")
        #expect(m.thread == "vk:2000000001:3131")
        #expect(m.author.links == ["https://vk.com/id3131"])
        #expect(m.replyTarget == .vkMessage(peerID: 2_000_000_001))
        #expect(m.files.map(\.ref) == ["https://vk.com/doc1_2", "https://sun9.userapi.com/w.jpg"])
        #expect(m.files.first?.size == 1200)
        #expect(m.point?.lon == 30.3)
        let old = #"{"type": "message_new", "group_id": 1, "object": {"id": 12, "date": 1, "peer_id": 3131, "from_id": 3131, "text": "старый формат"}}"#
        guard case let .message(o) = try VK.event(bytes(old)) else { Issue.record("not a message"); return }
        #expect(o.messageKey == "vk:3131:m12" && o.text == "старый формат")
    }

    @Test func aWallCommentIsAnsweredUnderIt() throws {
        let body = #"{"type": "wall_reply_new", "group_id": 1, "object": {"id": 801, "from_id": 42, "date": 1763884800, "text": "Когда починят?", "post_id": 77, "owner_id": -1}}"#
        guard case let .message(m) = try VK.event(bytes(body)) else { Issue.record("not a message"); return }
        #expect(m.link == "https://vk.com/wall-1_77?reply=801")
        #expect(m.thread == "vk:wall-1_77:42")
        #expect(m.replyTarget == .vkComment(ownerID: -1, postID: 77, commentID: 801))
        let call = VK.createComment(api: "https://api.vk.com", token: "T", groupID: 1, ownerID: -1, postID: 77, replyTo: 801, text: "Ответ & ссылка", key: "k1")
        #expect(call.url == "https://api.vk.com/method/wall.createComment")
        #expect(form(call)["message"] == "Ответ & ссылка")
        #expect(form(call)["reply_to_comment"] == "801" && form(call)["guid"] == "k1" && form(call)["v"] == VK.version)
    }

    @Test func theCommunitysOwnWordsAndOtherEventsAreSkipped() {
        #expect(throws: ChannelSkip.self) { try VK.event(bytes(#"{"type": "message_reply", "group_id": 1, "object": {}}"#)) }
        #expect(throws: ChannelSkip.self) { try VK.event(bytes(#"{"type": "wall_reply_new", "group_id": 1, "object": {"id": 1, "from_id": -1, "date": 1, "text": "x", "post_id": 1, "owner_id": -1}}"#)) }
        #expect(throws: ChannelPayloadError.self) { try VK.event(bytes(#"{"type": "message_new", "object": {"nothing": 1}}"#)) }
        #expect(throws: ChannelPayloadError.self) { try VK.event(bytes(#"[]"#)) }
    }

    @Test func messagesSendCarriesAStableRandomID() {
        let a = form(VK.sendMessage(api: "http://127.0.0.1:1", token: "T", peerID: 3131, text: "Ответ", key: "job-1"))
        let b = form(VK.sendMessage(api: "http://127.0.0.1:1", token: "T", peerID: 3131, text: "Ответ", key: "job-1"))
        #expect(a["peer_id"] == "3131" && a["message"] == "Ответ" && a["access_token"] == "T")
        #expect(a["random_id"] == b["random_id"])
        #expect(a["random_id"] != form(VK.sendMessage(api: "x", token: "T", peerID: 3131, text: "Ответ", key: "job-2"))["random_id"])
    }

    @Test func theAuthorsNameComesFromUsersGet() {
        let call = VK.usersGet(api: "https://api.vk.com/", token: "T", userID: "42")
        #expect(call.url == "https://api.vk.com/method/users.get" && form(call)["user_ids"] == "42")
        #expect(VK.name(usersGetAnswer: bytes(#"{"response": [{"id": 42, "first_name": "Иван", "last_name": "Петров", "can_access_closed": true}]}"#))! == ("Иван", "Петров"))
        #expect(VK.name(usersGetAnswer: bytes(#"{"response": []}"#)) == nil)
        #expect(VK.name(usersGetAnswer: bytes(#"{"error": {"error_code": 5}}"#)) == nil)
    }

    @Test func vkErrorsAreTriedAgainOnlyWhenVKAsksToWait() {
        #expect(VK.result(status: 200, body: bytes(#"{"response": 1234}"#)) == .sent(remoteID: "1234"))
        #expect(VK.result(status: 200, body: bytes(#"{"response": {"comment_id": 9}}"#)) == .sent(remoteID: "9"))
        #expect(VK.result(status: 200, body: bytes(#"{"error": {"error_code": 6, "error_msg": "Too many requests per second"}}"#))
            == .retry(reason: "VK 6: Too many requests per second"))
        #expect(VK.result(status: 200, body: bytes(#"{"error": {"error_code": 901, "error_msg": "Can't send messages for users without permission"}}"#))
            == .failed(reason: "VK 901: Can't send messages for users without permission"))
    }
}

@Suite struct SMSTests {
    @Test func anSMSNamesItsSenderAndTime() throws {
        let m = try SMS.message(bytes(#"{"id": "gw-1", "from": "8 (921) 555-12-34", "text": " Нет воды ", "time": "2026-11-23T10:00:00+03:00"}"#), receivedAt: Date())
        #expect(m.messageKey == "sms:gw-1" && m.thread == "sms:+79215551234" && m.text == "Нет воды")
        #expect(m.replyTarget == .sms(phone: "+79215551234"))
        #expect(m.sentAt == Date(timeIntervalSince1970: 1_795_417_200))
    }

    @Test func badSMSNameTheirField() {
        func field(_ body: String) -> String? {
            do { _ = try SMS.message(bytes(body), receivedAt: Date()); return nil } catch let e as ChannelPayloadError { return e.field } catch { return "?" }
        }
        #expect(field(#"{"from": "+79215551234", "text": "x"}"#) == "id")
        #expect(field(#"{"id": "1", "from": "call me", "text": "x"}"#) == "from")
        #expect(field(#"{"id": "1", "from": "+79215551234", "text": "  "}"#) == "text")
        #expect(field(#"{"id": "1", "from": "+79215551234", "text": "x", "time": "yesterday"}"#) == "time")
        #expect(field("not json") == "body")
    }

    @Test func theGatewaysAnswer() {
        #expect(SMS.result(status: 202, body: bytes(#"{"id": "q-7"}"#)) == .sent(remoteID: "q-7"))
        #expect(SMS.result(status: 503, body: []) == .retry(reason: "HTTP 503"))
        #expect(SMS.result(status: 400, body: bytes("bad number")) == .failed(reason: "HTTP 400: bad number"))
    }
}

@Suite struct ChannelRulesTests {
    @Test func aLongAnswerIsCutAtParagraphs() {
        let text = String(repeating: "а", count: 30) + "\n\n" + String(repeating: "б", count: 30) + " " + String(repeating: "в", count: 10)
        #expect(ChannelText.chunks(text, limit: 40) == [String(repeating: "а", count: 30), String(repeating: "б", count: 30), String(repeating: "в", count: 10)])
        #expect(ChannelText.chunks(String(repeating: "x", count: 90), limit: 40).map(\.count) == [40, 40, 10])
        #expect(ChannelText.chunks("  ", limit: 40).isEmpty)
        // Counted as Telegram counts: an emoji is two units.
        #expect(ChannelText.chunks(String(repeating: "😀", count: 30), limit: 40).map(\.count) == [20, 10])
        #expect(ReplyTarget.telegram(chatID: -100123, messageID: 1).isShared && !ReplyTarget.telegram(chatID: 5, messageID: nil).isShared)
        #expect(ReplyTarget.vkMessage(peerID: 2_000_000_001).isShared && !ReplyTarget.vkMessage(peerID: 3131).isShared)
    }

    @Test func cardsAreFoundByTheirNetworkID() {
        #expect(SocialIdentity.contactKey(link: "tg://user?id=5551234") == "telegram:5551234")
        #expect(SocialIdentity.contactKey(link: "https://vk.com/id3131") == "vk:3131")
        #expect(SocialIdentity.contactKey(link: "https://t.me/anna_p") == nil)
        #expect(SocialIdentity(network: "vk", id: "3131").contactKey == "vk:3131")
    }

    @Test func aRepeatCallIsTheSameTopicNearbyOrAtTheSameAddress() {
        let rule = RepeatContactRule(radius: 150)
        let new = RepeatContactRule.Place(topics: ["0003.0008.0086.0567"], address: "Садовая ул., д. 5", lat: 59.9300, lon: 30.3100)
        let near = RepeatContactRule.Place(topics: ["0003.0008.0086.0567", "x"], address: nil, lat: 59.9308, lon: 30.3100)
        guard case let .near(d)? = rule.match(new, near) else { Issue.record("not near"); return }
        #expect(d > 80 && d < 100)
        #expect(rule.match(new, RepeatContactRule.Place(topics: ["other"], address: nil, lat: 59.93, lon: 30.31)) == nil)
        #expect(rule.match(new, RepeatContactRule.Place(topics: ["0003.0008.0086.0567"], address: nil, lat: 59.94, lon: 30.31)) == nil)
        #expect(rule.match(new, RepeatContactRule.Place(topics: ["0003.0008.0086.0567"], address: "садовая УЛ. д. 5")) == .sameAddress)
        for same in ["ул. Садовая, 5", "Садовая улица, дом 5, кв. 12", "г. Санкт-Петербург, Садовая ул., д.5"] {
            #expect(RepeatContactRule.addressWords(same) == ["садовая", "5"], "\(same)")
        }
        #expect(rule.match(new, RepeatContactRule.Place(topics: ["0003.0008.0086.0567"], address: "Садовая, 7")) == nil)
        #expect(!rule.applies(to: RepeatContactRule.Place(topics: [], address: "Садовая")))
        let box = rule.box(around: (59.93, 30.31))
        #expect(box.lat.contains(59.9313) && !box.lat.contains(59.9315))
        #expect(RepeatContactRule.point("59.9386, 30.3141")?.lon == 30.3141)
        #expect(RepeatContactRule.point("۵۹.۹۳ ۳۰.۳۱")?.lat == 59.93)
        #expect(RepeatContactRule.point("91, 0") == nil && RepeatContactRule.point("Невский") == nil)
    }
}
