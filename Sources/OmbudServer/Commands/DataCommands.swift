import Fluent
import Foundation
import OmbudDomain
import Vapor

struct TopicsCommand: AsyncCommandGroup {
    var help: String { "Manages the thematic classifier." }
    var commands: [String: any AnyAsyncCommand] { ["import": TopicsImport()] }

    struct TopicsImport: AsyncCommand {
        struct Signature: CommandSignature {
            @Argument(name: "path", help: "classifier.csv, or the folder holding it (e.g. ../shared/data/ru-appeals-classifier)") var path: String
            init() {}
        }
        var help: String { "Loads the official classifier (all levels; levels 4–5 assignable). Local topics are kept." }

        func run(using context: CommandContext, signature: Signature) async throws {
            let app = context.application
            try await app.autoMigrate()
            let count = try await DataImport.topics(path: signature.path, store: app.store)
            context.console.print("Imported \(count) topics.")
        }
    }
}

struct CalendarCommand: AsyncCommandGroup {
    var help: String { "Manages business calendars." }
    var commands: [String: any AnyAsyncCommand] { ["import": CalendarImport()] }

    struct CalendarImport: AsyncCommand {
        struct Signature: CommandSignature {
            @Argument(name: "path", help: "a production-calendar XML file, a Solar Hijri holiday list (.csv: YYYY-MM-DD,name per line), or a folder of them") var path: String
            @Option(name: "calendar", help: "calendar key (default: the installation's OMBUD_CALENDAR, ru)") var calendar: String?
            init() {}
        }
        var help: String { "Loads non-working days and transfers: production-calendar XML (Gregorian) or Solar Hijri holiday lists (a calendar with a Friday weekend)." }

        func run(using context: CommandContext, signature: Signature) async throws {
            let app = context.application
            try await app.autoMigrate()
            let key = signature.calendar ?? app.ombudSettings.calendarKey
            let years = try await DataImport.calendar(path: signature.path, key: key, store: app.store)
            context.console.print("Imported calendar \(key): \(years.map(String.init).joined(separator: ", ")).")
        }
    }
}

struct UsersCommand: AsyncCommandGroup {
    var help: String { "Manages user accounts." }
    var commands: [String: any AnyAsyncCommand] { ["add": UsersAdd(), "passwd": UsersPasswd(), "recover-admin": UsersRecoverAdmin()] }

    struct UsersRecoverAdmin: AsyncCommand {
        struct Signature: CommandSignature {
            @Argument(name: "login", help: "the account to give the administrator role (created if missing)") var login: String
            init() {}
        }
        var help: String {
            "Restores the administrator role with every permission and makes LOGIN an active local administrator with the password read from standard input: the way back in when nobody can administer."
        }

        func run(using context: CommandContext, signature: Signature) async throws {
            let app = context.application
            try await app.autoMigrate()
            guard let password = readLine(strippingNewline: true), !password.isEmpty else {
                throw AppError.missing(field: "password (on standard input)")
            }
            let user = try await Administrators.recover(login: signature.login, password: password, store: app.store, now: Date())
            context.console.print("\(user.login) is an active administrator; the administrator role has every permission again.")
        }
    }

    struct UsersPasswd: AsyncCommand {
        struct Signature: CommandSignature {
            @Argument(name: "login", help: "the user's login") var login: String
            init() {}
        }
        var help: String { "Sets a local user's password (read from standard input) and ends the user's sessions." }

        func run(using context: CommandContext, signature: Signature) async throws {
            let app = context.application
            try await app.autoMigrate()
            guard let password = readLine(strippingNewline: true), !password.isEmpty else {
                throw AppError.missing(field: "password (on standard input)")
            }
            try await Accounts.setPassword(login: signature.login, password: password, by: "console", actorID: nil, store: app.store, now: Date())
            context.console.print("Password of \(signature.login) set; their sessions have ended.")
        }
    }

    struct UsersAdd: AsyncCommand {
        struct Signature: CommandSignature {
            @Argument(name: "login", help: "the user's login") var login: String
            @Option(name: "role", help: "role keys, comma-separated: reception, executor, lawyer, approver, responder, journalist, editor, supervisor, analyst, administrator, or one an administrator created") var role: String?
            @Option(name: "name", help: "full name") var name: String?
            @Option(name: "unit", help: "codes of the user's org units, comma-separated (their scope: these units and those below)") var unit: String?
            init() {}
        }
        var help: String { "Creates a user; the password is read from standard input." }

        func run(using context: CommandContext, signature: Signature) async throws {
            let app = context.application
            try await app.autoMigrate()
            guard let role = signature.role else { throw AppError.missing(field: "--role") }
            guard let password = readLine(strippingNewline: true), !password.isEmpty else {
                throw AppError.missing(field: "password (on standard input)")
            }
            func list(_ raw: String?) -> [String] { (raw ?? "").split(separator: ",").map { $0.trimmed() }.filter { !$0.isEmpty } }
            let user = try await Accounts.addUser(login: signature.login, password: password, roles: list(role), fullName: signature.name,
                                                  unitCodes: list(signature.unit), store: app.store, now: Date())
            context.console.print("Created user \(user.login) with roles \(user.roles.joined(separator: ", ")).")
        }
    }
}

struct TokensCommand: AsyncCommandGroup {
    var help: String { "Manages API tokens." }
    var commands: [String: any AnyAsyncCommand] { ["create": TokensCreate()] }

    struct TokensCreate: AsyncCommand {
        struct Signature: CommandSignature {
            @Argument(name: "login", help: "the user's login") var login: String
            @Option(name: "name", help: "what the token is for") var name: String?
            init() {}
        }
        var help: String { "Creates an API token for a user and prints it as the last word." }

        func run(using context: CommandContext, signature: Signature) async throws {
            let app = context.application
            try await app.autoMigrate()
            let token = try await Accounts.createToken(login: signature.login, name: signature.name ?? "cli", store: app.store, now: Date())
            context.console.print("Token for \(signature.login): \(token)")
        }
    }
}

struct ImportCommand: AsyncCommandGroup {
    var help: String { "Imports appeals from other systems." }
    var commands: [String: any AnyAsyncCommand] { ["spb": SpbImportCommand(), "csv": CSVImportCommand()] }

    struct CSVImportCommand: AsyncCommand {
        struct Signature: CommandSignature {
            @Argument(name: "file", help: "the CSV export (.csv, or .csv.gz)") var file: String
            @Option(name: "mapping", help: "the mapping file (JSON): source, timezone, dateFormats, fields, values") var mapping: String?
            init() {}
        }
        var help: String {
            "Loads another system's appeals from a CSV export as a mapping file describes; a second run adds nothing. Refused rows go to FILE.rejects.csv."
        }

        func run(using context: CommandContext, signature: Signature) async throws {
            guard let mapping = signature.mapping else { throw AppError.missing(field: "--mapping") }
            let app = context.application
            try await app.autoMigrate()
            let terminal = isatty(STDERR_FILENO) == 1
            let result = try await CSVImporter.run(path: signature.file, mapping: mapping, app: app, progress: terminal ? { progress in
                FileHandle.standardError.write(Data("\r\u{1B}[K\(progress.line)".utf8))
            } : nil)
            if terminal { FileHandle.standardError.write(Data("\n".utf8)) }
            var summary = "Imported \(result.imported) appeals from \(result.rows) rows"
            summary += result.present > 0 ? "; \(result.present) were already imported" : ""
            summary += result.refused > 0 ? "; \(result.refused) refused, listed in \(result.rejectsFile ?? "")" : ""
            if result.imported == 0, result.present > 0 { summary += " — nothing new" }
            context.console.print(summary + ".")
        }
    }

    struct SpbImportCommand: AsyncCommand {
        struct Signature: CommandSignature {
            @Argument(name: "path", help: "spb_gorod_appeals_dev.csv.gz (or an uncompressed .csv)") var path: String
            @Option(name: "limit", help: "import at most this many rows") var limit: Int?
            init() {}
        }
        var help: String { "Loads St Petersburg portal appeals: text, topics, executor units, address, coordinates, dates, status." }

        func run(using context: CommandContext, signature: Signature) async throws {
            let app = context.application
            try await app.autoMigrate()
            let result = try await SpbImporter.run(path: signature.path, limit: signature.limit, app: app)
            context.console.print("Imported \(result.imported) appeals (\(result.skipped) already present).")
        }
    }
}

/// `ombud addresses import FILE` and `ombud addresses learn`: the local address register (`AddressRegister`).
struct AddressesCommand: AsyncCommandGroup {
    var help: String { "The address register that gives a typed address its point and district." }
    var commands: [String: any AnyAsyncCommand] { ["import": ImportAddresses(), "learn": LearnAddresses()] }

    struct ImportAddresses: AsyncCommand {
        struct Signature: CommandSignature {
            @Argument(name: "file", help: "CSV (.csv or .csv.gz) with a header: street, house, district, lat, lon") var file: String
            init() {}
        }
        var help: String { "Loads buildings (street, house, district, lat, lon); they take precedence over what was learned from appeals." }

        func run(using context: CommandContext, signature: Signature) async throws {
            let app = context.application
            try await app.autoMigrate()
            let report = try await AddressRegister.importCSV(try DataImport.readText(URL(fileURLWithPath: signature.file)), store: app.store,
                                                             now: app.clock.now())
            for line in report.refused.prefix(50) { context.console.print("refused: \(line)") }
            if report.refused.count > 50 { context.console.print("… and \(report.refused.count - 50) more refused") }
            context.console.print("Imported \(report.imported) buildings; \(report.refused.count) rows refused.")
            if report.imported == 0, !report.refused.isEmpty { throw AppError.invalid(field: "file", reason: "no row could be imported") }
        }
    }

    struct LearnAddresses: AsyncCommand {
        struct Signature: CommandSignature { init() {} }
        var help: String { "Learns buildings, their points and districts from the appeals' addresses (the nightly housekeeping does it too)." }

        func run(using context: CommandContext, signature: Signature) async throws {
            let app = context.application
            try await app.autoMigrate()
            let count = try await AddressRegister.learn(store: app.store, now: app.clock.now())
            context.console.print("Learned \(count) buildings from the appeals.")
        }
    }
}
