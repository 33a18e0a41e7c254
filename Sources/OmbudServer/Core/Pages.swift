import Foundation
import Mustache
import OmbudDomain
import Vapor

/// Server-rendered pages: Mustache templates from `Resources/Templates` with the text of `Resources/i18n/<lang>.json`
/// (two levels: section → key → text). Templates hold no words of their own, only `{{t.section.key}}`.
struct Pages: Sendable {
    typealias Catalogue = [String: [String: String]]
    let library: MustacheLibrary
    let catalogues: [UILanguage: Catalogue]

    static func load() async throws -> Pages {
        guard let resources = resourcesURL else {
            throw Abort(.internalServerError, reason: "the Resources folder is missing from the bundle")
        }
        let library = try await MustacheLibrary(directory: resources.appendingPathComponent("Templates").path)
        var catalogues: [UILanguage: Catalogue] = [:]
        for language in UILanguage.allCases {
            let data = try Data(contentsOf: resources.appendingPathComponent("i18n/\(language.rawValue).json"))
            catalogues[language] = try JSONDecoder().decode(Catalogue.self, from: data)
        }
        return Pages(library: library, catalogues: catalogues)
    }

    static var resourcesURL: URL? { Bundle.module.url(forResource: "Resources", withExtension: nil) }

    func render(_ template: String, _ context: [String: Any], language: UILanguage) -> String {
        var context = context
        context["t"] = catalogues[language] ?? [:]
        context["lang"] = language.rawValue
        context["dir"] = language.direction
        context["languages"] = UILanguage.allCases.map { ["code": $0.rawValue, "name": catalogues[$0]?["language"]?["name"] ?? $0.rawValue,
                                                           "current": $0 == language] }
        return library.render(context, withTemplate: template) ?? ""
    }

    /// A text of the catalogue with its `{name}` placeholders filled, numbers in the language's digits.
    func text(_ section: String, _ key: String, language: UILanguage, values: [String: Int] = [:]) -> String {
        let text = catalogues[language]?[section]?[key] ?? catalogues[.ru]?[section]?[key] ?? "\(section).\(key)"
        return values.reduce(text) { text, value in
            let number = language == .fa ? SolarHijriDate.persianDigits(String(value.value)) : String(value.value)
            return text.replacingOccurrences(of: "{\(value.key)}", with: number)
        }
    }
}

extension String {
    /// For templates: an empty text left out, as Mustache would show the section of an empty string.
    var nonEmpty: String? { isEmpty ? nil : self }
}

extension String {
    /// A form field as typed, trimmed; nil when left empty (a form sends every field, filled or not).
    var nonBlank: String? {
        let trimmed = trimmed()
        return trimmed.isEmpty ? nil : trimmed
    }
}

extension String {
    /// The text as one value of a URL's query (`?q=…`): everything but letters and digits percent-encoded.
    var queryValue: String { addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "" }
}

extension Optional where Wrapped == String {
    var nonBlank: String? { self?.nonBlank }
}

extension Dictionary where Key == String, Value == Any? {
    /// For templates: a missing value is left out — Mustache would take an `Optional.none` inside `Any` as present.
    var present: [String: Any] { compactMapValues { $0 } }
}

extension Application {
    private struct PagesKey: StorageKey { typealias Value = Pages }
    var pages: Pages {
        get { storage[PagesKey.self]! }
        set { storage[PagesKey.self] = newValue }
    }
}

extension Request {
    static let languageCookie = "ombud_lang"

    /// `?lang=` (remembered for the signed-in user, and in a cookie), else the signed-in user's choice, else the cookie,
    /// else the browser's preference, else Russian.
    /// Worked out once per request: a page asks for it for every label it translates.
    var language: UILanguage {
        if let known = storage[LanguageKey.self] { return known }
        let language = preferredLanguage
        storage[LanguageKey.self] = language
        return language
    }

    private struct LanguageKey: StorageKey { typealias Value = UILanguage }

    private var preferredLanguage: UILanguage {
        if let code = query[String.self, at: "lang"], let language = UILanguage(rawValue: code) { return language }
        if let code = session?.user.language, let language = UILanguage(rawValue: code) { return language }
        if let code = cookies[Self.languageCookie]?.string, let language = UILanguage(rawValue: code) { return language }
        let preferred = headers.first(name: .acceptLanguage)?.split(separator: ",").compactMap {
            UILanguage(rawValue: String($0.split(separator: ";")[0].split(separator: "-")[0]).trimmed().lowercased())
        }
        return preferred?.first ?? .ru
    }

    /// A page for the signed-in user (or the login page), in the request's language.
    func page(_ template: String, _ context: [String: Any] = [:], status: HTTPResponseStatus = .ok) -> Response {
        var context = context
        let language = self.language
        if let actor = auth.get(Actor.self) {
            // The menu shows what the role may open, nothing that leads to a refusal.
            let manages: [Permission] = [.orgUnitsManage, .usersManage, .topicsManage, .calendarsManage, .jobsManage]
            context["user"] = ["login": actor.login, "stats": actor.can(.statsRead), "create": actor.can(.appealsCreate),
                               "read": actor.can(.appealsRead), "admin": manages.contains { actor.can($0) }]
        }
        if let session { context["csrf"] = session.csrfToken }
        let response = Response(status: status, body: .init(string: application.pages.render(template, context, language: language)))
        response.headers.contentType = .html
        Self.pageHeaders(response)
        if query[String.self, at: "lang"].flatMap(UILanguage.init(rawValue:)) != nil {
            response.cookies[Self.languageCookie] = HTTPCookies.Value(string: language.rawValue, maxAge: 365 * 86_400, path: "/",
                                                                       isSecure: isSecure, isHTTPOnly: true, sameSite: .lax)
        }
        return response
    }

    func text(_ section: String, _ key: String, _ values: [String: Int] = [:]) -> String {
        application.pages.text(section, key, language: language, values: values)
    }

    /// The catalogue's word for a key when it has one, else the key itself (a field added later, a custom value).
    func catalogued(_ section: String, _ key: String) -> String {
        application.pages.catalogues[language]?[section]?[key] ?? key
    }

    /// A button that moves an appeal is named by what it does («Назначить», «Вернуть на доработку»): the `actions`
    /// catalogue's word for this move (`from>to`), else for its target state.
    func actionLabel(from: String?, to: String) -> String {
        let actions = application.pages.catalogues[language]?["actions"] ?? application.pages.catalogues[.ru]?["actions"] ?? [:]
        return from.flatMap { actions["\($0)>\(to)"] } ?? actions[to] ?? text("states", to)
    }
}

extension Request {
    /// A piece of a page (a list the page's script puts in place), in the request's language, not cached.
    func fragment(_ template: String, _ context: [String: Any]) -> Response {
        var context = context
        if let session { context["csrf"] = session.csrfToken }
        let response = Response(status: .ok, body: .init(string: application.pages.render(template, context, language: language)))
        response.headers.contentType = .html
        Self.pageHeaders(response)
        return response
    }

    /// What every page and piece of a page is sent with: not cached, not framed, nothing from elsewhere.
    static func pageHeaders(_ response: Response) {
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        response.headers.replaceOrAdd(name: "X-Frame-Options", value: "DENY")
        response.headers.replaceOrAdd(name: "Content-Security-Policy", value: "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
    }
}

extension Request {
    /// An error as the page shows it, in the user's language: the catalogue's sentence for this error on this field,
    /// else its sentence for the error with the API's reason after it, else the reason.
    func message(_ error: AppError) -> String {
        message(code: error.code, field: error.field, detail: error.detail)
    }

    /// The same for an error reported as data (a bulk move's refusals).
    func message(code: String, field: String?, detail: String) -> String {
        let texts = application.pages.catalogues[language]?["errors"] ?? application.pages.catalogues[.ru]?["errors"] ?? [:]
        let field = field.map { path in
            let last = path.split(separator: ".").last.map(String.init) ?? path
            return last.split(separator: "[").first.map(String.init) ?? last
        }
        if let field, let text = texts["\(code):\(field)"] { return text }
        if let text = texts[code] { return ["missing", "nul-character", "last-administrator"].contains(code) ? text : "\(text) (\(detail))" }
        return detail
    }
}
