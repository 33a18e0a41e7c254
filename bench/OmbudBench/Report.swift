import Foundation

/// The figures of one run, as a console table and as a markdown section.
struct Report {
    struct Row {
        var result: LoadResult
        var unit: String // what the rate counts: "appeals/s" or "req/s"
        var target: String?
        var met: Bool?
    }

    var date = Date()
    var cores: String
    var cpu: String
    var database: String
    var appeals: Int
    var clients: Int
    var rows: [Row] = []
    var notes: [String] = []

    var utc: String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm 'UTC'"
        return formatter.string(from: date)
    }

    func table() -> String {
        var lines = ["\(database), \(appeals) appeals, \(clients) clients, \(cores) cores (\(cpu))",
                     pad("phase", 42) + pad("requests", 10) + pad("fail", 6) + pad("rate", 18) + pad("p50 ms", 9)
                         + pad("p95 ms", 9) + "target"]
        for row in rows {
            let r = row.result
            lines.append(pad(r.name, 42) + pad("\(r.requests)", 10) + pad("\(r.failures)", 6)
                         + pad(fixed(r.perSecond, 0) + " " + row.unit, 18) + pad(fixed(r.p50, 2), 9) + pad(fixed(r.p95, 2), 9)
                         + verdict(row))
        }
        return (lines + notes).joined(separator: "\n")
    }

    func markdown() -> String {
        var lines = ["## \(utc) — \(database), \(grouped(appeals)) appeals", "",
                     "- Machine: \(cores) cores (`nproc`), \(cpu); client and server share them",
                     "- Database: \(database)",
                     "- Appeals loaded through the API: \(grouped(appeals)); \(clients) concurrent clients", "",
                     "| phase | requests | failures | rate | p50 ms | p95 ms | target |",
                     "|---|---:|---:|---:|---:|---:|---|"]
        for row in rows {
            let r = row.result
            lines.append("| \(r.name) | \(r.requests) | \(r.failures) | \(fixed(r.perSecond, 0)) \(row.unit) | \(fixed(r.p50, 2)) "
                         + "| \(fixed(r.p95, 2)) | \(verdict(row)) |")
        }
        if !notes.isEmpty { lines += [""] + notes.map { "- " + $0 } }
        return lines.joined(separator: "\n") + "\n"
    }

    private func verdict(_ row: Row) -> String {
        guard let target = row.target else { return "" }
        switch row.met {
        case true?: return target + ": met"
        case false?: return target + ": NOT met"
        case nil: return target + " (n/a)"
        }
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }

    private func grouped(_ value: Int) -> String { value.formatted(.number.locale(Locale(identifier: "en_US"))) }

    private func fixed(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }
}

/// `nproc` and the CPU model from /proc/cpuinfo.
enum Machine {
    static var cores: String {
        let output = try? Subprocess.tool("nproc", [])
        return output.map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
            ?? String(ProcessInfo.processInfo.activeProcessorCount)
    }

    /// CPU time in clock ticks: busy and total over all cores (/proc/stat), and used by `pid` (/proc/<pid>/stat).
    struct CPU {
        var busy = 0, total = 0, server = 0, bench = 0, postgres = 0

        init(server pid: Int32?) {
            if let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
               let line = stat.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) {
                let ticks = line.split(separator: " ").dropFirst().compactMap { Int($0) }
                if ticks.count >= 8 {
                    total = ticks.prefix(8).reduce(0, +)
                    busy = total - ticks[3] - ticks[4] // minus idle and iowait
                }
            }
            server = pid.map { Self.ticks(of: "/proc/\($0)/stat") } ?? 0
            bench = Self.ticks(of: "/proc/self/stat")
            // PostgreSQL's own processes (postmaster and backends), which would otherwise count as other work.
            let processes = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
            for entry in processes where entry.allSatisfy(\.isNumber) {
                let path = "/proc/\(entry)/stat"
                if let stat = try? String(contentsOfFile: path, encoding: .utf8), stat.contains(" (postgres) ") {
                    postgres += Self.ticks(of: path)
                }
            }
        }

        /// utime + stime of a process (fields 14 and 15; the name in parentheses may contain spaces).
        private static func ticks(of path: String) -> Int {
            guard let stat = try? String(contentsOfFile: path, encoding: .utf8), let close = stat.lastIndex(of: ")") else { return 0 }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 13, let user = Int(fields[11]), let system = Int(fields[12]) else { return 0 }
            return user + system
        }

        /// How the machine's CPU capacity was spent between two samples, in percent of all cores.
        static func share(from a: CPU, to b: CPU, postgres counted: Bool) -> String {
            let total = Double(max(b.total - a.total, 1)), busy = Double(b.busy - a.busy)
            let server = Double(b.server - a.server), bench = Double(b.bench - a.bench)
            let postgres = counted ? Double(max(b.postgres - a.postgres, 0)) : 0
            func percent(_ ticks: Double) -> String { String(format: "%.0f%%", 100 * max(ticks, 0) / total) }
            return "ombud \(percent(server)), ombud-bench \(percent(bench)), "
                + (counted ? "PostgreSQL \(percent(postgres)), " : "")
                + "other processes \(percent(busy - server - bench - postgres)), idle \(percent(total - busy))"
        }
    }

    /// The 1-minute load average: the other work on the machine (builds, tests) the figures competed with.
    static var load: String {
        let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
        return text.split(separator: " ").first.map(String.init) ?? "?"
    }

    static var cpu: String {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = info.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
              let colon = line.firstIndex(of: ":") else { return "unknown CPU" }
        return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
}
