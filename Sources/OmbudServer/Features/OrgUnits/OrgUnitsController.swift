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

struct OfficialView: Content {
    var id: UUID
    var fullName: String
    var position: String?
    var email: String?
    var phone: String?
    var isHead: Bool
}

struct OfficialInput: Content {
    var fullName: String
    var position: String?
    var email: String?
    var phone: String?
    var isHead: Bool?
    /// The official's user account, when they have one: a head with an account gets the unit's escalations.
    var userLogin: String?
}

struct OrgUnitCard: Content {
    var unit: OrgUnitView
    var officials: [OfficialView]
    var children: [OrgUnitView]
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
        return try await store.writeReferences { db in
            if try await OrgUnit.query(on: db).filter(\.$code == code).first() != nil {
                throw AppError.conflict(code: "exists", reason: "unit \(code) already exists", field: "code")
            }
            let parentID = try await UnitLookup(db: db).id(input.parentCode, field: "parentCode")
            let unit = OrgUnit(code: code, name: name, kind: kind.rawValue, parentID: parentID, createdAt: now)
            try await unit.create(on: db)
            return unit
        }
    }

    /// Adds an official to a unit; `isHead` makes them the unit's head.
    static func addOfficial(unitCode: String, input: OfficialInput, store: Store) async throws -> Official {
        let name: String
        do throws(ValidationError) {
            name = try Validate.text(input.fullName, field: "fullName", max: 300)!
            if let email = input.email, TextNormalizer.emailKey(email) == nil { throw ValidationError(field: "email", reason: "is not an e-mail address") }
            if let phone = input.phone, TextNormalizer.phoneKey(phone) == nil { throw ValidationError(field: "phone", reason: "is not a phone number") }
        } catch { throw error.appError }
        return try await store.write { db in
            guard let unit = try await OrgUnit.query(on: db).filter(\.$code == unitCode).first() else {
                throw AppError.notFound(entity: "unit", id: unitCode)
            }
            let official = Official()
            official.id = UUID.timeOrdered()
            official.$unit.id = try unit.requireID()
            official.fullName = name
            official.position = input.position
            official.email = input.email
            official.phone = input.phone
            if let login = input.userLogin?.trimmed(), !login.isEmpty {
                guard let user = try await User.query(on: db).filter(\.$login == login).first() else {
                    throw AppError.invalid(field: "userLogin", reason: "no user \(login)")
                }
                official.userID = user.id
            }
            try await official.create(on: db)
            if input.isHead == true {
                unit.headOfficialID = official.id
                try await unit.save(on: db)
            }
            return official
        }
    }

    static func view(_ unit: OrgUnit, codes: [UUID: String]) throws -> OrgUnitView {
        try OrgUnitView(id: unit.requireID(), code: unit.code, name: unit.name, kind: unit.kind, parentCode: unit.$parent.id.flatMap { codes[$0] })
    }
}

struct OrgUnitsController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let units = routes.grouped("org-units")
        units.get(use: list)
        units.get(":code", use: show)
        let manage = units.grouped(Require(.orgUnitsManage))
        manage.post(use: create)
        manage.post(":code", "officials", use: addOfficial)
    }

    func show(req: Request) async throws -> OrgUnitCard {
        _ = try req.actor
        let code = req.parameters.get("code") ?? ""
        guard let unit = try await OrgUnit.query(on: req.db).filter(\.$code == code).first() else { throw AppError.notFound(entity: "unit", id: code) }
        let id = try unit.requireID()
        let officials = try await Official.query(on: req.db).filter(\.$unit.$id == id).sort(\.$fullName).all()
        let children = try await OrgUnit.query(on: req.db).filter(\.$parent.$id == id).sort(\.$code).all()
        let codes = try await UnitLookup(db: req.db).codes([unit.$parent.id].compactMap { $0 })
        return try OrgUnitCard(
            unit: OrgUnits.view(unit, codes: codes),
            officials: officials.map { OfficialView(id: try $0.requireID(), fullName: $0.fullName, position: $0.position, email: $0.email,
                                                    phone: $0.phone, isHead: $0.id == unit.headOfficialID) },
            children: children.map { try OrgUnits.view($0, codes: [id: unit.code]) })
    }

    func addOfficial(req: Request) async throws -> Response {
        let input = try req.content.decode(OfficialInput.self)
        let official = try await OrgUnits.addOfficial(unitCode: req.parameters.get("code") ?? "", input: input, store: req.store)
        return try await OfficialView(id: official.requireID(), fullName: official.fullName, position: official.position, email: official.email,
                                      phone: official.phone, isHead: input.isHead == true).encodeResponse(status: .created, for: req)
    }

    func list(req: Request) async throws -> [OrgUnitView] {
        _ = try req.actor
        let units = try await OrgUnit.query(on: req.db).sort(\.$code).all()
        let codes = try Dictionary(uniqueKeysWithValues: units.map { (try $0.requireID(), $0.code) })
        return try units.map { try OrgUnits.view($0, codes: codes) }
    }

    func create(req: Request) async throws -> Response {
        let unit = try await OrgUnits.create(try req.content.decode(OrgUnitInput.self), store: req.store, now: req.now)
        let codes = try await UnitLookup(db: req.db).codes([unit.$parent.id].compactMap { $0 })
        return try await OrgUnits.view(unit, codes: codes).encodeResponse(status: .created, for: req)
    }
}
