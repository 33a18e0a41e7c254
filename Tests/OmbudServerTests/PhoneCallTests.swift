import Fluent
import Foundation
import OmbudDomain
import Testing
import Vapor
import VaporTesting
@testable import OmbudServer

extension OmbudServerSuite.IntakePagesTests {
    /// A call registered with its recording: stored like any file, by its bytes, and playable in the card.
    @Test func aCallRecordingIsAttachedAndPlaysInTheCard() async throws {
        try await withOmbud { ctx, _ in
            let browser = try await operatorBrowser(ctx)
            try await browser.send(.GET, "/appeals/new")
            let mp3 = Data([0xFF, 0xF3, 0x64, 0xC4] + Array(repeating: 0x55, count: 400))
            let created = try await post(browser, [("surname", "Зайцев"), ("text", "Звонок: не убран снег во дворе"), ("action", "register")],
                                         files: [(field: "files[]", name: "call-2026-11-23.exe", data: mp3)])
            #expect(created.status == .seeOther)
            let file = try #require(try await Attachment.query(on: ctx.app.db).first())
            #expect(file.contentType == "audio/mpeg")
            try await browser.send(.GET, created.headers.first(name: .location) ?? "")
            #expect(browser.html.contains(#"<audio controls preload="none" src="/api/v1/attachments/\#(file.id!)""#))
            try await ctx.app.testing().test(.GET, "/api/v1/attachments/\(file.id!)", headers: ctx.auth) { res in
                #expect(res.status == .ok && res.headers.contentType?.description == "audio/mpeg" && res.body.readableBytes == mp3.count)
            }
        }
    }

    /// A call about a problem already open nearby on the same topic: the operator sees the open appeal and adds the
    /// call to it, or registers a new one anyway.
    @Test func aRepeatCallIsShownTheOpenAppealNearbyAndJoinsIt() async throws {
        try await withOmbud(settings: { $0.channels.repeatContacts.radius = 150 }) { ctx, _ in
            // setup: an open appeal about lighting at a point
            let open = try await ctx.createAppeal(basicAppeal)  // ул. Мира, д. 1 at 59.95, 30.31, topic 0005.0005.0056.1168
            let far = try await ctx.createAppeal(basicAppeal.merging(["address": AnyEncodable(AddressInput(text: "пр. Славы, 40", lat: 59.85, lon: 30.38))]) { $1 })
            let browser = try await operatorBrowser(ctx)
            try await browser.send(.GET, "/appeals/new")
            let call: [(String, String)] = [("surname", "Смирнова"), ("phone", "+7 911 000 11 22"), ("text", "Опять темно в подъезде"),
                                            ("topics[]", "0005.0005.0056.1168"), ("questionTexts[]", ""), ("point", "59.9508, 30.3100")]
            // act: registering shows the open appeal 89 m away, not the far one, and registers nothing yet
            let shown = try await post(browser, call + [("action", "register")])
            #expect(shown.status == .ok)
            #expect(browser.html.contains(#"id="repeats""#) && browser.html.contains("link:\(open.trackingCode)"))
            #expect(browser.html.contains("в 89 м") && !browser.html.contains(far.trackingCode))
            #expect(try await ctx.appealCount() == 2)
            // The same address without a point finds it too.
            try await browser.send(.GET, "/appeals/new")
            try await post(browser, [("text", "x"), ("topics[]", "0005.0005.0056.1168"), ("questionTexts[]", ""), ("address", "ул. Мира д. 1"), ("action", "register")])
            #expect(browser.html.contains("link:\(open.trackingCode)") && browser.html.contains("тот же адрес"))

            // act: the call joins the open appeal
            try await browser.send(.GET, "/appeals/new")
            let linked = try await post(browser, call + [("action", "link:\(open.trackingCode)")])
            // check
            #expect(linked.status == .seeOther && linked.headers.first(name: .location)?.hasPrefix("/appeals/\(open.trackingCode)?linked=1") == true)
            #expect(try await ctx.appealCount() == 2)
            let letter = try #require(try await CorrespondenceRecord.query(on: ctx.app.db).filter(\.$appealID == open.id).first())
            #expect(letter.channel == "phone" && letter.text == "Опять темно в подъезде" && letter.sender == "Смирнова +7 911 000 11 22")
            #expect(try await HistoryEntry.query(on: ctx.app.db).filter(\.$appealID == open.id).filter(\.$action == "repeat-contact").count() == 1)
            // The API gives the call with the caller to those who may see personal data (audited), masked to others.
            try await ctx.app.testing().test(.GET, "/api/v1/appeals/\(open.id)/correspondence", headers: ctx.auth) { res in
                let items = try res.content.decode([CorrespondenceView].self)
                #expect(items.count == 1 && items[0].sender == "Смирнова +7 911 000 11 22" && !items[0].masked && items[0].channel == "phone")
            }
            #expect(try await AuditRecord.query(on: ctx.app.db).filter(\.$action == "personal-data.view").filter(\.$details == "correspondence").count() == 1)
            let journalist = try await Browser.signedIn(ctx, login: "press", roles: ["journalist"])
            try await journalist.send(.GET, "/api/v1/appeals/\(open.id)/correspondence")
            #expect(journalist.html.contains(#""masked":true"#) && !journalist.html.contains("Смирнова") && journalist.html.contains("Опять темно"))
            try await browser.send(.GET, "/appeals/\(open.trackingCode)?linked=1")
            #expect(browser.html.contains("Звонок добавлен") && browser.html.contains(#"id="correspondence""#) && browser.html.contains("Опять темно в подъезде"))

            // "Register as a new appeal" after seeing them registers; a call changed since (another point) is checked again.
            try await browser.send(.GET, "/appeals/new")
            try await post(browser, call + [("action", "register")])
            let seen = String(try #require(browser.html.firstMatch(of: /name="repeatChecked" value="([0-9a-f]+)"/)).1)
            var moved = call
            moved[5] = ("point", "59.9507, 30.3101")
            try await post(browser, moved + [("repeatChecked", seen), ("action", "register")])
            #expect(browser.html.contains(#"id="repeats""#))
            #expect(try await ctx.appealCount() == 2)
            // The caller asks for the answer by SMS.
            let anyway = try await post(browser, call + [("repeatChecked", seen), ("replyChannel", "sms"), ("action", "register")])
            #expect(anyway.status == .seeOther)
            #expect(try await ctx.appealCount() == 3)
            let newest = try #require(try await Appeal.query(on: ctx.app.db).filter(\.$text == "Опять темно в подъезде").first())
            #expect(newest.lat == 59.9508 && newest.lon == 30.31)
            #expect(try await AppealQueries.replyChannel(newest.id!, db: ctx.app.db) == "sms")

            // A point that is not one is refused naming the field.
            try await browser.send(.GET, "/appeals/new")
            let bad = try await post(browser, [("text", "x"), ("point", "Невский 1"), ("action", "register")])
            #expect(bad.status == .unprocessableEntity && browser.html.contains(#"id="point-error""#))
        }
    }
}
