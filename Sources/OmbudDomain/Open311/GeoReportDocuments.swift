import Foundation

/// A service (a request type) as Open311 lists it; in Ombud each maps to a topic of the classifier.
public struct GeoService: Sendable, Equatable {
    public var code: String
    public var name: String
    public var description: String?
    public var keywords: String?
    public var group: String?
    public var checklist: [ChecklistQuestion]

    /// The questions an Open311 client is asked: those not kept for other channels.
    public var attributes: [ChecklistQuestion] { checklist.filter { $0.asked(on: "open311") } }

    public init(code: String, name: String, description: String?, keywords: String?, group: String?, checklist: [ChecklistQuestion]) {
        self.code = code
        self.name = name
        self.description = description
        self.keywords = keywords
        self.group = group
        self.checklist = checklist
    }

    public var node: GeoNode {
        .object([("service_code", .text(code)), ("service_name", .text(name)), ("description", .optional(description)),
                 ("metadata", .bool(!attributes.isEmpty)), ("type", .text("realtime")), ("keywords", .optional(keywords)),
                 ("group", .optional(group))])
    }

    public static func list(_ services: [GeoService]) -> GeoNode { .list(item: "service", services.map(\.node)) }
    public static let listRoot = "services"

    /// `services/{code}.{fmt}`: the checklist questions as attributes.
    public var definition: GeoNode {
        .object([("service_code", .text(code)), ("attributes", .list(item: "attribute", attributes.enumerated().map { i, q in
            var members: [(String, GeoNode)] = [
                ("variable", .bool(true)), ("code", .text(q.code)), ("datatype", .text(q.datatype.rawValue)), ("required", .bool(q.required)),
                ("datatype_description", .null), ("order", .int(i + 1)), ("description", .text(q.text)),
            ]
            if !q.values.isEmpty {
                members.append(("values", .list(item: "value", q.values.map { .object([("key", .text($0.key)), ("name", .text($0.name))]) })))
            }
            return .object(members)
        }))])
    }
    public static let definitionRoot = "service_definition"
}

/// A service request as `GET requests` shows it: only what the jurisdiction publishes, status reduced to open/closed.
public struct GeoServiceRequest: Sendable, Equatable {
    public var id: String
    public var status: WorkflowDefinition.Open311Status
    public var statusNotes: String?
    public var serviceName: String?
    public var serviceCode: String
    public var description: String?
    public var agencyResponsible: String?
    public var serviceNotice: String?
    public var requested: Date
    public var updated: Date?
    public var expected: Date?
    public var address: String?
    public var addressID: String?
    public var zipcode: String?
    public var lat: Double?
    public var lon: Double?
    public var mediaURL: String?

    public init(id: String, status: WorkflowDefinition.Open311Status, serviceCode: String, requested: Date) {
        self.id = id
        self.status = status
        self.serviceCode = serviceCode
        self.requested = requested
    }

    public func node(zone: TimeZone) -> GeoNode {
        func date(_ d: Date?) -> GeoNode { d.map { .text(W3CDateTime.string($0, zone: zone)) } ?? .null }
        return .object([
            ("service_request_id", .text(id)), ("status", .text(status.rawValue)), ("status_notes", .optional(statusNotes)),
            ("service_name", .optional(serviceName)), ("service_code", .text(serviceCode)), ("description", .optional(description)),
            ("agency_responsible", .optional(agencyResponsible)), ("service_notice", .optional(serviceNotice)),
            ("requested_datetime", date(requested)), ("updated_datetime", date(updated)), ("expected_datetime", date(expected)),
            ("address", .optional(address)), ("address_id", .optional(addressID)), ("zipcode", .optional(zipcode)),
            ("lat", lat.map(GeoNode.double) ?? .null), ("long", lon.map(GeoNode.double) ?? .null), ("media_url", .text(mediaURL ?? "")),
        ])
    }

    public static func list(_ requests: [GeoServiceRequest], zone: TimeZone) -> GeoNode {
        .list(item: "request", requests.map { $0.node(zone: zone) })
    }
    public static let listRoot = "service_requests"

    /// The answer to `POST requests`: the new request's id, the token that finds it, and what happens next.
    /// The answer to `POST requests`. A request becomes an appeal at once, so it has its id and, as the spec says,
    /// no token (a token is "only returned if service_request_id isn't available").
    public static func created(id: String, notice: String?) -> GeoNode {
        .list(item: "request", [.object([("service_request_id", .text(id)), ("service_notice", .optional(notice)), ("account_id", .null)])])
    }

    /// The answer to `GET tokens/{token}`.
    public static func token(_ token: String, id: String) -> GeoNode {
        .list(item: "request", [.object([("service_request_id", .text(id)), ("token", .text(token))])])
    }
}

/// The Service Request Updates extension (as FixMyStreet defines it): progress on requests, both ways.
public struct GeoRequestUpdate: Sendable, Equatable {
    public var id: String
    public var requestID: String
    public var status: String
    public var updated: Date
    public var description: String
    public var mediaURL: String?

    public init(id: String, requestID: String, status: String, updated: Date, description: String, mediaURL: String? = nil) {
        self.id = id
        self.requestID = requestID
        self.status = status
        self.updated = updated
        self.description = description
        self.mediaURL = mediaURL
    }

    public func node(zone: TimeZone) -> GeoNode {
        .object([("update_id", .text(id)), ("service_request_id", .text(requestID)), ("status", .text(status)),
                 ("updated_datetime", .text(W3CDateTime.string(updated, zone: zone))), ("description", .text(description)),
                 ("media_url", .text(mediaURL ?? ""))])
    }

    public static func list(_ updates: [GeoRequestUpdate], zone: TimeZone) -> GeoNode {
        .list(item: "request_update", updates.map { $0.node(zone: zone) })
    }
    public static let listRoot = "service_request_updates"

    /// Statuses an outside agency may report: the standard two and FixMyStreet's finer ones, each open or closed.
    public static let statuses: [String: WorkflowDefinition.Open311Status] = [
        "OPEN": .open, "IN_PROGRESS": .open, "ACTION_SCHEDULED": .open, "INVESTIGATING": .open, "INTERNAL_REFERRAL": .open,
        "CLOSED": .closed, "FIXED": .closed, "NO_FURTHER_ACTION": .closed, "NOT_COUNCILS_RESPONSIBILITY": .closed, "DUPLICATE": .closed,
    ]

    /// A posted update, checked: the fields the extension names.
    public struct Posted: Sendable, Equatable {
        public var requestID: String
        public var externalID: String?
        public var status: String
        public var updated: Date
        public var description: String
        public var mediaURL: String?

        public static func parse(_ p: [String: String]) throws(GeoReportError) -> Posted {
            func value(_ key: String) -> String? { p[key]?.trimmed().nonEmptyText }
            guard let id = value("service_request_id") else { throw .missing("service_request_id") }
            guard let status = value("status")?.uppercased() else { throw .missing("status") }
            guard statuses[status] != nil else { throw .invalid("status", "must be one of " + statuses.keys.sorted().joined(separator: ", ")) }
            guard let raw = value("updated_datetime") else { throw .missing("updated_datetime") }
            guard let updated = W3CDateTime.parse(raw) else { throw .invalid("updated_datetime", "must be a W3C date-time with a time zone") }
            guard let description = value("description") else { throw .missing("description") }
            guard description.count <= GeoNewRequest.maxDescription else { throw .invalid("description", "is longer than \(GeoNewRequest.maxDescription) characters") }
            let externalID = value("update_id")
            guard (externalID?.count ?? 0) <= 100 else { throw .invalid("update_id", "is longer than 100 characters") }
            if let url = value("media_url") {
                guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? "") else {
                    throw .invalid("media_url", "must be an absolute http or https URL")
                }
            }
            return Posted(requestID: id, externalID: externalID, status: status, updated: updated, description: description, mediaURL: value("media_url"))
        }
    }
}

/// `discovery.{fmt}`: where this GeoReport v2 endpoint is and what it speaks.
public enum GeoDiscovery {
    public static let specification = "http://wiki.open311.org/GeoReport_v2"

    public static func node(baseURL: String, changeset: Date, contact: String, keyService: String, zone: TimeZone) -> GeoNode {
        let stamp = W3CDateTime.string(changeset, zone: zone)
        return .object([
            ("changeset", .text(stamp)), ("contact", .text(contact)), ("key_service", .text(keyService)),
            ("endpoints", .list(item: "endpoint", [.object([
                ("specification", .text(specification)), ("url", .text(baseURL)), ("changeset", .text(stamp)), ("type", .text("production")),
                ("formats", .list(item: "format", [.text("text/xml"), .text("application/json")])),
            ])])),
        ])
    }
    public static let root = "discovery"
}

extension String {
    var nonEmptyText: String? { isEmpty ? nil : self }
}
