import Foundation
import Vapor
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The real `ombud` binary, driven through its CLI and run as `ombud serve` in a subprocess.
@MainActor
final class ServerProcess {
    let binary: URL
    let environment: [String: String]
    let log: URL
    private var process: Process?

    /// The server's process id while it runs.
    var pid: Int32? { process?.processIdentifier }

    init(binary: URL, environment: [String: String], log: URL) {
        self.binary = binary
        self.environment = environment
        self.log = log
    }

    /// Runs one CLI command (`ombud topics import …`) to completion and returns what it printed.
    @discardableResult
    func cli(_ arguments: [String], input: String? = nil) throws -> String {
        String(decoding: try Subprocess.run(binary, arguments, environment: environment, input: input), as: UTF8.self)
    }

    /// Starts `ombud serve` on 127.0.0.1:`port`, output to the log file, and waits until `GET /health` answers 200.
    func start(port: Int, client: HTTPClient) async throws {
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let logHandle = try FileHandle(forWritingTo: log)
        let process = Process()
        process.executableURL = binary
        process.arguments = ["serve", "--hostname", "127.0.0.1", "--port", String(port)]
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = logHandle
        process.standardError = logHandle
        try process.run()
        self.process = process
        ServerProcessGuard.pid = process.processIdentifier

        let health = "http://127.0.0.1:\(port)/health"
        let deadline = ContinuousClock.now + .seconds(60) // migrations on an empty database are quick; the machine may be busy
        while ContinuousClock.now < deadline {
            guard process.isRunning else {
                throw BenchError("ombud serve exited with status \(process.terminationStatus):\n\(logTail())")
            }
            if let response = try? await client.execute(request: HTTPClient.Request(url: health)).get(), response.status == .ok {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw BenchError("ombud serve did not answer GET /health within 60 s:\n\(logTail())")
    }

    /// Stops the server: SIGTERM, up to 10 s for a graceful shutdown, then SIGKILL. Safe to call more than once.
    func stop() {
        guard let process else { return }
        self.process = nil
        ServerProcessGuard.pid = nil
        if process.isRunning {
            process.terminate()
            for _ in 0..<100 where process.isRunning { usleep(100_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
    }

    /// The last lines the server wrote, for error messages.
    func logTail(lines: Int = 30) -> String {
        guard let data = FileManager.default.contents(atPath: log.path) else { return "(no server log)" }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").suffix(lines).joined(separator: "\n")
    }
}

/// Terminates the server subprocess when the benchmark is interrupted (Ctrl-C, SIGTERM).
enum ServerProcessGuard {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var current: Int32? // guarded by lock
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = [] // written once, at start

    static var pid: Int32? {
        get { lock.withLock { current } }
        set { lock.withLock { current = newValue } }
    }

    static func install() {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                if let pid = ServerProcessGuard.pid { kill(pid, SIGTERM) }
                FileHandle.standardError.write(Data("\nombud-bench: interrupted, server stopped\n".utf8))
                exit(130)
            }
            source.resume()
            sources.append(source)
        }
    }
}
