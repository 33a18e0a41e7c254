import Fluent
import Foundation
import OmbudDomain
import Testing
import Vapor
import VaporTesting
@testable import OmbudServer

extension OmbudServerSuite {
    /// The search page (appeals and applicants, found words marked) and the applicant card with the merge of duplicates.
    @Suite struct ApplicantAndSearchPagesTests {
        func signedIn(_ ctx: TestContext, login: String, roles: [String]) async throws -> Browser {
            try await Browser.signedIn(ctx, login: login, roles: roles)
        }

        func appeal(_ ctx: TestContext, text: String, applicant: ApplicantInput) async throws -> AppealView {
            var input = basicAppeal
            input["text"] = AnyEncodable(text)
            input["applicant"] = AnyEncodable(applicant)
            return try await ctx.createAppeal(input)
        }

        @Test func searchFindsOtherFormsOfAWordAndMarksThem() async throws {
            try await withOmbud { ctx, _ in
                let found = try await appeal(ctx, text: "Во дворе упала Ёлка и перегородила проезд к подъездам",
                                             applicant: ApplicantInput(surname: "Смирнова", name: "Анна", phone: "+7 921 000-11-22"))
                _ = try await appeal(ctx, text: "Не вывозят мусор", applicant: ApplicantInput(surname: "Козлов", name: "Олег"))
                let browser = try await signedIn(ctx, login: "operator", roles: ["reception", "executor"])
                try await browser.send(.GET, "/search?q=" + Browser.encode("елки подъезд"))
                #expect(browser.html.contains(found.trackingCode))
                #expect(browser.html.contains("<mark>Ёлка</mark>") && browser.html.contains("<mark>подъездам</mark>"))
                #expect(!browser.html.contains("Не вывозят мусор"))
                // Applicants by phone, written another way.
                try await browser.send(.GET, "/search?q=" + Browser.encode("8 921 000 11 22"))
                #expect(browser.html.contains("Смирнова Анна") && browser.html.contains("/applicants/"))
                // Nothing found says so; a query too long is refused next to the field.
                try await browser.send(.GET, "/search?q=" + Browser.encode("трамвай"))
                #expect(browser.html.contains(#"role="status""#))
                let long = try await browser.send(.GET, "/search?q=" + String(repeating: "а", count: 201))
                #expect(long.status == .unprocessableEntity && browser.html.contains(#"id="q-error""#))
                // A role without the personal-data permission finds appeals by their words, never by a person's name,
                // and never applicants' cards.
                let journalist = try await signedIn(ctx, login: "journalist", roles: ["journalist"])
                try await journalist.send(.GET, "/search?q=" + Browser.encode("Смирнова"))
                #expect(!journalist.html.contains(found.trackingCode) && journalist.html.contains(#"role="status""#))
                try await journalist.send(.GET, "/search?q=" + Browser.encode("Смирнова ёлка"))
                #expect(!journalist.html.contains(found.trackingCode))
                try await journalist.send(.GET, "/search?q=" + Browser.encode("ёлка"))
                #expect(journalist.html.contains(found.trackingCode))
                #expect(!journalist.html.contains("/applicants/") && !journalist.html.contains("000-11-22") && !journalist.html.contains("Смирнова"))
            }
        }

        @Test func twoCardsOfOnePersonMergeWithTheirHistoryKept() async throws {
            try await withOmbud { ctx, _ in
                let first = try await appeal(ctx, text: "Яма во дворе", applicant: ApplicantInput(surname: "Петров", name: "Пётр", phone: "+7 921 111-22-33",
                                                                                                    postalAddress: "ул. Мира, д. 1"))
                let second = try await appeal(ctx, text: "Снова яма во дворе",
                                              applicant: ApplicantInput(surname: "Петров", name: "Пётр", patronymic: "Ильич", phone: "8 921 111 22 33",
                                                                        email: "petrov@example.org"))
                let keep = try #require(first.applicant?.id), absorb = try #require(second.applicant?.id)
                // An appeal of the duplicate on which the kept card is a co-applicant.
                var both = basicAppeal
                both["applicant"] = AnyEncodable(ApplicantInput(id: absorb))
                both["coApplicants"] = AnyEncodable([ApplicantInput(id: keep)])
                let shared = try await ctx.createAppeal(both)
                let browser = try await signedIn(ctx, login: "operator", roles: ["reception"])
                try await browser.send(.GET, "/applicants/\(keep)")
                #expect(browser.html.contains(#"id="duplicates""#) && browser.html.contains(#"data-duplicate="\#(absorb)""#))
                #expect(browser.html.contains("тот же телефон"))
                let merged = try await browser.send(.POST, "/applicants/\(keep)/merge",
                                                    form: ["_csrf": try #require(browser.csrf), "duplicateId": absorb.uuidString])
                #expect(merged.status == .seeOther)
                try await browser.send(.GET, "/applicants/\(keep)?merged=1")
                #expect([first, second, shared].allSatisfy { browser.html.contains($0.trackingCode) })
                #expect(browser.html.contains("Ильич") && browser.html.contains("petrov@example.org"))
                #expect(!browser.html.contains(#"id="duplicates""#))
                // The absorbed card stays, pointing at the kept one; its appeals moved; both histories tell it.
                let old = try #require(try await Applicant.find(absorb, on: ctx.app.db))
                #expect(old.mergedIntoID == keep)
                #expect(try await Appeal.find(second.id, on: ctx.app.db)?.$applicant.id == keep)
                // The kept card is that appeal's applicant now, not also its co-applicant.
                #expect(try await CoApplicant.query(on: ctx.app.db).filter(\.$appeal.$id == shared.id).count() == 0)
                #expect(try await browser.send(.GET, "/applicants/\(absorb)").headers.first(name: .location) == "/applicants/\(keep)")
                let history = try await HistoryEntry.query(on: ctx.app.db).filter(\.$entityID ~~ [keep, absorb, second.id]).all()
                #expect(history.contains { $0.entityID == keep && $0.action == "merge" })
                #expect(history.contains { $0.entityID == keep && $0.field == "patronymic" && $0.toValue == "Ильич" })
                #expect(history.contains { $0.entityID == absorb && $0.action == "merged-into" })
                #expect(history.contains { $0.entityID == second.id && $0.field == "applicant" })
                // Search and duplicates no longer offer the absorbed card; a second merge of it is refused.
                try await ctx.get("/api/v1/applicants?q=" + Browser.encode("Петров")) { res in
                    let found = try res.content.decode([ApplicantSummary].self).map(\.id)
                    #expect(found == [keep])
                }
                try await ctx.post("/api/v1/applicants/\(keep)/merge", ["duplicateId": absorb.uuidString]) { res in
                    #expect(res.status == .conflict, "\(res.body.string)")
                }
                try await ctx.get("/api/v1/applicants/\(absorb)") { res in
                    let card = try res.content.decode(ApplicantCard.self)
                    #expect(card.mergedInto == keep)
                }
                var reuse = basicAppeal
                reuse["applicant"] = AnyEncodable(ApplicantInput(id: absorb))
                try await ctx.post("/api/v1/appeals", reuse) { res in
                    #expect(res.status == .unprocessableEntity && res.body.string.contains("applicant.id"))
                }
            }
        }

        @Test func aMergeThatCannotBeIsRefusedAndChangesNothing() async throws {
            try await withOmbud { ctx, _ in
                let person = try await appeal(ctx, text: "Текст", applicant: ApplicantInput(surname: "Петров", name: "Пётр"))
                let organisation = try await appeal(ctx, text: "Текст", applicant: ApplicantInput(kind: "organisation", organisationName: "ТСЖ «Мира, 1»"))
                let keep = try #require(person.applicant?.id), other = try #require(organisation.applicant?.id)
                for (body, status, field) in [(["duplicateId": other.uuidString], HTTPStatus.unprocessableEntity, "duplicateId"),
                                              (["duplicateId": keep.uuidString], .unprocessableEntity, "duplicateId"),
                                              ([:], .unprocessableEntity, "duplicateId"),
                                              (["duplicateId": UUID().uuidString], .notFound, "")] {
                    try await ctx.post("/api/v1/applicants/\(keep)/merge", body) { res in
                        #expect(res.status == status, "\(body): \(res.body.string)")
                        #expect(field.isEmpty || res.body.string.contains(field))
                    }
                }
                #expect(try await Appeal.find(organisation.id, on: ctx.app.db)?.$applicant.id == other)
                #expect(try await Applicant.query(on: ctx.app.db).filter(\.$mergedIntoID != nil).count() == 0)
            }
        }
    }
}
