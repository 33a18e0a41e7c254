import Fluent
import Vapor

func registerCommands(_ app: Application) async {
    app.asyncCommands.use(AutoMigratingServe(serve: await app.servers.asyncCommand), as: "serve", isDefault: true)
    app.asyncCommands.use(MigrateCommand(), as: "migrate")
    app.asyncCommands.use(TopicsCommand(), as: "topics")
    app.asyncCommands.use(CalendarCommand(), as: "calendar")
    app.asyncCommands.use(UsersCommand(), as: "users")
    app.asyncCommands.use(TokensCommand(), as: "tokens")
    app.asyncCommands.use(ImportCommand(), as: "import")
    app.asyncCommands.use(DemoCommand(), as: "demo")
    app.asyncCommands.use(WorkerCommand(), as: "worker")
}

/// `ombud serve`: migrations run first, so a new installation starts with one command.
struct AutoMigratingServe: AnyAsyncCommand {
    let serve: any AnyAsyncCommand
    var help: String { "Runs migrations, then serves Ombud (default 127.0.0.1:8080; --hostname, --port)." }

    func run(using context: inout CommandContext) async throws {
        if !context.input.arguments.contains(where: { $0 == "--help" || $0 == "-h" }) {
            let app = context.application
            try await app.autoMigrate()
            if app.ombudSettings.runWorker {
                let worker = ServeWorker()
                app.lifecycle.use(worker)
                worker.start(app)
            }
        }
        try await serve.run(using: &context)
    }

    func outputHelp(using context: inout CommandContext) throws {
        try serve.outputHelp(using: &context)
    }
}

struct MigrateCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Flag(name: "revert", help: "Revert the last batch of migrations instead.") var revert: Bool
        init() {}
    }

    var help: String { "Applies pending database migrations (the same on SQLite and PostgreSQL)." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let app = context.application
        if signature.revert {
            try await app.autoRevert()
            context.console.print("Reverted the last batch of migrations.")
        } else {
            try await app.autoMigrate()
            context.console.print("Database is up to date.")
        }
    }
}
