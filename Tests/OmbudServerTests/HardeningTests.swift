import Fluent
import NIOCore
import Foundation
import OmbudDomain
@testable import OmbudServer
import SQLKit
import Testing
import Vapor
import VaporTesting

/// Faults found by trying Ombud as an attacker and as a careless user would (issue 16); each test failed on the code
/// before the fix.
extension OmbudServerSuite {
    @Suite struct HardeningTests {
        static let person: [String: AnyEncodable] = [
            "surname": "Смирнова", "name": "Ольга", "phone": "+7 921 555-12-34", "email": "olga@example.ru", "postalAddress": "ул. Садовая, 5, кв. 7",
        ]

        func appeal(_ ctx: TestContext, office: String, text: String = "Не горит фонарь во дворе", applicant: [String: AnyEncodable] = person,
                    headers: HTTPHeaders? = nil) async throws -> AppealView {
            let body: [String: AnyEncodable] = [
                "channel": "visit", "text": AnyEncodable(text), "officeCode": AnyEncodable(office), "applicant": AnyEncodable(applicant),
                "questions": AnyEncodable([["topicCode": "0003.0009.0097.0689"]]),
                "address": AnyEncodable(["text": AnyEncodable("ул. Садовая, 5"), "lat": 59.93863, "lon": 30.31413, "district": "Центральный"]),
            ]
            var view: AppealView?
            try await ctx.app.testing().test(.POST, "/api/v1/appeals", headers: headers ?? ctx.auth, beforeRequest: { try $0.content.encode(body, as: .json) }) { res in
                #expect(res.status == .created, "\(res.body.string)")
                view = try? res.content.decode(AppealView.self)
            }
            return try #require(view)
        }

        func status(_ ctx: TestContext, _ method: HTTPMethod, _ path: String, _ headers: HTTPHeaders, body: String? = nil) async throws -> (HTTPStatus, String) {
            var result: (HTTPStatus, String) = (.internalServerError, "")
            try await ctx.send(method, path, headers, body: body) { result = ($0.status, $0.body.string) }
            return result
        }

        /// An error body as data, whatever order its keys come in.
        func error(_ body: String) -> [String: String] {
            (try? JSONDecoder().decode([String: String].self, from: Data(body.utf8))) ?? [:]
        }

        // MARK: 1. One request killed the process

        @Test func aBlankUnitCodeIsAbsentNotACrash() async throws {
            try await withOmbud { ctx, _ in
                let a = try await appeal(ctx, office: "roads")
                _ = try await ctx.transition(a.id, ["to": "registered"])
                for body in [#"{"to":"x","unitCode":" "}"#, #"{"to":"redirected","unitCode":""}"#, #"{"to":"merged","duplicateOf":" "}"#,
                             #"{"to":"left-without-answer","article11Ground":" "}"#] {
                    let (code, text) = try await status(ctx, .POST, "/api/v1/appeals/\(a.id)/transitions", ctx.auth, body: body)
                    #expect(code == .unprocessableEntity || code == .conflict, "\(body): \(code) \(text)")
                }
                // A move that needs the unit names it; the appeal stays where it was.
                let (code, text) = try await status(ctx, .POST, "/api/v1/appeals/\(a.id)/transitions", ctx.auth, body: #"{"to":"redirected","unitCode":" "}"#)
                #expect(code == .unprocessableEntity && error(text)["field"] == "unitCode", "\(text)")
                #expect(try await Appeal.find(a.id, on: ctx.app.db)?.status == "registered")
                // Assigning needs no unit: a blank one is simply none.
                #expect(try await status(ctx, .POST, "/api/v1/appeals/\(a.id)/transitions", ctx.auth, body: #"{"to":"assigned","unitCode":"   "}"#).0 == .ok)
            }
        }

        // MARK: 2. Deadline alerts stalled

        /// More due tasks than one turn takes (200): every one is looked at, none stays due, and a reminder that falls
        /// due behind them still goes out — the worker turns again at once while rows were due.
        @Test func aFloodOfDueTasksIsWorkedThroughAndNoneStaysDue() async throws {
            try await withOmbud(now: Date(timeIntervalSince1970: 1_795_000_000.987_654_321)) { ctx, clock in
                _ = try await ctx.user("orlova", roles: ["reception"], units: ["roads"])
                for i in 0..<450 {
                    _ = try await ctx.createAppeal(["channel": "letter", "text": AnyEncodable("Письмо \(i)"), "officeCode": "roads"])
                }
                try await ctx.send(.PUT, "/api/v1/workflow/timers", ctx.auth,
                                   body: #"{"timers":[{"state":"received","limit":{"amount":1,"unit":"hours"}}]}"#) { #expect($0.status == .ok, "\($0.body.string)") }
                clock.now = clock.now.addingTimeInterval(2 * 3600 + 0.000_000_3)
                let worker = Worker(app: ctx.app, name: "test")
                var turns = 0
                while try await worker.runOnce() > 0 {
                    turns += 1
                    try #require(turns < 20, "the sweep keeps seeing the same rows")
                }
                #expect(turns >= 3)
                let due = try await TaskRecord.query(on: ctx.app.db).filter(\.$status == "open").filter(\.$nextAlertAt <= clock.now).count()
                #expect(due == 0)
                #expect(try await TaskRecord.query(on: ctx.app.db).filter(\.$status == "open").filter(\.$alertsCheckedUntil == nil).count() == 0)
                #expect(try await ctx.notifications("orlova", kind: .stageDue).count == 450)
            }
        }

        /// A task changed while the sweep looked at it keeps its change (the sweep writes only the version it read).
        @Test func theSweepLeavesARowChangedSinceItReadIt() async throws {
            try await withOmbud { ctx, clock in
                let a = try await ctx.createAppeal(["channel": "letter", "text": "Письмо", "officeCode": "roads"])
                let task = try #require(try await ctx.openTasks(a.id).first)
                let version = task.version
                task.nextAlertAt = clock.now
                try await task.saveChange(clock.now, on: ctx.app.db)
                let sql = ctx.app.db as! any SQLDatabase
                // Someone else changes it after the sweep read it at `version + 1`…
                try await sql.update("tasks").set("next_alert_at", to: SQLBind(Date.distantFuture)).set("version", to: SQLRaw("version + 1"))
                    .where("id", .equal, SQLBind(try task.requireID())).run()
                // …so the sweep's write finds another version and changes nothing.
                try await sql.update("tasks").set("alerts_checked_until", to: SQLBind(clock.now)).set("version", to: SQLRaw("version + 1"))
                    .where("id", .equal, SQLBind(try task.requireID())).where("version", .equal, SQLBind(version + 1)).run()
                let stored = try #require(try await TaskRecord.find(task.id, on: ctx.app.db))
                #expect(stored.alertsCheckedUntil == nil && stored.version == version + 2)
            }
        }

        // MARK: 3. The demo ran no worker

        @Test func theAdminPageShowsTheQueuesTrueState() async throws {
            try await withOmbud { ctx, clock in
                try await ctx.app.store.write { db in
                    _ = try await JobQueue.enqueue(kind: ReplyJob.kind, payload: "{}", runAt: clock.now.addingTimeInterval(-600), now: clock.now, db: db)
                }
                let admin = try await Browser.signedIn(ctx, login: "admin2", roles: ["administrator"])
                #expect(try await admin.send(.GET, "/admin/channels").status == .ok)
                #expect(admin.html.contains("Задания ждут дольше срока") && admin.html.contains("В очереди: 1"))
                #expect(!admin.html.contains("Все ответы и уведомления доставлены"))
                #expect(admin.html.contains("Обработчик ещё не брал ни одного задания"))
                _ = try await Worker(app: ctx.app, name: "test").runOnce()
                #expect(try await admin.send(.GET, "/admin/channels").status == .ok)
                #expect(admin.html.contains("Последний раз обработчик взял задание") && !admin.html.contains("Задания ждут дольше срока"))
            }
        }

        // MARK: 4. Applicant cards ignored scope

        @Test func anotherUnitsApplicantIsUnknownToReadersEditorsAndMergers() async throws {
            try await withOmbud { ctx, _ in
                let theirs = try await appeal(ctx, office: "police")
                let applicantID = try #require(theirs.applicant?.id)
                let clerk = try await ctx.user("city-clerk", roles: ["reception"], units: ["city"])
                let mine = try await appeal(ctx, office: "roads", applicant: ["surname": "Кузнецов", "name": "Павел", "phone": "+7 900 111-22-33"], headers: clerk)
                let myApplicant = try #require(mine.applicant?.id)
                let unknown = UUID()
                for path in ["/api/v1/applicants/\(applicantID)", "/api/v1/applicants/\(applicantID)/history"] {
                    let (code, text) = try await status(ctx, .GET, path, clerk)
                    let (unknownCode, unknownText) = try await status(ctx, .GET, path.replacingOccurrences(of: applicantID.uuidString, with: unknown.uuidString), clerk)
                    #expect(code == .notFound && unknownCode == .notFound, "\(path)")
                    #expect(!text.contains("Смирнова") && error(text)["error"] == error(unknownText)["error"])
                }
                let (patched, _) = try await status(ctx, .PATCH, "/api/v1/applicants/\(applicantID)", clerk, body: #"{"surname":"Взломанная"}"#)
                #expect(patched == .notFound)
                // Even a merger with the power to merge: neither into one's own card nor the other way.
                let merger = try await ctx.user("city-head", roles: ["supervisor"], units: ["city"])
                for (keep, absorb) in [(myApplicant, applicantID), (applicantID, myApplicant)] {
                    let (code, _) = try await status(ctx, .POST, "/api/v1/applicants/\(keep)/merge", merger, body: #"{"duplicateId":"\#(absorb)"}"#)
                    #expect(code == .notFound)
                }
                #expect(try await Applicant.find(applicantID, on: ctx.app.db)?.surname == "Смирнова")
                #expect(try await Appeal.find(theirs.id, on: ctx.app.db)?.$applicant.id == applicantID)
                // Search by name or phone shows only one's own people; a duplicate check says a card exists, nothing more.
                let (found, foundText) = try await status(ctx, .GET, "/api/v1/applicants?q=" + "Смирнова".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!, clerk)
                #expect(found == .ok && foundText == "[]")
                let (byPhone, byPhoneText) = try await status(ctx, .GET, "/api/v1/applicants?q=89215551234", clerk)
                #expect(byPhone == .ok && byPhoneText == "[]")
                let (dup, dupText) = try await status(ctx, .GET, "/api/v1/applicants/duplicates?phone=89215551234", clerk)
                #expect(dup == .ok && dupText.contains(applicantID.uuidString) && dupText.contains("\"masked\":true"))
                for secret in ["Смирнова", "Ольга", "555-12-34", "olga@example.ru", "Садовая"] { #expect(!dupText.contains(secret), "\(secret)") }
                // Pages too.
                let browser = try await Browser.signedIn(ctx, login: "city-operator", roles: ["reception"], units: ["city"])
                #expect(try await browser.send(.GET, "/applicants/\(applicantID)").status == .notFound)
                try await browser.send(.GET, "/search?q=" + Browser.encode("Смирнова"))
                #expect(!browser.html.contains(applicantID.uuidString) && !browser.html.contains("olga@example.ru"))
                // One's own card stays open. Another unit's card is linked to a new appeal only by someone who typed its
                // phone or e-mail (the caller is that person), and then it is theirs to see.
                #expect(try await status(ctx, .GET, "/api/v1/applicants/\(myApplicant)", clerk).0 == .ok)
                let guessed = #"{"channel":"visit","text":"Текст","officeCode":"roads","applicant":{"id":"\#(applicantID)"}}"#
                let (refused, refusedText) = try await status(ctx, .POST, "/api/v1/appeals", clerk, body: guessed)
                #expect(refused == .unprocessableEntity && error(refusedText)["field"] == "applicant.id")
                _ = try await appeal(ctx, office: "roads", applicant: ["id": AnyEncodable(applicantID), "phone": "8 (921) 555 12 34"], headers: clerk)
                #expect(try await status(ctx, .GET, "/api/v1/applicants/\(applicantID)", clerk).0 == .ok)
            }
        }

        // MARK: 5. Narrowed tokens escalated

        @Test func aTokenCarriesAtMostItsMakersRights() async throws {
            try await withOmbud { ctx, _ in
                let narrow = try await ctx.user("keeper", roles: ["administrator"], units: ["hq"], tokenPermissions: ["tokens.manage"])
                var minted: TokenView?
                try await ctx.send(.POST, "/api/v1/tokens", narrow, body: #"{"login":"keeper","name":"wider"}"#) { res in
                    #expect(res.status == .created, "\(res.body.string)")
                    minted = try res.content.decode(TokenView.self)
                }
                let token = try #require(minted?.token)
                let (code, _) = try await status(ctx, .GET, "/api/v1/appeals", ["Authorization": "Bearer \(token)"])
                #expect(code == .forbidden)
                let (asked, text) = try await status(ctx, .POST, "/api/v1/tokens", narrow, body: #"{"login":"keeper","name":"x","permissions":["appeals.read"]}"#)
                #expect(asked == .unprocessableEntity && error(text)["field"] == "permissions" && text.contains("appeals.read"))
                // A full administrator's session or token still gives any rights.
                let (full, _) = try await status(ctx, .POST, "/api/v1/tokens", ctx.auth, body: #"{"login":"keeper","name":"all"}"#)
                #expect(full == .created)
            }
        }

        // MARK: 6. Administrators could lock everyone out

        @Test func nobodyCanLeaveTheInstallationWithoutAnAdministrator() async throws {
            try await withOmbud { ctx, _ in
                for (path, body) in [("/api/v1/roles/administrator", #"{"isActive":false}"#), ("/api/v1/roles/administrator", #"{"permissions":["appeals.read"]}"#),
                                     ("/api/v1/users/tester", #"{"isActive":false}"#), ("/api/v1/users/tester", #"{"roles":["reception"]}"#)] {
                    let (code, text) = try await status(ctx, .PATCH, path, ctx.auth, body: body)
                    #expect(code == .conflict && error(text)["error"] == "last-administrator", "\(path) \(body): \(code) \(text)")
                }
                #expect(try await RoleRecord.query(on: ctx.app.db).filter(\.$key == "administrator").first()?.isActive == true)
                // With a second administrator the first may go.
                _ = try await ctx.user("second", roles: ["administrator"], units: ["hq"])
                #expect(try await status(ctx, .PATCH, "/api/v1/users/tester", ctx.auth, body: #"{"roles":["reception"]}"#).0 == .ok)
                // Whatever was done to the database, the console brings an administrator back.
                let broken = try #require(try await RoleRecord.query(on: ctx.app.db).filter(\.$key == "administrator").first())
                broken.isActive = false
                broken.permissions = []
                try await broken.save(on: ctx.app.db)
                let user = try await Administrators.recover(login: "rescue", password: "Надёжный-пароль-2026", store: ctx.app.store, now: Date())
                #expect(user.isActive && user.roles.contains("administrator"))
                let role = try #require(try await RoleRecord.query(on: ctx.app.db).filter(\.$key == "administrator").first())
                #expect(role.isActive && Set(role.permissions) == Set(Permission.catalogue.map(\.rawValue)))
                let browser = Browser(ctx.app)
                #expect(try await browser.signIn("rescue", "Надёжный-пароль-2026").status == .seeOther)
                #expect(try await browser.send(.GET, "/admin").status == .ok)
            }
        }

        // MARK: 7. Personal data leaked past the mask

        @Test func personalDataInTextsHistoryFilesAndSearchIsHiddenFromReadersWithoutIt() async throws {
            try await withOmbud { ctx, _ in
                let a = try await appeal(ctx, office: "hq", text: "Я, Смирнова Ольга, прошу позвонить мне по номеру +7 921 555-12-34 или написать olga@example.ru")
                try await ctx.send(.PATCH, "/api/v1/applicants/\(a.applicant!.id)", ctx.auth, body: #"{"surname":"Смирнова-Петрова"}"#) { #expect($0.status == .ok) }
                let upload = ByteBuffer(string: "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"паспорт Смирновой.pdf\"\r\n\r\n%PDF-1.4\nскан\r\n--b--\r\n")
                var headers = ctx.auth
                headers.replaceOrAdd(name: .contentType, value: "multipart/form-data; boundary=b")
                var file: AttachmentView?
                try await ctx.app.testing().test(.POST, "/api/v1/appeals/\(a.id)/attachments", headers: headers, body: upload) { res in
                    #expect(res.status == .created, "\(res.body.string)")
                    file = try? res.content.decode(AttachmentView.self)
                }
                let fileID = try #require(file?.id)
                let journalist = try await ctx.user("journalist", roles: ["journalist"], units: ["hq"])
                for path in ["/api/v1/appeals/\(a.id)", "/api/v1/appeals/\(a.id)/history", "/api/v1/appeals/\(a.id)/attachments", "/api/v1/appeals?limit=10"] {
                    let (code, body) = try await status(ctx, .GET, path, journalist)
                    #expect(code == .ok, "\(path)")
                    for secret in ["Смирнов", "Ольга", "555-12-34", "olga@example.ru", "Садовая", "паспорт"] { #expect(!body.contains(secret), "\(path): \(secret) in \(body)") }
                }
                let (text, _) = try await status(ctx, .GET, "/api/v1/appeals/\(a.id)", journalist)
                #expect(text == .ok)
                #expect(try await status(ctx, .GET, "/api/v1/appeals/\(a.id)", journalist).1.contains("прошу позвонить мне по номеру [скрыто]"))
                // The file opens like an unknown one; by name the appeal is not found.
                #expect(try await status(ctx, .GET, "/api/v1/attachments/\(fileID)", journalist).0 == .notFound)
                let byName = try await status(ctx, .GET, "/api/v1/appeals?q=" + "Смирнова".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!, journalist)
                #expect(byName.0 == .ok && !byName.1.contains(a.id.uuidString))
                let byWord = try await status(ctx, .GET, "/api/v1/appeals?q=" + "позвонить".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!, journalist)
                #expect(byWord.1.contains(a.id.uuidString))
                // Those who may see personal data see and find all of it.
                #expect(try await status(ctx, .GET, "/api/v1/attachments/\(fileID)", ctx.auth).0 == .ok)
                #expect(try await status(ctx, .GET, "/api/v1/appeals?q=" + "Смирнова".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!, ctx.auth).1.contains(a.id.uuidString))
                #expect(try await status(ctx, .GET, "/api/v1/appeals/\(a.id)", ctx.auth).1.contains("555-12-34"))
                // The card page too.
                let browser = try await Browser.signedIn(ctx, login: "journalist-page", roles: ["journalist"])
                #expect(try await browser.send(.GET, "/appeals/\(a.trackingCode)").status == .ok)
                for secret in ["Смирнов", "555-12-34", "olga@example.ru", "паспорт"] { #expect(!browser.html.contains(secret), "page: \(secret)") }
            }
        }

        // MARK: 8. Existence oracle

        @Test func outsideTheScopeLooksExactlyLikeUnknown() async throws {
            try await withOmbud { ctx, _ in
                let theirs = try await appeal(ctx, office: "police")
                let clerk = try await ctx.user("city-clerk", roles: ["reception", "executor"], units: ["city"])
                let mine = try await appeal(ctx, office: "roads", headers: clerk)
                _ = try await ctx.transition(mine.id, ["to": "registered"])
                func refusal(_ ref: String) async throws -> [String: String] {
                    let (code, text) = try await status(ctx, .POST, "/api/v1/appeals/\(mine.id)/transitions", clerk, body: #"{"to":"merged","duplicateOf":"\#(ref)"}"#)
                    #expect(code == .unprocessableEntity, "\(text)")
                    var body = error(text)
                    body["reason"] = body["reason"]?.replacingOccurrences(of: ref, with: "REF")
                    return body
                }
                #expect(try await refusal(theirs.trackingCode) == refusal("2031-999999"))
                #expect(try await refusal(theirs.id.uuidString) == refusal(UUID().uuidString))
                // Registering into another's office: refused like an unknown office.
                let body = #"{"channel":"visit","text":"Текст","officeCode":"OFFICE"}"#
                let (outside, outsideText) = try await status(ctx, .POST, "/api/v1/appeals", clerk, body: body.replacingOccurrences(of: "OFFICE", with: "police"))
                let (unknown, unknownText) = try await status(ctx, .POST, "/api/v1/appeals", clerk, body: body.replacingOccurrences(of: "OFFICE", with: "nowhere"))
                #expect(outside == .unprocessableEntity && unknown == .unprocessableEntity)
                #expect(error(outsideText)["field"] == "officeCode" && error(outsideText)["error"] == error(unknownText)["error"])
                #expect(try await Appeal.query(on: ctx.app.db).filter(\.$office.$id == OrgUnit.query(on: ctx.app.db).filter(\.$code == "police").first()!.requireID()).count() == 1)
            }
        }

        // MARK: 9. NUL

        @Test func nulIsRefusedEverywhereNamingTheField() async throws {
            try await withOmbud { ctx, _ in
                let a = try await appeal(ctx, office: "roads")
                let key = try await ctx.open311Setup()
                let cases: [(HTTPMethod, String, String?, String, String)] = [
                    (.POST, "/api/v1/appeals", #"{"channel":"visit","text":"a\u0000b"}"#, "application/json", "text"),
                    (.POST, "/api/v1/appeals", #"{"channel":"visit","text":"ok","applicant":{"surname":"x\u0000"}}"#, "application/json", "applicant.surname"),
                    (.PATCH, "/api/v1/applicants/\(a.applicant!.id)", #"{"surname":"\u0000"}"#, "application/json", "surname"),
                    (.GET, "/api/v1/appeals?q=%00", nil, "application/json", "q"),
                    (.GET, "/api/v1/topics/%00", nil, "application/json", "path"),
                    (.POST, "/open311/v2/requests.json", "api_key=\(key)&service_code=light&lat=59.9&long=30.3&attribute%5Bpoles%5D=1&description=a%00b", "application/x-www-form-urlencoded", "description"),
                ]
                for (method, path, body, type, field) in cases {
                    var headers = ctx.auth
                    headers.replaceOrAdd(name: .contentType, value: type)
                    try await ctx.app.testing().test(method, path, headers: headers, body: body.map { ByteBuffer(string: $0) }) { res in
                        #expect(res.status == .unprocessableEntity || (path.hasPrefix("/open311") && res.status == .badRequest), "\(path): \(res.status)")
                        #expect(res.body.string.contains(field), "\(path): \(res.body.string)")
                    }
                }
                // A JSON text that only looks like one (an escaped backslash) is fine.
                try await ctx.send(.PATCH, "/api/v1/applicants/\(a.applicant!.id)", ctx.auth, body: #"{"contactSource":"C:\\u0000dir"}"#) { res in
                    #expect(res.status == .ok, "\(res.body.string)")
                }
                #expect(try await Applicant.find(a.applicant!.id, on: ctx.app.db)?.surname == "Смирнова")
                // A portal form (multipart) names its field too; files may hold any byte.
                let portal = Browser(ctx.app)
                let res = try await portal.send(.POST, "/portal/new", pairs: [("surname", "Пет\u{0}ров"), ("text", "Текст")],
                                                files: [("files[]", "a.png", Data([0x89, 0x50, 0x4E, 0x47, 0, 0, 0]))])
                #expect(res.status == .unprocessableEntity && portal.html.contains("U+0000"), "\(res.status)")
                #expect(try await Appeal.query(on: ctx.app.db).count() == 1)
            }
        }

        // MARK: 11. HTTP hygiene

        @Test func answersCarryTheSecurityHeadersAndUnknownMethodsAre405() async throws {
            try await withOmbud(settings: { $0.publicURL = "https://ombud.example.org" }) { ctx, _ in
                for path in ["/login", "/portal", "/api/v1/appeals", "/nowhere"] {
                    try await ctx.app.testing().test(.GET, path) { res in
                        #expect(res.headers.first(name: "Referrer-Policy") == "same-origin", "\(path)")
                        #expect(res.headers.first(name: "X-Content-Type-Options") == "nosniff", "\(path)")
                        #expect(res.headers.first(name: "Strict-Transport-Security")?.hasPrefix("max-age=") == true, "\(path)")
                    }
                }
                try await ctx.app.testing().test(.TRACE, "/api/v1/appeals") { res in
                    #expect(res.status == .methodNotAllowed && res.headers.first(name: .allow)?.contains("GET") == true)
                }
                try await ctx.app.testing().test(.GET, "/nowhere") { res in #expect(res.status == .notFound) }
            }
            try await withOmbud { ctx, _ in
                try await ctx.app.testing().test(.GET, "/login") { res in #expect(res.headers.first(name: "Strict-Transport-Security") == nil) }
            }
        }

        // MARK: 10. Database outage

        @Test func anUnreachableDatabaseAnswers503AndRecovers() async throws {
            #expect(DatabaseOutage.matches(ConnectionPoolTimeoutError.connectionRequestTimeout))
            // A network peer's failure (Telegram, SMTP) is no database outage.
            #expect(!DatabaseOutage.matches(ChannelError.ioOnClosedChannel))
            #expect(!DatabaseOutage.matches(AppError.missing(field: "x")))
            try await withOmbud { ctx, _ in
                let request = Request(application: ctx.app, on: ctx.app.eventLoopGroup.any())
                let response = APIErrorMiddleware.response(for: ConnectionPoolError.shutdown, request: request)
                #expect(response.status == .serviceUnavailable && response.headers.first(name: .retryAfter) == "5")
                #expect(response.body.string?.contains("unavailable") == true)
            }
        }

        // MARK: 14. Paging with real timestamps

        /// ≥ 1,000 appeals received within one second page through in pieces of 7 with nothing repeated or skipped, and
        /// the audit log's pages (here: their history) likewise.
        @Test func pagingThroughAThousandRowsOfOneSecond() async throws {
            try await withOmbud { ctx, clock in
                var expected: Set<UUID> = []
                for i in 0..<1_000 {
                    clock.now = clock.now.addingTimeInterval(0.000_000_4)
                    expected.insert(try await ctx.createAppeal(["channel": "letter", "text": AnyEncodable("Письмо \(i)"), "officeCode": "roads"]).id)
                }
                var seen: [UUID] = []
                var cursor: String?
                repeat {
                    var page: AppealPage?
                    try await ctx.get("/api/v1/appeals?limit=7" + (cursor.map { "&cursor=\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)" } ?? "")) { res in
                        #expect(res.status == .ok, "\(res.body.string)")
                        page = try res.content.decode(AppealPage.self)
                    }
                    let items = try #require(page).items
                    seen += items.map(\.id)
                    cursor = page?.nextCursor
                    try #require(seen.count <= 1_000, "paging does not end")
                } while cursor != nil
                #expect(seen.count == 1_000 && Set(seen) == expected)

                let total = try await HistoryEntry.query(on: ctx.app.db).count() + AuditRecord.query(on: ctx.app.db).count()
                var records: [String] = []
                var before: String?
                repeat {
                    var page: AuditPage?
                    try await ctx.get("/api/v1/audit?limit=97" + (before.map { "&before=\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)" } ?? "")) { res in
                        #expect(res.status == .ok, "\(res.body.string)")
                        page = try res.content.decode(AuditPage.self)
                    }
                    records += try #require(page).items.map(\.id.uuidString)
                    before = page?.nextBefore
                    try #require(records.count <= total + 10, "paging does not end")
                } while before != nil
                #expect(records.count == Set(records).count)
                #expect(records.count >= total)
            }
        }

        // MARK: 17. Tests that proved too little

        /// Another unit's appeal is unknown through every door, not only its card: files by id, correspondence, tasks,
        /// promises, edits, bulk moves, pages and search.
        @Test func anotherUnitsAppealIsUnknownThroughEveryDoor() async throws {
            try await withOmbud { ctx, _ in
                let theirs = try await appeal(ctx, office: "police", text: "Шумят соседи по ночам")
                let upload = ByteBuffer(string: "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"акт.pdf\"\r\n\r\n%PDF-1.4\nакт\r\n--b--\r\n")
                var file: AttachmentView?
                try await ctx.app.testing().test(.POST, "/api/v1/appeals/\(theirs.id)/attachments",
                                                 headers: ctx.auth.adding(contentType: "multipart/form-data; boundary=b"), body: upload) { res in
                    file = try? res.content.decode(AttachmentView.self)
                }
                let fileID = try #require(file?.id)
                var taskID: UUID?
                try await ctx.send(.POST, "/api/v1/appeals/\(theirs.id)/tasks", ctx.auth, body: #"{"title":"Проверить"}"#) { res in
                    taskID = try? res.content.decode(TaskView.self).id
                }
                var promiseID: UUID?
                try await ctx.send(.POST, "/api/v1/appeals/\(theirs.id)/promises", ctx.auth, body: #"{"text":"Позвонить","dueDate":"2026-12-30"}"#) { res in
                    promiseID = try? res.content.decode(PromiseView.self).id
                }
                let clerk = try await ctx.user("city-clerk", roles: ["reception", "executor"], units: ["city"])
                let question = theirs.questions[0].id
                let doors: [(HTTPMethod, String, String?)] = [
                    (.GET, "/api/v1/attachments/\(fileID)", nil),
                    (.GET, "/api/v1/appeals/\(theirs.id)/correspondence", nil),
                    (.GET, "/api/v1/appeals/\(theirs.id)/tasks", nil),
                    (.POST, "/api/v1/appeals/\(theirs.id)/tasks", #"{"title":"Чужое"}"#),
                    (.GET, "/api/v1/appeals/\(theirs.id)/promises", nil),
                    (.POST, "/api/v1/appeals/\(theirs.id)/promises", #"{"text":"Чужое","dueDate":"2026-12-30"}"#),
                    (.PATCH, "/api/v1/tasks/\(try #require(taskID))", #"{"status":"done"}"#),
                    (.PATCH, "/api/v1/promises/\(try #require(promiseID))", #"{"status":"kept"}"#),
                    (.PATCH, "/api/v1/appeals/\(theirs.id)/questions/\(question)", #"{"answerText":"Чужой ответ"}"#),
                    (.POST, "/api/v1/appeals/\(theirs.id)/questions", #"{"topicCode":"0003.0009.0097.0689"}"#),
                    (.POST, "/api/v1/appeals/\(theirs.id)/extension", #"{"days":10,"reason":"Чужое"}"#),
                ]
                for (method, path, body) in doors {
                    let (code, text) = try await status(ctx, method, path, clerk, body: body)
                    #expect(code == .notFound, "\(method) \(path): \(code) \(text)")
                }
                // A bulk move names it as unknown, like a code that does not exist.
                let (bulk, bulkText) = try await status(ctx, .POST, "/api/v1/appeals/bulk-transitions", clerk,
                                                        body: #"{"appeals":["\#(theirs.trackingCode)"],"to":"registered"}"#)
                #expect(bulk == .ok && bulkText.contains("\"ok\":false") && bulkText.contains("no appeal"), "\(bulkText)")
                #expect(try await Appeal.find(theirs.id, on: ctx.app.db)?.status == theirs.status)
                #expect(try await Question.find(question, on: ctx.app.db)?.answerText == nil)
                // Pages and search.
                let browser = try await Browser.signedIn(ctx, login: "city-page", roles: ["reception", "executor"], units: ["city"])
                #expect(try await browser.send(.GET, "/appeals/\(theirs.trackingCode)").status == .notFound)
                try await browser.send(.GET, "/search?q=" + Browser.encode("шумят соседи"))
                #expect(!browser.html.contains(theirs.trackingCode))
                try await browser.send(.GET, "/tasks?view=all")
                #expect(!browser.html.contains(theirs.trackingCode))
            }
        }

        /// "No process without a task": a change that would leave an open appeal without an open task is refused and
        /// changes nothing, and `ombud check`'s query names the appeals that have none.
        @Test func anOpenAppealKeepsAnOpenTask() async throws {
            try await withOmbud { ctx, _ in
                let a = try await appeal(ctx, office: "roads")
                var manual: UUID?
                try await ctx.send(.POST, "/api/v1/appeals/\(a.id)/tasks", ctx.auth, body: #"{"title":"Позвонить заявителю"}"#) { res in
                    #expect(res.status == .created)
                    manual = try? res.content.decode(TaskView.self).id
                }
                try await TaskRecord.query(on: ctx.app.db).filter(\.$appeal.$id == a.id).filter(\.$key != "manual").delete()
                let (code, text) = try await status(ctx, .PATCH, "/api/v1/tasks/\(try #require(manual))", ctx.auth, body: #"{"status":"done"}"#)
                #expect(code == .conflict && error(text)["error"] == "no-open-task", "\(text)")
                #expect(try await TaskRecord.find(manual, on: ctx.app.db)?.status == "open")
                #expect(try await TaskStore.appealsWithoutOpenTask(db: ctx.app.db).isEmpty)
                try await TaskRecord.query(on: ctx.app.db).filter(\.$appeal.$id == a.id).delete()
                #expect(try await TaskStore.appealsWithoutOpenTask(db: ctx.app.db) == [a.trackingCode])
            }
        }

        /// A commit is on disk before Ombud answers: SQLite runs with synchronous=FULL on every connection it writes through.
        @Test func sqliteCommitsAreDurable() async throws {
            try await withOmbud { ctx, _ in
                guard let writer = ctx.app.ombud.writer else { return }  // PostgreSQL: its own fsync settings
                let sql = ctx.app.db as! any SQLDatabase
                let pooled = try await sql.raw("PRAGMA synchronous").first()?.decode(column: "synchronous", as: Int.self)
                #expect(pooled == 2)
                let journal = try await sql.raw("PRAGMA journal_mode").first()?.decode(column: "journal_mode", as: String.self)
                #expect(journal == "wal")
                let dedicated = try await writer.transaction { try $0.query("PRAGMA synchronous") }
                #expect(dedicated.first?.first == .integer(2))
            }
        }

        // MARK: 15. A second answer was swallowed

        @Test func twoApprovalsWithinOneSecondSendTwoAnswers() async throws {
            try await withOmbud { ctx, _ in
                let a = try await appeal(ctx, office: "roads")
                try await ctx.app.store.write { db in
                    try await ReplyJob.enqueue(appealID: a.id, now: Date(timeIntervalSince1970: 1_795_000_000.1), db: db)
                    try await ReplyJob.enqueue(appealID: a.id, now: Date(timeIntervalSince1970: 1_795_000_000.2), db: db)
                }
                #expect(try await JobRecord.query(on: ctx.app.db).filter(\.$kind == ReplyJob.kind).count() == 2)
            }
        }
    }
}
