import Fluent
import Foundation
import OmbudDomain
import Vapor

/// `/admin/open311`: the clients' API keys (issued here, shown once, revoked with one button) and the services
/// offered (each a topic, with the topic's checklist questions as its attributes). Keys are credentials, so they
/// need the right to manage users; services are topics, so they need the right to manage topics.
struct Open311AdminPages: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let admin = routes.grouped(PageGuard(), RememberLanguage()).grouped("admin", "open311")
        admin.grouped(Require(.topicsManage)).get(use: page)
        admin.grouped(Require(.topicsManage)).post("services", use: saveService)
        admin.grouped(Require(.usersManage)).post("keys", use: createKey)
        admin.grouped(Require(.usersManage)).post("keys", ":id", "revoke", use: revokeKey)
    }

    func page(req: Request) async throws -> Response { try await Self.page(req) }

    static func page(_ req: Request, error: AppError? = nil, input: [String: String] = [:], newKey: (String, String)? = nil,
                     notice: String? = nil) async throws -> Response {
        let actor = try req.actor
        let f = req.format
        let entries = try await Open311Catalogue.entries(activeOnly: false, db: req.db)
        let clients = actor.can(.usersManage) ? try await Open311Keys.all(db: req.db) : []
        let units = clients.contains { $0.unitID != nil } ? try await UnitLookup(db: req.db).codes(clients.compactMap(\.unitID)) : [:]
        let editing = input["code"].flatMap { code in entries.first { $0.row.code == code } } ?? entries.first { $0.row.code == req.query[String.self, at: "edit"] }
        let values: [String: String] = input.isEmpty ? editing.map { e in [
            "code": e.row.code, "topicCode": e.row.topicCode, "name": e.row.name, "description": e.row.description ?? "", "group": e.row.group ?? "",
            "keywords": e.row.keywords ?? "", "position": String(e.row.position), "checklist": TopicChecklist.source(e.service.checklist),
            "active": e.row.active ? "on" : "",
        ] } ?? ["active": "on", "position": String(entries.count + 1)] : input
        let context: [String: Any?] = [
            "services": entries.map { e in ["code": e.row.code, "topic": e.row.topicCode, "name": e.row.name, "group": e.row.group ?? "",
                                            "questions": f.number(String(e.service.checklist.count)), "active": e.row.active] },
            "clients": try clients.map { c in (["id": try c.requireID().uuidString, "name": c.name, "prefix": c.keyPrefix, "created": f.date(c.createdAt),
                                            "revoked": c.revokedAt.map { f.date($0) }, "unit": c.unitID.flatMap { units[$0] }] as [String: Any?]).present },
            "canKeys": actor.can(.usersManage),
            "input": values, "active": values["active"]?.isEmpty == false,
            "newKey": newKey.map { ["name": $0.0, "key": $0.1] },
            "error": error.map(req.message), "errorField": error?.field, "notice": notice,
            "base": req.baseURL,
        ]
        return req.page("admin-open311", context.present, status: error?.status == .unprocessableEntity ? .unprocessableEntity : (error?.status ?? .ok))
    }

    func saveService(req: Request) async throws -> Response {
        let input = (try? req.content.decode([String: String].self)) ?? [:]
        do {
            guard let position = Int(input["position"]?.trimmed() ?? "1"), (0...10_000).contains(position) else {
                throw AppError.invalid(field: "position", reason: "must be a whole number")
            }
            try await Open311Catalogue.save(.init(code: input["code"] ?? "", topicCode: input["topicCode"] ?? "", name: input["name"] ?? "",
                                                  description: input["description"], group: input["group"], keywords: input["keywords"],
                                                  position: position, active: input["active"] != nil, checklist: input["checklist"] ?? ""),
                                            actor: try req.actor, store: req.store, now: req.now)
        } catch let error as AppError {
            return try await Self.page(req, error: error, input: input)
        }
        return req.redirect(to: "/admin/open311?saved=\((input["code"] ?? "").trimmed().queryValue)", redirectType: .normal)
    }

    func createKey(req: Request) async throws -> Response {
        let name = (try? req.content.get(String.self, at: "name")) ?? ""
        let unit = (try? req.content.get(String.self, at: "unitCode")).nonBlank
        do {
            let (client, key) = try await Open311Keys.create(name: name, unitCode: unit, actor: try req.actor, store: req.store, now: req.now)
            return try await Self.page(req, newKey: (client.name, key))
        } catch let error as AppError {
            return try await Self.page(req, error: error, input: ["clientName": name, "clientUnit": unit ?? ""])
        }
    }

    func revokeKey(req: Request) async throws -> Response {
        guard let id = req.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw AppError.notFound(entity: "open311 client", id: "") }
        let client = try await Open311Keys.revoke(id, actor: try req.actor, store: req.store, now: req.now)
        return try await Self.page(req, notice: req.text("admin", "keyRevoked") + " " + client.name)
    }
}
