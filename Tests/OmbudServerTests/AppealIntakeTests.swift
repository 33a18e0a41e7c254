import Fluent
import Foundation
import OmbudDomain
import Testing
import Vapor
import VaporTesting
@testable import OmbudServer

/// One root suite, serialized: on PostgreSQL every test resets the same database.
@Suite(.serialized) struct OmbudServerSuite {}

let basicAppeal: [String: AnyEncodable] = [
    "channel": "phone",
    "text": "В подъезде не горит свет уже неделю",
    "kind": "statement",
    "applicant": AnyEncodable(ApplicantInput(surname: "Иванов", name: "Иван", patronymic: "Петрович", phone: "8 (921) 555-12-34",
                                             email: "Ivanov@Example.org", postalAddress: "Санкт-Петербург, ул. Мира, д. 1")),
    "questions": AnyEncodable([QuestionInput(topicCode: "0005.0005.0056.1168", text: "Освещение в подъезде")]),
    "address": AnyEncodable(AddressInput(text: "ул. Мира, д. 1", lat: 59.95, lon: 30.31, district: "Петроградский")),
    "officeCode": "hq",
]

extension OmbudServerSuite {
    @Suite struct AppealIntakeTests {
        @Test func intakeRegistersWithTrackingCodeDeadlinesAndHistory() async throws {
            try await withOmbud { ctx, _ in
                // setup
                var input = basicAppeal
                input["register"] = true
                // act
                let appeal = try await ctx.createAppeal(input)
                // check
                #expect(appeal.trackingCode == "2026-000001")
                #expect(appeal.status == "registered")
                #expect(appeal.form == "oral")
                #expect(appeal.applicant?.emails == ["ivanov@example.org"])
                #expect(appeal.officeCode == "hq")
                #expect(appeal.questions.map(\.topicCode) == ["0005.0005.0056.1168"])
                #expect(appeal.deadlines.answerDue != nil && appeal.deadlines.controlDate != nil)
                try await ctx.get("/api/v1/appeals/by-code/2026-000001") { res in
                    #expect(res.status == .ok)
                    let decoded = try res.content.decode(AppealView.self)
                    #expect(decoded.id == appeal.id)
                }
                try await ctx.get("/api/v1/appeals/\(appeal.id)/history") { res in
                    let entries = try res.content.decode([HistoryView].self)
                    #expect(entries.contains { $0.action == "create" && $0.entity == "appeal" && $0.actor == "tester" })
                    #expect(entries.contains { $0.field == "status" && $0.from == "received" && $0.to == "registered" })
                }
            }
        }

        @Test func theIntakeAnswerIsWhatIsStored() async throws {
            try await withOmbud { ctx, _ in
                var input = basicAppeal
                input["register"] = true
                input["coApplicants"] = AnyEncodable([ApplicantInput(surname: "Петрова", name: "Анна")])
                var created: String?
                try await ctx.post("/api/v1/appeals", input) { res in created = res.body.string }
                let view = try JSONCoding.decoder.decode(AppealView.self, from: Data(try #require(created).utf8))
                try await ctx.get("/api/v1/appeals/\(view.id)") { res in
                    // The same JSON document (objects compared as objects: key order is not part of JSON).
                    let stored = try JSONSerialization.jsonObject(with: Data(res.body.string.utf8)) as? NSDictionary
                    let answered = try JSONSerialization.jsonObject(with: Data(try #require(created).utf8)) as? NSDictionary
                    #expect(stored != nil && stored == answered)
                }
            }
        }

        @Test func concurrentIntakeGetsDistinctConsecutiveCodes() async throws {
            try await withOmbud { ctx, _ in
                let codes = try await withThrowingTaskGroup(of: String.self) { group in
                    for i in 0..<40 {
                        group.addTask {
                            let body = try JSONSerialization.data(withJSONObject: ["channel": "web", "text": "Обращение \(i)",
                                                                                    "officeCode": i == 7 ? "nowhere" : "hq"])
                            var code = ""
                            try await ctx.app.testing().test(.POST, "/api/v1/appeals", headers: ctx.auth.adding(contentType: "application/json"),
                                                                                      body: ByteBuffer(data: body)) { res in
                                if i == 7 { #expect(res.status == .unprocessableEntity) } else {
                                    #expect(res.status == .created)
                                    code = try res.content.decode(AppealView.self).trackingCode
                                }
                            }
                            return code
                        }
                    }
                    return try await group.reduce(into: [String]()) { $0.append($1) }
                }
                let issued = codes.filter { !$0.isEmpty }.sorted()
                #expect(issued == (1...39).map { TrackingCode(year: 2026, number: $0).description })
            }
        }

        @Test func trackingCodesFollowAYearlySequence() async throws {
            try await withOmbud { ctx, clock in
                let first = try await ctx.createAppeal(basicAppeal)
                let second = try await ctx.createAppeal(basicAppeal)
                clock.now = clock.now.addingTimeInterval(60 * 86_400) // into 2027
                var input = basicAppeal
                input["receivedAt"] = AnyEncodable(ISO8601DateFormatter().string(from: clock.now))
                let next = try await ctx.createAppeal(input)
                #expect([first.trackingCode, second.trackingCode, next.trackingCode] == ["2026-000001", "2026-000002", "2027-000001"])
            }
        }

        @Test func controlDateMovesOffTheNewYearHolidays() async throws {
            // Registered on 2 December 2025: day 30 is 1 January, the last working day before it is 30 December.
            let registration = Date(timeIntervalSince1970: 1_764_662_400) // 2025-12-02T08:00:00Z
            try await withOmbud(now: registration) { ctx, _ in
                var input = basicAppeal
                input["register"] = true
                let appeal = try await ctx.createAppeal(input)
                #expect(appeal.deadlines.registrationDue == "2025-12-05")
                #expect(appeal.deadlines.redirectDue == "2025-12-09")
                #expect(appeal.deadlines.answerDue == "2026-01-01")
                #expect(appeal.deadlines.controlDate == "2025-12-30")
            }
        }

        @Test func badInputIsRefusedByFieldAndStoresNothing() async throws {
            try await withOmbud { ctx, _ in
                var unknownTopic = basicAppeal
                unknownTopic["questions"] = AnyEncodable([QuestionInput(topicCode: "9999.9999", text: nil)])
                try await ctx.post("/api/v1/appeals", unknownTopic) { res in
                    #expect(res.status == .unprocessableEntity)
                    #expect(res.body.string.contains(#""field":"questions[0].topicCode""#))
                }
                var notAssignable = basicAppeal
                notAssignable["questions"] = AnyEncodable([QuestionInput(topicCode: "0005.0005", text: nil)])
                try await ctx.post("/api/v1/appeals", notAssignable) { res in #expect(res.status == .unprocessableEntity) }
                try await ctx.raw(.POST, "/api/v1/appeals", body: #"{"channel": "phone", "text": "#) { res in
                    #expect(res.status == .badRequest)
                    #expect(res.body.string.contains("malformed JSON"))
                }
                try await ctx.raw(.POST, "/api/v1/appeals", body: #"{"channel": "phone"}"#) { res in
                    #expect(res.status == .badRequest)
                    #expect(res.body.string.contains(#""field":"text""#))
                }
                try await ctx.raw(.POST, "/api/v1/appeals", body: #"{"channel": "fax", "text": "x"}"#) { res in
                    #expect(res.status == .unprocessableEntity)
                    #expect(res.body.string.contains(#""field":"channel""#))
                }
                var badPhone = basicAppeal
                badPhone["applicant"] = AnyEncodable(ApplicantInput(surname: "Иванов", phone: "call me"))
                try await ctx.post("/api/v1/appeals", badPhone) { res in
                    #expect(res.status == .unprocessableEntity)
                    #expect(res.body.string.contains(#""field":"applicant.phone""#))
                }
                var badOffice = basicAppeal
                badOffice["officeCode"] = "nowhere"
                try await ctx.post("/api/v1/appeals", badOffice) { res in #expect(res.body.string.contains(#""field":"officeCode""#)) }
                #expect(try await ctx.appealCount() == 0)
                #expect(try await Applicant.query(on: ctx.app.db).count() == 0)
                try await ctx.get("/api/v1/appeals/by-code/2026-000404") { res in #expect(res.status == .notFound) }
                try await ctx.get("/api/v1/appeals/by-code/garbage") { res in #expect(res.status == .unprocessableEntity) }
                try await ctx.get("/api/v1/appeals/\(UUID())") { res in #expect(res.status == .notFound) }
            }
        }

        @Test func invalidOrMissingTokenIsUnauthorized() async throws {
            try await withOmbud { ctx, _ in
                try await ctx.app.testing().test(.GET, "/api/v1/appeals", headers: ["Authorization": "Bearer omb_nope"]) { res in
                    #expect(res.status == .unauthorized)
                    #expect(res.body.string.contains(#""error":"unauthorized""#))
                }
                try await ctx.app.testing().test(.GET, "/api/v1/appeals") { res in #expect(res.status == .unauthorized) }
            }
        }

        @Test func knownApplicantAndDuplicateSuggestions() async throws {
            try await withOmbud { ctx, _ in
                let first = try await ctx.createAppeal(basicAppeal)
                let applicantID = try #require(first.applicant?.id)
                let second = try await ctx.createAppeal(["channel": "visit", "text": "Повторно о свете", "applicant": AnyEncodable(ApplicantInput(id: applicantID))])
                #expect(second.applicant?.id == applicantID)
                try await ctx.get("/api/v1/applicants/\(applicantID)") { res in
                    let card = try res.content.decode(ApplicantCard.self)
                    #expect(card.appeals.count == 2)
                }
                try await ctx.get("/api/v1/applicants/duplicates?phone=%2B7%20921%20555%2012%2034") { res in
                    let found = try res.content.decode([DuplicateCandidate].self)
                    #expect(found.map(\.applicant.id) == [applicantID])
                    #expect(found.first?.reasons == ["same-phone"])
                }
                let query = "surname=%D0%98%D0%B2%D0%B0%D0%BD%D0%BE%D1%84&name=%D0%98%D0%B2%D0%B0%D0%BD&postalAddress=" +
                    "%D0%A1%D0%B0%D0%BD%D0%BA%D1%82-%D0%9F%D0%B5%D1%82%D0%B5%D1%80%D0%B1%D1%83%D1%80%D0%B3%2C%20%D1%83%D0%BB.%20%D0%9C%D0%B8%D1%80%D0%B0%2C%20%D0%B4.%201"
                try await ctx.get("/api/v1/applicants/duplicates?\(query)") { res in
                    let found = try res.content.decode([DuplicateCandidate].self)
                    #expect(found.first?.reasons == ["similar-name-same-address"])
                }
                try await ctx.get("/api/v1/applicants?q=ivanov@example.org") { res in
                    let decoded = try res.content.decode([ApplicantSummary].self)
                    #expect(decoded.count == 1)
                }
                try await ctx.get("/api/v1/applicants?q=%D0%B8%D0%B2%D0%B0%D0%BD%D0%BE%D0%B2") { res in // иванов
                    let decoded = try res.content.decode([ApplicantSummary].self)
                    #expect(decoded.count == 1)
                }
            }
        }
    }
}

extension OmbudServerSuite {
    @Suite struct CardsTests {
        @Test func applicantChangesAreValidatedAndRecorded() async throws {
            try await withOmbud { ctx, _ in
                let appeal = try await ctx.createAppeal(basicAppeal)
                let id = try #require(appeal.applicant?.id)
                try await ctx.app.testing().test(.PATCH, "/api/v1/applicants/\(id)", headers: ctx.auth, beforeRequest: { req in
                    try req.content.encode(ApplicantInput(phones: ["+7 911 000 11 22"], socialStatus: "пенсионер", territory: "Петроградский"), as: .json)
                }) { res in
                    #expect(res.status == .ok, "\(res.body.string)")
                    let card = try res.content.decode(ApplicantCard.self)
                    #expect(card.socialStatus == "пенсионер")
                    #expect(card.applicant.phones == ["+7 911 000 11 22"])
                }
                try await ctx.app.testing().test(.PATCH, "/api/v1/applicants/\(id)", headers: ctx.auth, beforeRequest: { req in
                    try req.content.encode(ApplicantInput(email: "not-an-email"), as: .json)
                }) { res in
                    #expect(res.status == .unprocessableEntity)
                    #expect(res.body.string.contains(#""field":"applicant.emails""#))
                }
                try await ctx.get("/api/v1/applicants/\(id)/history") { res in
                    let fields = try res.content.decode([HistoryView].self).compactMap(\.field)
                    #expect(fields.contains("phones") && fields.contains("socialStatus") && !fields.contains("emails"))
                }
                try await ctx.app.testing().test(.PATCH, "/api/v1/applicants/\(id)", headers: ctx.auth, beforeRequest: { req in
                    try req.content.encode(ApplicantInput(surname: "Сидоренко"), as: .json)
                }) { res in #expect(res.status == .ok) }
                try await ctx.get("/api/v1/appeals?q=%D1%81%D0%B8%D0%B4%D0%BE%D1%80%D0%B5%D0%BD%D0%BA%D0%BE") { res in // сидоренко
                    let page = try res.content.decode(AppealPage.self)
                    #expect(page.items.map(\.id) == [appeal.id])
                }
                try await ctx.get("/api/v1/applicants/duplicates?phone=89110001122") { res in
                    let found = try res.content.decode([DuplicateCandidate].self)
                    #expect(found.map(\.applicant.id) == [id])
                }
            }
        }

        @Test func orgUnitsFormATreeWithOfficialsAndHeads() async throws {
            try await withOmbud { ctx, _ in
                try await ctx.post("/api/v1/org-units/city/officials", OfficialInput(fullName: "Смирнов С. С.", position: "Глава", email: nil, phone: nil, isHead: true)) { res in
                    #expect(res.status == .created)
                }
                try await ctx.get("/api/v1/org-units/city") { res in
                    let card = try res.content.decode(OrgUnitCard.self)
                    #expect(card.unit.parentCode == "hq")
                    #expect(card.children.map(\.code) == ["roads"])
                    #expect(card.officials.first?.isHead == true)
                }
                try await ctx.post("/api/v1/org-units", OrgUnitInput(code: "city", name: "x", kind: "body", parentCode: nil)) { res in
                    #expect(res.status == .conflict)
                }
                try await ctx.post("/api/v1/org-units", OrgUnitInput(code: "new", name: "x", kind: "planet", parentCode: nil)) { res in
                    #expect(res.status == .unprocessableEntity)
                    #expect(res.body.string.contains(#""field":"kind""#))
                }
            }
        }
    }
}
