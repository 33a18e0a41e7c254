import Fluent
import Foundation
import OmbudDomain
import Testing
import Vapor
import VaporTesting
@testable import OmbudServer

extension OmbudServerSuite {
    /// The intake form's helpers, without JavaScript (the form's own buttons) and as the fragments its script loads:
    /// the caller's card found and chosen, topics found by words, several questions, files, the caller's next appeal.
    @Suite struct IntakePagesTests {
        func operatorBrowser(_ ctx: TestContext) async throws -> Browser {
            try await Browser.signedIn(ctx, login: "operator", roles: ["reception"])
        }

        /// The form as the page has it now, with `fields` changed: ordered pairs, so `topics[]` can repeat.
        @discardableResult
        func post(_ browser: Browser, _ fields: [(String, String)], files: [(field: String, name: String, data: Data)] = []) async throws -> TestingHTTPResponse {
            let once = String(try #require(browser.html.firstMatch(of: /name="_once" value="([^"]+)"/)).1)
            var pairs = [("_csrf", try #require(browser.csrf)), ("_once", once), ("channel", "phone"), ("kind", "statement"),
                         ("urgency", "follow-up"), ("register", "on"), ("officeCode", "hq")]
            pairs.append(contentsOf: fields)
            return try await browser.send(.POST, "/appeals/new", pairs: pairs, files: files)
        }

        @Test func theCallersCardIsFoundWithTheirOpenAppealsAndChosenInOneClick() async throws {
            try await withOmbud { ctx, _ in
                let earlier = try await ctx.createAppeal(basicAppeal)  // Иванов Иван Петрович, 8 (921) 555-12-34
                let known = try #require(earlier.applicant?.id)
                let browser = try await operatorBrowser(ctx)
                try await browser.send(.GET, "/appeals/new")
                // Without the script: "Find the applicant" brings the form back with the matching cards.
                let looked = try await post(browser, [("action", "lookup"), ("surname", "Иванов"), ("phone", "+7 921 555 12 34"), ("text", "Снова нет света")])
                #expect(looked.status == .ok)
                #expect(browser.html.contains(#"name="applicantId" value="\#(known)""#))
                #expect(browser.html.contains("тот же телефон") && browser.html.contains(earlier.trackingCode))
                #expect(browser.html.contains("Снова нет света"))  // the input is kept
                // The script's fragment lists the same card.
                try await browser.send(.GET, "/appeals/new/applicants?email=" + Browser.encode("IVANOV@example.org"))
                #expect(browser.html.contains(known.uuidString) && browser.html.contains("тот же e-mail") && !browser.html.contains("<html"))
                // "Same person": the appeal goes to that card, no new card is made.
                try await browser.send(.GET, "/appeals/new")
                let applicants = try await Applicant.query(on: ctx.app.db).count()
                let created = try await post(browser, [("applicantId", known.uuidString), ("text", "Снова нет света в подъезде"),
                                                      ("topics[]", "0005.0005.0056.1168"), ("questionTexts[]", "")])
                #expect(created.status == .seeOther, "\(browser.html.firstMatch(of: /class="field-error"[^>]*>([^<]+)/)?.1 ?? "")")
                #expect(try await Applicant.query(on: ctx.app.db).count() == applicants)
                let appeals = try await Appeal.query(on: ctx.app.db).filter(\.$applicant.$id == known).count()
                #expect(appeals == 2)
            }
        }

        @Test func topicsAreFoundByWordsAndOneAppealHoldsSeveralQuestions() async throws {
            try await withOmbud { ctx, _ in
                let browser = try await operatorBrowser(ctx)
                try await browser.send(.GET, "/appeals/new")
                try await post(browser, [("action", "findTopic"), ("topicQuery", "уличного освещения"), ("text", "Темно")])
                let picked = try #require(browser.html.firstMatch(of: /name="pickTopic" value="([0-9.]+)"/), "\(browser.html.components(separatedBy: "topic-results")[1].prefix(400))").1
                try await browser.send(.GET, "/appeals/new/topics?q=" + Browser.encode("0005.0005.0056.116"))
                #expect(browser.html.contains("0005.0005.0056.1168"))
                // The picked topic fills the first question; "Add a question" gives a second row, focused.
                try await browser.send(.GET, "/appeals/new")
                try await post(browser, [("action", "addQuestion"), ("pickTopic", String(picked)), ("topics[]", ""), ("questionTexts[]", ""), ("text", "Темно")])
                #expect(browser.html.contains(#"id="topicCode-1""#) && browser.html.contains(#"value="\#(picked)""#))
                #expect(browser.html.contains(#"data-focus="topicCode-1""#))
                // A question written without a topic is not dropped: the form says so on its row.
                let orphan = try await post(browser, [("text", "Темно"), ("topics[]", String(picked)), ("questionTexts[]", ""),
                                                     ("topics[]", ""), ("questionTexts[]", "А ещё яма")])
                #expect(orphan.status == .unprocessableEntity && browser.html.contains(#"id="topicCode-1-error""#))
                #expect(browser.html.contains("А ещё яма"))
                // An empty first row and a bad code in the second: the error is on the second row, where the code was typed.
                let shifted = try await post(browser, [("text", "Темно"), ("topics[]", ""), ("questionTexts[]", ""), ("topics[]", "9999"), ("questionTexts[]", "")])
                #expect(shifted.status == .unprocessableEntity && browser.html.contains(#"id="topicCode-1-error""#))
                // A bad second topic is shown next to the second row; nothing is registered.
                let bad = try await post(browser, [("text", "Темно и яма"), ("topics[]", String(picked)), ("questionTexts[]", "Свет"),
                                                  ("topics[]", "9999"), ("questionTexts[]", "Яма")])
                #expect(bad.status == .unprocessableEntity && browser.html.contains(#"id="topicCode-1-error""#))
                #expect(try await ctx.appealCount() == 0)
                let good = try await post(browser, [("text", "Темно и яма"), ("topics[]", String(picked)), ("questionTexts[]", "Свет"),
                                                   ("topics[]", "0003.0009.0097.0689"), ("questionTexts[]", "Яма")])
                #expect(good.status == .seeOther)
                let appeal = try #require(try await Appeal.query(on: ctx.app.db).first())
                let questions = try await Question.query(on: ctx.app.db).filter(\.$appeal.$id == appeal.id!).sort(\.$position).all()
                #expect(questions.map(\.topicCode) == [String(picked), "0003.0009.0097.0689"])
                #expect(questions.map(\.text) == ["Свет", "Яма"])
            }
        }

        @Test func filesAreStoredWithTheAppealAndABadOneRegistersNothing() async throws {
            try await withOmbud { ctx, _ in
                let browser = try await operatorBrowser(ctx)
                let png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) + Data(repeating: 1, count: 100)
                let pdf = Data("%PDF-1.4\n%%EOF\n".utf8)
                try await browser.send(.GET, "/appeals/new")
                let bad = try await post(browser, [("text", "Фото ямы"), ("surname", "Петров")],
                                         files: [("files[]", "яма.png", png), ("files[]", "../../etc/passwd", pdf)])
                #expect(bad.status == .unprocessableEntity && browser.html.contains(#"id="files-error""#))
                #expect(browser.html.contains(#"value="Петров""#))
                #expect(try await ctx.appealCount() == 0)
                let good = try await post(browser, [("text", "Фото ямы"), ("surname", "Петров")],
                                          files: [("files[]", "яма.png", png), ("files[]", "акт.pdf", pdf)])
                #expect(good.status == .seeOther)
                let stored = try await Attachment.query(on: ctx.app.db).sort(\.$fileName).all()
                #expect(stored.map(\.fileName) == ["акт.pdf", "яма.png"])
                #expect(stored.map(\.contentType) == ["application/pdf", "image/png"])
                // The card shows the picture and the PDF.
                let location = try #require(good.headers.first(name: .location))
                try await browser.send(.GET, location)
                #expect(browser.html.contains(#"<img src="/api/v1/attachments/"#) && browser.html.contains("акт.pdf"))
            }
        }

        @Test func theCallersNextAppealStartsWithTheSameCaller() async throws {
            try await withOmbud { ctx, _ in
                let browser = try await operatorBrowser(ctx)
                try await browser.send(.GET, "/appeals/new")
                let first = try await post(browser, [("action", "another"), ("surname", "Сидоров"), ("name", "Олег"), ("text", "Не вывозят мусор")])
                #expect(first.status == .seeOther)
                let next = try #require(first.headers.first(name: .location))
                let caller = try #require(try await Applicant.query(on: ctx.app.db).first()).id!
                #expect(next.hasPrefix("/appeals/new?applicant=\(caller)"))
                try await browser.send(.GET, next)
                let code = try #require(try await Appeal.query(on: ctx.app.db).first()).trackingCode
                #expect(browser.html.contains(code) && browser.html.contains(#"value="\#(caller)" checked"#))
                let second = try await post(browser, [("action", "another"), ("applicantId", caller.uuidString), ("done", code),
                                                      ("text", "И яма во дворе")])
                #expect(second.status == .seeOther)
                #expect(try await Appeal.query(on: ctx.app.db).filter(\.$applicant.$id == caller).count() == 2)
                // The third form of the call lists both codes registered so far.
                try await browser.send(.GET, try #require(second.headers.first(name: .location)))
                let codes = try await Appeal.query(on: ctx.app.db).sort(\.$trackingCode).all().map(\.trackingCode)
                #expect(codes.count == 2 && codes.allSatisfy { browser.html.contains(#"href="/appeals/\#($0)""#) })
            }
        }
    }
}
