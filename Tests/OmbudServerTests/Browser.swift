import Foundation
import Testing
import Vapor
import VaporTesting
@testable import OmbudServer

/// A browser for page tests: keeps the cookies the server sets and sends them back, reads CSRF tokens from forms.
final class Browser: @unchecked Sendable {
    let app: Application
    var cookies: [String: String] = [:]
    var headers: HTTPHeaders = [:]
    /// The last page's HTML.
    var html = ""

    init(_ app: Application) { self.app = app }

    @discardableResult
    func send(_ method: HTTPMethod, _ path: String, form: [String: String]? = nil, json: String? = nil,
              extraHeaders: HTTPHeaders = [:]) async throws -> TestingHTTPResponse {
        try await send(method, path, pairs: form.map { $0.map { ($0.key, $0.value) } }, json: json, extraHeaders: extraHeaders)
    }

    /// A form with repeated fields (`topics[]`) in order; with `files`, sent as multipart/form-data like a form with a file field.
    @discardableResult
    func send(_ method: HTTPMethod, _ path: String, pairs: [(String, String)]?, files: [(field: String, name: String, data: Data)] = [],
              json: String? = nil, extraHeaders: HTTPHeaders = [:]) async throws -> TestingHTTPResponse {
        var headers = self.headers
        for (name, value) in extraHeaders { headers.replaceOrAdd(name: name, value: value) }
        if !cookies.isEmpty { headers.replaceOrAdd(name: .cookie, value: cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")) }
        var body: ByteBuffer?
        if let pairs, !files.isEmpty {
            let boundary = "----ombud-test-\(UUID().uuidString)"
            headers.replaceOrAdd(name: .contentType, value: "multipart/form-data; boundary=\(boundary)")
            var data = Data()
            for (name, value) in pairs {
                data.append(Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8))
            }
            for file in files {
                data.append(Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(file.field)\"; filename=\"\(file.name)\"\r\nContent-Type: application/octet-stream\r\n\r\n".utf8))
                data.append(file.data)
                data.append(Data("\r\n".utf8))
            }
            data.append(Data("--\(boundary)--\r\n".utf8))
            body = ByteBuffer(data: data)
        } else if let pairs {
            headers.replaceOrAdd(name: .contentType, value: "application/x-www-form-urlencoded")
            body = ByteBuffer(string: pairs.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&"))
        } else if let json {
            headers.replaceOrAdd(name: .contentType, value: "application/json")
            body = ByteBuffer(string: json)
        }
        var result: TestingHTTPResponse?
        try await app.testing().test(method, path, headers: headers, body: body) { res in result = res }
        let response = try #require(result)
        for header in response.headers[.setCookie] {
            let pair = header.split(separator: ";")[0].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard pair.count == 2 else { continue }
            if pair[1].isEmpty || header.contains("Max-Age=0") { cookies[pair[0]] = nil } else { cookies[pair[0]] = pair[1] }
        }
        html = response.body.string
        return response
    }

    /// The value of the hidden `_csrf` field of the last page.
    var csrf: String? {
        guard let range = html.range(of: #"name="_csrf" value="([^"]+)""#, options: .regularExpression) else { return nil }
        return String(html[range].dropFirst(#"name="_csrf" value=""#.count).dropLast())
    }

    /// Opens the login page and signs in; returns the answer to the form.
    @discardableResult
    func signIn(_ login: String, _ password: String) async throws -> TestingHTTPResponse {
        try await send(.GET, "/login")
        return try await send(.POST, "/login", form: ["_csrf": csrf ?? "", "login": login, "password": password])
    }

    static func encode(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? s
    }
}

extension Browser {
    /// A new user with these roles and units, signed in through the login form.
    static func signedIn(_ ctx: TestContext, login: String, roles: [String], units: [String] = ["hq"], fullName: String = "Сотрудник") async throws -> Browser {
        _ = try await Accounts.addUser(login: login, password: "password-\(login)", roles: roles, fullName: fullName, unitCodes: units,
                                       store: ctx.app.store, now: Date())
        let browser = Browser(ctx.app)
        #expect(try await browser.signIn(login, "password-\(login)").status == .seeOther)
        return browser
    }
}
