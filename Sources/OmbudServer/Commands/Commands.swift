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
    app.asyncCommands.use(AddressesCommand(), as: "addresses")
    app.asyncCommands.use(DemoCommand(), as: "demo")
    app.asyncCommands.use(WorkerCommand(), as: "worker")
    app.asyncCommands.use(CheckCommand(), as: "check")
    app.asyncCommands.use(Open311Command(), as: "open311")
    app.asyncCommands.use(MailInCommand(), as: "mail-in")
}

/// `ombud serve`: migrations run first, so a new installation starts with one command.
struct AutoMigratingServe: AnyAsyncCommand {
    let serve: any AnyAsyncCommand
    var help: String { "Runs migrations, then serves Ombud (default 127.0.0.1:8080; --hostname, --port)." }

    func run(using context: inout CommandContext) async throws {
        if !context.input.arguments.contains(where: { $0 == "--help" || $0 == "-h" }) {
            try await context.application.autoMigrate()
            ServeWorker.startIfWanted(context.application)
            await context.application.ombud.stats.start(context.application.db)
        }
        try await serve.run(using: &context)
    }

    func outputHelp(using context: inout CommandContext) throws {
        try serve.outputHelp(using: &context)
    }
}

/// `ombud check`: the registry's invariants on the live database; exits non-zero naming what is wrong.
struct CheckCommand: AsyncCommand {
    struct Signature: CommandSignature { init() {} }

    var help: String { "Checks that every open appeal has an open task; exits 1 naming those that do not." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let app = context.application
        let open = try await Appeal.query(on: app.db).filter(\.$status ~~ AppealTransitions.workflow.openStates).count()
        let bare = try await TaskStore.appealsWithoutOpenTask(db: app.db)
        guard bare.isEmpty else {
            context.console.error("\(bare.count) of \(open) open appeals have no open task: \(bare.prefix(20).joined(separator: ", "))")
            throw AppError.conflict(code: "no-open-task", reason: "open appeals without an open task", field: nil)
        }
        context.console.print("\(open) open appeals, each with an open task.")
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
