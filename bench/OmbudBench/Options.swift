import Foundation

/// A failure of the benchmark itself (bad arguments, setup, a failed request), shown to the user as is.
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Prints a line at once, even when standard output is a pipe (progress of a long run).
func say(_ line: String) {
    print(line)
    fflush(nil)
}

/// Command-line options of `ombud-bench`.
struct Options: Sendable {
    var postgresURL: String?
    var appeals = 100_000
    var out: String?
    var data = "../shared/data"
    var clients = 16
    var keepData = false
    var stats = false

    static let usage = """
        usage: ombud-bench [--postgres URL] [--appeals N] [--out FILE] [--data DIR] [--clients N] [--keep-data]
          --postgres URL  benchmark on PostgreSQL (an empty database; its schema public is dropped and recreated)
          --appeals N     appeals to register through the API (default 100000)
          --out FILE      append a markdown section with the results to FILE
          --data DIR      folder with the shared data (default ../shared/data)
          --clients N     concurrent HTTP clients (default 16)
          --keep-data     keep the temporary data folder (SQLite file, server log) afterwards
          --stats         instead: import N appeals of a synthetic Boston 311 export with `ombud import csv`
                          (python3 bench/data/boston311.py writes it; run from the project's root), then measure
                          /api/v1/stats, /api/v1/stats/grid and /dashboard on them
        Runs the ombud binary next to this one; build both in release mode (swift build takes one --product):
          swift build -c release --product ombud && swift build -c release --product ombud-bench
        """

    static func parse(_ arguments: [String]) throws(BenchError) -> Options {
        var options = Options()
        var rest = arguments[...]
        func value(_ name: String) throws(BenchError) -> String {
            guard let next = rest.popFirst(), !next.hasPrefix("--") else { throw BenchError("\(name) needs a value") }
            return next
        }
        func count(_ name: String) throws(BenchError) -> Int {
            let raw = try value(name)
            guard let number = Int(raw.replacingOccurrences(of: "_", with: "")), number > 0 else {
                throw BenchError("\(name) must be a positive number, not \(raw)")
            }
            return number
        }
        while let argument = rest.popFirst() {
            switch argument {
            case "--postgres": options.postgresURL = try value(argument)
            case "--appeals": options.appeals = try count(argument)
            case "--out": options.out = try value(argument)
            case "--data": options.data = try value(argument)
            case "--clients": options.clients = try count(argument)
            case "--keep-data": options.keepData = true
            case "--stats": options.stats = true
            case "--help", "-h": throw BenchError(usage)
            default: throw BenchError("unknown argument \(argument)\n\(usage)")
            }
        }
        if let url = options.postgresURL, !(url.hasPrefix("postgres://") || url.hasPrefix("postgresql://")) {
            throw BenchError("--postgres expects a postgres:// URL")
        }
        return options
    }
}
