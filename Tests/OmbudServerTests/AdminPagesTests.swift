import Fluent
import Foundation
import OmbudDomain
import Testing
import Vapor
import VaporTesting
@testable import OmbudServer

extension OmbudServerSuite {
    /// The administration pages change things through the API's own functions: units and officials, users and roles,
    /// local topics and the classifier file, calendar years; the workflow is drawn. Refusals come back on the page.
    @Suite struct AdminPagesTests {
        func admin(_ ctx: TestContext) async throws -> Browser {
            try await Browser.signedIn(ctx, login: "boss", roles: ["administrator"])
        }

        @discardableResult
        func post(_ browser: Browser, _ path: String, _ fields: [(String, String)],
                  files: [(field: String, name: String, data: Data)] = []) async throws -> TestingHTTPResponse {
            try await browser.send(.POST, path, pairs: [("_csrf", try #require(browser.csrf))] + fields, files: files)
        }

        @Test func unitsAndOfficials() async throws {
            try await withOmbud { ctx, _ in
                let browser = try await admin(ctx)
                try await browser.send(.GET, "/admin/units")
                #expect(browser.html.contains(#"href="/admin/units/roads""#))
                let made = try await post(browser, "/admin/units", [("code", "parks"), ("name", "Отдел парков"), ("kind", "department"), ("parentCode", "city")])
                #expect(made.status == .seeOther && made.headers.first(name: .location) == "/admin/units/parks")
                try await browser.send(.GET, "/admin/units")
                let again = try await post(browser, "/admin/units", [("code", "parks"), ("name", "Ещё раз"), ("kind", "department"), ("parentCode", "")])
                #expect(again.status == .conflict && browser.html.contains(#"id="error""#) && browser.html.contains(#"value="Ещё раз""#))
                try await browser.send(.GET, "/admin/units/parks")
                #expect(try await post(browser, "/admin/units/parks/officials", [("fullName", "Зелёная Ольга"), ("position", "Начальник"),
                                                                                  ("isHead", "true"), ("phone", "+7 812 000-00-00")]).status == .seeOther)
                try await browser.send(.GET, "/admin/units/parks")
                #expect(browser.html.contains("Зелёная Ольга") && browser.html.contains("руководитель"))
                let bad = try await post(browser, "/admin/units/parks/officials", [("fullName", "Кто-то"), ("email", "not-an-address")])
                #expect(bad.status == .unprocessableEntity && browser.html.contains("email"))
            }
        }

        @Test func usersAndTheirRoles() async throws {
            try await withOmbud { ctx, _ in
                let browser = try await admin(ctx)
                try await browser.send(.GET, "/admin/users")
                let weak = try await post(browser, "/admin/users", [("login", "newbie"), ("fullName", "Новиков"), ("password", "123"), ("roles[]", "reception")])
                #expect(weak.status == .unprocessableEntity && browser.html.contains(#"id="user-error""#) && browser.html.contains(#"value="newbie""#))
                #expect(browser.html.contains(#"name="roles[]" value="reception" checked"#))
                let made = try await post(browser, "/admin/users", [("login", "newbie"), ("fullName", "Новиков"), ("password", "a-long-enough-password-7"),
                                                                    ("roles[]", "reception"), ("roles[]", "executor"), ("units[]", "city")])
                #expect(made.status == .seeOther)
                var user = try #require(try await User.query(on: ctx.app.db).filter(\.$login == "newbie").first())
                #expect(Set(user.roles) == ["reception", "executor"] && user.unitIDs.count == 1)
                try await browser.send(.GET, "/admin/users")
                #expect(browser.html.contains(#"id="user-newbie""#))
                #expect(try await post(browser, "/admin/users/newbie", [("change", "roles"), ("roles[]", "approver")]).status == .seeOther)
                try await browser.send(.GET, "/admin/users")
                #expect(try await post(browser, "/admin/users/newbie", [("change", "active"), ("isActive", "false")]).status == .seeOther)
                user = try #require(try await User.query(on: ctx.app.db).filter(\.$login == "newbie").first())
                #expect(user.roles == ["approver"] && !user.isActive)
                let audit = try await AuditRecord.query(on: ctx.app.db).filter(\.$action == "user.update").count()
                #expect(audit == 2)
                try await browser.send(.GET, "/admin/users")
                let unknownRole = try await post(browser, "/admin/users/newbie", [("change", "roles"), ("roles[]", "king")])
                #expect(unknownRole.status == .unprocessableEntity && browser.html.contains(#"id="error""#))
            }
        }

        @Test func topicsAndCalendarsAreLoadedFromFiles() async throws {
            try await withOmbud { ctx, _ in
                let browser = try await admin(ctx)
                try await browser.send(.GET, "/admin/topics?q=" + Browser.encode("благоустройство"))
                #expect(browser.html.contains("0003.0009.0097.0689"))
                #expect(try await post(browser, "/admin/topics", [("code", "LOC-1"), ("name", "Шум от кафе"), ("parentCode", "")]).status == .seeOther)
                #expect(try await TopicRecord.find("LOC-1", on: ctx.app.db)?.isLocal == true)
                try await browser.send(.GET, "/admin/topics")
                let official = try await post(browser, "/admin/topics", [("code", "0001.0001.0001.0001"), ("name", "Подделка")])
                #expect(official.status == .unprocessableEntity && browser.html.contains(#"id="topic-error""#))
                let csv = try Data(contentsOf: TestData.sharedData.appendingPathComponent("ru-appeals-classifier/classifier.csv"))
                try await browser.send(.GET, "/admin/topics")
                let loaded = try await post(browser, "/admin/topics/import", [], files: [("file", "classifier.csv", csv)])
                #expect(loaded.status == .ok && browser.html.contains("Загружено тем: 2108"))
                let junk = try await post(browser, "/admin/topics/import", [], files: [("file", "x.csv", Data("что-то не то".utf8))])
                #expect(junk.status == .unprocessableEntity && browser.html.contains(#"id="error""#))

                try await browser.send(.GET, "/admin/calendars")
                #expect(browser.html.contains(#"id="calendar-ru""#))
                try await CalendarDayRecord.query(on: ctx.app.db).delete()
                let xml = try Data(contentsOf: TestData.sharedData.appendingPathComponent("ru-production-calendar/ru-2027-calendar.xml"))
                let year = try await post(browser, "/admin/calendars/ru/years", [], files: [("file", "ru-2027.xml", xml)])
                #expect(year.status == .ok && browser.html.contains("Календарь загружен"))
                #expect(try await CalendarStore.years("ru", db: ctx.app.db) == [2027])
                let broken = try await post(browser, "/admin/calendars/ru/years", [], files: [("file", "x.xml", Data("<calendar".utf8))])
                #expect(broken.status == .unprocessableEntity)
            }
        }

        @Test func theWorkflowIsDrawnWithItsTransitionsAndTimers() async throws {
            try await withOmbud { ctx, _ in
                let browser = try await admin(ctx)
                try await browser.send(.GET, "/admin/workflow")
                #expect(browser.html.contains("<svg") && browser.html.contains(#"data-state="on-approval""#))
                #expect(browser.html.contains("stroke-dasharray"))  // the rework arrow
                #expect(browser.html.contains("Из любого открытого состояния: Отозвано") || browser.html.contains("Из любого открытого состояния:"))
                try await browser.send(.GET, "/admin/workflow?lang=fa")
                #expect(browser.html.contains(#"dir="rtl""#) && browser.html.contains(#"<div class="diagram" dir="ltr">"#))
            }
        }
    }
}
