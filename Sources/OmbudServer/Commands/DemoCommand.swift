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
        // The demo's own organisation first: the St Petersburg appeals come in through its contact centre.
        let staff = try await DemoStaff.units(store: store)
        context.console.print("St Petersburg appeals: reading \(shared)/spb_gorod_appeals_dev.csv.gz …")
        let result = try await SpbImporter.run(path: "\(shared)/spb_gorod_appeals_dev.csv.gz", limit: nil, shiftToNow: true,
                                               officeID: staff["cc-137"], app: app) { done, total in
            // Every 2,000 and the last: two silent minutes look like a hang.
            if done % 2_000 < 500 || done == total { DemoStaff.say("  \(done) of \(total) imported") }
        }
        context.console.print("St Petersburg appeals: \(result.imported) imported, \(result.skipped) already present (dates moved to this week).")
        let addresses = try await AddressRegister.learn(store: store, now: Date())
        context.console.print("Address register: \(addresses) buildings from the appeals' addresses.")

        if try await Open311Service.query(on: store.db).count() == 0 {
            try await Open311Catalogue.demo(store: store)
            context.console.print("Open311 services: the topics of the St Petersburg data.")
        }
        let key = try await Open311Keys.create(name: "demo", actor: nil, store: store, now: Date()).key

        let login = "demo"
        if try await User.query(on: store.db).filter(\.$login == login).first() == nil {
            _ = try await Accounts.addUser(login: login, password: DemoStaff.password, roles: [RoleKey.administrator.rawValue],
                                           fullName: "Demo administrator", unitCodes: [], store: store, now: Date())
        }
        let people = try await DemoStaff.users(store: store)
        let token = try await Accounts.createToken(login: login, name: "demo", store: store, now: Date())
        let host = signature.hostname ?? "127.0.0.1"
        let port = signature.port ?? 8080
        context.console.print("""
            Sign in: http://\(host):\(port)/login  login \(login), password \(DemoStaff.password) (administrator)
            Staff, one per role, the same password:
            \(people.map { "  \($0.login.padding(toLength: 11, withPad: " ", startingAt: 0)) \($0.role) — \($0.unit)" }.joined(separator: "\n"))
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

/// The demo's organisation: a headquarters with a reception office, a contact centre, a legal and a media unit, and
/// one user per shipped role in the unit where that role works (executors in a district administration of the data).
enum DemoStaff {
    static let password = "ombud-demo"

    static let unitPlan: [(code: String, name: String, kind: OrgUnitKind, parent: String?)] = [
        ("hq", "Штаб депутата", .hq, nil),
        ("reception-1", "Общественная приёмная № 1", .reception, "hq"),
        ("cc-137", "Контакт-центр 137", .reception, "hq"),
        ("legal", "Юридический отдел", .department, "hq"),
        ("media", "Пресс-служба", .department, "hq"),
    ]

    /// Who works where: login (the role's key), roles, unit code (nil: the district administration of the data).
    static let userPlan: [(login: String, roles: [RoleKey], unit: String?, name: String)] = [
        ("reception", [.reception], "reception-1", "Анна Приёмова"),
        ("operator", [.reception, .responder], "cc-137", "Олег Операторов"),
        ("responder", [.responder], "cc-137", "Раиса Звонкова"),
        ("executor", [.executor], nil, "Иван Исполнителев"),
        ("approver", [.approver], nil, "Пётр Начальников"),
        ("lawyer", [.lawyer], "legal", "Юлия Юристова"),
        ("journalist", [.journalist], "media", "Жанна Журналистова"),
        ("editor", [.editor], "media", "Эдуард Редакторов"),
        ("supervisor", [.supervisor], "hq", "Светлана Контролёва"),
        ("analyst", [.analyst], "hq", "Антон Аналитиков"),
    ]

    /// The executors' unit: the district administration with the most appeals in the data.
    static let executorUnitName = "Администрация Приморского района"

    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    /// Creates the units that are missing; their ids by code.
    static func units(store: Store) async throws -> [String: UUID] {
        try await store.writeReferences { db in
            var ids: [String: UUID] = [:]
            for plan in unitPlan {
                if let found = try await OrgUnit.query(on: db).filter(\.$code == plan.code).first() {
                    ids[plan.code] = try found.requireID()
                    continue
                }
                let unit = OrgUnit(code: plan.code, name: plan.name, kind: plan.kind.rawValue, parentID: plan.parent.flatMap { ids[$0] },
                                   createdAt: Date())
                try await unit.create(on: db)
                ids[plan.code] = try unit.requireID()
            }
            return ids
        }
    }

    /// Creates the users that are missing (after the import, which makes the executors' unit); what to print.
    static func users(store: Store) async throws -> [(login: String, role: String, unit: String)] {
        let executorUnit = SpbAppealsImport.unitCode(forExecutor: executorUnitName)
        var printed: [(login: String, role: String, unit: String)] = []
        for plan in userPlan {
            let code = plan.unit ?? executorUnit
            let unitName = try await OrgUnit.query(on: store.db).filter(\.$code == code).first()?.name ?? code
            if try await User.query(on: store.db).filter(\.$login == plan.login).first() == nil {
                _ = try await Accounts.addUser(login: plan.login, password: password, roles: plan.roles.map(\.rawValue), fullName: plan.name,
                                               unitCodes: [code], store: store, now: Date())
            }
            printed.append((plan.login, plan.roles.map(\.rawValue).joined(separator: "+"), unitName))
        }
        return printed
    }
}
