import Fluent
import Foundation
import OmbudDomain
import Testing
import Vapor
import VaporTesting
@testable import OmbudServer

extension OmbudServerSuite {
    /// The worklists: tabs by stage, filters that narrow and refuse nonsense next to the field, and one move for several
    /// appeals (page and API) that reports each one refused.
    @Suite struct WorklistPagesTests {
        func supervisor(_ ctx: TestContext) async throws -> Browser {
            try await Browser.signedIn(ctx, login: "head", roles: ["supervisor", "reception"])
        }

        func appeal(_ ctx: TestContext, channel: String, topic: String, register: Bool = true) async throws -> AppealView {
            var input = basicAppeal
            input["channel"] = AnyEncodable(channel)
            input["questions"] = AnyEncodable([QuestionInput(topicCode: topic, text: "Вопрос")])
            input["register"] = AnyEncodable(register)
            return try await ctx.createAppeal(input)
        }

        @Test func tabsAndFiltersNarrowTheListAndBadFiltersAreShownByTheirField() async throws {
            try await withOmbud { ctx, _ in
                let phone = try await appeal(ctx, channel: "phone", topic: "0005.0005.0056.1168")
                let web = try await appeal(ctx, channel: "web", topic: "0003.0009.0097.0689")
                let waiting = try await appeal(ctx, channel: "visit", topic: "0003.0009.0097.0689", register: false)
                let browser = try await supervisor(ctx)
                try await browser.send(.GET, "/tasks?view=all")
                #expect([phone, web, waiting].allSatisfy { browser.html.contains($0.trackingCode) })
                // The filter form as a browser sends it: every field, the empty ones too.
                let asSent = try await browser.send(.GET, "/tasks?view=all&state=&channel=&topic=&office=&executor=&dueFrom=&dueTo=")
                #expect(asSent.status == .ok && [phone, web, waiting].allSatisfy { browser.html.contains($0.trackingCode) })
                try await browser.send(.GET, "/tasks?view=all&channel=web")
                #expect(browser.html.contains(web.trackingCode) && !browser.html.contains(phone.trackingCode))
                // A topic group matches the topics below it.
                try await browser.send(.GET, "/tasks?view=all&topic=0003.0009")
                #expect(browser.html.contains(web.trackingCode) && browser.html.contains(waiting.trackingCode) && !browser.html.contains(phone.trackingCode))
                try await browser.send(.GET, "/tasks?view=registration")
                #expect(browser.html.contains(waiting.trackingCode) && !browser.html.contains(web.trackingCode))
                #expect(browser.html.contains(#"aria-current="page">Ждут регистрации"#))
                let bad = try await browser.send(.GET, "/tasks?view=all&topic=" + Browser.encode("'; drop table tasks"))
                #expect(bad.status == .unprocessableEntity && browser.html.contains(#"id="f-topic-error""#))
                let badDay = try await browser.send(.GET, "/tasks?view=all&dueFrom=yesterday")
                #expect(badDay.status == .unprocessableEntity && browser.html.contains("YYYY-MM-DD"))
                try await browser.send(.GET, "/tasks?view=promises")
                #expect(browser.html.contains(#"id="count""#))
                // The API takes the same filters.
                try await ctx.get("/api/v1/tasks?assignee=all&channel=web&sort=waiting") { res in
                    let page = try res.content.decode(TaskPage.self)
                    #expect(page.items.map(\.trackingCode) == [web.trackingCode] && page.total == 1)
                }
                try await ctx.get("/api/v1/tasks?assignee=all&sort=sideways") { res in
                    #expect(res.status == .unprocessableEntity && res.body.string.contains("sort"))
                }
            }
        }

        @Test func severalAppealsMoveAtOnceAndEachRefusalIsReported() async throws {
            try await withOmbud { ctx, _ in
                let first = try await appeal(ctx, channel: "phone", topic: "0005.0005.0056.1168")
                let second = try await appeal(ctx, channel: "web", topic: "0003.0009.0097.0689")
                let browser = try await supervisor(ctx)
                try await browser.send(.GET, "/tasks?view=all")
                let res = try await browser.send(.POST, "/tasks/bulk?view=all", pairs: [
                    ("_csrf", try #require(browser.csrf)), ("appeals[]", first.trackingCode), ("appeals[]", second.trackingCode),
                    ("appeals[]", "2020-999999"), ("to", "assigned"), ("unitCode", "roads"), ("comment", "Дорожникам, срочно")])
                #expect(res.status == .ok)
                #expect(browser.html.contains("Выполнено для обращений: 2") && browser.html.contains("2020-999999"))
                for id in [first.id, second.id] {
                    #expect(try await Appeal.find(id, on: ctx.app.db)?.status == "assigned")
                }
                let comments = try await HistoryEntry.query(on: ctx.app.db).filter(\.$comment == "Дорожникам, срочно").count()
                #expect(comments >= 2)
                // Nothing ticked: the error is shown, nothing moves.
                try await browser.send(.GET, "/tasks?view=all")
                let empty = try await browser.send(.POST, "/tasks/bulk?view=all", pairs: [("_csrf", try #require(browser.csrf)), ("to", "in-progress")])
                #expect(empty.status == .unprocessableEntity && browser.html.contains(#"id="bulk-error""#))
                // The API: a move not allowed from the state is refused for that appeal only.
                var report: BulkTransitionReport?
                try await ctx.post("/api/v1/appeals/bulk-transitions", ["appeals": AnyEncodable([first.trackingCode, second.id.uuidString]),
                                                                         "to": "closed"]) { res in
                    #expect(res.status == .ok)
                    report = try? res.content.decode(BulkTransitionReport.self)
                }
                #expect(report?.done == 0 && report?.refused == 2 && report?.results.first?.error == "transition-not-allowed")
                try await ctx.post("/api/v1/appeals/bulk-transitions", ["appeals": AnyEncodable(Array(repeating: first.trackingCode, count: 201)),
                                                                         "to": "in-progress"]) { res in
                    #expect(res.status == .unprocessableEntity && res.body.string.contains("appeals"))
                }
            }
        }
    }
}
