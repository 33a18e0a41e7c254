import Fluent
import Foundation
import OmbudDomain
import Testing
import Vapor
import VaporTesting
@testable import OmbudServer

extension OmbudServerSuite {
    /// The staff pages without JavaScript: the intake form (errors next to their fields with the input kept; one appeal
    /// per form however often it is sent), the worklist, the appeal card and its actions, in Russian and Persian.
    @Suite struct StaffPagesTests {
        func signedIn(_ ctx: TestContext, login: String = "operator", roles: [String] = ["reception", "executor", "approver", "responder"],
                      units: [String] = ["city"]) async throws -> Browser {
            try await Browser.signedIn(ctx, login: login, roles: roles, units: units, fullName: "Оператор")
        }

        func intake(_ browser: Browser, _ fields: [String: String]) async throws -> TestingHTTPResponse {
            try await browser.send(.GET, "/appeals/new")
            let once = try #require(browser.html.firstMatch(of: /name="_once" value="([^"]+)"/)).1
            var form = ["_csrf": try #require(browser.csrf), "_once": String(once), "channel": "phone", "kind": "complaint",
                        "urgency": "follow-up", "register": "on", "officeCode": "city"]
            form.merge(fields) { $1 }
            return try await browser.send(.POST, "/appeals/new", form: form)
        }

        @Test func badInputComesBackWithTheFieldsErrorAndTheInputKept() async throws {
            try await withOmbud { ctx, _ in
                let browser = try await signedIn(ctx)
                let res = try await intake(browser, ["surname": "Петрова", "phone": "not a phone", "text": ""])
                #expect(res.status == .unprocessableEntity)
                #expect(browser.html.contains(#"value="Петрова""#))
                #expect(browser.html.contains(#"id="text-error""#) || browser.html.contains(#"id="phone-error""#))
                #expect(browser.html.contains(#"aria-invalid="true""#))
                // The error is said in the user's language.
                #expect(browser.html.contains("Опишите суть обращения") || browser.html.contains("Это не похоже на номер телефона"))
                #expect(try await ctx.appealCount() == 0)
                let topic = try await intake(browser, ["text": "Нет света", "topics[]": "9999"])
                #expect(topic.status == .unprocessableEntity && browser.html.contains(#"id="topicCode-error""#))
                #expect(try await ctx.appealCount() == 0)
            }
        }

        @Test func oneFormRegistersOneAppealHoweverOftenItIsSent() async throws {
            try await withOmbud { ctx, _ in
                let browser = try await signedIn(ctx)
                try await browser.send(.GET, "/appeals/new")
                let once = String(try #require(browser.html.firstMatch(of: /name="_once" value="([^"]+)"/)).1)
                let form = ["_csrf": try #require(browser.csrf), "_once": once, "channel": "phone", "text": "Яма у дома 5", "register": "on",
                            "officeCode": "city", "surname": "Иванов", "phone": "+7 921 555-00-11"]
                let first = try await browser.send(.POST, "/appeals/new", form: form)
                let second = try await browser.send(.POST, "/appeals/new", form: form)
                #expect(first.status == .seeOther && second.status == .seeOther)
                let code = try #require(first.headers.first(name: .location)?.split(separator: "?").first).replacingOccurrences(of: "/appeals/", with: "")
                #expect(second.headers.first(name: .location) == "/appeals/\(code)")
                #expect(try await ctx.appealCount() == 1)
            }
        }

        @Test func anAppealGoesFromIntakeToFeedbackThroughThePages() async throws {
            try await withOmbud { ctx, _ in
                let browser = try await signedIn(ctx)
                let created = try await intake(browser, ["surname": "Иванов", "name": "Пётр", "phone": "+7 921 555-00-11", "text": "Яма у дома 5",
                                                         "topics[]": "0003.0009.0097.0689"])
                #expect(created.status == .seeOther)
                let location = try #require(created.headers.first(name: .location))
                let code = String(location.dropFirst("/appeals/".count).prefix(11))
                try await browser.send(.GET, location)
                #expect(browser.html.contains(code) && browser.html.contains("Зарегистрировано"))
                #expect(browser.html.contains(#"data-to="assigned""#) && browser.html.contains("Иванов Пётр"))
                // The worklist of the unit shows its task.
                try await browser.send(.GET, "/tasks?view=unit")
                #expect(browser.html.contains(code) && browser.html.contains("Направить на рассмотрение"))

                func act(_ to: String, _ extra: [String: String] = [:]) async throws -> TestingHTTPResponse {
                    try await browser.send(.GET, "/appeals/\(code)")
                    return try await browser.send(.POST, "/appeals/\(code)/transition",
                                                  form: ["_csrf": try #require(browser.csrf), "to": to].merging(extra) { $1 })
                }
                // Assignment needs a unit: without one the card comes back with the error.
                let missing = try await act("assigned", ["unitCode": "nowhere"])
                #expect(missing.status == .unprocessableEntity && browser.html.contains(#"id="error""#))
                for (to, extra) in [("assigned", ["unitCode": "roads"]), ("in-progress", [:]), ("answer-drafted", [:]), ("on-approval", [:])] {
                    #expect(try await act(to, extra).status == .seeOther, "\(to)")
                }
                // Approval needs every question answered.
                #expect(try await act("answered").status == .conflict)
                let question = try #require(try await Question.query(on: ctx.app.db).first())
                try await browser.send(.GET, "/appeals/\(code)")
                #expect(try await browser.send(.POST, "/appeals/\(code)/questions/\(question.id!)",
                                               form: ["_csrf": try #require(browser.csrf), "result": "explained", "answerText": "Яму заделают до 1 июня"]).status == .seeOther)
                #expect(try await act("answered").status == .seeOther)
                #expect(try await act("feedback").status == .seeOther)
                try await browser.send(.GET, "/appeals/\(code)")
                #expect(browser.html.contains(#"data-state="feedback""#))
                #expect(browser.html.contains("Яму заделают до 1 июня"))
                let timeline = browser.html.components(separatedBy: #"<ol class="timeline">"#)[1]
                for state in ["Зарегистрировано", "Назначено", "В работе", "Подготовлен ответ", "На согласовании", "Дан ответ", "Обратная связь"] {
                    #expect(timeline.contains(state), "\(state) in the history")
                }
            }
        }

        @Test func persianPagesAreRightToLeftWithSolarHijriDates() async throws {
            try await withOmbud(now: CivilDate(iso: "2026-01-28")!.start(in: TimeZone(identifier: "Europe/Moscow")!).addingTimeInterval(36_000)) { ctx, _ in
                let browser = try await signedIn(ctx)
                let created = try await intake(browser, ["text": "چراغ خیابان خاموش است", "surname": "رضایی", "phone": "۰۹۱۲۱۲۳۴۵۶۷"])
                #expect(created.status == .seeOther, "\(browser.html.firstMatch(of: /class="field-error"[^>]*>([^<]+)/)?.1 ?? "")")
                let location = try #require(created.headers.first(name: .location))
                try await browser.send(.GET, location + "&lang=fa")
                #expect(browser.html.contains(#"<html lang="fa" dir="rtl">"#))
                #expect(browser.html.contains("۱۴۰۴/۱۱/۰۸"))  // 28 January 2026 = 8 Bahman 1404
                #expect(browser.html.contains("ثبت‌شده"))
                let appeal = try #require(try await Appeal.query(on: ctx.app.db).first())
                let applicant = try #require(try await Applicant.find(appeal.$applicant.id, on: ctx.app.db))
                #expect(applicant.phones == ["09121234567"])  // Persian digits typed are stored as Latin ones
            }
        }

        @Test func theLanguageChosenIsTheUsersInEveryBrowser() async throws {
            try await withOmbud { ctx, _ in
                let first = try await signedIn(ctx)
                try await first.send(.GET, "/tasks?lang=fa")
                #expect(first.html.contains(#"dir="rtl""#))
                let second = Browser(ctx.app)
                #expect(try await second.signIn("operator", "password-operator").status == .seeOther)
                try await second.send(.GET, "/tasks")
                #expect(second.html.contains(#"<html lang="fa" dir="rtl">"#))
                #expect(try await User.query(on: ctx.app.db).filter(\.$login == "operator").first()?.language == "fa")
            }
        }

        @Test func everyStaffPageRendersForEveryRoleOrRefusesCleanly() async throws {
            try await withOmbud { ctx, _ in
                let operatorBrowser = try await signedIn(ctx)
                _ = try await intake(operatorBrowser, ["text": "Текст", "topics[]": "0003.0009.0097.0689", "surname": "Иванов", "name": "Иван"])
                let first = try #require(try await Appeal.query(on: ctx.app.db).first())
                let code = first.trackingCode
                let applicantID = try #require(first.$applicant.id)
                for role in RoleDefinition.shipped {
                    let browser = try await signedIn(ctx, login: "r-\(role.key)", roles: [role.key])
                    let worklists = Worklist.allCases.map { ("/tasks?view=\($0.rawValue)", Permission.appealsRead) }
                    for (path, permission) in worklists + [("/tasks", Permission.appealsRead), ("/appeals/new", .appealsCreate), ("/appeals/\(code)", .appealsRead),
                                               ("/search?q=" + Browser.encode("Текст"), .appealsRead), ("/applicants/\(applicantID)", .applicantsRead),
                                               ("/appeals/\(code)/slip", .appealsRead), ("/admin", .appealsRead), ("/admin/units", .orgUnitsManage),
                                               ("/admin/units/city", .orgUnitsManage), ("/admin/users", .usersManage), ("/admin/topics", .topicsManage),
                                               ("/admin/calendars", .calendarsManage), ("/admin/workflow", .appealsRead), ("/admin/open311", .topicsManage),
                                               ("/admin/channels", .jobsManage), ("/appeals/new/topics?q=" + Browser.encode("благоустройство"), .appealsCreate)] {
                        let res = try await browser.send(.GET, path)
                        let allowed = role.permissions.contains(permission)
                        #expect(res.status == (allowed ? .ok : .forbidden), "\(role.key) \(path)")
                        if allowed {
                            #expect(path.contains("/new/") || (browser.html.hasPrefix("<!doctype html>") && browser.html.contains("<main") && browser.html.contains("</html>")))
                            #expect(!browser.html.contains("{{") && !browser.html.contains("nil"), "\(role.key) \(path)")
                        }
                    }
                }
                let unknown = try await operatorBrowser.send(.GET, "/appeals/2020-999999")
                #expect(unknown.status == .notFound)
            }
        }
    }
}
