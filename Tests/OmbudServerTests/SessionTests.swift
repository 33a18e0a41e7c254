import Fluent
import Foundation
import OmbudDomain
import Testing
import Vapor
import VaporTesting
@testable import OmbudServer

extension OmbudServerSuite {
    @Suite struct SessionTests {
        func addUser(_ ctx: TestContext, _ login: String, role: String = "reception", units: [String] = ["city"]) async throws {
            _ = try await Accounts.addUser(login: login, password: "секрет-пароль", roles: [role], fullName: "Иванова Мария",
                                           unitCodes: units, store: ctx.app.store, now: Date())
        }

        func audit(_ ctx: TestContext, _ action: String) async throws -> [AuditRecord] {
            try await AuditRecord.query(on: ctx.app.db).filter(\.$action == action).sort(\.$at).all()
        }

        @Test func signInSetsAProtectedSessionCookieAndSignOutEndsIt() async throws {
            try await withOmbud { ctx, _ in
                // setup
                try await addUser(ctx, "ivanova")
                let browser = Browser(ctx.app)
                // act
                let login = try await browser.signIn("ivanova", "секрет-пароль")
                // check
                #expect(login.status == .seeOther)
                #expect(login.headers.first(name: .location) == "/")
                let cookie = try #require(login.headers[.setCookie].first { $0.hasPrefix("ombud_session=") })
                #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && !cookie.contains("Secure"))
                let home = try await browser.send(.GET, "/")
                #expect(home.status == .ok && browser.html.contains("Иванова Мария") && browser.html.contains("Специалист приёмной"))
                let me = try await browser.send(.GET, "/api/v1/me")
                #expect(me.status == .ok && me.body.string.contains(#""login":"ivanova""#))
                #expect(try await audit(ctx, "login").count == 1)
                let user = try #require(try await User.query(on: ctx.app.db).filter(\.$login == "ivanova").first())
                #expect(user.lastSeenAt != nil)

                // Sign out with the form's token; the old cookie is then worthless.
                let sessionCookie = try #require(browser.cookies["ombud_session"])
                try await browser.send(.GET, "/")
                #expect(try await browser.send(.POST, "/logout", form: ["_csrf": browser.csrf ?? ""]).status == .seeOther)
                #expect(browser.cookies["ombud_session"] == nil)
                browser.cookies["ombud_session"] = sessionCookie
                let after = try await browser.send(.GET, "/api/v1/me")
                #expect(after.status == .unauthorized && after.body.string.contains("session-expired"))
                let page = try await browser.send(.GET, "/")
                #expect(page.status == .seeOther && page.headers.first(name: .location) == "/login?expired=1")
                #expect(try await audit(ctx, "logout").count == 1)
            }
        }

        @Test func behindHTTPSTheCookieIsSecureAndNextStaysOnSite() async throws {
            try await withOmbud { ctx, _ in
                try await addUser(ctx, "ivanova")
                let browser = Browser(ctx.app)
                browser.headers.replaceOrAdd(name: "X-Forwarded-Proto", value: "https")
                try await browser.send(.GET, "/login")
                let res = try await browser.send(.POST, "/login", form: ["_csrf": browser.csrf ?? "", "login": "ivanova",
                                                                         "password": "секрет-пароль", "next": "//evil.example/x"])
                #expect(res.headers.first(name: .location) == "/")
                #expect(res.headers[.setCookie].contains { $0.hasPrefix("ombud_session=") && $0.contains("Secure") })
                // A page asked for before signing in is where the login returns to.
                let other = Browser(ctx.app)
                let redirect = try await other.send(.GET, "/account/password")
                #expect(redirect.headers.first(name: .location) == "/login?next=%2Faccount%2Fpassword")
                try await other.send(.GET, "/login?next=%2Faccount%2Fpassword")
                let back = try await other.send(.POST, "/login", form: ["_csrf": other.csrf ?? "", "login": "ivanova",
                                                                        "password": "секрет-пароль", "next": "/account/password"])
                #expect(back.headers.first(name: .location) == "/account/password")
            }
        }

        @Test func wrongPasswordAndUnknownLoginGetTheSameAnswer() async throws {
            try await withOmbud { ctx, _ in
                try await addUser(ctx, "ivanova")
                let browser = Browser(ctx.app)
                let wrong = try await browser.signIn("ivanova", "не-тот-пароль")
                let wrongText = browser.html
                let unknown = try await browser.signIn("nobody", "не-тот-пароль")
                #expect(wrong.status == .unauthorized && unknown.status == .unauthorized)
                #expect(wrongText.contains("Неверный логин или пароль."))
                func strip(_ html: String) -> String {
                    html.replacingOccurrences(of: #"value="[^"]*""#, with: "", options: .regularExpression)
                }
                #expect(strip(wrongText) == strip(browser.html))
                #expect(browser.cookies["ombud_session"] == nil)
                // The audit log knows the difference.
                let failed = try await audit(ctx, "login.failed")
                #expect(failed.map(\.details) == ["wrong password", "no such login"])
                #expect(failed.map(\.actor) == ["ivanova", "nobody"])
            }
        }

        @Test func fiveFailuresLockTheAccountForFifteenMinutes() async throws {
            try await withOmbud { ctx, clock in
                try await addUser(ctx, "ivanova")
                let browser = Browser(ctx.app)
                for _ in 0..<5 { #expect(try await browser.signIn("ivanova", "guess").status == .unauthorized) }
                // Even the right password is refused while the lock holds.
                let locked = try await browser.signIn("ivanova", "секрет-пароль")
                #expect(locked.status == .tooManyRequests)
                #expect(locked.headers.first(name: .retryAfter) == "900")
                #expect(browser.html.contains("15 мин"))
                #expect(browser.cookies["ombud_session"] == nil)
                #expect(try await audit(ctx, "login.locked").count == 1)
                clock.now = clock.now.addingTimeInterval(15 * 60)
                #expect(try await browser.signIn("ivanova", "секрет-пароль").status == .seeOther)
            }
        }

        @Test func twentyFailuresFromOneAddressLockThatAddress() async throws {
            try await withOmbud(settings: { $0.trustForwardedFor = true }) { ctx, _ in
                try await addUser(ctx, "ivanova")
                let browser = Browser(ctx.app)
                browser.headers.replaceOrAdd(name: .xForwardedFor, value: "10.0.0.1, 203.0.113.5")
                for i in 0..<20 { _ = try await browser.signIn("user\(i)", "guess") }
                #expect(try await browser.signIn("ivanova", "секрет-пароль").status == .tooManyRequests)
                #expect(try await audit(ctx, "login.failed").last?.address == "203.0.113.5")
                // Another address is not locked.
                browser.headers.replaceOrAdd(name: .xForwardedFor, value: "203.0.113.6")
                #expect(try await browser.signIn("ivanova", "секрет-пароль").status == .seeOther)
            }
        }

        @Test func sessionsExpireWhenIdle() async throws {
            try await withOmbud { ctx, clock in
                try await addUser(ctx, "ivanova")
                let browser = Browser(ctx.app)
                try await browser.signIn("ivanova", "секрет-пароль")
                clock.now = clock.now.addingTimeInterval(ctx.settings.sessionPolicy.idle - 60)
                #expect(try await browser.send(.GET, "/").status == .ok)
                clock.now = clock.now.addingTimeInterval(ctx.settings.sessionPolicy.idle)
                let res = try await browser.send(.GET, "/")
                #expect(res.status == .seeOther && res.headers.first(name: .location) == "/login?expired=1")
                try await browser.send(.GET, "/login?expired=1")
                #expect(browser.html.contains("Сеанс завершён"))
                let session = try #require(try await BrowserSession.query(on: ctx.app.db).first())
                #expect(session.endReason == "expired")
            }
        }

        @Test func stateChangingRequestsWithACookieNeedTheCSRFToken() async throws {
            try await withOmbud { ctx, _ in
                try await addUser(ctx, "ivanova")
                let browser = Browser(ctx.app)
                try await browser.signIn("ivanova", "секрет-пароль")
                try await browser.send(.GET, "/")
                let token = try #require(browser.csrf)
                let appeal = #"{"channel":"visit","text":"Яма на дороге","officeCode":"city","applicant":{"surname":"Петров","name":"Пётр"},"questions":[{"topicCode":"0003.0009.0097.0689","text":"Яма"}]}"#
                // An API call from another site carries the cookie but cannot know the token: refused, nothing stored.
                let forged = try await browser.send(.POST, "/api/v1/appeals", json: appeal)
                #expect(forged.status == .forbidden && forged.body.string.contains(#""error":"csrf""#))
                let wrong = try await browser.send(.POST, "/api/v1/appeals", json: appeal, extraHeaders: ["X-CSRF-Token": token + "x"])
                #expect(wrong.status == .forbidden)
                #expect(try await ctx.appealCount() == 0)
                let ok = try await browser.send(.POST, "/api/v1/appeals", json: appeal, extraHeaders: ["X-CSRF-Token": token])
                #expect(ok.status == .created)
                // A form without the token: an error page, and the session is still there.
                let logout = try await browser.send(.POST, "/logout", form: [:])
                #expect(logout.status == .forbidden && browser.html.contains("Форма устарела"))
                #expect(try await browser.send(.GET, "/api/v1/me").status == .ok)
                // The login form itself needs its own token: without it nothing is tried (no failure counted).
                let other = Browser(ctx.app)
                let res = try await other.send(.POST, "/login", form: ["login": "ivanova", "password": "секрет-пароль"])
                #expect(res.status == .forbidden && other.cookies["ombud_session"] == nil)
                #expect(try await audit(ctx, "login.failed").isEmpty)
                // Bearer tokens are not cookies: no CSRF token needed.
                try await ctx.post("/api/v1/appeals", ["channel": "phone", "text": "Шум"] as [String: String]) { res in
                    #expect(res.status != .forbidden)
                }
            }
        }

        @Test func passwordChangeChecksTheOldOneAndEndsOtherSessions() async throws {
            try await withOmbud { ctx, _ in
                try await addUser(ctx, "ivanova")
                let desk = Browser(ctx.app), phone = Browser(ctx.app)
                try await desk.signIn("ivanova", "секрет-пароль")
                try await phone.signIn("ivanova", "секрет-пароль")
                try await desk.send(.GET, "/account/password")
                let token = try #require(desk.csrf)
                func change(_ current: String, _ new: String, _ confirm: String) async throws -> TestingHTTPResponse {
                    try await desk.send(.POST, "/account/password", form: ["_csrf": token, "current": current, "new": new, "confirm": confirm])
                }
                #expect(try await change("wrong", "новый-пароль-1", "новый-пароль-1").status == .unprocessableEntity)
                #expect(desk.html.contains("Текущий пароль указан неверно"))
                #expect(try await change("секрет-пароль", "short", "short").status == .unprocessableEntity)
                #expect(desk.html.contains("короче 8"))
                #expect(try await change("секрет-пароль", "новый-пароль-1", "новый-пароль-2").status == .unprocessableEntity)
                #expect(desk.html.contains("не совпадают"))
                #expect(try await change("секрет-пароль", "новый-пароль-1", "новый-пароль-1").status == .ok)
                #expect(desk.html.contains("Пароль изменён"))
                // This session goes on; the phone's has ended.
                #expect(try await desk.send(.GET, "/api/v1/me").status == .ok)
                #expect(try await phone.send(.GET, "/api/v1/me").status == .unauthorized)
                #expect(try await Browser(ctx.app).signIn("ivanova", "секрет-пароль").status == .unauthorized)
                #expect(try await Browser(ctx.app).signIn("ivanova", "новый-пароль-1").status == .seeOther)
                #expect(try await audit(ctx, "password.change").count == 1)
                #expect(try await audit(ctx, "password.change-failed").count == 1)
            }
        }

        @Test func deactivationEndsSessionsAndRefusesLogin() async throws {
            try await withOmbud { ctx, _ in
                try await addUser(ctx, "ivanova")
                let browser = Browser(ctx.app)
                try await browser.signIn("ivanova", "секрет-пароль")
                try await ctx.raw(.PATCH, "/api/v1/users/ivanova", body: #"{"isActive":false}"#) { #expect($0.status == .ok) }
                #expect(try await browser.send(.GET, "/api/v1/me").status == .unauthorized)
                let again = try await Browser(ctx.app).signIn("ivanova", "секрет-пароль")
                #expect(again.status == .unauthorized)
                #expect(try await audit(ctx, "login.failed").last?.details == "account deactivated")
                // An administrator's reset works for a reactivated account and ends nothing else.
                try await ctx.raw(.PATCH, "/api/v1/users/ivanova", body: #"{"isActive":true,"password":"сброшенный-1"}"#) { #expect($0.status == .ok) }
                #expect(try await Browser(ctx.app).signIn("ivanova", "сброшенный-1").status == .seeOther)
                #expect(try await audit(ctx, "password.reset").count == 1)
            }
        }

        @Test func pagesSpeakRussianEnglishAndPersian() async throws {
            try await withOmbud { ctx, _ in
                let browser = Browser(ctx.app)
                try await browser.send(.GET, "/login")
                #expect(browser.html.contains(#"<html lang="ru" dir="ltr">"#) && browser.html.contains("Вход в Омбуд"))
                try await browser.send(.GET, "/login?lang=fa")
                #expect(browser.html.contains(#"<html lang="fa" dir="rtl">"#) && browser.html.contains("ورود به اومبود"))
                #expect(browser.cookies["ombud_lang"] == "fa")
                try await browser.send(.GET, "/login")
                #expect(browser.html.contains(#"dir="rtl""#))
                let english = Browser(ctx.app)
                try await english.send(.GET, "/login", extraHeaders: ["Accept-Language": "en-GB,en;q=0.9,ru;q=0.5"])
                #expect(english.html.contains("Sign in to Ombud"))
            }
        }

        /// Every text the code names — `req.text`/`catalogued` keys, history notes and actions, every state, move,
        /// channel and result — is in the catalogue of every language: no user reads a key or an English sentence.
        @Test func everyKeyTheCodeNamesIsInEveryLanguage() async throws {
            let pages = try await Pages.load()
            let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("Sources/OmbudServer")
            var needed: Set<String> = []
            let enumerator = try #require(FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil))
            let patterns: [(String, String?)] = [(#"(?:\.text|catalogued)\("([A-Za-z]+)", "([A-Za-z0-9:-]+)""#, nil),
                                                 (#"HistoryText\(key: "([A-Za-z]+)""#, "historyNotes"),
                                                 (#"HistoryText\(key: [^"]*"([A-Za-z]+)" : "([A-Za-z]+)""#, "historyNotes"),
                                                 (#"record\(entity: "[a-z]+", id: [^)]*?action: "([a-z-]+)""#, "history"),
                                                 (#"HistoryNote\(action: "([a-z-]+)""#, "history")]
            for case let file as URL in enumerator where file.pathExtension == "swift" {
                let text = try String(contentsOf: file, encoding: .utf8)
                for (pattern, section) in patterns {
                    let regex = try NSRegularExpression(pattern: pattern)
                    for match in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                        let groups = (1..<match.numberOfRanges).compactMap { Range(match.range(at: $0), in: text).map { String(text[$0]) } }
                        // A key built from a prefix ("status-" + a value) is checked through its values below.
                        if let section { groups.forEach { needed.insert("\(section).\($0)") } }
                        else if groups.count == 2, !groups[1].hasSuffix("-") { needed.insert(groups.joined(separator: ".")) }
                    }
                }
            }
            #expect(needed.count > 100 && needed.contains("historyNotes.callBackSatisfied") && needed.contains("history.note"))
            let workflow = AppealTransitions.workflow
            for state in workflow.states.map(\.key) { needed.formUnion(["states.\(state)", "portalStates.\(state)"]) }
            for move in workflow.transitions { needed.insert("actions.\(move.to)") }
            for channel in AppealChannel.allCases { needed.insert("channels.\(channel.rawValue)") }
            for result in QuestionResult.allCases { needed.insert("results.\(result.rawValue)") }
            for status in QuestionStatus.allCases { needed.insert("questionStatus.\(status.rawValue)") }
            for list in Worklist.allCases { needed.insert("worklist.\(list.rawValue)") }
            for language in UILanguage.allCases {
                let catalogue = try #require(pages.catalogues[language])
                for key in needed.sorted() {
                    let parts = key.split(separator: ".", maxSplits: 1).map(String.init)
                    #expect(catalogue[parts[0]]?[parts[1]] != nil, "\(language): \(key)")
                }
            }
        }

        @Test func catalogueCoversEveryTemplateKeyInEveryLanguage() async throws {
            let resources = try #require(Pages.resourcesURL)
            let pages = try await Pages.load()
            let ru = try #require(pages.catalogues[.ru])
            for language in UILanguage.allCases {
                let catalogue = try #require(pages.catalogues[language])
                #expect(Set(catalogue.keys) == Set(ru.keys), "\(language)")
                for (section, texts) in ru { #expect(Set(catalogue[section]?.keys ?? [:].keys) == Set(texts.keys), "\(language).\(section)") }
            }
            let templates = try FileManager.default.contentsOfDirectory(atPath: resources.appendingPathComponent("Templates").path)
            #expect(templates.count >= 5)
            for name in templates {
                let text = try String(contentsOf: resources.appendingPathComponent("Templates/\(name)"), encoding: .utf8)
                let regex = try NSRegularExpression(pattern: #"\{\{[#^/]?t\.([A-Za-z]+)\.([A-Za-z]+)\}\}"#)
                for match in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                    let section = String(text[Range(match.range(at: 1), in: text)!]), key = String(text[Range(match.range(at: 2), in: text)!])
                    #expect(ru[section]?[key] != nil, "\(name): t.\(section).\(key)")
                }
            }
        }
    }
}
