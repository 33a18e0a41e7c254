import Fluent
import Foundation
import OmbudDomain
import Vapor

/// `/portal/appeals`: the public list and map — only appeals their authors listed, and of them only the topic,
/// status, district and the approximate point — and e-mail subscriptions to new appeals in an area.
struct PortalListPages: RouteCollection {
    static let pageSize = 50

    func boot(routes: any RoutesBuilder) throws {
        routes.get("appeals", use: list)
        routes.post("subscriptions", use: subscribe)
        routes.get("subscriptions", ":token", use: manage)
        routes.post("subscriptions", ":token", use: change)
    }

    func list(req: Request) async throws -> Response {
        let district = req.query[String.self, at: "district"].nonBlank
        let status = req.query[String.self, at: "status"].nonBlank.flatMap(WorkflowDefinition.Open311Status.init(rawValue:))
        let service = req.query[String.self, at: "service"].nonBlank
        let page = max(0, min(req.query[Int.self, at: "page"] ?? 0, 1000))
        let services = try await Open311Catalogue.entries(db: req.db)
        var filter = PublicAppeals.Filter(district: district, limit: Self.pageSize + 1, offset: page * Self.pageSize)
        if let status { filter.states = PublicAppeals.states(status) }
        if let service, let entry = services.first(where: { $0.row.code == service }) { filter.topic = entry.row.topicCode }
        var items = try await PublicAppeals.find(filter, db: req.db)
        let more = items.count > Self.pageSize
        items = Array(items.prefix(Self.pageSize))
        let topicNames = Dictionary(uniqueKeysWithValues: try await TopicRecord.query(on: req.db).filter(\.$id ~~ Set(items.compactMap(\.topicCode))).all()
            .map { (try $0.requireID(), $0.name) })
        let f = req.format
        let zone = req.settings.timeZone
        let rows: [[String: Any]] = items.map { v in
            let open = AppealTransitions.workflow.state(v.status)?.open311 != .closed
            return ([
                "code": v.trackingCode, "topic": v.topicCode.flatMap { topicNames[$0] } ?? "—", "status": req.text("states", v.status),
                "open": open, "district": v.district, "received": f.date(CivilDate.of(v.receivedAt, in: zone)),
                "osm": v.lat.flatMap { lat in v.lon.map { "https://www.openstreetmap.org/?mlat=\(lat)&mlon=\($0)#map=16/\(lat)/\($0)" } },
            ] as [String: Any?]).present
        }
        var query = [("district", district), ("status", status?.rawValue), ("service", service)].compactMap { k, v in v.map { "\(k)=\($0.queryValue)" } }
        query.append("page=\(page + 1)")
        let districts = try await req.store.references.districts(db: req.db)
        return req.page("portal-list", [
            "items": rows, "nothing": rows.isEmpty,
            "map": Self.map(items, label: { v in "\(v.trackingCode) · \(v.topicCode.flatMap { topicNames[$0] } ?? "")" }) as Any,
            "next": more ? "/portal/appeals?" + query.joined(separator: "&") : "",
            "districts": districts.map { ["name": $0, "selected": $0 == district] },
            "canSubscribe": req.settings.portalMail,
            "services": services.map { ["code": $0.row.code, "name": $0.row.name, "selected": $0.row.code == service] },
            "statuses": ["open", "closed"].map { ["key": $0, "label": req.text("portal", "status-" + $0), "selected": $0 == status?.rawValue] },
        ].compactMapValues { $0 })
    }

    /// The points on a plain projection of their own bounding box: a map that needs no tile server and leaks no
    /// more than the approximate points themselves.
    static func map(_ items: [PublicAppeals.View], label: (PublicAppeals.View) -> String) -> [String: Any]? {
        let points = items.compactMap { v in v.lat.flatMap { lat in v.lon.map { (v, lat, $0) } } }
        guard !points.isEmpty else { return nil }
        let (w, h, pad) = (600.0, 400.0, 20.0)
        let lats = points.map(\.1), lons = points.map(\.2)
        let (minLat, maxLat, minLon, maxLon) = (lats.min()!, lats.max()!, lons.min()!, lons.max()!)
        // Longitude degrees shrink with latitude: scale by the cosine so that the shape is right.
        let k = cos((minLat + maxLat) / 2 * .pi / 180)
        let spanX = max((maxLon - minLon) * k, 0.002), spanY = max(maxLat - minLat, 0.002)
        let scale = min((w - 2 * pad) / spanX, (h - 2 * pad) / spanY)
        let dots: [[String: Any]] = points.map { v, lat, lon in
            let x = pad + ((lon - minLon) * k) * scale + ((w - 2 * pad) - spanX * scale) / 2
            let y = h - pad - (lat - minLat) * scale - ((h - 2 * pad) - spanY * scale) / 2
            let open = AppealTransitions.workflow.state(v.status)?.open311 != .closed
            return ["x": String(format: "%.1f", x), "y": String(format: "%.1f", y), "class": open ? "open" : "closed", "label": label(v)]
        }
        return ["dots": dots, "count": dots.count]
    }

    struct SubscribeForm: Content {
        var email: String?
        var district: String?
        var lat: String?
        var lon: String?
        var radius: String?
        var website: String?
    }

    func subscribe(req: Request) async throws -> Response {
        let form = try req.content.decode(SubscribeForm.self)
        if form.website.nonBlank != nil { throw AppError.invalid(field: "website", reason: "this field must stay empty") }
        try await PublicAppeals.checkRate("portal.subscribe", rule: .portalActions, req: req)
        guard req.settings.portalMail, let base = req.settings.publicURL else {
            throw AppError.conflict(code: "mail-off", reason: "subscriptions need outgoing mail (OMBUD_SMTP_HOST) and OMBUD_PUBLIC_URL", field: nil)
        }
        guard let email = form.email.nonBlank, let key = TextNormalizer.emailKey(email), (try? MailAddress(key)) != nil else {
            throw AppError.invalid(field: "email", reason: "is not an e-mail address")
        }
        let area: AreaSubscription
        do throws(ValidationError) { area = try AreaSubscription(district: form.district, lat: form.lat, lon: form.lon, radius: form.radius) } catch {
            throw AppError.invalid(field: error.field, reason: error.reason)
        }
        let token = PublicAppeals.secret()
        let now = req.now
        let language = req.language
        let link = "\(base)/portal/subscriptions/\(token)"
        let text = req.text("portal", "confirmIntro") + "\n\n" + link + "\n\n" + req.text("portal", "confirmIgnore")
        let subject = req.text("portal", "confirmSubject")
        try await req.store.write { db in
            let row = AreaSubscriptionRecord()
            row.id = UUID.timeOrdered(at: now)
            row.email = key
            row.language = language.rawValue
            row.district = area.district
            row.lat = area.center?.lat
            row.lon = area.center?.lon
            row.radius = area.radius
            row.token = token
            row.createdAt = now
            try await row.create(on: db)
            try await PortalMail.enqueue(to: key, subject: subject, text: text, settings: req.settings, now: now, db: db)
        }
        try await PublicAppeals.recordRate("portal.subscribe", req: req)
        return req.page("portal-subscription", ["sent": true])
    }

    static func subscription(_ req: Request) async throws -> AreaSubscriptionRecord {
        let token = req.parameters.get("token") ?? ""
        guard token.count >= 40, token.count <= 64, let row = try await AreaSubscriptionRecord.query(on: req.db).filter(\.$token == token).first()
        else { throw AppError.notFound(entity: "page", id: "") }
        return row
    }

    /// The link from a mail opens a page with a button: mail scanners follow links, and must not confirm or cancel.
    func manage(req: Request) async throws -> Response {
        let row = try await Self.subscription(req)
        return req.page("portal-subscription", ["manage": true, "confirmed": row.confirmedAt != nil, "token": row.token,
                                                      "area": row.district ?? row.radius.map { "\(Int($0)) m · \(row.lat ?? 0), \(row.lon ?? 0)" } ?? ""])
    }

    func change(req: Request) async throws -> Response {
        let row = try await Self.subscription(req)
        let action = try req.content.get(String.self, at: "action")
        let now = req.now
        switch action {
        case "confirm":
            if row.confirmedAt == nil {
                row.confirmedAt = now
                try await req.store.write { db in try await row.save(on: db) }
            }
            return req.page("portal-subscription", ["done": req.text("portal", "subscriptionConfirmed")])
        case "cancel":
            try await req.store.write { db in try await row.delete(on: db) }
            return req.page("portal-subscription", ["done": req.text("portal", "subscriptionCancelled")])
        default:
            throw AppError.invalid(field: "action", reason: "must be confirm or cancel")
        }
    }
}
