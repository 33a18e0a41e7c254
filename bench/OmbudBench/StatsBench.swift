import Foundation
import Vapor

/// `ombud-bench --stats`: a synthetic Boston 311 export of `--appeals` rows, spread over the four years up to today,
/// is imported with `ombud import csv` (timed), then the statistics are asked for over HTTP: grouped by one and by two
/// dimensions, the map's grid and the dashboard page, each variant many times, with latencies as the client sees them.
extension Bench {
    var oneDimension: [String] {
        ["groupBy=channel", "groupBy=month", "groupBy=district&measures=count,overdue,onTimeShare", "groupBy=topic",
         "groupBy=executor&measures=count,medianDaysToClose", "groupBy=status&from=2026-01-01"]
    }
    var twoDimensions: [String] {
        ["groupBy=executor,month", "groupBy=channel,week&measures=count,onTimeShare", "groupBy=topic:1,district&measures=count,overdue"]
    }

    func runStats() async throws {
        let loadBefore = Machine.load
        let binary = try ombudBinary()
        let (folder, server, database) = try prepareServer(binary: binary)
        let csv = folder.appendingPathComponent("boston311.csv.gz")
        say("Writing \(options.appeals) rows of a synthetic Boston 311 export to \(csv.path)…")
        try Subprocess.tool("python3", ["bench/data/boston311.py", String(options.appeals), csv.path, "--recent", "1461"])
        say(try server.cli(["users", "add", "bench", "--role", "administrator", "--name", "Benchmark"], input: password + "\n").trimmed)
        guard let token = try server.cli(["tokens", "create", "bench"]).split(whereSeparator: \.isWhitespace).last else {
            throw BenchError("ombud tokens create printed no token")
        }
        say("ombud import csv…")
        let clock = ContinuousClock()
        let started = clock.now
        let imported = try server.cli(["import", "csv", csv.path, "--mapping", "bench/data/boston311.mapping.json"]).trimmed
        let importSeconds = (clock.now - started).seconds
        say(imported + String(format: " (%.1f s)", importSeconds))

        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(300))
        configuration.redirectConfiguration = .disallow
        let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
        let clients = min(options.clients, 2)
        var report = Report(cores: Machine.cores, cpu: Machine.cpu, database: database, appeals: options.appeals, clients: clients)
        let sqlite = options.postgresURL == nil
        report.notes.append(String(format: "`ombud import csv` of %d rows: %.1f s, %.0f rows/s (target on SQLite: ≤ 60 s for 1,000,000 rows%@)",
                                   options.appeals, importSeconds, Double(options.appeals) / importSeconds,
                                   sqlite && options.appeals >= 1_000_000 ? (importSeconds <= 60 ? ": met" : ": NOT met") : ""))
        report.notes.append("Appeals spread over the four years up to today; one question each; 20 topics, 10 executors, 18 districts")
        do {
            let port = try Subprocess.freePort()
            try await server.start(port: port, client: client)
            // The statistics answer from memory once the server has loaded every appeal; until then from the database.
            let loading = clock.now
            while !((try? String(contentsOf: server.log, encoding: .utf8)) ?? "").contains("appeals in memory") {
                guard (clock.now - loading).seconds < 900 else { throw BenchError("the statistics index did not load within 15 minutes") }
                try await Task.sleep(nanoseconds: 200_000_000)
            }
            report.notes.append(String(format: "The server held the %d appeals in memory %.1f s after it answered its first request",
                                       options.appeals, (clock.now - loading).seconds))
            let base = "http://127.0.0.1:\(port)"
            var headers = HTTPHeaders()
            headers.add(name: "Authorization", value: "Bearer \(token)")
            let authorized = headers
            let driver = LoadDriver(client: client, clients: clients)
            let requests = 20
            /// A phase without a `limit` is measured and recorded against no target (the issue sets none).
            func phase(_ name: String, _ paths: [String], headers: HTTPHeaders, target: String? = nil, limit: Double? = nil) async throws {
                var results: [LoadResult] = []
                for path in paths {
                    say("\(name): \(path)…")
                    try check(await driver.run("warm-up", count: 2) { _ in try HTTPClient.Request(url: base + path, headers: headers) })
                    results.append(await driver.run(path, count: requests) { _ in try HTTPClient.Request(url: base + path, headers: headers) })
                }
                let merged = LoadResult.merged(name, results)
                report.rows.append(.init(result: merged, unit: "req/s", target: target, met: limit.map { merged.p95 <= $0 }))
                for result in results {
                    report.notes.append(String(format: "%@: p50 %.0f ms, p95 %.0f ms", result.name, result.p50, result.p95))
                }
            }
            try await phase("GET /api/v1/stats, one dimension", oneDimension.map { "/api/v1/stats?" + $0 }, headers: authorized,
                            target: "p95 ≤ 150 ms", limit: 150)
            try await phase("GET /api/v1/stats, two dimensions", twoDimensions.map { "/api/v1/stats?" + $0 }, headers: authorized,
                            target: "p95 ≤ 300 ms", limit: 300)
            try await phase("GET /api/v1/stats/grid", ["/api/v1/stats/grid?bbox=-71.2,42.2,-70.9,42.45&cell=500"], headers: authorized,
                            target: "p95 ≤ 200 ms", limit: 200)
            var page = HTTPHeaders()
            page.add(name: "Cookie", value: try await signIn(base: base, client: client))
            try await phase("GET /dashboard", ["/dashboard?days=30"], headers: page, target: "p95 ≤ 300 ms", limit: 300)
            // The staff map (its first view finds the extent of every appeal) and a month of the list as a workbook.
            try await phase("GET /map", ["/map", "/map?bbox=-71.2,42.2,-70.9,42.45&view=grid"], headers: page)
            let day = DateFormatter()
            day.locale = Locale(identifier: "en_US_POSIX")
            day.timeZone = TimeZone(identifier: "Europe/Moscow")
            day.dateFormat = "yyyy-MM-dd"
            let monthAgo = day.string(from: Date().addingTimeInterval(-30 * 86_400))
            try await phase("GET /api/v1/appeals?format=xlsx (30 days)", ["/api/v1/appeals?format=xlsx&receivedFrom=\(monthAgo)"], headers: authorized)
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
        if let out = options.out {
            try append(report.markdown().replacingOccurrences(of: "Appeals loaded through the API", with: "Appeals imported with `ombud import csv`"), to: out)
            say("Appended the results to \(out)")
        }
    }
}
