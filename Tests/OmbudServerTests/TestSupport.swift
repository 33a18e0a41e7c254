import Fluent
import Foundation
import OmbudDomain
import SQLKit
import Testing
import Vapor
import VaporTesting
@testable import OmbudServer

/// A configured Ombud on SQLite in a temporary folder, or on PostgreSQL when OMBUD_TEST_POSTGRES_URL is set.
struct TestContext {
    let app: Application
    let token: String
    let settings: Settings
    var auth: HTTPHeaders { ["Authorization": "Bearer \(token)"] }
}

/// The tests' clock. Like production's, it is never on a whole second and carries digits below the microsecond:
/// SQLite reads dates back rounded to microseconds and PostgreSQL truncates them, so code that compares a date it
/// read with the one it wrote fails here as it would in production.
final class MutableClock: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Date
    init(_ date: Date) { value = Self.fractional(date) }
    var now: Date {
        get { lock.withLock { value } }
        set { lock.withLock { value = Self.fractional(newValue) } }
    }

    static func fractional(_ date: Date) -> Date {
        let seconds = date.timeIntervalSince1970
        return seconds.rounded(.down) == seconds ? Date(timeIntervalSince1970: seconds + 0.123_456_789) : date
    }
}

enum TestData {
    static let sharedData = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/data")
    static let postgresURL = ProcessInfo.processInfo.environment["OMBUD_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }

    /// The topics the tests use, with their ancestors, from the real classifier.
    static let topics: [Topic] = {
        let csv = try! String(contentsOf: sharedData.appendingPathComponent("ru-appeals-classifier/classifier.csv"), encoding: .utf8)
        return try! Classifier.parse(csv: csv).filter { $0.code.hasPrefix("0005.0005.0056") || $0.code.hasPrefix("0003.0009.0097") || $0.level <= 2 }
    }()

    static func calendar() throws -> [ProductionCalendarXML.Year] {
        try (2024...2027).map { year in
            try ProductionCalendarXML.parse(String(contentsOf: sharedData.appendingPathComponent("ru-production-calendar/ru-\(year)-calendar.xml"), encoding: .utf8))
        }
    }
}

/// Runs a test against a fresh installation with topics, the calendar, two units and an administrator token.
func withOmbud(now: Date = Date(timeIntervalSince1970: 1_795_000_000), role: String = "administrator",
               settings adjust: (inout Settings) -> Void = { _ in }, _ body: (TestContext, MutableClock) async throws -> Void) async throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ombud-test-\(UUID().uuidString)")
    var settings = Settings(dataDirectory: dir, databaseURL: TestData.postgresURL)
    settings.attachmentLimit = 64 * 1024
    adjust(&settings)
    let app = try await Application.make(.testing)
    let clock = MutableClock(now)
    app.clock = Clock(now: { clock.now })
    do {
        if let url = TestData.postgresURL { try await resetPostgres(url) }
        try await configure(app, settings: settings)
        try await app.autoMigrate()
        let store = app.store
        _ = try await TopicStore.importClassifier(TestData.topics, store: store)
        for year in try TestData.calendar() { _ = try await CalendarStore.importYear(year, key: "ru", store: store) }
        _ = try await OrgUnits.create(.init(code: "hq", name: "Приёмная HQ", kind: "hq", parentCode: nil), store: store, now: now)
        _ = try await OrgUnits.create(.init(code: "city", name: "Администрация города", kind: "body", parentCode: "hq"), store: store, now: now)
        _ = try await OrgUnits.create(.init(code: "roads", name: "Дорожный отдел", kind: "department", parentCode: "city"), store: store, now: now)
        _ = try await OrgUnits.create(.init(code: "police", name: "Полиция", kind: "body", parentCode: nil), store: store, now: now)
        let hq = try await OrgUnit.query(on: app.db).filter(\.$code == "hq").first()!.requireID()
        let user = User(login: "tester", passwordHash: "not-a-login", roles: [role], fullName: "Tester", unitIDs: [hq], createdAt: now)
        try await user.create(on: app.db)
        let token = try await Accounts.createToken(login: "tester", name: "test", store: store, now: now)
        // As `ombud serve` does, statistics come from the in-memory index (its equality with the database's count is
        // StatsIndexTests').
        await app.ombud.stats.prepare(app.db)
        try await body(TestContext(app: app, token: token, settings: settings), clock)
    } catch {
        try? await app.asyncShutdown()
        try? FileManager.default.removeItem(at: dir)
        throw error
    }
    try await app.asyncShutdown()
    try? FileManager.default.removeItem(at: dir)
}

/// Each test starts from an empty PostgreSQL schema.
func resetPostgres(_ url: String) async throws {
    let app = try await Application.make(.testing)
    app.databases.use(try .postgres(url: url), as: .psql)
    do {
        let sql = app.db as! any SQLDatabase
        try await sql.raw("DROP SCHEMA IF EXISTS public CASCADE").run()
        try await sql.raw("CREATE SCHEMA public").run()
    } catch {
        try? await app.asyncShutdown()
        throw error
    }
    try await app.asyncShutdown()
}

extension TestContext {
    func post<T: Encodable>(_ path: String, _ body: T, check: (TestingHTTPResponse) async throws -> Void) async throws {
        try await app.testing().test(.POST, path, headers: auth, beforeRequest: { req in try req.content.encode(body, as: .json) },
                                     afterResponse: check)
    }

    func get(_ path: String, check: (TestingHTTPResponse) async throws -> Void) async throws {
        try await app.testing().test(.GET, path, headers: auth, afterResponse: check)
    }

    func raw(_ method: HTTPMethod, _ path: String, body: String, contentType: String = "application/json",
             check: (TestingHTTPResponse) async throws -> Void) async throws {
        var headers = auth
        headers.replaceOrAdd(name: .contentType, value: contentType)
        try await app.testing().test(method, path, headers: headers, body: ByteBuffer(string: body), afterResponse: check)
    }

    /// Creates an appeal and returns its view.
    func createAppeal(_ input: [String: AnyEncodable]) async throws -> AppealView {
        var view: AppealView?
        try await post("/api/v1/appeals", input) { res in
            #expect(res.status == .created, "\(res.body.string)")
            view = try? res.content.decode(AppealView.self)
        }
        return try #require(view)
    }

    func transition(_ id: UUID, _ body: [String: String], expect status: HTTPStatus = .ok) async throws -> TestingHTTPResponse? {
        var response: TestingHTTPResponse?
        try await post("/api/v1/appeals/\(id)/transitions", body) { res in
            #expect(res.status == status, "\(body): \(res.body.string)")
            response = res
        }
        return response
    }

    func appealCount() async throws -> Int { try await Appeal.query(on: app.db).count() }
}

struct AnyEncodable: Encodable, Sendable, ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral {
    let encodeValue: @Sendable (any Encoder) throws -> Void
    init<T: Encodable & Sendable>(_ value: T) { encodeValue = { try value.encode(to: $0) } }
    init(stringLiteral value: String) { self.init(value) }
    init(booleanLiteral value: Bool) { self.init(value) }
    init(floatLiteral value: Double) { self.init(value) }
    init(integerLiteral value: Int) { self.init(value) }
    func encode(to encoder: any Encoder) throws { try encodeValue(encoder) }
}



extension HTTPHeaders {
    func adding(contentType: String) -> HTTPHeaders {
        var headers = self
        headers.replaceOrAdd(name: .contentType, value: contentType)
        return headers
    }
}
