import Fluent
import Foundation
import OmbudDomain
import Vapor

/// `ombud demo`: one command from a fresh clone to a running Ombud with real data.
struct DemoCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Option(name: "data", help: "folder with the shared data (default ../shared/data or OMBUD_SHARED_DATA)") var data: String?
        @Option(name: "hostname", short: "H", help: "default 127.0.0.1") var hostname: String?
        @Option(name: "port", short: "p", help: "default 8080") var port: Int?
        @Flag(name: "no-serve", help: "load the data and print the login, then exit") var noServe: Bool
        init() {}
    }

    var help: String { "Loads the classifier, the production calendar and the St Petersburg appeals, creates a demo login, and serves." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let app = context.application
        let store = app.store
        let shared = signature.data ?? ProcessInfo.processInfo.environment["OMBUD_SHARED_DATA"] ?? "../shared/data"
        try await app.autoMigrate()
        if try await TopicRecord.query(on: store.db).count() == 0 {
            let count = try await DataImport.topics(path: "\(shared)/ru-appeals-classifier", store: store)
            context.console.print("Classifier: \(count) topics.")
        }
        if try await CalendarStore.years(app.ombudSettings.calendarKey, db: store.db).isEmpty {
            let years = try await DataImport.calendar(path: "\(shared)/ru-production-calendar", key: app.ombudSettings.calendarKey, store: store)
            context.console.print("Calendar: \(years.map(String.init).joined(separator: ", ")).")
        }
        let result = try await SpbImporter.run(path: "\(shared)/spb_gorod_appeals_dev.csv.gz", limit: nil, app: app)
        context.console.print("St Petersburg appeals: \(result.imported) imported, \(result.skipped) already present.")

        if try await Open311Service.query(on: store.db).count() == 0 {
            try await Open311Catalogue.demo(store: store)
            context.console.print("Open311 services: the topics of the St Petersburg data.")
        }
        let key = try await Open311Keys.create(name: "demo", actor: nil, store: store, now: Date()).key

        let login = "demo"
        if try await User.query(on: store.db).filter(\.$login == login).first() == nil {
            _ = try await Accounts.addUser(login: login, password: "ombud-demo", roles: [RoleKey.administrator.rawValue],
                                           fullName: "Demo administrator", unitCodes: [], store: store, now: Date())
        }
        let token = try await Accounts.createToken(login: login, name: "demo", store: store, now: Date())
        let host = signature.hostname ?? "127.0.0.1"
        let port = signature.port ?? 8080
        context.console.print("""
            Sign in: http://\(host):\(port)/login  login \(login), password ombud-demo (administrator)
            Try:   curl -G -H 'Authorization: Bearer \(token)' --data-urlencode 'q=подъезд' 'http://\(host):\(port)/api/v1/appeals?limit=5'
            API token: \(token)
            Citizens' portal: http://\(host):\(port)/portal
            Open311: http://\(host):\(port)/open311/v2/discovery.xml  api_key \(key)
            """)
        guard !signature.noServe else { return }
        ServeWorker.startIfWanted(app)
        await app.ombud.stats.start(app.db)
        var serveContext = context
        serveContext.input = CommandInput(arguments: ["ombud", "--hostname", host, "--port", String(port)])
        try await (await app.servers.asyncCommand).run(using: &serveContext)
    }
}
