import Fluent
import Foundation
import OmbudDomain
import Vapor

struct NotificationView: Content {
    var id: UUID
    var kind: String
    var appealId: UUID?
    var taskId: UUID?
    var promiseId: UUID?
    var subject: String
    var body: String
    var createdAt: Date
    var readAt: Date?
    var email: String
    var emailTo: String?
    var emailError: String?
    var emailedAt: Date?

    init(_ n: NotificationRecord, showAddress: Bool) throws {
        id = try n.requireID()
        kind = n.kind
        appealId = n.appealID
        taskId = n.taskID
        promiseId = n.promiseID
        subject = n.subject
        body = n.body
        createdAt = n.createdAt
        readAt = n.readAt
        email = n.emailStatus
        emailTo = showAddress ? n.emailTo : nil
        emailError = n.emailError
        emailedAt = n.emailedAt
    }
}

struct NotificationList: Content {
    var items: [NotificationView]
    var unread: Int
}

struct NotificationSettings: Content {
    var email: String?
    var language: String?
    /// Kinds not wanted by e-mail (they still appear in the app).
    var mailOff: [String]?
    /// Every kind there is, for a settings page.
    var kinds: [String]?
    /// Whether this installation sends mail at all.
    var mailConfigured: Bool?
}

struct TemplateView: Content {
    var kind: String
    var language: String
    var subject: String
    var body: String
    var custom: Bool
}

struct TemplateInput: Content {
    var subject: String?
    var body: String?
}

/// The user's notifications and their preferences; for administrators, the texts and everyone's deliveries.
struct NotificationsController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("notifications", use: list)
        routes.post("notifications", "read", use: readAll)
        routes.post("notifications", ":notificationID", "read", use: read)
        routes.get("me", "notification-settings", use: settings)
        routes.put("me", "notification-settings", use: updateSettings)
        let admin = routes.grouped("notification-templates").grouped(Require(.notificationsManage))
        admin.get(use: templates)
        admin.put(":kind", ":language", use: updateTemplate)
        admin.delete(":kind", ":language", use: resetTemplate)
    }

    struct Filters: Content {
        var unread: Bool?
        /// Administrators: another user's (a login), or every user's (`*`).
        var user: String?
        /// Administrators: by delivery (`failed`, `pending`, `sent`, `none`).
        var email: String?
        var limit: Int?
    }

    func list(req: Request) async throws -> NotificationList {
        let f = try req.query.decode(Filters.self)
        let actor = try req.actor
        var query = NotificationRecord.query(on: req.db)
        var owner: UUID? = actor.userID
        if let login = f.user ?? (f.email != nil ? "*" : nil), login != actor.login {
            guard actor.can(.notificationsManage) else { throw AppError.forbidden(reason: "other users' notifications need notifications.manage") }
            if login == "*" { owner = nil } else {
                guard let user = try await User.query(on: req.db).filter(\.$login == login).first() else {
                    throw AppError.invalid(field: "user", reason: "no user \(login)")
                }
                owner = user.id
            }
        }
        if let owner { query = query.filter(\.$user.$id == owner) }
        if let raw = f.email {
            guard let status = DeliveryStatus(rawValue: raw) else { throw AppError.invalid(field: "email", reason: "one of none, pending, sent, failed") }
            query = query.filter(\.$emailStatus == status.rawValue)
        }
        let unread = try await query.copy().filter(\.$readAt == nil).countRows()
        if f.unread == true { query = query.filter(\.$readAt == nil) }
        let limit = f.limit ?? 50
        guard (1...500).contains(limit) else { throw AppError.invalid(field: "limit", reason: "must be between 1 and 500") }
        let items = try await query.sort(\.$createdAt, .descending).limit(limit).all()
        return try NotificationList(items: items.map { try NotificationView($0, showAddress: $0.$user.id == actor.userID || actor.can(.notificationsManage)) },
                                unread: unread)
    }

    func read(req: Request) async throws -> NotificationView {
        let actor = try req.actor
        guard let id = req.parameters.get("notificationID", as: UUID.self) else {
            throw AppError.notFound(entity: "notification", id: req.parameters.get("notificationID") ?? "")
        }
        let now = req.now
        let note = try await req.store.write { db in
            guard let note = try await NotificationRecord.find(id, on: db), note.$user.id == actor.userID else {
                throw AppError.notFound(entity: "notification", id: id.uuidString)
            }
            if note.readAt == nil {
                note.readAt = now
                try await note.save(on: db)
            }
            return note
        }
        return try NotificationView(note, showAddress: true)
    }

    func readAll(req: Request) async throws -> NotificationList {
        let actor = try req.actor
        let now = req.now
        try await req.store.write { db in
            try await NotificationRecord.query(on: db).filter(\.$user.$id == actor.userID).filter(\.$readAt == nil).set(\.$readAt, to: now).update()
        }
        return NotificationList(items: [], unread: 0)
    }

    func settings(req: Request) async throws -> NotificationSettings {
        let user = try await req.currentUser()
        return NotificationSettings(email: user.email, language: user.language, mailOff: user.mailOff,
                                    kinds: NotificationKind.allCases.map(\.rawValue), mailConfigured: req.settings.smtp != nil)
    }

    func updateSettings(req: Request) async throws -> NotificationSettings {
        let input = try req.content.decode(NotificationSettings.self)
        var email: String??
        if let raw = input.email {
            if raw.trimmed().isEmpty { email = .some(nil) } else {
                do { email = .some(try MailAddress(raw, field: "email").address) } catch { throw error.appError }
            }
        }
        var language: UILanguage?
        if let raw = input.language {
            do { language = try Validate.choice(raw, field: "language") as UILanguage } catch { throw error.appError }
        }
        var mailOff: [String]?
        if let kinds = input.mailOff {
            for (i, kind) in kinds.enumerated() where NotificationKind(rawValue: kind) == nil {
                throw AppError.invalid(field: "mailOff[\(i)]", reason: "unknown kind \(kind)")
            }
            mailOff = Array(Set(kinds)).sorted()
        }
        let id = try req.actor.userID
        let updated = try await req.store.write { [email, language, mailOff] db in
            guard let user = try await User.find(id, on: db) else { throw AppError.unauthorized }
            if let email { user.email = email }
            if let language { user.language = language.rawValue }
            if let mailOff { user.mailOff = mailOff }
            try await user.save(on: db)
            return user
        }
        try await req.audit("notification-settings.update", entity: "user", entityID: updated.login)
        return NotificationSettings(email: updated.email, language: updated.language, mailOff: updated.mailOff,
                                    kinds: NotificationKind.allCases.map(\.rawValue), mailConfigured: req.settings.smtp != nil)
    }

    func templates(req: Request) async throws -> [TemplateView] {
        let custom = try await NotificationTemplateRecord.query(on: req.db).all()
        return NotificationKind.allCases.flatMap { kind in
            UILanguage.allCases.map { language in
                if let record = custom.first(where: { $0.kind == kind.rawValue && $0.language == language.rawValue }) {
                    return TemplateView(kind: kind.rawValue, language: language.rawValue, subject: record.subject, body: record.body, custom: true)
                }
                let text = NotificationTexts.shipped[language]?[kind.rawValue]
                return TemplateView(kind: kind.rawValue, language: language.rawValue, subject: text?.subject ?? "", body: text?.body ?? "", custom: false)
            }
        }
    }

    func updateTemplate(req: Request) async throws -> TemplateView {
        let (kind, language) = try Self.key(req)
        let input = try req.content.decode(TemplateInput.self)
        let subject: String
        let body: String
        do {
            subject = try Validate.text(input.subject, field: "subject", max: 300)!
            body = try Validate.text(input.body, field: "body", max: 20_000)!
        } catch { throw error.appError }
        _ = try NotificationTexts.compile(subject, field: "subject")
        _ = try NotificationTexts.compile(body, field: "body")
        let actor = try req.actor
        let now = req.now
        try await req.store.write { db in
            let record = try await NotificationTemplateRecord.query(on: db).filter(\.$kind == kind.rawValue)
                .filter(\.$language == language.rawValue).first() ?? NotificationTemplateRecord()
            if record.id == nil {
                record.id = UUID.timeOrdered(at: now)
                record.kind = kind.rawValue
                record.language = language.rawValue
            }
            record.subject = subject
            record.body = body
            record.updatedBy = actor.login
            record.updatedAt = now
            try await record.save(on: db)
        }
        try await req.audit("notification-template.update", entity: "notification-template", entityID: "\(kind.rawValue)/\(language.rawValue)")
        return TemplateView(kind: kind.rawValue, language: language.rawValue, subject: subject, body: body, custom: true)
    }

    func resetTemplate(req: Request) async throws -> TemplateView {
        let (kind, language) = try Self.key(req)
        try await req.store.write { db in
            try await NotificationTemplateRecord.query(on: db).filter(\.$kind == kind.rawValue).filter(\.$language == language.rawValue).delete()
        }
        try await req.audit("notification-template.reset", entity: "notification-template", entityID: "\(kind.rawValue)/\(language.rawValue)")
        let text = NotificationTexts.shipped[language]?[kind.rawValue]
        return TemplateView(kind: kind.rawValue, language: language.rawValue, subject: text?.subject ?? "", body: text?.body ?? "", custom: false)
    }

    private static func key(_ req: Request) throws -> (NotificationKind, UILanguage) {
        guard let kind = req.parameters.get("kind").flatMap(NotificationKind.init(rawValue:)) else {
            throw AppError.notFound(entity: "notification kind", id: req.parameters.get("kind") ?? "")
        }
        guard let language = req.parameters.get("language").flatMap(UILanguage.init(rawValue:)) else {
            throw AppError.notFound(entity: "language", id: req.parameters.get("language") ?? "")
        }
        return (kind, language)
    }
}
