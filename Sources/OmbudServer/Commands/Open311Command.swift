import Fluent
import Foundation
import OmbudDomain
import Vapor

/// `ombud open311 keys create|list|revoke` and `ombud open311 services add|list`.
struct Open311Command: AsyncCommandGroup {
    var help: String { "Manages Open311 GeoReport v2: client API keys and the services offered." }
    var commands: [String: any AnyAsyncCommand] { ["keys": Keys(), "services": Services()] }

    struct Keys: AsyncCommandGroup {
        var help: String { "API keys of Open311 clients." }
        var commands: [String: any AnyAsyncCommand] { ["create": Create(), "list": List(), "revoke": Revoke()] }

        struct Create: AsyncCommand {
            struct Signature: CommandSignature {
                @Argument(name: "name", help: "the client the key is for, e.g. \"City 311 app\"") var name: String
                @Option(name: "unit", help: "the org unit (agency) the client speaks for: it may post updates on appeals sent there")
                var unit: String?
                init() {}
            }
            var help: String { "Issues an API key to a client and prints it as the last word (it is not shown again)." }

            func run(using context: CommandContext, signature: Signature) async throws {
                let app = context.application
                try await app.autoMigrate()
                let (client, key) = try await Open311Keys.create(name: signature.name, unitCode: signature.unit, actor: nil, store: app.store, now: Date())
                try context.console.print("Open311 key for \(client.name) (client \(client.requireID().uuidString)): \(key)")
            }
        }

        struct List: AsyncCommand {
            struct Signature: CommandSignature { init() {} }
            var help: String { "Lists clients with the first characters of their keys." }

            func run(using context: CommandContext, signature: Signature) async throws {
                let app = context.application
                try await app.autoMigrate()
                for client in try await Open311Keys.all(db: app.db) {
                    try context.console.print("\(client.requireID().uuidString)  \(client.keyPrefix)…  \(client.revokedAt == nil ? "active " : "revoked")  \(client.name)")
                }
            }
        }

        struct Revoke: AsyncCommand {
            struct Signature: CommandSignature {
                @Argument(name: "client", help: "the client's id (from list)") var client: String
                init() {}
            }
            var help: String { "Revokes a client's key: its next request is refused with 403." }

            func run(using context: CommandContext, signature: Signature) async throws {
                let app = context.application
                try await app.autoMigrate()
                guard let id = UUID(uuidString: signature.client) else { throw AppError.invalid(field: "client", reason: "is not a client id") }
                let client = try await Open311Keys.revoke(id, actor: nil, store: app.store, now: Date())
                context.console.print("Revoked the key of \(client.name).")
            }
        }
    }

    struct Services: AsyncCommandGroup {
        var help: String { "Services (request types) offered through Open311 and as the portal's topics." }
        var commands: [String: any AnyAsyncCommand] { ["add": Add(), "list": List()] }

        struct Add: AsyncCommand {
            struct Signature: CommandSignature {
                @Argument(name: "code", help: "the service_code clients will send") var code: String
                @Option(name: "topic", help: "the classifier topic the service maps to (levels 4–5)") var topic: String?
                @Option(name: "name", help: "the service's name (default: the topic's name)") var name: String?
                @Option(name: "group", help: "a group to list it under") var group: String?
                @Option(name: "checklist", help: "the topic's questions, one per line: code | datatype | required|optional | question [| key=name; …]")
                var checklist: String?
                init() {}
            }
            var help: String { "Adds (or changes) a service mapped to a topic." }

            func run(using context: CommandContext, signature: Signature) async throws {
                let app = context.application
                try await app.autoMigrate()
                let topicCode = signature.topic ?? signature.code
                let topic = try await TopicRecord.find(topicCode, on: app.db)
                let existing = try await Open311Service.query(on: app.db).count()
                let console = Actor.system("console")
                try await Open311Catalogue.save(.init(code: signature.code, topicCode: topicCode, name: signature.name ?? topic?.name ?? signature.code,
                                                      description: nil, group: signature.group, keywords: nil, position: existing + 1,
                                                      active: true,
                                                      checklist: signature.checklist ?? topic.map { TopicChecklist.source(Open311Catalogue.checklist($0)) } ?? ""),
                                                actor: console, store: app.store, now: Date())
                context.console.print("Service \(signature.code) → topic \(topicCode).")
            }
        }

        struct List: AsyncCommand {
            struct Signature: CommandSignature { init() {} }
            var help: String { "Lists the services." }

            func run(using context: CommandContext, signature: Signature) async throws {
                let app = context.application
                try await app.autoMigrate()
                for entry in try await Open311Catalogue.entries(activeOnly: false, db: app.db) {
                    context.console.print("\(entry.row.code)  topic \(entry.row.topicCode)  \(entry.row.active ? "active" : "off")  \(entry.row.name)")
                }
            }
        }
    }
}
