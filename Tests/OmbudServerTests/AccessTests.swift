import Fluent
import Foundation
import OmbudDomain
@testable import OmbudServer
import SQLKit
import Testing
import Vapor
import VaporTesting

extension TestContext {
    /// A user with these roles and units, and a token for them.
    func user(_ login: String, roles: [String], units: [String], tokenPermissions: [String]? = nil) async throws -> HTTPHeaders {
        var ids: [UUID] = []
        for code in units { ids.append(try await OrgUnit.query(on: app.db).filter(\.$code == code).first()!.requireID()) }
        try await User(login: login, passwordHash: "not-a-login", roles: roles, fullName: login, unitIDs: ids, createdAt: Date()).create(on: app.db)
        let token = try await Accounts.createToken(login: login, name: "test", permissions: tokenPermissions, store: app.store, now: Date())
        return ["Authorization": "Bearer \(token)"]
    }

    func send(_ method: HTTPMethod, _ path: String, _ headers: HTTPHeaders, body: String? = nil,
              check: (TestingHTTPResponse) async throws -> Void) async throws {
        var headers = headers
        if body != nil { headers.replaceOrAdd(name: .contentType, value: "application/json") }
        try await app.testing().test(method, path, headers: headers, body: body.map { ByteBuffer(string: $0) }, afterResponse: check)
    }
}

extension OmbudServerSuite {
    @Suite struct AccessTests {
        static let applicant: [String: AnyEncodable] = [
            "surname": "Смирнова", "name": "Ольга", "phone": "+7 921 555-12-34", "email": "olga@example.ru", "postalAddress": "ул. Садовая, 5, кв. 7",
        ]

        func appeal(_ ctx: TestContext, office: String, executor: String? = nil) async throws -> AppealView {
            var question: [String: AnyEncodable] = ["topicCode": "0003.0009.0097.0689", "text": "Освещение"]
            if let executor { question["executorUnitCode"] = AnyEncodable(executor) }
            return try await ctx.createAppeal([
                "channel": "visit", "text": "Не горит фонарь во дворе", "officeCode": AnyEncodable(office),
                "applicant": AnyEncodable(Self.applicant), "questions": AnyEncodable([question]),
                "address": AnyEncodable(["text": AnyEncodable("ул. Садовая, 5"), "lat": 59.93863, "lon": 30.31413, "district": "Центральный"]),
            ])
        }

        /// Every API route × every shipped role: the route answers 403 exactly when the role lacks what the route needs,
        /// and 401 without a token.
        @Test func permissionMatrix() async throws {
            try await withOmbud { ctx, _ in
                let a = try await appeal(ctx, office: "hq")
                let q = a.questions[0].id
                let applicantID = a.applicant!.id
                let routes: [(HTTPMethod, String, Permission?)] = [
                    (.POST, "/api/v1/appeals", .appealsCreate),
                    (.GET, "/api/v1/appeals", .appealsRead),
                    (.GET, "/api/v1/appeals/\(a.id)", .appealsRead),
                    (.GET, "/api/v1/appeals/by-code/\(a.trackingCode)", .appealsRead),
                    (.GET, "/api/v1/appeals/\(a.id)/history", .appealsRead),
                    (.POST, "/api/v1/appeals/\(a.id)/transitions", .appealsTransition),
                    (.POST, "/api/v1/appeals/\(a.id)/extension", .appealsEdit),
                    (.POST, "/api/v1/appeals/\(a.id)/questions", .appealsEdit),
                    (.PATCH, "/api/v1/appeals/\(a.id)/questions/\(q)", .appealsEdit),
                    (.GET, "/api/v1/appeals/\(a.id)/attachments", .appealsRead),
                    (.POST, "/api/v1/appeals/\(a.id)/attachments", .appealsEdit),
                    (.GET, "/api/v1/attachments/\(UUID())", .appealsRead),
                    (.POST, "/api/v1/applicants", .applicantsEdit),
                    (.GET, "/api/v1/applicants?q=Смирнова", .applicantsRead),
                    (.GET, "/api/v1/applicants/duplicates?phone=89215551234", .applicantsRead),
                    (.GET, "/api/v1/applicants/\(applicantID)", .applicantsRead),
                    (.PATCH, "/api/v1/applicants/\(applicantID)", .applicantsEdit),
                    (.GET, "/api/v1/applicants/\(applicantID)/history", .personalData),
                    (.GET, "/api/v1/topics?q=освещение", nil),
                    (.GET, "/api/v1/topics/0003.0009.0097.0689", nil),
                    (.POST, "/api/v1/topics", .topicsManage),
                    (.GET, "/api/v1/org-units", nil),
                    (.GET, "/api/v1/org-units/hq", nil),
                    (.POST, "/api/v1/org-units", .orgUnitsManage),
                    (.POST, "/api/v1/org-units/hq/officials", .orgUnitsManage),
                    (.GET, "/api/v1/permissions", .rolesManage),
                    (.GET, "/api/v1/roles", .rolesManage),
                    (.POST, "/api/v1/roles", .rolesManage),
                    (.PATCH, "/api/v1/roles/journalist", .rolesManage),
                    (.GET, "/api/v1/users", .supervise),
                    (.POST, "/api/v1/users", .usersManage),
                    (.PATCH, "/api/v1/users/nobody", .usersManage),
                    (.GET, "/api/v1/tokens", .tokensManage),
                    (.POST, "/api/v1/tokens", .tokensManage),
                    (.DELETE, "/api/v1/tokens/\(UUID())", .tokensManage),
                    (.GET, "/api/v1/audit", .auditRead),
                    (.GET, "/api/v1/stats?groupBy=channel", .statsRead),
                    (.GET, "/api/v1/stats/grid?bbox=30,59,31,60", .statsRead),
                    (.GET, "/api/v1/reports", .statsRead),
                    (.POST, "/api/v1/reports", .statsRead),
                    (.GET, "/api/v1/reports/\(UUID())", .statsRead),
                    (.PUT, "/api/v1/reports/\(UUID())", .statsRead),
                    (.DELETE, "/api/v1/reports/\(UUID())", .statsRead),
                    (.GET, "/api/v1/reports/\(UUID())/run", .statsRead),
                    (.POST, "/api/v1/reports/\(UUID())/send", .statsRead),
                    (.GET, "/api/v1/appeals?format=csv", .export),
                    (.GET, "/api/v1/tasks?format=xlsx", .export),
                    (.GET, "/api/v1/promises?format=csv", .export),
                    (.GET, "/api/v1/me", nil),
                    (.GET, "/api/v1/team", .supervise),
                    (.GET, "/api/v1/calendars", nil),
                    (.GET, "/api/v1/calendars/ru", nil),
                    (.POST, "/api/v1/calendars", .calendarsManage),
                    (.POST, "/api/v1/calendars/ru/days", .calendarsManage),
                    (.DELETE, "/api/v1/calendars/ru/days/2030-01-01", .calendarsManage),
                    (.POST, "/api/v1/calendars/ru/years", .calendarsManage),
                    (.GET, "/api/v1/appeals/\(a.id)/correspondence", .appealsRead),
                    (.POST, "/api/v1/appeals/bulk-transitions", .appealsTransition),
                    (.POST, "/api/v1/appeals/\(a.id)/feedback", .appealsTransition),
                    (.POST, "/api/v1/applicants/\(applicantID)/merge", .applicantsEdit),  // and personal-data, which every role with it has
                    (.GET, "/api/v1/jobs", .jobsManage),
                    (.POST, "/api/v1/jobs/\(UUID())/retry", .jobsManage),
                    (.GET, "/api/v1/tasks", .appealsRead),
                    (.PATCH, "/api/v1/tasks/\(UUID())", .appealsEdit),
                    (.GET, "/api/v1/appeals/\(a.id)/tasks", .appealsRead),
                    (.POST, "/api/v1/appeals/\(a.id)/tasks", .appealsEdit),
                    (.GET, "/api/v1/appeals/\(a.id)/promises", .appealsRead),
                    (.POST, "/api/v1/appeals/\(a.id)/promises", .appealsEdit),
                    (.GET, "/api/v1/promises", .appealsRead),
                    (.PATCH, "/api/v1/promises/\(UUID())", .appealsEdit),
                    (.GET, "/api/v1/notifications", nil),
                    (.POST, "/api/v1/notifications/read", nil),
                    (.POST, "/api/v1/notifications/\(UUID())/read", nil),
                    (.GET, "/api/v1/me/notification-settings", nil),
                    (.PUT, "/api/v1/me/notification-settings", nil),
                    (.GET, "/api/v1/notification-templates", .notificationsManage),
                    (.PUT, "/api/v1/notification-templates/task-assigned/ru", .notificationsManage),
                    (.DELETE, "/api/v1/notification-templates/task-assigned/ru", .notificationsManage),
                    (.GET, "/api/v1/workflow", .appealsRead),
                    (.PUT, "/api/v1/workflow/timers", .deadlinesManage),
                ]
                // Every operation of the OpenAPI document is in the matrix (its paths with their parameters filled in).
                let documented = try Self.documentedOperations()
                let covered = Set(routes.map { method, path, _ in "\(method.rawValue) " + Self.template(method, path, like: documented) })
                #expect(documented.subtracting(covered).isEmpty, "operations missing from the matrix: \(documented.subtracting(covered).sorted())")
                for role in RoleDefinition.shipped {
                    let headers = try await ctx.user("u-\(role.key)", roles: [role.key], units: ["hq"])
                    for (method, path, needed) in routes {
                        let body = method == .GET || method == .DELETE ? nil : "{}"
                        try await ctx.send(method, path, headers, body: body) { res in
                            let allowed = needed.map(role.permissions.contains) ?? true
                            if allowed {
                                #expect(res.status != .forbidden && res.status != .unauthorized && res.status.code < 500,
                                        "\(role.key) \(method) \(path): \(res.status) \(res.body.string)")
                            } else {
                                #expect(res.status == .forbidden, "\(role.key) \(method) \(path): \(res.status)")
                            }
                        }
                    }
                }
                for (method, path, _) in routes {
                    try await ctx.send(method, path, [:], body: method == .GET || method == .DELETE ? nil : "{}") { res in
                        #expect(res.status == .unauthorized, "\(method) \(path) without a token")
                    }
                }
            }
        }

        /// `METHOD /path/{param}` of every `/api/v1` operation in the OpenAPI document, read line by line (paths are
        /// two-space keys, methods four-space keys).
        static func documentedOperations() throws -> Set<String> {
            let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("Sources/OmbudServer/Resources/openapi.yaml")
            var operations: Set<String> = []
            var path: String?
            for line in try String(contentsOf: url, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix("  /"), line.hasSuffix(":") { path = String(line.dropFirst(2).dropLast()); continue }
                if !line.hasPrefix("   ") && !line.hasPrefix("  /") && !line.isEmpty { path = nil }
                for method in ["get", "post", "put", "patch", "delete"] where line == "    \(method):" {
                    if let path, path.hasPrefix("/api/v1/") { operations.insert("\(method.uppercased()) \(path)") }
                }
            }
            return operations
        }

        /// The documented template a concrete path matches (`/api/v1/appeals/{id}` for `/api/v1/appeals/0192…`).
        static func template(_ method: HTTPMethod, _ path: String, like documented: Set<String>) -> String {
            let parts = path.split(separator: "?")[0].split(separator: "/")
            var best: (template: String, literals: Int)?
            for operation in documented where operation.hasPrefix(method.rawValue + " ") {
                let template = operation.split(separator: " ")[1]
                let slots = template.split(separator: "/")
                guard slots.count == parts.count, zip(slots, parts).allSatisfy({ $0.hasPrefix("{") || $0 == $1 }) else { continue }
                let literals = slots.filter { !$0.hasPrefix("{") }.count
                if literals > (best?.literals ?? -1) { best = (String(template), literals) }
            }
            return best?.template ?? String(path.split(separator: "?")[0])
        }

        /// Every page × every shipped role, signed in with a password: the pages of one's own account are open to all
        /// roles; without a session every page sends to the login page, and a form without its token is refused.
        @Test func pageMatrix() async throws {
            try await withOmbud { ctx, _ in
                let pages: [(HTTPMethod, String, [String: String]?, HTTPStatus)] = [
                    (.GET, "/", nil, .ok),
                    (.GET, "/account/password", nil, .ok),
                    (.POST, "/account/password", ["current": "wrong-password"], .unprocessableEntity),
                    (.GET, "/login", nil, .seeOther),
                    (.POST, "/logout", [:], .seeOther),
                ]
                for role in RoleDefinition.shipped {
                    _ = try await Accounts.addUser(login: "p-\(role.key)", password: "password-\(role.key)", roles: [role.key], fullName: nil,
                                                   unitCodes: ["city"], store: ctx.app.store, now: Date())
                    let browser = Browser(ctx.app)
                    #expect(try await browser.signIn("p-\(role.key)", "password-\(role.key)").status == .seeOther)
                    for (method, path, form, expected) in pages {
                        try await browser.send(.GET, "/")
                        let token = try #require(browser.csrf)
                        let res = try await browser.send(method, path, form: form.map { $0.merging(["_csrf": token]) { $1 } })
                        #expect(res.status == expected, "\(role.key) \(method) \(path)")
                        if path == "/logout" { #expect(try await browser.signIn("p-\(role.key)", "password-\(role.key)").status == .seeOther) }
                    }
                    // Without the form's token: refused, still signed in.
                    #expect(try await browser.send(.POST, "/account/password", form: ["current": "x"]).status == .forbidden)
                    #expect(try await browser.send(.GET, "/").status == .ok)
                }
                let stranger = Browser(ctx.app)
                for (method, path, form, _) in pages where path != "/login" && path != "/logout" {
                    let res = try await stranger.send(method, path, form: form)
                    #expect(res.status == .seeOther && res.headers.first(name: .location)?.hasPrefix("/login") == true, "\(method) \(path)")
                }
                #expect(try await stranger.send(.GET, "/login").status == .ok)
            }
        }

        @Test func supervisorsSeeTheirPeopleAndTheirWorkloads() async throws {
            try await withOmbud { ctx, _ in
                let boss = try await ctx.user("boss", roles: ["supervisor"], units: ["city"])
                _ = try await ctx.user("roads-expert", roles: ["executor"], units: ["roads"])
                _ = try await ctx.user("officer", roles: ["executor"], units: ["police"])
                let expert = try await User.query(on: ctx.app.db).filter(\.$login == "roads-expert").first()!.requireID()
                let a = try await appeal(ctx, office: "roads", executor: "roads")
                try await ctx.raw(.PATCH, "/api/v1/appeals/\(a.id)/questions/\(a.questions[0].id)", body: #"{"executorUserId":"\#(expert)"}"#) {
                    #expect($0.status == .ok, "\($0.body.string)")
                }
                try await ctx.send(.GET, "/api/v1/team", boss) { res in
                    let team = try res.content.decode([TeamMember].self)
                    #expect(team.map(\.login) == ["boss", "roads-expert"])
                    #expect(team.first { $0.login == "roads-expert" }?.openAppeals == 1)
                }
                try await ctx.send(.GET, "/api/v1/users", boss) { res in
                    let users = try res.content.decode([UserView].self)
                    #expect(users.map(\.login) == ["boss", "roads-expert"])
                }
                // The worklist of one of them, within the supervisor's scope.
                try await ctx.send(.GET, "/api/v1/appeals?executor=\(expert)", boss) { res in
                    #expect(res.status == .ok && res.body.string.contains(a.trackingCode))
                }
            }
        }

        @Test func anotherOfficesAppealIsInvisibleEvenByGuessingItsId() async throws {
            try await withOmbud { ctx, _ in
                let police = try await appeal(ctx, office: "police")
                let assigned = try await appeal(ctx, office: "police", executor: "roads")
                let own = try await appeal(ctx, office: "roads")
                let city = try await ctx.user("city-clerk", roles: ["reception"], units: ["city"])
                for path in ["/api/v1/appeals/\(police.id)", "/api/v1/appeals/by-code/\(police.trackingCode)",
                             "/api/v1/appeals/\(police.id)/history", "/api/v1/appeals/\(police.id)/attachments"] {
                    try await ctx.send(.GET, path, city) { res in #expect(res.status == .notFound, "\(path)") }
                }
                try await ctx.send(.POST, "/api/v1/appeals/\(police.id)/transitions", city, body: #"{"to":"registered"}"#) { res in
                    #expect(res.status == .notFound)
                }
                let before = try await Appeal.find(police.id, on: ctx.app.db)!.status
                #expect(before == police.status)
                // Units below one's own are in scope, through the office or through a question's executor.
                for visible in [assigned, own] {
                    try await ctx.send(.GET, "/api/v1/appeals/\(visible.id)", city) { res in #expect(res.status == .ok) }
                }
                try await ctx.send(.GET, "/api/v1/appeals?limit=50", city) { res in
                    let page = try res.content.decode(AppealPage.self)
                    #expect(Set(page.items.map(\.id)) == [assigned.id, own.id])
                }
                try await ctx.send(.GET, "/api/v1/appeals?q=фонарь", city) { res in
                    let page = try res.content.decode(AppealPage.self)
                    #expect(Set(page.items.map(\.id)) == [assigned.id, own.id])
                }
                // The applicant's card lists only the appeals in the reader's scope.
                try await ctx.send(.GET, "/api/v1/applicants/\(own.applicant!.id)", city) { res in
                    let card = try res.content.decode(ApplicantCard.self)
                    #expect(card.appeals.map(\.id) == [own.id])
                }
            }
        }

        @Test func journalistSeesNoPersonalData() async throws {
            try await withOmbud { ctx, _ in
                let a = try await appeal(ctx, office: "hq")
                let journalist = try await ctx.user("journalist", roles: ["journalist"], units: ["hq"])
                try await ctx.send(.GET, "/api/v1/appeals/\(a.id)", journalist) { res in
                    #expect(res.status == .ok)
                    let body = res.body.string
                    for secret in ["Смирнова", "Ольга", "555-12-34", "olga@example.ru", "Садовая"] { #expect(!body.contains(secret), "\(secret)") }
                    let view = try res.content.decode(AppealView.self)
                    #expect(view.applicant?.masked == true)
                    #expect(view.address?.district == "Центральный")
                    #expect(view.address?.lat == 59.94)
                }
                try await ctx.send(.GET, "/api/v1/applicants/\(a.applicant!.id)", journalist) { res in
                    for secret in ["Смирнова", "555-12-34", "olga@example.ru", "Садовая"] { #expect(!res.body.string.contains(secret)) }
                }
                try await ctx.send(.GET, "/api/v1/applicants?q=Смирнова", journalist) { res in
                    #expect(res.status == .ok)
                    #expect(!res.body.string.contains("olga@example.ru"))
                }
                // Masked cards are not personal-data views.
                let journalistViews = try await AuditRecord.query(on: ctx.app.db).filter(\.$actor == "journalist").count()
                #expect(journalistViews == 0)
                // Consent to publicity lifts the mask.
                try await ctx.send(.PATCH, "/api/v1/applicants/\(a.applicant!.id)", ctx.auth, body: #"{"publicityConsent":true}"#) { res in
                    #expect(res.status == .ok, "\(res.body.string)")
                }
                try await ctx.send(.GET, "/api/v1/appeals/\(a.id)", journalist) { res in
                    #expect(res.body.string.contains("Смирнова"))
                }
            }
        }

        @Test func auditLogRecordsViewsAndChangesAndCannotBeRewritten() async throws {
            try await withOmbud { ctx, _ in
                let a = try await appeal(ctx, office: "hq")
                try await ctx.get("/api/v1/appeals/\(a.id)") { res in #expect(res.status == .ok) }
                try await ctx.send(.POST, "/api/v1/roles", ctx.auth, body: #"{"key":"clerk","name":"Clerk","permissions":["appeals.read","appeals.fly"]}"#) { res in
                    #expect(res.status == .unprocessableEntity)
                    #expect(res.body.string.contains("permissions[1]"))
                }
                try await ctx.send(.POST, "/api/v1/roles", ctx.auth, body: #"{"key":"clerk","name":"Clerk","permissions":["appeals.read"]}"#) { res in
                    #expect(res.status == .created)
                }
                try await ctx.get("/api/v1/audit?limit=50") { res in
                    let page = try res.content.decode(AuditPage.self)
                    let actions = Set(page.items.map(\.action))
                    #expect(actions.isSuperset(of: ["personal-data.view", "role.create", "create"]), "\(actions)")
                    #expect(page.items.contains { $0.action == "personal-data.view" && $0.entityId == a.id.uuidString && $0.actor == "tester" })
                }
                try await ctx.get("/api/v1/audit?action=role.create&format=csv") { res in
                    #expect(res.headers.contentType?.subType == "csv")
                    #expect(res.body.string.contains("role.create"))
                }
                // No route deletes or changes audit records, and the database refuses to.
                try await ctx.send(.DELETE, "/api/v1/audit", ctx.auth) { res in
                    #expect(res.status == .methodNotAllowed && res.headers.first(name: .allow) == "GET, HEAD")
                }
                let sql = ctx.app.db as! any SQLDatabase
                await #expect(throws: (any Error).self) { try await sql.raw("DELETE FROM audit_log").run() }
                await #expect(throws: (any Error).self) { try await sql.raw("UPDATE audit_log SET actor = 'x'").run() }
                #expect(try await AuditRecord.query(on: ctx.app.db).count() >= 3)
            }
        }

        @Test func tokensAreNarrowedByTheirPermissionsAndRevocable() async throws {
            try await withOmbud { ctx, _ in
                let readOnly = try await ctx.user("integration", roles: ["administrator"], units: ["hq"], tokenPermissions: ["appeals.read"])
                try await ctx.send(.GET, "/api/v1/appeals", readOnly) { res in #expect(res.status == .ok) }
                try await ctx.send(.POST, "/api/v1/appeals", readOnly, body: "{}") { res in #expect(res.status == .forbidden) }
                var created: TokenView?
                try await ctx.send(.POST, "/api/v1/tokens", ctx.auth, body: #"{"login":"integration","name":"crm","permissions":["appeals.read"]}"#) { res in
                    #expect(res.status == .created)
                    created = try res.content.decode(TokenView.self)
                }
                let token = try #require(created?.token)
                try await ctx.send(.GET, "/api/v1/appeals", ["Authorization": "Bearer \(token)"]) { res in #expect(res.status == .ok) }
                try await ctx.send(.DELETE, "/api/v1/tokens/\(created!.id)", ctx.auth) { res in #expect(res.status == .ok) }
                try await ctx.send(.GET, "/api/v1/appeals", ["Authorization": "Bearer \(token)"]) { res in #expect(res.status == .unauthorized) }
                try await ctx.send(.POST, "/api/v1/tokens", ctx.auth, body: #"{"login":"integration","name":"x","permissions":["everything"]}"#) { res in
                    #expect(res.status == .unprocessableEntity)
                    #expect(res.body.string.contains("permissions[0]"))
                }
            }
        }
    }
}
