import Fluent
import Foundation
import OmbudDomain
import Testing
import Vapor
import VaporTesting
@testable import OmbudServer

extension OmbudServerSuite {
    @Suite struct SearchAndListTests {
        func q(_ text: String) -> String { text.addingPercentEncoding(withAllowedCharacters: .alphanumerics)! }

        @Test func fullTextFindsAcrossYoCaseAndInflection() async throws {
            try await withOmbud { ctx, clock in
                var tree = basicAppeal
                tree["text"] = "Во дворе упала елка, перегородила проезд"
                let elka = try await ctx.createAppeal(tree)
                clock.now = clock.now.addingTimeInterval(60)
                let light = try await ctx.createAppeal(basicAppeal)
                for (query, expected) in [("ЁЛКА", [elka.id]), ("ёлки", [elka.id]), ("подъездах", [light.id]),
                                          ("иванов", [light.id, elka.id]), ("мира", [light.id, elka.id]), ("трамвай", [])] {
                    try await ctx.get("/api/v1/appeals?q=\(q(query))") { res in
                        #expect(res.status == .ok)
                        let ids = try res.content.decode(AppealPage.self).items.map(\.id)
                        #expect(Set(ids) == Set(expected), "query \(query)")
                    }
                }
                // Search results page like lists do, and combine with filters.
                var pages: [[UUID]] = []
                var cursor: String?
                repeat {
                    try await ctx.get("/api/v1/appeals?q=\(q("мира"))&limit=1" + (cursor.map { "&cursor=\(q($0))" } ?? "")) { res in
                        let page = try res.content.decode(AppealPage.self)
                        pages.append(page.items.map(\.id))
                        cursor = page.nextCursor
                    }
                } while cursor != nil && pages.count < 5
                #expect(pages == [[light.id], [elka.id]])
                try await ctx.get("/api/v1/appeals?q=\(q("мира"))&channel=e-mail") { res in
                    let page = try res.content.decode(AppealPage.self)
                    #expect(page.items.isEmpty)
                }
                try await ctx.get("/api/v1/appeals?q=\(q("2026-000001"))") { res in
                    let decoded = try res.content.decode(AppealPage.self)
                    #expect(decoded.items.map(\.id).contains(elka.id))
                }
            }
        }

        @Test func filtersAndCursorPagination() async throws {
            try await withOmbud { ctx, clock in
                var ids: [UUID] = []
                for i in 0..<5 {
                    var input = basicAppeal
                    input["channel"] = i.isMultiple(of: 2) ? "phone" : "e-mail"
                    input["register"] = i < 3 ? true : false
                    ids.append(try await ctx.createAppeal(input).id)
                    clock.now = clock.now.addingTimeInterval(60)
                }
                try await ctx.get("/api/v1/appeals?channel=e-mail") { res in
                    let decoded = try res.content.decode(AppealPage.self)
                    #expect(decoded.items.count == 2)
                }
                try await ctx.get("/api/v1/appeals?status=registered&office=hq&topic=0005.0005") { res in
                    let decoded = try res.content.decode(AppealPage.self)
                    #expect(decoded.items.count == 3)
                }
                try await ctx.get("/api/v1/appeals?topic=0003") { res in
                    let decoded = try res.content.decode(AppealPage.self)
                    #expect(decoded.items.isEmpty)
                }
                var seen: [UUID] = []
                var cursor: String?
                repeat {
                    try await ctx.get("/api/v1/appeals?limit=2" + (cursor.map { "&cursor=\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)" } ?? "")) { res in
                        let page = try res.content.decode(AppealPage.self)
                        seen += page.items.map(\.id)
                        cursor = page.nextCursor
                    }
                } while cursor != nil && seen.count < 10
                #expect(seen == ids.reversed())
                try await ctx.get("/api/v1/appeals?status=bogus") { res in
                    #expect(res.status == .unprocessableEntity)
                    #expect(res.body.string.contains(#""field":"status""#))
                }
                try await ctx.get("/api/v1/appeals?cursor=xyz") { res in #expect(res.status == .unprocessableEntity) }
                try await ctx.get("/api/v1/appeals?limit=5000") { res in #expect(res.status == .unprocessableEntity) }
                try await ctx.get("/api/v1/appeals?receivedFrom=2026-13-01") { res in #expect(res.status == .unprocessableEntity) }
            }
        }

        @Test func topicsSearchByWordsAndCode() async throws {
            try await withOmbud { ctx, _ in
                try await ctx.get("/api/v1/topics?q=\(q("уличное освещение"))&assignable=true") { res in
                    let decoded = try res.content.decode([TopicView].self)
                    #expect(decoded.map(\.code).contains("0003.0009.0097.0690"))
                }
                try await ctx.get("/api/v1/topics?q=0005.0005.0056.11") { res in
                    let decoded = try res.content.decode([TopicView].self)
                    #expect(decoded.allSatisfy { $0.code.hasPrefix("0005.0005.0056.11") })
                }
                try await ctx.post("/api/v1/topics", TopicsController.LocalTopicInput(code: "L-PARKS", name: "Парки", parentCode: nil)) { res in
                    #expect(res.status == .created)
                }
                try await ctx.post("/api/v1/topics", TopicsController.LocalTopicInput(code: "0001.0001", name: "Подделка", parentCode: nil)) { res in
                    #expect(res.status == .unprocessableEntity)
                }
                var input = basicAppeal
                input["questions"] = AnyEncodable([QuestionInput(topicCode: "L-PARKS", text: "Парк")])
                _ = try await ctx.createAppeal(input)
            }
        }
    }
}
