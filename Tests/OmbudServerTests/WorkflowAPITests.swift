import Fluent
import Foundation
import OmbudDomain
import Testing
import Vapor
import VaporTesting
@testable import OmbudServer

extension OmbudServerSuite {
    @Suite struct WorkflowAPITests {
        @Test func fullCycleFromRegistrationToClosure() async throws {
            try await withOmbud { ctx, _ in
                let appeal = try await ctx.createAppeal(basicAppeal)
                let id = appeal.id
                _ = try await ctx.transition(id, ["to": "registered"])
                _ = try await ctx.transition(id, ["to": "assigned", "unitCode": "roads"])
                _ = try await ctx.transition(id, ["to": "in-progress"])
                _ = try await ctx.transition(id, ["to": "awaiting-external", "comment": "запрос в ГЖИ"])
                _ = try await ctx.transition(id, ["to": "in-progress"])
                _ = try await ctx.transition(id, ["to": "answer-drafted"])
                _ = try await ctx.transition(id, ["to": "on-approval"])
                // The question has no final result yet.
                let refused = try await ctx.transition(id, ["to": "answered"], expect: .conflict)
                #expect(refused?.body.string.contains("questions-not-final") == true)
                let question = try #require(appeal.questions.first)
                try await ctx.app.testing().test(.PATCH, "/api/v1/appeals/\(id)/questions/\(question.id)", headers: ctx.auth, beforeRequest: { req in
                    try req.content.encode(QuestionUpdate(result: "supported-measures-taken", answerText: "Освещение восстановлено"), as: .json)
                }) { res in
                    #expect(res.status == .ok)
                    let view = try res.content.decode(AppealView.self)
                    #expect(view.questions.first?.executorUnitCode == "roads")
                    #expect(view.questions.first?.status == "done")
                }
                _ = try await ctx.transition(id, ["to": "answered"])
                _ = try await ctx.transition(id, ["to": "feedback"])
                let closed = try await ctx.transition(id, ["to": "closed"])
                let view = try #require(try closed?.content.decode(AppealView.self))
                #expect(view.status == "closed")
                #expect(view.allowedTransitions.isEmpty)
                #expect(view.closedAt != nil)
                try await ctx.get("/api/v1/appeals/\(id)/history") { res in
                    let statuses = try res.content.decode([HistoryView].self).filter { $0.field == "status" }.compactMap(\.to)
                    #expect(statuses == ["registered", "assigned", "in-progress", "awaiting-external", "in-progress", "answer-drafted",
                                         "on-approval", "answered", "feedback", "closed"])
                }
            }
        }

        @Test func transitionNotAllowedAnswers409WithTheAllowedOnes() async throws {
            try await withOmbud { ctx, _ in
                let appeal = try await ctx.createAppeal(basicAppeal)
                let response = try await ctx.transition(appeal.id, ["to": "closed"], expect: .conflict)
                let body = try #require(response?.body.string)
                #expect(body.contains(#""allowed":["registered","withdrawn"]"#))
                #expect(body.contains(#""field":"to""#))
                _ = try await ctx.transition(appeal.id, ["to": "nonsense"], expect: .unprocessableEntity)
                try await ctx.get("/api/v1/appeals/\(appeal.id)") { res in
                    let decoded = try res.content.decode(AppealView.self)
                    #expect(decoded.status == "received")
                }
            }
        }

        @Test func complaintCannotBeRedirectedToTheUnitItComplainsAbout() async throws {
            try await withOmbud { ctx, _ in
                var input = basicAppeal
                input["kind"] = "complaint"
                input["complainedUnitCode"] = "city"
                input["register"] = true
                let appeal = try await ctx.createAppeal(input)
                // "roads" is a department of "city": still the body complained about.
                let refused = try await ctx.transition(appeal.id, ["to": "redirected", "unitCode": "roads"], expect: .conflict)
                #expect(refused?.body.string.contains("complaint-to-complained-unit") == true)
                try await ctx.get("/api/v1/appeals/\(appeal.id)") { res in
                    let view = try res.content.decode(AppealView.self)
                    #expect(view.status == "registered")
                    #expect(view.redirectedToUnitCode == nil)
                }
                let redirected = try await ctx.transition(appeal.id, ["to": "redirected", "unitCode": "police"])
                let view = try #require(try redirected?.content.decode(AppealView.self))
                #expect(view.redirectedToUnitCode == "police")
                #expect(view.questions.first?.result == "redirected")
            }
        }

        @Test func leftWithoutAnswerNeedsAGround() async throws {
            try await withOmbud { ctx, _ in
                var input = basicAppeal
                input["register"] = true
                let appeal = try await ctx.createAppeal(input)
                let missing = try await ctx.transition(appeal.id, ["to": "left-without-answer"], expect: .unprocessableEntity)
                #expect(missing?.body.string.contains(#""field":"article11Ground""#) == true)
                _ = try await ctx.transition(appeal.id, ["to": "left-without-answer", "article11Ground": "rude"], expect: .unprocessableEntity)
                _ = try await ctx.transition(appeal.id, ["to": "left-without-answer", "article11Ground": "obscene-or-threatening"])
            }
        }

        @Test func oneExtensionOnly() async throws {
            try await withOmbud { ctx, _ in
                var input = basicAppeal
                input["register"] = true
                let appeal = try await ctx.createAppeal(input)
                try await ctx.post("/api/v1/appeals/\(appeal.id)/extension", ExtensionInput(days: 30, reason: "Запрос в стороннюю организацию")) { res in
                    #expect(res.status == .ok)
                    let view = try res.content.decode(AppealView.self)
                    #expect(view.deadlines.extensionDays == 30)
                    #expect(view.deadlines.answerDue != appeal.deadlines.answerDue)
                }
                try await ctx.post("/api/v1/appeals/\(appeal.id)/extension", ExtensionInput(days: 5, reason: "ещё раз")) { res in
                    #expect(res.status == .conflict)
                    #expect(res.body.string.contains("already-extended"))
                }
                try await ctx.get("/api/v1/appeals/\(appeal.id)") { res in
                    let decoded = try res.content.decode(AppealView.self)
                    #expect(decoded.deadlines.extensionDays == 30)
                }
            }
        }

        @Test func overdueIsQueryable() async throws {
            try await withOmbud { ctx, clock in
                var input = basicAppeal
                input["register"] = true
                let late = try await ctx.createAppeal(input)
                clock.now = clock.now.addingTimeInterval(40 * 86_400)
                let fresh = try await ctx.createAppeal(input)
                try await ctx.get("/api/v1/appeals?overdue=true") { res in
                    let page = try res.content.decode(AppealPage.self)
                    #expect(page.items.map(\.id) == [late.id])
                    #expect(page.items.first?.overdue == true)
                }
                try await ctx.get("/api/v1/appeals?overdue=false") { res in
                    let decoded = try res.content.decode(AppealPage.self)
                    #expect(decoded.items.map(\.id) == [fresh.id])
                }
            }
        }
    }
}
