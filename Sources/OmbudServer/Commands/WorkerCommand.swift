import Foundation
import Vapor

/// `ombud worker`: runs background jobs until SIGINT or SIGTERM. Start several on PostgreSQL to share the work.
struct WorkerCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Option(name: "interval", help: "seconds to wait when no job is due (default 2)") var interval: Double?
        @Flag(name: "once", help: "run the jobs due now, then exit") var once: Bool
        init() {}
    }

    var help: String { "Runs background jobs (reminders, escalations, mail) until stopped." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let app = context.application
        try await app.autoMigrate()
        let worker = Worker(app: app)
        if signature.once {
            try await Housekeeping.schedule(app: app)
            var total = 0
            while case let ran = try await worker.runOnce(), ran > 0 { total += ran }
            context.console.print("Ran \(total) job(s).")
            return
        }
        let task = Task { await worker.run(interval: signature.interval ?? 2) }
        await WorkerCommand.waitForTermination()
        task.cancel()
        await task.value
    }

    static func waitForTermination() async {
        let (signals, continuation) = AsyncStream<Int32>.makeStream()
        let sources = [SIGINT, SIGTERM].map { number -> any DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number)
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            return source
        }
        for await _ in signals { break }
        sources.forEach { $0.cancel() }
    }
}

/// The worker that runs inside `ombud serve` (unless `OMBUD_WORKER=off`), stopped with the server.
final class ServeWorker: LifecycleHandler, @unchecked Sendable {
    private var task: Task<Void, Never>?

    /// `serve` and `demo` start the same way: with the worker unless `OMBUD_WORKER=off`.
    static func startIfWanted(_ app: Application) {
        guard app.ombudSettings.runWorker else { return }
        let worker = ServeWorker()
        app.lifecycle.use(worker)
        worker.start(app)
    }

    func start(_ app: Application) {
        let worker = Worker(app: app)
        task = Task { await worker.run() }
    }

    func shutdownAsync(_ application: Application) async {
        task?.cancel()
        await task?.value
    }
}
