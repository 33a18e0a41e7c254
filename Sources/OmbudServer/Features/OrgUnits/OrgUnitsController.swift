import Fluent
import OmbudDomain
import Vapor

struct OrgUnitView: Content {
    var id: UUID
    var code: String
    var name: String
    var kind: String
    var parentCode: String?
}

struct OrgUnitInput: Content {
    var code: String
    var name: String
    var kind: String
    var parentCode: String?
}

enum OrgUnits {
    static func create(_ input: OrgUnitInput, store: Store, now: Date) async throws -> OrgUnit {
        let kind: OrgUnitKind
        let code: String
        let name: String
        do {
            kind = try Validate.choice(input.kind, field: "kind")
            code = try Validate.text(input.code, field: "code", max: 64)!
            name = try Validate.text(input.name, field: "name", max: 500)!
        } catch { throw error.appError }
        return try await store.write { db in
            if try await OrgUnit.query(on: db).filter(\.$code == code).first() != nil {
                throw AppError.conflict(code: "exists", reason: "unit \(code) already exists", field: "code")
            }
            let parentID = try await UnitLookup(db: db).id(input.parentCode, field: "parentCode")
            let unit = OrgUnit(code: code, name: name, kind: kind.rawValue, parentID: parentID, createdAt: now)
            try await unit.create(on: db)
            return unit
        }
    }

    static func view(_ unit: OrgUnit, codes: [UUID: String]) -> OrgUnitView {
        OrgUnitView(id: unit.id!, code: unit.code, name: unit.name, kind: unit.kind, parentCode: unit.$parent.id.flatMap { codes[$0] })
    }
}

struct OrgUnitsController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let units = routes.grouped("org-units")
        units.get(use: list)
        units.post(use: create)
    }

    func list(req: Request) async throws -> [OrgUnitView] {
        _ = try req.actor
        let units = try await OrgUnit.query(on: req.db).sort(\.$code).all()
        let codes = Dictionary(uniqueKeysWithValues: units.map { ($0.id!, $0.code) })
        return units.map { OrgUnits.view($0, codes: codes) }
    }

    func create(req: Request) async throws -> Response {
        guard try req.actor.role == RoleKey.administrator.rawValue else { throw AppError.forbidden(reason: "only administrators change the org structure") }
        let unit = try await OrgUnits.create(try req.content.decode(OrgUnitInput.self), store: req.store, now: req.now)
        let codes = try await UnitLookup(db: req.db).codes([unit.$parent.id].compactMap { $0 })
        return try await OrgUnits.view(unit, codes: codes).encodeResponse(status: .created, for: req)
    }
}
