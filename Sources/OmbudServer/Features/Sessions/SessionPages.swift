import Fluent
import Foundation
import OmbudDomain
import Vapor

/// The pages of signing in and out, changing one's password, and the signed-in home page.
struct SessionPages: RouteCollection {
    static let loginCSRFCookie = "ombud_login_csrf"

    func boot(routes: any RoutesBuilder) throws {
        routes.get("login", use: loginForm)
        routes.post("login", use: login)
        routes.post("logout", use: logout)
        let signedIn = routes.grouped(PageGuard(), RememberLanguage())
        signedIn.get(use: home)
        signedIn.get("account", "password", use: passwordForm)
        signedIn.post("account", "password", use: changePassword)
    }

    // MARK: signing in and out

    func loginForm(req: Request) async throws -> Response {
        if req.auth.has(Actor.self) { return req.redirect(to: Self.safeNext(req.query[String.self, at: "next"]), redirectType: .normal) }
        var notice: (String, String)?
        if req.query[String.self, at: "expired"] != nil || req.sessionExpired { notice = ("bad", "expired") }
        if req.query[String.self, at: "out"] != nil { notice = ("good", "signedOut") }
        return loginPage(req, status: .ok, notice: notice, login: "")
    }

    func login(req: Request) async throws -> Response {
        struct Form: Content {
            var _csrf: String?
            var login: String?
            var password: String?
            var next: String?
        }
        let form = try req.content.decode(Form.self)
        // Login CSRF: the form must come from our own login page (double-submit cookie); nothing is tried otherwise.
        guard let sent = form._csrf, let expected = req.cookies[Self.loginCSRFCookie]?.string,
              SessionPolicy.constantTimeEqual(sent, expected) else {
            return loginPage(req, status: .forbidden, notice: ("bad", "csrf"), login: form.login ?? "")
        }
        let token: String
        do {
            token = try await SignIn.attempt(login: form.login ?? "", password: form.password ?? "", on: req)
        } catch AppError.signInFailed {
            return loginPage(req, status: .unauthorized, notice: ("bad", "failed"), login: form.login ?? "")
        } catch let AppError.tooManyAttempts(seconds) {
            let response = loginPage(req, status: .tooManyRequests, notice: ("bad", "locked"), login: form.login ?? "",
                                     text: Self.lockedText(req, seconds: seconds))
            response.headers.replaceOrAdd(name: .retryAfter, value: String(seconds))
            return response
        } catch AppError.directoryUnavailable {
            return loginPage(req, status: .serviceUnavailable, notice: ("bad", "directory"), login: form.login ?? "")
        }
        // A language chosen on the login page (its cookie) is the user's from now on.
        if let code = req.cookies[Request.languageCookie]?.string, UILanguage(rawValue: code) != nil,
           let login = try? Accounts.validLogin(form.login ?? "") {
            try await req.store.write { db in
                try await User.query(on: db).filter(\.$login == login).filter(\.$language != code).set(\.$language, to: code).update()
            }
        }
        let response = req.redirect(to: Self.safeNext(form.next), redirectType: .normal)
        response.cookies[Sessions.cookieName] = Sessions.cookie(token, secure: req.isSecure)
        response.cookies[Self.loginCSRFCookie] = Sessions.clearedCookie(secure: req.isSecure)
        return response
    }

    func logout(req: Request) async throws -> Response {
        if let session = req.session, let actor = req.auth.get(Actor.self) {
            try await Sessions.end(session, reason: "logout", store: req.store, now: req.now)
            try await SignIn.audit("logout", login: actor.login, userID: actor.userID, address: req.clientAddress, details: nil, req: req)
        }
        let response = req.redirect(to: "/login?out=1", redirectType: .normal)
        response.cookies[Sessions.cookieName] = Sessions.clearedCookie(secure: req.isSecure)
        return response
    }

    private func loginPage(_ req: Request, status: HTTPResponseStatus, notice: (kind: String, key: String)?, login: String,
                           text: String? = nil) -> Response {
        let token = Tokens.generate()
        var context: [String: Any] = ["loginCsrf": token, "login": login, "next": Self.safeNext(req.query[String.self, at: "next"] ?? (try? req.content.get(String.self, at: "next")))]
        if let notice { context["notice"] = ["kind": notice.kind, "text": text ?? req.text("login", notice.key)] }
        let response = req.page("login", context, status: status)
        response.cookies[Self.loginCSRFCookie] = HTTPCookies.Value(string: token, path: "/login", isSecure: req.isSecure, isHTTPOnly: true, sameSite: .strict)
        if req.sessionExpired { response.cookies[Sessions.cookieName] = Sessions.clearedCookie(secure: req.isSecure) }
        return response
    }

    static let passwordLimits = ["minimum": PasswordRules.minimumLength, "maximum": PasswordRules.maximumBytes]

    /// The password page, with the rules of `PasswordRules` in its hint and its field.
    static func passwordPage(_ req: Request, _ context: [String: Any], status: HTTPResponseStatus = .ok) -> Response {
        var context = context
        context["hint"] = req.text("password", "hint", passwordLimits)
        context["minimumLength"] = PasswordRules.minimumLength
        return req.page("password", context, status: status)
    }

    /// "Try again in N min", rounded up.
    static func lockedText(_ req: Request, seconds: Int) -> String {
        req.text("login", "locked", ["minutes": LoginThrottle.minutes(seconds)])
    }

    /// Only a path on this site: never `//host` or an absolute URL, which would make the login page an open redirect.
    static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.hasPrefix("/\\"), !next.contains("\r"), !next.contains("\n") else { return "/" }
        return next
    }

    // MARK: signed in

    func home(req: Request) async throws -> Response {
        // Supervisors, analysts and heads start on their dashboard (also at /dashboard).
        if try req.actor.can(.statsRead) { return try await DashboardPages().dashboard(req: req) }
        let user = try await req.currentUser()
        let customRoles = try await RoleRecord.query(on: req.db).filter(\.$key ~~ user.roles).all()
        let roleNames = user.roles.map { key in
            RoleKey(rawValue: key) != nil ? req.text("roles", key) : customRoles.first { $0.key == key }?.name ?? key
        }
        let units = try await OrgUnit.query(on: req.db).filter(\.$id ~~ user.unitIDs).all().map { "\($0.name) (\($0.code))" }
        return req.page("home", [
            "login": user.login, "fullName": user.fullName,
            "roles": Self.listed(roleNames), "units": Self.listed(units),
        ])
    }

    /// Items with a `last` flag, for separators in a logic-less template.
    static func listed(_ names: [String]) -> [[String: Any]] {
        names.enumerated().map { ["name": $1, "last": $0 == names.count - 1] }
    }

    func passwordForm(req: Request) async throws -> Response {
        let user = try await req.currentUser()
        return Self.passwordPage(req, ["directory": user.authSource != "local"])
    }

    func changePassword(req: Request) async throws -> Response {
        struct Form: Content {
            var current: String?
            var new: String?
            var confirm: String?
        }
        let form = try req.content.decode(Form.self)
        let user = try await req.currentUser()
        guard user.authSource == "local" else { return Self.passwordPage(req, ["directory": true], status: .conflict) }
        func refused(_ field: String, _ key: String, status: HTTPResponseStatus = .unprocessableEntity) -> Response {
            Self.passwordPage(req, ["errors": [field: req.text("password", key, Self.passwordLimits)]], status: status)
        }
        let counters = try await LoginCounters.load(login: user.login, address: req.clientAddress, db: req.db)
        if let lock = counters.lockedUntil(now: req.now) {
            let text = Self.lockedText(req, seconds: Int(lock.timeIntervalSince(req.now).rounded(.up)))
            return Self.passwordPage(req, ["notice": ["kind": "bad", "text": text]], status: .tooManyRequests)
        }
        guard (try? await req.password.async.verify(form.current ?? "", created: user.passwordHash)) == true else {
            let (now, address, userID, login) = (req.now, req.clientAddress, user.id, user.login)
            try await req.store.write { db in
                try await counters.recordFailure(now: now, db: db)
                try await SignIn.record("password.change-failed", login: login, userID: userID, address: address,
                                        details: "wrong current password", at: now, db: db)
            }
            return refused("current", "wrong")
        }
        let new = form.new ?? ""
        if let problem = PasswordRules.problem(new, login: user.login) { return refused("new", problem.rawValue) }
        guard new == form.confirm else { return refused("confirm", "mismatch") }
        try await Accounts.setPassword(login: user.login, password: new, by: user.login, actorID: user.id, keepSession: req.session?.id,
                                       address: req.clientAddress, store: req.store, now: req.now)
        return Self.passwordPage(req, ["notice": ["kind": "good", "text": req.text("password", "changed")]])
    }

}

/// Pages need a signed-in user: anyone else is sent to the login page, which then returns them where they were going.
struct PageGuard: AsyncMiddleware {
    func respond(to req: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard req.auth.has(Actor.self) else {
            var target = "/login"
            var query: [String] = []
            if req.method == .GET, req.url.path != "/" {
                query.append("next=" + req.url.string.queryValue)
            }
            if req.sessionExpired { query.append("expired=1") }
            if !query.isEmpty { target += "?" + query.joined(separator: "&") }
            let response = req.redirect(to: target, redirectType: .normal)
            if req.sessionExpired { response.cookies[Sessions.cookieName] = Sessions.clearedCookie(secure: req.isSecure) }
            return response
        }
        return try await next.respond(to: req)
    }
}

/// Errors on pages are pages: a readable message in the user's language instead of JSON, in the staff's layout or
/// (with `template: "portal-error", section: "portalError"`) the portal's. The catalogue section holds a heading `<key>`
/// and a sentence `<key>Text` for each key below; a refused form also shows what was wrong with it.
struct PageErrorMiddleware: AsyncMiddleware {
    var template = "error"
    var section = "error"

    func respond(to req: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        do {
            return try await next.respond(to: req)
        } catch {
            let api = APIErrorMiddleware.response(for: error, request: req)
            let key: String = switch api.status {
            case .notFound: "notFound"
            case .forbidden: (error as? AppError).map { if case .csrf = $0 { "csrf" } else { "forbidden" } } ?? "forbidden"
            case .tooManyRequests: "tooMany"
            case .payloadTooLarge: "tooLarge"
            case .badRequest, .unprocessableEntity: "refused"
            case .serviceUnavailable: "unavailable"
            default: "failed"
            }
            var context: [String: Any] = ["heading": req.text(section, key), "text": req.text(section, key + "Text")]
            if key == "refused", let error = error as? AppError { context["detail"] = req.message(error) }
            let page = req.page(template, context, status: api.status)
            if let retry = api.headers.first(name: .retryAfter) { page.headers.replaceOrAdd(name: .retryAfter, value: retry) }
            return page
        }
    }
}

/// A language chosen with `?lang=` on a page is the signed-in user's from then on, in every browser (and their
/// notifications' language).
struct RememberLanguage: AsyncMiddleware {
    func respond(to req: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        if let code = req.query[String.self, at: "lang"], let language = UILanguage(rawValue: code), let user = req.session?.user,
           user.language != language.rawValue {
            user.language = language.rawValue
            try await req.store.write { db in try await user.save(on: db) }
        }
        return try await next.respond(to: req)
    }
}
