import Fluent
import Foundation
import OmbudDomain
import Testing
import Vapor
import VaporTesting
@testable import OmbudServer

/// Issue 18, the operator's day: following an appeal from the slip, the call-back, names instead of codes, the address
/// register, the worklists.
extension OmbudServerSuite {
    @Suite struct OperatorDayTests {
        /// Registers `basicAppeal` through the API and prints its slip; returns the appeal and the slip's PIN.
        static func slip(_ ctx: TestContext) async throws -> (AppealView, String) {
            let appeal = try await ctx.createAppeal(basicAppeal)
            let browser = try await Browser.signedIn(ctx, login: "desk", roles: ["reception"])
            #expect(try await browser.send(.GET, "/appeals/\(appeal.trackingCode)/slip").status == .ok)
            #expect(browser.html.contains("/portal/track?code=\(appeal.trackingCode)"))
            let pin = try #require(browser.html.firstMatch(of: /class="slip-pin"[^>]*><bdi>(\d{6})<\/bdi>/)?.1)
            // A reprint shows the same PIN.
            try await browser.send(.GET, "/appeals/\(appeal.trackingCode)/slip")
            #expect(browser.html.contains(">\(pin)<"))
            return (appeal, String(pin))
        }

        @Test func aVisitorFollowsTheAppealByCodeAndPINOrByTheirPhoneSpelledAnyWay() async throws {
            try await withOmbud { ctx, _ in
                let (appeal, pin) = try await Self.slip(ctx)
                let citizen = Browser(ctx.app)
                #expect(try await citizen.send(.GET, "/portal/track").status == .ok)
                #expect(citizen.html.contains(#"name="pin""#) && citizen.html.contains(#"name="contact""#))

                let found = try await citizen.send(.GET, "/portal/track?code=\(appeal.trackingCode)&pin=\(pin)")
                #expect(found.status == .ok)
                #expect(citizen.html.contains(appeal.trackingCode) && citizen.html.contains("В подъезде не горит свет"))
                // The page gives a link of its own, which opens the same status later.
                let link = try #require(citizen.html.firstMatch(of: /\/portal\/s\/([A-Za-z0-9_-]{40,64})/)?.1)
                #expect(try await Browser(ctx.app).send(.GET, "/portal/s/\(link)").status == .ok)

                // The phone given as 8 (921) 555-12-34, typed another way; the e-mail in another case; Persian digits in the PIN.
                for contact in ["+7 921 555 12 34", "89215551234", "ivanov@example.ORG"] {
                    let res = try await Browser(ctx.app).send(.POST, "/portal/track", form: ["code": appeal.trackingCode, "contact": contact])
                    #expect(res.status == .ok, "\(contact)")
                }
                let persian = pin.map { String(UnicodeScalar(0x06F0 + Int(String($0))!)!) }.joined()
                let viaPersian = try await Browser(ctx.app).send(.GET, "/portal/track?code=\(appeal.trackingCode)&pin=\(Browser.encode(persian))")
                #expect(viaPersian.status == .ok)

                // A wrong pair shows nothing of the appeal, and looks like an unknown code.
                let wrongPIN = pin == "000000" ? "111111" : "000000"
                for query in ["code=\(appeal.trackingCode)&pin=\(wrongPIN)", "code=\(appeal.trackingCode)&contact=89990000000",
                              "code=2026-999999&pin=\(pin)", "code=nonsense&pin=\(pin)"] {
                    let stranger = Browser(ctx.app)
                    let res = try await stranger.send(.GET, "/portal/track?" + query)
                    #expect(res.status == .notFound, "\(query)")
                    #expect(!stranger.html.contains("В подъезде") && !stranger.html.contains("Иванов"), "\(query)")
                }
                // A missing half is named.
                let half = Browser(ctx.app)
                #expect(try await half.send(.GET, "/portal/track?code=\(appeal.trackingCode)").status == .unprocessableEntity)
                #expect(half.html.contains(#"id="pin-error""#))
            }
        }

        @Test func trackingIsRateLimitedPerAddressAndFailuresPerCode() async throws {
            try await withOmbud(settings: { $0.trustForwardedFor = true }) { ctx, clock in
                let (appeal, pin) = try await Self.slip(ctx)
                let guesser = Browser(ctx.app)
                var statuses: [HTTPStatus] = []
                for guess in 0..<Tracking.attempts.limit + 1 {
                    statuses.append(try await guesser.send(.GET, "/portal/track?code=\(appeal.trackingCode)&pin=\(String(format: "%06d", guess))").status)
                }
                #expect(statuses.last == .tooManyRequests)
                #expect(statuses.dropLast().allSatisfy { $0 == .notFound || $0 == .ok })
                // Even the right PIN waits out the window from this address.
                #expect(try await guesser.send(.GET, "/portal/track?code=\(appeal.trackingCode)&pin=\(pin)").status == .tooManyRequests)
                clock.now = clock.now.addingTimeInterval(Tracking.attempts.window + 1)
                #expect(try await guesser.send(.GET, "/portal/track?code=\(appeal.trackingCode)&pin=\(pin)").status == .ok)
                // Lookups of one code are counted from anywhere: past the limit the code answers nothing for a day.
                for i in 0..<Tracking.lookupsPerCode.limit {
                    _ = try await ctx.app.testing().test(.GET, "/portal/track?code=\(appeal.trackingCode)&pin=99999\(i % 10)",
                                                          headers: ["X-Forwarded-For": "203.0.113.\(i)"]) { _ in }
                }
                clock.now = clock.now.addingTimeInterval(Tracking.attempts.window + 1)
                #expect(try await Browser(ctx.app).send(.GET, "/portal/track?code=\(appeal.trackingCode)&pin=\(pin)").status == .tooManyRequests)
            }
        }

        /// Takes an appeal to "answered" through the API.
        static func answered(_ ctx: TestContext) async throws -> AppealView {
            let appeal = try await ctx.createAppeal(basicAppeal)
            for step in [["to": "registered"], ["to": "assigned", "unitCode": "roads"], ["to": "in-progress"], ["to": "answer-drafted"], ["to": "on-approval"]] {
                _ = try await ctx.transition(appeal.id, step)
            }
            let question = try #require(appeal.questions.first)
            try await ctx.app.testing().test(.PATCH, "/api/v1/appeals/\(appeal.id)/questions/\(question.id)", headers: ctx.auth, beforeRequest: { req in
                try req.content.encode(QuestionUpdate(result: "supported-measures-taken", answerText: "Освещение восстановлено"), as: .json)
            }) { res in #expect(res.status == .ok) }
            _ = try await ctx.transition(appeal.id, ["to": "answered"])
            return appeal
        }

        @Test func theCallBackClosesASatisfiedAppealAndSendsAnUnsatisfiedOneBackWithTheReason() async throws {
            try await withOmbud { ctx, _ in
                let first = try await Self.answered(ctx)
                // The call-back is on the worklist, due three working days after the answer.
                let task = try #require(try await TaskRecord.query(on: ctx.app.db).filter(\.$appeal.$id == first.id).filter(\.$state == "answered").first())
                #expect(task.key == "collect-feedback" && task.dueAt != nil)
                try await ctx.get("/api/v1/tasks?assignee=all&state=answered") { res in #expect(res.body.string.contains(first.trackingCode)) }

                // Bad input names its field and changes nothing.
                for (body, field) in [(#"{}"#, "satisfied"), (#"{"satisfied": false}"#, "comment"), (#"{"satisfied": true, "score": 9}"#, "score")] {
                    try await ctx.raw(.POST, "/api/v1/appeals/\(first.id)/feedback", body: body) { res in
                        #expect(res.status == .unprocessableEntity, "\(body)")
                        #expect(res.body.string.contains(#""field":"\#(field)""#), "\(body): \(res.body.string)")
                    }
                }
                #expect(try await Appeal.find(first.id, on: ctx.app.db)?.status == "answered")

                try await ctx.raw(.POST, "/api/v1/appeals/\(first.id)/feedback", body: #"{"satisfied": true, "comment": "спасибо", "score": 5}"#) { res in
                    #expect(res.status == .ok, "\(res.body.string)")
                    #expect((try? res.content.decode(AppealView.self))?.status == "closed")
                }
                let rating = try #require(try await AppealRating.query(on: ctx.app.db).filter(\.$appealID == first.id).first())
                #expect(rating.score == 5 && rating.solved && rating.source == "phone")
                // A second call on a closed appeal is refused.
                try await ctx.raw(.POST, "/api/v1/appeals/\(first.id)/feedback", body: #"{"satisfied": true}"#) { res in
                    #expect(res.status == .conflict && res.body.string.contains("no-call-back"))
                }

                let second = try await Self.answered(ctx)
                try await ctx.raw(.POST, "/api/v1/appeals/\(second.id)/feedback", body: #"{"satisfied": false, "comment": "свет так и не горит"}"#) { res in
                    #expect(res.status == .ok, "\(res.body.string)")
                    #expect((try? res.content.decode(AppealView.self))?.status == "in-progress")
                }
                #expect(try await AppealRating.query(on: ctx.app.db).filter(\.$appealID == second.id).count() == 0)
                // The history says it in the reader's language, with the citizen's words.
                let browser = try await Browser.signedIn(ctx, login: "boss", roles: ["supervisor"])
                try await browser.send(.GET, "/appeals/\(second.trackingCode)")
                #expect(browser.html.contains("обратный звонок: заявитель не удовлетворён, возвращено в работу: свет так и не горит"))
                try await browser.send(.GET, "/appeals/\(second.trackingCode)?lang=fa")
                #expect(browser.html.contains("تماس پیگیری: متقاضی راضی نیست"))
            }
        }

        /// Posts a form of the card as the browser would: with the card's CSRF token.
        static func post(_ browser: Browser, _ code: String, _ path: String, _ form: [String: String]) async throws -> TestingHTTPResponse {
            try await browser.send(.GET, "/appeals/\(code)")
            var form = form
            form["_csrf"] = browser.csrf ?? ""
            return try await browser.send(.POST, "/appeals/\(code)/\(path)", form: form)
        }

        @Test func theCardShowsNamesNotCodesAndItsFormsWork() async throws {
            try await withOmbud { ctx, _ in
                let appeal = try await ctx.createAppeal(basicAppeal)
                _ = try await ctx.transition(appeal.id, ["to": "registered"])
                let executor = try await Browser.signedIn(ctx, login: "worker", roles: ["executor"], units: ["roads"], fullName: "Пётр Дорожкин")
                _ = executor
                let browser = try await Browser.signedIn(ctx, login: "office", roles: ["reception", "responder"], fullName: "Ольга Приёмова")
                try await browser.send(.GET, "/appeals/\(appeal.trackingCode)")
                // Verbs on the buttons, pickers of units and people.
                #expect(browser.html.contains(">Назначить</button>") && browser.html.contains(">Отозвать</button>"))
                #expect(browser.html.contains(#"<option value="roads">Дорожный отдел</option>"#))
                #expect(browser.html.contains("Пётр Дорожкин"))
                let worker = try #require(try await User.query(on: ctx.app.db).filter(\.$login == "worker").first())
                // A person outside the unit is refused, naming the field; the right one gets the question and the task.
                let tester = try #require(try await User.query(on: ctx.app.db).filter(\.$login == "tester").first())
                let refused = try await Self.post(browser, appeal.trackingCode, "transition", ["to": "assigned", "unitCode": "roads", "executorUserId": tester.id!.uuidString])
                #expect(refused.status == .unprocessableEntity)
                #expect(try await Appeal.find(appeal.id, on: ctx.app.db)?.status == "registered")
                let assigned = try await Self.post(browser, appeal.trackingCode, "transition", ["to": "assigned", "unitCode": "roads", "executorUserId": worker.id!.uuidString])
                #expect(assigned.status == .seeOther)
                let question = try #require(try await Question.query(on: ctx.app.db).filter(\.$appeal.$id == appeal.id).first())
                #expect(question.executorUserID == worker.id)
                let task = try #require(try await TaskRecord.query(on: ctx.app.db).filter(\.$appeal.$id == appeal.id).filter(\.$state == "assigned").first())
                #expect(task.assigneeUserID == worker.id)

                try await browser.send(.GET, "/appeals/\(appeal.trackingCode)")
                let topic = try #require(try await TopicRecord.find(question.topicCode, on: ctx.app.db))
                #expect(browser.html.contains(topic.name))
                // The history names the unit and the person, not their ids.
                #expect(browser.html.contains("Дорожный отдел") && !browser.html.contains(worker.id!.uuidString))

                // A note, an extension and a promise from the card.
                #expect(try await Self.post(browser, appeal.trackingCode, "notes", ["text": "Позвонить в ЖЭС завтра"]).status == .seeOther)
                try await browser.send(.GET, "/appeals/\(appeal.trackingCode)")
                #expect(browser.html.contains("Позвонить в ЖЭС завтра"))
                #expect(try await Self.post(browser, appeal.trackingCode, "notes", ["text": " "]).status == .unprocessableEntity)
                let before = try #require(try await Appeal.find(appeal.id, on: ctx.app.db)?.controlDate)
                #expect(try await Self.post(browser, appeal.trackingCode, "extension", ["days": "abc", "reason": "x"]).status == .unprocessableEntity)
                #expect(try await Self.post(browser, appeal.trackingCode, "extension", ["days": "10"]).status == .unprocessableEntity)
                #expect(try await Self.post(browser, appeal.trackingCode, "extension", ["days": "10", "reason": "нужен ответ ГЖИ"]).status == .seeOther)
                #expect(try await Appeal.find(appeal.id, on: ctx.app.db)?.controlDate != before)
                let due = CivilDate.of(ctx.app.clock.now(), in: ctx.settings.timeZone).adding(days: 5).iso
                #expect(try await Self.post(browser, appeal.trackingCode, "promises", ["text": "Перезвонить после проверки", "dueDate": due]).status == .seeOther)
                #expect(try await PromiseRecord.query(on: ctx.app.db).filter(\.$appeal.$id == appeal.id).count() == 1)
            }
        }

        @Test func theSystemsHistoryNotesAreInTheReadersLanguageAndOldEntriesStillShow() async throws {
            try await withOmbud { ctx, _ in
                let appeal = try await ctx.createAppeal(basicAppeal)
                let now = ctx.app.clock.now()
                try await ctx.app.store.write { db in
                    let history = HistoryRecorder(db: db, actor: nil, at: now)
                    try await history.record(entity: "appeal", id: appeal.id, appealID: appeal.id, action: "file-refused", field: "attachments",
                                             to: "scan.pdf", note: HistoryText(key: "fileTooLarge", params: ["mb": "20"]))
                    // Written before notes had keys: the comment is shown as it is.
                    try await history.record(entity: "appeal", id: appeal.id, appealID: appeal.id, action: "import", comment: "spb:123")
                }
                let browser = try await Browser.signedIn(ctx, login: "boss", roles: ["supervisor"])
                try await browser.send(.GET, "/appeals/\(appeal.trackingCode)")
                #expect(browser.html.contains("больше 20 МБ: не сохранён") && browser.html.contains("spb:123"))
                try await browser.send(.GET, "/appeals/\(appeal.trackingCode)?lang=en")
                #expect(browser.html.contains("larger than 20 MB: not kept"))
                try await ctx.get("/api/v1/appeals/\(appeal.id)/history") { res in
                    let entry = try #require(try res.content.decode([HistoryView].self).first { $0.noteKey == "fileTooLarge" })
                    #expect(entry.noteParams == ["mb": "20"] && entry.noteText != nil)
                }
            }
        }

        @Test func aTypedAddressGetsItsBuildingsPointAndDistrictFromTheRegister() async throws {
            try await withOmbud { ctx, _ in
                var known = basicAppeal
                known["address"] = AnyEncodable(AddressInput(text: "Малая Балканская улица, дом 60", lat: 59.8301, lon: 30.3902, district: "Фрунзенский"))
                _ = try await ctx.createAppeal(known)
                let learned = try await AddressRegister.learn(store: ctx.app.store, now: ctx.app.clock.now())
                let rows = try await AddressRecord.query(on: ctx.app.db).all().map { "\($0.id ?? "") \($0.text)" }
                #expect(learned == 1, "\(rows)")
                // Another spelling of the same building, typed without a point or a district.
                var typed = basicAppeal
                typed["address"] = AnyEncodable(AddressInput(text: "ул. Малая Балканская, д. 60", lat: nil, lon: nil, district: nil))
                let view = try await ctx.createAppeal(typed)
                #expect(view.address?.lat == 59.8301 && view.address?.district == "Фрунзенский")

                // An imported list takes precedence; bad rows are named by line and field.
                let csv = "street,house,district,lat,lon\nМалая Балканская ул.,60,Фрунзенский,59.83,30.39\nНевский пр.,1,Центральный,abc,30.31\n,5,,,\n"
                let report = try await AddressRegister.importCSV(csv, store: ctx.app.store, now: ctx.app.clock.now())
                #expect(report.imported == 1 && report.refused.count == 2)
                #expect(report.refused.contains("line 3: lat: a number from -90 to 90") && report.refused.contains("line 4: street: is required"))
                let match = try #require(try await AddressRegister.lookup("Малая Балканская, 60", db: ctx.app.db))
                #expect(match.lat == 59.83 && match.building)
                // Learning again keeps the imported row.
                try await AddressRegister.learn(store: ctx.app.store, now: ctx.app.clock.now())
                #expect(try await AddressRegister.lookup("дом 60, улица Малая Балканская", db: ctx.app.db)?.lat == 59.83)

                // The form's look-up: a district and a point; only a district for a known street's unknown house.
                let browser = try await Browser.signedIn(ctx, login: "desk", roles: ["reception"], units: ["police"])
                try await browser.send(.GET, "/appeals/new/address?address=" + Browser.encode("Малая Балканская ул, 60"))
                #expect(browser.html.contains("59.83") && browser.html.contains("Фрунзенский"))
                try await browser.send(.GET, "/appeals/new/district?address=" + Browser.encode("Малая Балканская ул, 7"))
                #expect(browser.html == "Фрунзенский")
            }
        }

        @Test func worklistsShowWhatTheAppealIsAboutAndTheOverdueTabCountsOverdueAppeals() async throws {
            try await withOmbud { ctx, clock in
                let appeal = try await ctx.createAppeal(basicAppeal)
                _ = try await ctx.transition(appeal.id, ["to": "registered"])
                _ = try await ctx.transition(appeal.id, ["to": "assigned", "unitCode": "roads"])
                let browser = try await Browser.signedIn(ctx, login: "boss", roles: ["supervisor"])
                try await browser.send(.GET, "/tasks?view=all")
                let topic = try #require(try await TopicRecord.find("0005.0005.0056.1168", on: ctx.app.db))
                #expect(browser.html.contains(topic.name) && browser.html.contains("Петроградский") && browser.html.contains("В подъезде не горит свет"))
                #expect(browser.html.contains("Иванов Иван Петрович"))
                #expect(browser.html.contains("<h1>Задачи · Все доступные</h1>"))
                try await browser.send(.GET, "/tasks")
                #expect(browser.html.contains("<h1>Мои задачи</h1>"))
                // A journalist sees the row without the person.
                let journalist = try await Browser.signedIn(ctx, login: "press", roles: ["journalist"])
                try await journalist.send(.GET, "/tasks?view=all")
                #expect(journalist.html.contains(appeal.trackingCode) && !journalist.html.contains("Иванов"))

                clock.now = clock.now.addingTimeInterval(60 * 86_400)
                var overdue = 0
                try await ctx.get("/api/v1/appeals?overdue=true") { res in overdue = try res.content.decode(AppealPage.self).items.count }
                // Two months later (a new session): the tab counts what the list's overdue filter counts.
                let later = try await Browser.signedIn(ctx, login: "boss2", roles: ["supervisor"])
                #expect(try await later.send(.GET, "/tasks?view=overdue").status == .ok)
                #expect(overdue == 1 && later.html.contains("Всего: 1"), "\(later.html.firstMatch(of: /Всего: \d+/)?.0 ?? "")")
            }
        }

        static func intake(_ browser: Browser, _ fields: [(String, String)], files: [(field: String, name: String, data: Data)] = []) async throws
            -> TestingHTTPResponse {
            if !browser.html.contains(#"name="_once""#) { try await browser.send(.GET, "/appeals/new") }
            let once = try #require(browser.html.firstMatch(of: /name="_once" value="([^"]+)"/)).1
            var pairs = [("_csrf", try #require(browser.csrf)), ("_once", String(once)), ("channel", "phone"), ("kind", "complaint"),
                         ("urgency", "follow-up"), ("register", "on"), ("officeCode", "hq")]
            pairs += fields
            return try await browser.send(.POST, "/appeals/new", pairs: pairs, files: files)
        }

        @Test func theCallersCardIsChosenByPhoneAndASecondCardNeedsAnExplicitChoice() async throws {
            try await withOmbud { ctx, _ in
                let browser = try await Browser.signedIn(ctx, login: "op", roles: ["reception"])
                let topic = ("topics[]", "0005.0005.0056.1168")
                try await browser.send(.GET, "/appeals/new")
                #expect(try await Self.intake(browser, [("surname", "Петров"), ("phone", "+7 921 000-11-22"), ("text", "Нет света"), topic]).status == .seeOther)
                let cards = try await Applicant.query(on: ctx.app.db).count()
                // The same caller again, the phone typed another way: the card is found and chosen already.
                try await browser.send(.GET, "/appeals/new/applicants?phone=" + Browser.encode("89210001122"))
                #expect(browser.html.contains("checked") && browser.html.contains(#"value="new""#))
                // Another name on that phone, no card chosen: refused, naming the card choice, and the files sent are kept.
                try await browser.send(.GET, "/appeals/new")
                let refused = try await Self.intake(browser, [("surname", "Сидорова"), ("phone", "89210001122"), ("text", "Снова нет света"), topic],
                                                    files: [("files[]", "scan.png", PortalTests.png)])
                #expect(refused.status == .unprocessableEntity)
                #expect(browser.html.contains(#"id="applicantId-error""#) && browser.html.contains(#"id="kept-files""#) && browser.html.contains("scan.png"))
                let appeals = try await ctx.appealCount()
                #expect(try await Applicant.query(on: ctx.app.db).count() == cards && appeals == 1)
                // "A new person", said explicitly, makes the second card; the kept file goes with the appeal.
                let second = try await Self.intake(browser, [("surname", "Сидорова"), ("phone", "89210001122"), ("text", "Снова нет света"), topic,
                                                             ("applicantId", "new")])
                #expect(second.status == .seeOther)
                #expect(try await Applicant.query(on: ctx.app.db).count() == cards + 1)
                let appeal = try #require(try await Appeal.query(on: ctx.app.db).sort(\.$receivedAt, .descending).first())
                #expect(try await Attachment.query(on: ctx.app.db).filter(\.$appeal.$id == appeal.id!).count() == 1)
                // The first caller again under their own name, nothing chosen: the card with the phone and name is theirs.
                try await browser.send(.GET, "/appeals/new")
                #expect(try await Self.intake(browser, [("surname", "Петров"), ("phone", "+79210001122"), ("text", "Третий раз"), topic]).status == .seeOther)
                #expect(try await Applicant.query(on: ctx.app.db).count() == cards + 1)
            }
        }

        @Test func aPhoneAppealWithNowhereToAnswerIsSaidAtOnceAndMenusShowWhatTheRoleMayOpen() async throws {
            try await withOmbud { ctx, _ in
                let browser = try await Browser.signedIn(ctx, login: "op", roles: ["reception"])
                try await browser.send(.GET, "/appeals/new")
                #expect(browser.html.contains(#"id="no-reply-warning""#))
                let res = try await Self.intake(browser, [("surname", "Сидоров"), ("phone", "+7 921 333-44-55"), ("text", "Яма во дворе"),
                                                          ("topics[]", "0005.0005.0056.1168")])
                #expect(res.status == .seeOther)
                let location = try #require(res.headers.first(name: .location))
                try await browser.send(.GET, location)
                #expect(browser.html.contains(#"id="warning""#) && browser.html.contains("Ответ некуда отправить"))
                #expect(browser.html.contains(#"href="/appeals/new""#) && !browser.html.contains(#"href="/admin""#))

                let journalist = try await Browser.signedIn(ctx, login: "press", roles: ["journalist"])
                try await journalist.send(.GET, "/tasks")
                #expect(!journalist.html.contains(#"href="/appeals/new""#) && !journalist.html.contains(#"href="/admin""#))
                #expect(!journalist.html.contains(#"href="/dashboard""#) && journalist.html.contains(#"href="/search""#))
                let admin = try await Browser.signedIn(ctx, login: "root", roles: ["administrator"])
                try await admin.send(.GET, "/tasks")
                #expect(admin.html.contains(#"href="/admin""#) && admin.html.contains(#"href="/dashboard""#))
            }
        }

        @Test func aTopicsChecklistIsAskedOnTheStaffFormAndThePortalAndShownOnTheCard() async throws {
            try await withOmbud { ctx, _ in
                _ = try await ctx.open311Setup()  // the "light" service: topic 0003.0009.0097.0690 asks how many lamps are out
                let browser = try await Browser.signedIn(ctx, login: "op", roles: ["reception"])
                try await browser.send(.GET, "/appeals/new/checklist?" + Browser.encode("topics[]") + "=0003.0009.0097.0690")
                #expect(browser.html.contains(#"name="checklist[poles]""#) && browser.html.contains("Сколько фонарей не горит?"))
                try await browser.send(.GET, "/appeals/new")
                let topic = ("topics[]", "0003.0009.0097.0690")
                let missing = try await Self.intake(browser, [("surname", "Фонарёв"), ("email", "f@example.org"), ("text", "Не горят фонари"), topic])
                #expect(missing.status == .unprocessableEntity && browser.html.contains(#"id="checklist-poles-error""#))
                let bad = try await Self.intake(browser, [("surname", "Фонарёв"), ("email", "f@example.org"), ("text", "Не горят фонари"), topic,
                                                          ("checklist[poles]", "много"), ("checklist[when]", "night")])
                #expect(bad.status == .unprocessableEntity && browser.html.contains(#"id="checklist-poles-error""#))
                #expect(try await ctx.appealCount() == 0)
                let good = try await Self.intake(browser, [("surname", "Фонарёв"), ("email", "f@example.org"), ("text", "Не горят фонари"), topic,
                                                           ("checklist[poles]", "3"), ("checklist[when]", "night")])
                #expect(good.status == .seeOther)
                let appeal = try #require(try await Appeal.query(on: ctx.app.db).first())
                #expect(try await ChecklistAnswers.stored(appeal.requireID(), db: ctx.app.db) == ["Сколько фонарей не горит?: 3", "Когда?: Ночью"])
                try await browser.send(.GET, "/appeals/\(appeal.trackingCode)")
                #expect(browser.html.contains("Сколько фонарей не горит?: 3"))

                // The portal asks the same of the service chosen.
                let citizen = Browser(ctx.app)
                try await citizen.send(.GET, "/portal/checklist?service=light")
                #expect(citizen.html.contains(#"name="checklist[poles]""#))
                let (refused, _) = try await PortalTests.submit(citizen, PortalTests.form(["checklist[poles]": nil]), files: [])
                #expect(refused.status == .unprocessableEntity && citizen.html.contains(#"id="checklist-poles-error""#))
                let (taken, _) = try await PortalTests.submit(citizen, PortalTests.form(["checklist[poles]": "2"]), files: [])
                #expect(taken.status == .seeOther)
                let portal = try #require(try await Appeal.query(on: ctx.app.db).filter(\.$channel == "web").first())
                let publication = try #require(try await PublicAppeal.find(portal.id, on: ctx.app.db))
                #expect(publication.attributes?.contains("Сколько фонарей не горит?: 2") == true)

                // A question for callers only: asked on the phone, not on the portal nor of Open311 clients.
                let lighting = try #require(try await TopicRecord.find("0003.0009.0097.0690", on: ctx.app.db))
                var questions = Open311Catalogue.checklist(lighting)
                questions.append(ChecklistQuestion(code: "callback", datatype: .string, required: false, text: "Когда удобно перезвонить?", channels: ["phone"]))
                lighting.checklistJSON = String(decoding: try JSONEncoder().encode(questions), as: UTF8.self)
                try await lighting.save(on: ctx.app.db)
                try await browser.send(.GET, "/appeals/new/checklist?channel=phone&" + Browser.encode("topics[]") + "=0003.0009.0097.0690")
                #expect(browser.html.contains(#"name="checklist[callback]""#))
                try await browser.send(.GET, "/appeals/new/checklist?channel=e-mail&" + Browser.encode("topics[]") + "=0003.0009.0097.0690")
                #expect(!browser.html.contains(#"name="checklist[callback]""#) && browser.html.contains(#"name="checklist[poles]""#))
                try await citizen.send(.GET, "/portal/checklist?service=light")
                #expect(!citizen.html.contains("callback"))
                try await citizen.send(.GET, "/open311/v2/services/light.json")
                #expect(citizen.html.contains("poles") && !citizen.html.contains("callback"))
            }
        }

        @Test func anInformationCallAnsweredOnTheSpotClosesInOneStep() async throws {
            try await withOmbud { ctx, _ in
                let appeal = try await ctx.createAppeal(basicAppeal)
                _ = try await ctx.transition(appeal.id, ["to": "registered"])
                let press = try await Browser.signedIn(ctx, login: "press", roles: ["journalist"])
                let desk = try await Browser.signedIn(ctx, login: "desk", roles: ["reception"])
                try await desk.send(.GET, "/appeals/\(appeal.trackingCode)")
                #expect(desk.html.contains(#"id="on-the-spot""#) && !desk.html.contains(#"data-to="closed""#))
                // A journalist may not; an empty answer is refused; neither changes anything.
                try await press.send(.GET, "/appeals/\(appeal.trackingCode)")
                #expect(!press.html.contains(#"id="on-the-spot""#))
                #expect(try await Self.post(desk, appeal.trackingCode, "on-the-spot", ["answerText": " "]).status == .unprocessableEntity)
                #expect(try await Appeal.find(appeal.id, on: ctx.app.db)?.status == "registered")
                let done = try await Self.post(desk, appeal.trackingCode, "on-the-spot", ["answerText": "Телефон управляющей компании: 123-45-67"])
                #expect(done.status == .seeOther)
                let closed = try #require(try await Appeal.find(appeal.id, on: ctx.app.db))
                #expect(closed.status == "closed" && closed.closedAt != nil)
                let question = try #require(try await Question.query(on: ctx.app.db).filter(\.$appeal.$id == appeal.id).first())
                #expect(question.result == "explained" && question.answerText == "Телефон управляющей компании: 123-45-67")
                // Through the API the same move needs the questions' results first.
                let other = try await ctx.createAppeal(basicAppeal)
                _ = try await ctx.transition(other.id, ["to": "registered"])
                _ = try await ctx.transition(other.id, ["to": "closed"], expect: .conflict)
            }
        }
    }
}
