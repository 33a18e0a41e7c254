import Fluent
import Foundation
import OmbudDomain
import Vapor

/// Administration pages: org units and their officials, users and their roles, topics (the classifier and local
/// topics), calendars, and the workflow drawn as a diagram. Each change goes through the same functions as the API
/// (same rules, same audit); a refused change comes back on the page with its reason and the input kept.
struct AdminPages: RouteCollection {
    let bodyLimit: Int

    func boot(routes: any RoutesBuilder) throws {
        let admin = routes.grouped(PageGuard(), RememberLanguage()).grouped("admin")
        admin.get(use: index)
        let units = admin.grouped(Require(.orgUnitsManage)).grouped("units")
        units.get(use: unitsPage)
        units.post(use: createUnit)
        units.get(":code", use: unitPage)
        units.post(":code", "officials", use: addOfficial)
        let users = admin.grouped(Require(.usersManage)).grouped("users")
        users.get(use: usersPage)
        users.post(use: createUser)
        users.post(":login", use: updateUser)
        let topics = admin.grouped(Require(.topicsManage)).grouped("topics")
        topics.get(use: topicsPage)
        topics.post(use: addTopic)
        topics.on(.POST, "import", body: .collect(maxSize: ByteCount(value: bodyLimit)), use: importTopics)
        let calendars = admin.grouped(Require(.calendarsManage)).grouped("calendars")
        calendars.get(use: calendarsPage)
        calendars.on(.POST, ":key", "years", body: .collect(maxSize: ByteCount(value: bodyLimit)), use: importCalendar)
        admin.grouped(Require(.appealsRead)).get("workflow", use: workflowPage)
    }

    /// The pages this user may open.
    func index(req: Request) async throws -> Response {
        let actor = try req.actor
        let links: [(String, String, Permission)] = [("units", "/admin/units", .orgUnitsManage), ("users", "/admin/users", .usersManage),
                                                     ("topics", "/admin/topics", .topicsManage), ("calendars", "/admin/calendars", .calendarsManage),
                                                     ("open311", "/admin/open311", .topicsManage), ("channels", "/admin/channels", .jobsManage),
                                                     ("workflow", "/admin/workflow", .appealsRead)]
        return req.page("admin", ["links": links.filter { actor.can($0.2) }.map { ["href": $0.1, "label": req.text("admin", $0.0)] }])
    }

    /// Runs a change; a refusal becomes the message and field shown on the page again.
    private func attempt(_ body: () async throws -> Void) async throws -> AppError? {
        do { try await body() } catch let error as AppError { return error }
        return nil
    }

    private func form(_ req: Request) -> [String: String] {
        (try? req.content.decode([String: String].self)) ?? [:]
    }

    // MARK: org units

    func unitsPage(req: Request) async throws -> Response { try await units(req) }

    private func units(_ req: Request, error: AppError? = nil, input: [String: String] = [:], notice: String? = nil) async throws -> Response {
        let all = try await OrgUnit.query(on: req.db).sort(\.$code).all()
        let children = Dictionary(grouping: all, by: { $0.$parent.id })
        var rows: [[String: Any]] = []
        func walk(_ parent: UUID?, depth: Int) {
            for unit in children[parent] ?? [] {
                rows.append(["code": unit.code, "name": unit.name, "kind": req.catalogued("unitKinds", unit.kind), "depth": depth * 2])
                walk(unit.id, depth: depth + 1)
            }
        }
        walk(nil, depth: 0)
        return req.page("admin-units", [
            "units": rows, "input": input, "kinds": OrgUnitKind.allCases.map { ["value": $0.rawValue, "label": req.catalogued("unitKinds", $0.rawValue),
                                                                                "selected": $0.rawValue == input["kind"]] },
            "error": error.map(req.message), "errorField": error?.field, "notice": notice,
        ].present, status: error?.status ?? .ok)
    }

    func createUnit(req: Request) async throws -> Response {
        let input = form(req)
        let error = try await attempt {
            _ = try await OrgUnits.create(OrgUnitInput(code: input["code"] ?? "", name: input["name"] ?? "", kind: input["kind"] ?? "",
                                                       parentCode: input["parentCode"].nonBlank), store: req.store, now: req.now)
            try await req.audit("org-unit.create", entity: "org-unit", entityID: input["code"])
        }
        if let error { return try await units(req, error: error, input: input) }
        return req.redirect(to: "/admin/units/\(input["code"]?.trimmed() ?? "")", redirectType: .normal)
    }

    func unitPage(req: Request) async throws -> Response { try await unit(req) }

    private func unit(_ req: Request, error: AppError? = nil, input: [String: String] = [:]) async throws -> Response {
        let card = try await OrgUnitsController().show(req: req)
        return req.page("admin-unit", [
            "code": card.unit.code, "name": card.unit.name, "kind": req.catalogued("unitKinds", card.unit.kind), "parent": card.unit.parentCode,
            "officials": card.officials.map { ["name": $0.fullName, "position": $0.position, "email": $0.email, "phone": $0.phone, "head": $0.isHead].present },
            "children": card.children.map { ["code": $0.code, "name": $0.name] },
            "input": input, "error": error.map(req.message), "errorField": error?.field,
        ].present, status: error?.status ?? .ok)
    }

    func addOfficial(req: Request) async throws -> Response {
        let input = form(req)
        let code = req.parameters.get("code") ?? ""
        let error = try await attempt {
            _ = try await OrgUnits.addOfficial(unitCode: code, input: OfficialInput(
                fullName: input["fullName"] ?? "", position: input["position"].nonBlank, email: input["email"].nonBlank,
                phone: input["phone"].nonBlank, isHead: input["isHead"] != nil, userLogin: input["userLogin"].nonBlank), store: req.store)
            try await req.audit("org-unit.official", entity: "org-unit", entityID: code, details: input["fullName"])
        }
        if let error { return try await unit(req, error: error, input: input) }
        return req.redirect(to: "/admin/units/\(code)", redirectType: .normal)
    }

    // MARK: users

    func usersPage(req: Request) async throws -> Response { try await users(req) }

    private func users(_ req: Request, error: AppError? = nil, input: UserForm = UserForm()) async throws -> Response {
        let all = try await AccessAdminController().listUsers(req: req)
        let roles = try await RoleRecord.query(on: req.db).filter(\.$isActive == true).sort(\.$key).all().map(\.key)
        let units = try await OrgUnit.query(on: req.db).sort(\.$code).all()
        return req.page("admin-users", [
            "users": all.map { u in
                ["login": u.login, "name": u.fullName,
                 "allRoles": roles.map { ["key": $0, "label": req.catalogued("roles", $0), "on": u.roles.contains($0)] },
                 "units": u.units.joined(separator: ", "), "active": u.isActive, "source": u.authSource,
                 "seen": u.lastSeenAt.map { req.format.dateTime($0) }].present
            },
            // The new-user form as it was sent, when it comes back with an error.
            "roles": roles.map { ["key": $0, "label": req.catalogued("roles", $0), "on": input.roles?.contains($0) ?? false] },
            "units": units.map { ["code": $0.code, "name": $0.name, "selected": input.units?.contains($0.code) ?? false] },
            "input": ["login": input.login ?? "", "fullName": input.fullName ?? ""], "error": error.map(req.message), "errorField": error?.field,
        ].present, status: error?.status ?? .ok)
    }

    struct UserForm: Content {
        var login: String?
        var password: String?
        var fullName: String?
        var roles: [String]?
        var units: [String]?
        var isActive: String?
        var change: String?
    }

    func createUser(req: Request) async throws -> Response {
        let input = (try? req.content.decode(UserForm.self)) ?? UserForm()
        let error = try await attempt {
            try await AccessAdminController.create(UserInput(login: input.login, password: input.password, fullName: input.fullName,
                                                             roles: input.roles, units: input.units), req: req)
        }
        if let error { return try await users(req, error: error, input: input) }
        return req.redirect(to: "/admin/users#user-\(input.login?.trimmed() ?? "")", redirectType: .normal)
    }

    /// Roles, or switching the account on or off (`change` says which, so one form never touches the other).
    func updateUser(req: Request) async throws -> Response {
        let input = (try? req.content.decode(UserForm.self)) ?? UserForm()
        let login = req.parameters.get("login") ?? ""
        let error = try await attempt {
            var update = UserInput()
            switch input.change {
            case "roles": update.roles = input.roles ?? []
            case "active": update.isActive = input.isActive == "true"
            default: throw AppError.missing(field: "change")
            }
            try await AccessAdminController.update(login: login, input: update, req: req)
        }
        if let error { return try await users(req, error: error) }
        return req.redirect(to: "/admin/users#user-\(login)", redirectType: .normal)
    }

    // MARK: topics

    func topicsPage(req: Request) async throws -> Response { try await topics(req) }

    private func topics(_ req: Request, error: AppError? = nil, input: [String: String] = [:], notice: String? = nil) async throws -> Response {
        let q = (req.query[String.self, at: "q"] ?? "").trimmed()
        let found = try await TopicStore.search(TextNormalizer.latinDigits(q), assignableOnly: false, limit: 100, db: req.db)
        let total = try await TopicRecord.query(on: req.db).countRows()
        let local = try await TopicRecord.query(on: req.db).filter(\.$isLocal == true).countRows()
        return req.page("admin-topics", [
            "q": q, "topics": found.map { ["code": $0.id ?? "", "name": $0.name, "level": req.format.number(String($0.level)),
                                           "assignable": $0.assignable, "local": $0.isLocal] },
            "total": req.text("admin", "topicCount", ["n": total, "local": local]),
            "input": input, "error": error.map(req.message), "errorField": error?.field, "notice": notice,
        ].present, status: error?.status ?? .ok)
    }

    func addTopic(req: Request) async throws -> Response {
        let input = form(req)
        let error = try await attempt { _ = try await TopicsController().addLocal(req: req) }
        if let error { return try await topics(req, error: error, input: input) }
        return req.redirect(to: "/admin/topics?q=\((input["code"] ?? "").queryValue)",
                            redirectType: .normal)
    }

    /// The official classifier as its CSV file (`ombud topics import` on the command line does the same).
    func importTopics(req: Request) async throws -> Response {
        var count = 0
        let error = try await attempt {
            guard let file = try? req.content.get(File.self, at: "file"), file.data.readableBytes > 0 else { throw AppError.missing(field: "file") }
            let csv = String(buffer: file.data)
            try NULGuard.refuse(csv, field: "file")
            let parsed: [Topic]
            do { parsed = try Classifier.parse(csv: csv) } catch { throw AppError.invalid(field: "file", reason: "not the classifier's CSV: \(error)") }
            guard !parsed.isEmpty else { throw AppError.invalid(field: "file", reason: "the file holds no topics") }
            count = try await TopicStore.importClassifier(parsed, store: req.store)
            try await req.audit("topics.import", entity: "topics", details: "\(count)")
        }
        if let error { return try await topics(req, error: error) }
        return try await topics(req, notice: req.text("admin", "topicsImported", ["n": count]))
    }

    // MARK: calendars

    func calendarsPage(req: Request) async throws -> Response { try await calendars(req) }

    private func calendars(_ req: Request, error: AppError? = nil, notice: String? = nil) async throws -> Response {
        let records = try await CalendarRecord.query(on: req.db).sort(\.$key).all()
        var rows: [[String: Any]] = []
        for record in records {
            let years = try await CalendarStore.years(record.key, system: record.calendarSystem, db: req.db)
            rows.append(["key": record.key, "name": record.name, "system": req.catalogued("calendarSystems", record.system),
                         "weekend": record.weekend.map { req.catalogued("weekdays", $0) }.joined(separator: ", "),
                         "years": years.map { req.format.number(String($0)) }.joined(separator: ", "),
                         "current": record.key == req.settings.calendarKey])
        }
        return req.page("admin-calendars", ["calendars": rows, "error": error.map(req.message), "notice": notice].present, status: error?.status ?? .ok)
    }

    func importCalendar(req: Request) async throws -> Response {
        let key = req.parameters.get("key") ?? ""
        let error = try await attempt {
            guard let record = try await CalendarRecord.query(on: req.db).filter(\.$key == key).first() else {
                throw AppError.notFound(entity: "calendar", id: key)
            }
            guard let file = try? req.content.get(File.self, at: "file"), file.data.readableBytes > 0 else { throw AppError.missing(field: "file") }
            try await CalendarsController.importYears(String(buffer: file.data), into: record, req: req)
        }
        if let error { return try await calendars(req, error: error) }
        return try await calendars(req, notice: req.text("admin", "calendarImported"))
    }

    // MARK: workflow

    /// The workflow's states, transitions (who may take them, what they need), stage tasks and timers, and the diagram.
    func workflowPage(req: Request) async throws -> Response {
        let workflow = AppealTransitions.workflow
        let diagram = WorkflowDiagram(workflow)
        let control = try await req.store.references.stageControl(db: req.db)
        let state: (String) -> String = { req.text("states", $0) }
        let limit: (TimeLimit?) -> String? = { $0.map { "\(req.format.number(String($0.amount))) \(req.catalogued("timeUnits", $0.unit.rawValue))" } }
        return req.page("admin-workflow", [
            "width": diagram.width, "height": diagram.height,
            "nodes": diagram.nodes.map { n in
                ["key": n.key, "label": state(n.key), "x": n.x, "y": n.y, "tx": n.x + WorkflowDiagram.nodeWidth / 2, "ty": n.y + WorkflowDiagram.nodeHeight / 2 + 5,
                 "w": WorkflowDiagram.nodeWidth, "h": WorkflowDiagram.nodeHeight, "terminal": n.terminal]
            },
            "edges": diagram.edges.map { ["path": $0.path, "back": $0.back, "title": "\(state($0.from)) → \(state($0.to))"] },
            "anyState": diagram.fromAnyOpenState.map(state).joined(separator: ", "),
            "transitions": workflow.transitions.map { t in
                ["from": t.from.contains("*") ? req.text("admin", "anyOpenState") : t.from.map(state).joined(separator: ", "), "to": state(t.to),
                 "roles": t.roles.sorted().map { req.catalogued("roles", $0) }.joined(separator: ", "),
                 "requires": t.requires.map { req.catalogued("requirements", $0.rawValue) }.joined(separator: ", ")]
            },
            "timers": control.timers.map { t in
                ["state": state(t.state), "limit": limit(t.limit), "remind": limit(t.remindBefore), "stuck": limit(t.stuckAfter),
                 "escalation": t.escalation.map { req.text("levels", $0.rawValue) }.joined(separator: " → ")].present
            },
            "tasks": control.tasks.map { t in ["state": state(t.state), "title": req.catalogued("tasks", t.key)] },
        ])
    }
}
