import Foundation
import Vapor

/// One benchmark run: set up a fresh installation with the CLI, serve it, load appeals, measure, report.
@MainActor
final class Bench {
    let options: Options
    let listVariants = ["limit=50", "limit=50&status=registered", "limit=50&channel=web", "limit=50&overdue=false",
                        "limit=50&topic=0005.0005"]
    let searchWords = ["подъезд", "мусор", "освещение", "двор", "снег", "асфальт", "парадной", "крыша"]
    let warmUp = 50
    let listRequests = 500 // per variant
    let searchRequests = 800 // over all words
    let pageRequests = 500 // per page
    let password = "bench-password-\(UUID().uuidString.prefix(8))"
    let smsSecret = "bench-sms-secret-\(UUID().uuidString.prefix(8))"

    init(options: Options) { self.options = options }

    func run() async throws {
        if options.stats { return try await runStats() }
        let loadBefore = Machine.load
        let binary = try ombudBinary()
        let data = URL(fileURLWithPath: options.data, isDirectory: true).standardizedFileURL
        let csv = data.appendingPathComponent("spb_gorod_appeals_dev.csv.gz").path
        say("Reading appeals from \(csv)…")
        let bodies = try AppealData.bodies(csvGz: csv)
        say("\(bodies.count) appeal texts; they are cycled through \(options.appeals) appeals.")

        let (folder, server, database) = try prepareServer(binary: binary)

        say("Setting up with the ombud CLI…")
        say(try server.cli(["topics", "import", data.appendingPathComponent("ru-appeals-classifier").path]).trimmed)
        say(try server.cli(["calendar", "import", data.appendingPathComponent("ru-production-calendar").path]).trimmed)
        say(try server.cli(["users", "add", "bench", "--role", "administrator", "--name", "Benchmark"],
                             input: password + "\n").trimmed)
        guard let token = try server.cli(["tokens", "create", "bench"]).split(whereSeparator: \.isWhitespace).last else {
            throw BenchError("ombud tokens create printed no token")
        }
        say(try server.cli(["open311", "services", "add", "lighting", "--topic", "0003.0009.0097.0690", "--name", "Уличное освещение"]).trimmed)
        guard let open311Key = try server.cli(["open311", "keys", "create", "bench"]).split(whereSeparator: \.isWhitespace).last else {
            throw BenchError("ombud open311 keys create printed no key")
        }

        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: options.clients)
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(120))
        configuration.redirectConfiguration = .disallow // a page's 303 is an answer to measure, not to follow
        let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)

        var report = Report(cores: Machine.cores, cpu: Machine.cpu, database: database, appeals: options.appeals, clients: options.clients)
        report.notes.append("Server: `\(binary.path) serve` with VAPOR_ENV=production (log level notice)")
        do {
            let port = try Subprocess.freePort()
            say("Starting ombud serve on 127.0.0.1:\(port)…")
            try await server.start(port: port, client: client)
            let cpuBefore = Machine.CPU(server: server.pid)
            try await measure(into: &report, base: "http://127.0.0.1:\(port)", token: String(token), bodies: bodies, client: client)
            try await measurePublic(into: &report, base: "http://127.0.0.1:\(port)", key: String(open311Key), client: client)
            try await measureChannels(into: &report, base: "http://127.0.0.1:\(port)", client: client)
            report.notes.append("CPU during the measured phases (share of all \(report.cores) cores): "
                                + Machine.CPU.share(from: cpuBefore, to: Machine.CPU(server: server.pid),
                                                       postgres: options.postgresURL != nil))
            try await measureSweep(into: &report, base: "http://127.0.0.1:\(port)", token: String(token), client: client, server: server)
            if options.postgresURL == nil {
                let bytes = ["ombud.sqlite", "ombud.sqlite-wal"].compactMap {
                    try? FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent($0).path)[.size] as? Int
                }.reduce(0, +)
                report.notes.append("SQLite file after the run: \(bytes / 1_048_576) MB (with WAL)")
            } else if let url = options.postgresURL,
                      let size = try? Subprocess.tool("psql", [url, "-tAc", "SELECT pg_size_pretty(pg_database_size(current_database()))"]) {
                report.notes.append("PostgreSQL database size after the run: "
                                    + String(decoding: size, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
            }
        } catch {
            server.stop()
            try? await client.shutdown()
            say("Server log: \(server.log.path)\n\(server.logTail())")
            throw error
        }
        server.stop()
        try await client.shutdown()
        report.notes.append("Load average (1 min) before the run: \(loadBefore)")
        if !options.keepData { try? FileManager.default.removeItem(at: folder) }

        say("\n" + report.table())
        let failed = report.rows.filter { $0.result.failures > 0 }
        guard failed.isEmpty else {
            throw BenchError("failed requests in " + failed.map { "\($0.result.name): \($0.result.firstFailure ?? "")" }.joined(separator: "; "))
        }
        if let out = options.out {
            try append(report.markdown(), to: out)
            say("Appended the results to \(out)")
        }
    }

    /// The deadline sweep through a flood: new stage timers make every open task due at once (as
    /// `PUT /api/v1/workflow/timers` does in production); then `ombud worker --once`, alone on the database, works
    /// through them (each task looked at, its next alert computed and written under its version) and the time it takes
    /// gives tasks per second.
    private func measureSweep(into report: inout Report, base: String, token: String, client: HTTPClient, server: ServerProcess) async throws {
        say("Alert sweep: new timers make every open task due at once…")
        var request = try HTTPClient.Request(url: base + "/api/v1/workflow/timers", method: .PUT)
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .string(#"{"timers":[{"state":"registered","limit":{"amount":1,"unit":"hours"}}]}"#)
        // New timers touch every open task in one transaction: minutes at this size, longer than the phases' read timeout.
        var patient = HTTPClient.Configuration()
        patient.timeout = .init(connect: .seconds(10), read: .seconds(1800))
        let slow = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: patient)
        let put = ContinuousClock.now
        let answer: HTTPClient.Response
        do { answer = try await slow.execute(request: request).get() } catch { try? await slow.shutdown(); throw error }
        try await slow.shutdown()
        guard answer.status == .ok else { throw BenchError("PUT /api/v1/workflow/timers answered \(answer.status)") }
        report.notes.append(String(format: "PUT /api/v1/workflow/timers (every open task re-planned in one transaction) took %.1f s",
                                   (ContinuousClock.now - put).seconds))
        server.stop()
        let start = ContinuousClock.now
        let output = try server.cli(["worker", "--once"])
        let seconds = (ContinuousClock.now - start).seconds
        guard let ran = output.firstMatch(of: /Ran (\d+) job/).flatMap({ Int($0.1) }) else {
            throw BenchError("ombud worker --once printed no count: \(output)")
        }
        let rate = Double(ran) / seconds
        report.notes.append(String(format: "Alert sweep: `ombud worker --once` worked through %d due tasks (every open task, after new timers) in %.1f s: %.0f tasks/s",
                                   ran, seconds, rate))
        say(report.notes.last ?? "")
    }

    private func measure(into report: inout Report, base: String, token: String, bodies: [ByteBuffer], client: HTTPClient) async throws {
        let driver = LoadDriver(client: client, clients: options.clients)
        var headers = HTTPHeaders()
        headers.add(name: "Authorization", value: "Bearer \(token)")
        headers.add(name: "Content-Type", value: "application/json")
        let authorized = headers

        say("Intake: \(options.appeals) × POST /api/v1/appeals…")
        let intake = await driver.run("POST /api/v1/appeals (intake)", count: options.appeals, expect: .created,
                                     progressEvery: 10_000) { i in
            try HTTPClient.Request(url: base + "/api/v1/appeals", method: .POST, headers: authorized,
                                   body: .byteBuffer(bodies[i % bodies.count]))
        }
        report.rows.append(.init(result: intake, unit: "appeals/s", target: "≥ 2,000 appeals/s on SQLite",
                                 met: options.postgresURL == nil ? intake.perSecond >= 2000 : nil))
        report.notes.append(String(format: "Intake of %d appeals took %.1f s", intake.requests, intake.elapsed.seconds))
        guard intake.failures == 0 else {
            throw BenchError("\(intake.failures) of \(intake.requests) appeals were not created; first: \(intake.firstFailure ?? "")")
        }

        say("Trivial route: GET /health for 5 s…")
        let until = ContinuousClock.now + .seconds(5)
        let health = await driver.run("GET /health", count: 10_000_000, until: until) { _ in try HTTPClient.Request(url: base + "/health") }
        report.rows.append(.init(result: health, unit: "req/s"))

        say("Lists: \(listVariants.count) variants × (\(warmUp) warm-up + \(listRequests)) requests…")
        var lists: [LoadResult] = []
        for variant in listVariants {
            let url = base + "/api/v1/appeals?" + variant
            let get: @Sendable (Int) throws -> HTTPClient.Request = { _ in try HTTPClient.Request(url: url, headers: authorized) }
            let warm = await driver.run("warm-up", count: warmUp, request: get)
            try check(warm)
            let result = await driver.run("GET /appeals?" + variant, count: listRequests, request: get)
            lists.append(result)
            report.rows.append(.init(result: result, unit: "req/s", target: "p95 ≤ 20 ms", met: result.p95 <= 20))
        }
        let allLists = LoadResult.merged("GET /appeals, all list variants", lists)
        report.rows.append(.init(result: allLists, unit: "req/s", target: "p95 ≤ 20 ms", met: allLists.p95 <= 20))

        let searchURLs = searchWords.map { base + "/api/v1/appeals?limit=50&q=" + $0.addingPercentEncoding(withAllowedCharacters: Self.unreserved)! }
        var hits: [String] = []
        for (word, url) in zip(searchWords, searchURLs) {
            let response = try await client.execute(request: HTTPClient.Request(url: url, headers: authorized)).get()
            guard response.status == .ok, let body = response.body else { throw BenchError("search for \(word) answered \(response.status)") }
            hits.append("\(word) \(try JSONDecoder().decode(Page.self, from: Data(body.readableBytesView)).items.count)")
        }
        report.notes.append("Search words (items on the first page of 50): " + hits.joined(separator: ", "))

        say("Search: \(warmUp) warm-up + \(searchRequests) requests over \(searchWords.count) words…")
        let search: @Sendable (Int) throws -> HTTPClient.Request = { i in
            try HTTPClient.Request(url: searchURLs[i % searchURLs.count], headers: authorized)
        }
        let warm = await driver.run("warm-up", count: warmUp, request: search)
        try check(warm)
        let searched = await driver.run("GET /appeals?q=<word>&limit=50", count: searchRequests, request: search)
        report.rows.append(.init(result: searched, unit: "req/s", target: "p95 ≤ 50 ms", met: searched.p95 <= 50))

        // The staff pages as a browser gets them: signed in with the login form, a session cookie.
        let cookie = try await signIn(base: base, client: client)
        var browser = HTTPHeaders()
        browser.add(name: "Cookie", value: cookie)
        browser.add(name: "Accept-Language", value: "ru-RU,ru;q=0.9")
        let signedIn = browser
        let appeals = options.appeals
        let year = Calendar(identifier: .gregorian).component(.year, from: Date())
        let pages: [(String, @Sendable (Int) -> String)] = [
            ("GET /appeals/new (intake form page)", { _ in "/appeals/new" }),
            ("GET /tasks?view=all (worklist, 50 rows)", { _ in "/tasks?view=all" }),
            ("GET /appeals/{code} (appeal card)", { i in String(format: "/appeals/%d-%06d", year, (i * 7919) % appeals + 1) }),
        ]
        // Server time is a page's own time: one request at a time, so no request waits behind others for one of the
        // two cores. The same pages under 16 clients show the throughput, and how long a page takes when the machine is
        // saturated.
        say("Pages: \(pages.count) × (\(warmUp) warm-up + \(pageRequests) one at a time + \(pageRequests) with \(options.clients) clients)…")
        let single = LoadDriver(client: client, clients: 1)
        for (name, path) in pages {
            let get: @Sendable (Int) throws -> HTTPClient.Request = { i in try HTTPClient.Request(url: base + path(i), headers: signedIn) }
            try check(await driver.run("warm-up", count: warmUp, request: get))
            let alone = await single.run(name + ", server time", count: pageRequests, request: get)
            try check(alone)
            report.rows.append(.init(result: alone, unit: "req/s", target: "p95 ≤ 30 ms", met: alone.p95 <= 30))
            let loaded = await driver.run(name + ", \(options.clients) clients", count: pageRequests, request: get)
            try check(loaded)
            report.rows.append(.init(result: loaded, unit: "req/s"))
        }
        try await measureRepeatCheck(into: &report, base: base, headers: signedIn, bodies: bodies, client: client)
    }

    /// An operator registers a call at the point of an appeal already open on the same topic: the form comes back
    /// (200) with the open appeals nearby. Every open appeal of the topic is weighed, so this is the check at its
    /// largest: tens of thousands of open appeals on one topic.
    private func measureRepeatCheck(into report: inout Report, base: String, headers: HTTPHeaders, bodies: [ByteBuffer], client: HTTPClient) async throws {
        let page = try await client.execute(request: HTTPClient.Request(url: base + "/appeals/new", headers: headers)).get()
        guard let csrf = String(buffer: page.body ?? ByteBuffer()).firstMatch(of: /name="_csrf" value="([^"]+)"/)?.1 else {
            throw BenchError("the intake form has no CSRF token")
        }
        struct Probe: Decodable {
            struct Question: Decodable { var topicCode: String }
            struct Address: Decodable { var lat: Double?, lon: Double? }
            var questions: [Question]
            var address: Address
        }
        // Places of loaded appeals: each call lands on one of them.
        let places: [(String, Double, Double)] = bodies.prefix(2_000).compactMap { body in
            guard let probe = try? JSONDecoder().decode(Probe.self, from: Data(buffer: body)), let topic = probe.questions.first?.topicCode,
                  let lat = probe.address.lat, let lon = probe.address.lon else { return nil }
            return (topic, lat, lon)
        }
        guard !places.isEmpty else { throw BenchError("no appeal with a point to call about") }
        var form = headers
        form.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        let formHeaders = form
        let token = String(csrf)
        let post: @Sendable (Int) throws -> HTTPClient.Request = { i in
            let (topic, lat, lon) = places[i % places.count]
            let body = "_csrf=\(token)&_once=\(UUID().uuidString)&channel=phone&kind=statement&urgency=follow-up&surname=%D0%98%D0%B2%D0%B0%D0%BD%D0%BE%D0%B2"
                + "&text=%D0%9E%D0%BF%D1%8F%D1%82%D1%8C&topics%5B%5D=\(topic)&questionTexts%5B%5D=&point=\(lat)%2C+\(lon)&action=register"
            return try HTTPClient.Request(url: base + "/appeals/new", method: .POST, headers: formHeaders, body: .string(body))
        }
        let single = LoadDriver(client: client, clients: 1)
        say("Repeat check: \(warmUp) warm-up + \(pageRequests / 5) calls one at a time…")
        try check(await single.run("warm-up", count: warmUp, request: post))
        let alone = await single.run("POST /appeals/new (a call where an appeal on its topic is open: the repeat check), server time",
                                     count: pageRequests / 5, request: post)
        try check(alone)
        report.rows.append(.init(result: alone, unit: "req/s"))
    }

    /// The public side: Open311 reports posted by an app (each an appeal with its public row), then the answers the
    /// public reads most — Open311 `GET requests` (up to its 1,000 records) and the portal's list and map.
    private func measurePublic(into report: inout Report, base: String, key: String, client: HTTPClient) async throws {
        let driver = LoadDriver(client: client, clients: options.clients)
        let single = LoadDriver(client: client, clients: 1)
        let reports = min(options.appeals / 10, 10_000)
        var form = HTTPHeaders()
        form.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        let headers = form
        say("Open311: \(reports) × POST /open311/v2/requests.json…")
        let posted = await driver.run("POST /open311/v2/requests.json (Open311 intake)", count: reports, expect: .created) { i in
            let lat = 59.85 + Double(i % 200) * 0.001, lon = 30.2 + Double(i / 200 % 200) * 0.001
            let body = "api_key=\(key)&service_code=lighting&lat=\(lat)&long=\(lon)&description=%D0%9D%D0%B5+%D0%B3%D0%BE%D1%80%D0%B8%D1%82+\(i)"
            return try HTTPClient.Request(url: base + "/open311/v2/requests.json", method: .POST, headers: headers, body: .string(body))
        }
        report.rows.append(.init(result: posted, unit: "reports/s"))
        guard posted.failures == 0 else { throw BenchError("Open311 reports failed: \(posted.firstFailure ?? "")") }
        let reads: [(String, String)] = [
            ("GET /open311/v2/requests.json (1,000 newest of the last 90 days)", "/open311/v2/requests.json"),
            ("GET /open311/v2/requests.xml (the same in XML)", "/open311/v2/requests.xml"),
            ("GET /portal/appeals (public list and map, 50 rows)", "/portal/appeals"),
        ]
        say("Public reads: \(reads.count) × (\(warmUp) warm-up + \(pageRequests / 5) one at a time + \(pageRequests / 5) with \(options.clients) clients)…")
        for (name, path) in reads {
            let get: @Sendable (Int) throws -> HTTPClient.Request = { _ in try HTTPClient.Request(url: base + path) }
            try check(await driver.run("warm-up", count: warmUp, request: get))
            let alone = await single.run(name + ", server time", count: pageRequests / 5, request: get)
            try check(alone)
            report.rows.append(.init(result: alone, unit: "req/s"))
            let loaded = await driver.run(name + ", \(options.clients) clients", count: pageRequests / 5, request: get)
            try check(loaded)
            report.rows.append(.init(result: loaded, unit: "req/s"))
        }
    }

    /// The SMS gateway's webhook: each message signed, from its own phone, a new appeal with a new card.
    private func measureChannels(into report: inout Report, base: String, client: HTTPClient) async throws {
        let driver = LoadDriver(client: client, clients: options.clients)
        let messages = min(options.appeals / 10, 10_000)
        let secret = smsSecret
        say("SMS: \(messages) × POST /channels/sms…")
        let taken = await driver.run("POST /channels/sms (signed SMS, new appeal)", count: messages) { i in
            let body = #"{"id": "bench-\#(i)", "from": "+7921\#(String(format: "%07d", i))", "text": "Не вывозят мусор во дворе, сообщение \#(i)"}"#
            let signature = "sha256=" + HMAC<SHA256>.authenticationCode(for: Data(body.utf8), using: SymmetricKey(data: Data(secret.utf8))).map { String(format: "%02x", $0) }.joined()
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "X-Ombud-Signature", value: signature)
            return try HTTPClient.Request(url: base + "/channels/sms", method: .POST, headers: headers, body: .string(body))
        }
        report.rows.append(.init(result: taken, unit: "messages/s"))
        guard taken.failures == 0 else { throw BenchError("SMS messages failed: \(taken.firstFailure ?? "")") }
    }

    /// Signs in through `/login` (its double-submit CSRF cookie and field) and returns the session cookie.
    func signIn(base: String, client: HTTPClient) async throws -> String {
        let form = try await client.execute(request: HTTPClient.Request(url: base + "/login")).get()
        let html = String(buffer: form.body ?? ByteBuffer())
        guard let csrf = html.firstMatch(of: /name="_csrf" value="([^"]+)"/)?.1,
              let loginCookie = form.headers["set-cookie"].compactMap({ $0.split(separator: ";").first }).first(where: { $0.hasPrefix("ombud_login_csrf=") })
        else { throw BenchError("the login page has no CSRF token") }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        headers.add(name: "Cookie", value: String(loginCookie))
        let body = "_csrf=\(csrf)&login=bench&password=\(password)"
        let response = try await client.execute(request: HTTPClient.Request(url: base + "/login", method: .POST, headers: headers,
                                                                            body: .string(body))).get()
        guard response.status == .seeOther,
              let session = response.headers["set-cookie"].compactMap({ $0.split(separator: ";").first }).first(where: { $0.hasPrefix("ombud_session=") })
        else { throw BenchError("signing in answered \(response.status)") }
        return String(session)
    }

    /// A fresh temporary data folder, the server process on it (not started) and the database's description; with
    /// `--postgres`, the database's schema `public` emptied.
    func prepareServer(binary: URL) throws -> (folder: URL, server: ServerProcess, database: String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ombud-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var environment = ProcessInfo.processInfo.environment
        environment["OMBUD_DATA_DIR"] = folder.path
        environment["OMBUD_DATABASE_URL"] = options.postgresURL
        environment["VAPOR_ENV"] = "production" // as deployed: log level notice, no per-request log lines
        environment["OMBUD_SMS_SECRET"] = smsSecret // SMS in only: the webhook's path is measured, nothing is sent out
        // The alert sweep is measured on its own at the end (`ombud worker --once`), not mixed into the other phases.
        environment["OMBUD_WORKER"] = "off"
        say("Data folder: \(folder.path)")
        let server = ServerProcess(binary: binary, environment: environment, log: folder.appendingPathComponent("server.log"))
        guard let url = options.postgresURL else { return (folder, server, "SQLite (fresh temporary data folder, WAL)") }
        say("Resetting schema public of the PostgreSQL database…")
        try Subprocess.tool("psql", [url, "-v", "ON_ERROR_STOP=1", "-q", "-c", "DROP SCHEMA public CASCADE; CREATE SCHEMA public"])
        let version = (try? Subprocess.tool("psql", [url, "-tAc", "SHOW server_version"])).map { String(decoding: $0, as: UTF8.self) }
        return (folder, server, "PostgreSQL " + (version?.split(separator: " ").first.map(String.init)?.trimmed ?? ""))
    }

    func check(_ warmUp: LoadResult) throws {
        guard warmUp.failures == 0 else { throw BenchError("warm-up failed: \(warmUp.firstFailure ?? "")") }
    }

    /// `.build/release/ombud`, next to this executable.
    func ombudBinary() throws -> URL {
        let me = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
        let binary = me.deletingLastPathComponent().appendingPathComponent("ombud")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw BenchError("no ombud binary at \(binary.path); build it with: swift build -c release --product ombud")
        }
        return binary
    }

    func append(_ text: String, to path: String) throws {
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(("\n" + text).utf8))
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    private struct Page: Decodable {
        struct Item: Decodable {}
        var items: [Item]
    }
}

extension String {
    var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}
