import Fluent
import Foundation
import OmbudDomain
import SQLKit
import Vapor

/// Open311 GeoReport v2 under `/open311/v2/`: discovery, services, service definitions, requests (read and post),
/// tokens, and the Service Request Updates extension. Every answer in XML or JSON as the path's extension asks,
/// errors too, in the spec's shape with 400, 403 or 404.
struct Open311Controller: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let v2 = routes.grouped("open311", "v2")
        v2.get(":file", use: { req in await geo(req) { try await top(req, $0) } })
        v2.get("services", ":file", use: { req in await geo(req) { try await definition(req, $0) } })
        v2.get("requests", ":file", use: { req in await geo(req) { try await one(req, $0) } })
        v2.get("request", ":file", use: { req in await geo(req) { try await one(req, $0) } })
        v2.get("tokens", ":file", use: { req in await geo(req) { try await token(req, $0) } })
        v2.on(.POST, ":file", body: .stream, use: { req in await geo(req) { try await post(req, $0) } })
        for method in [HTTPMethod.GET, .POST] {
            v2.on(method, "**", body: .stream, use: { req in await geo(req) { _ in throw GeoReportError(404, "no such resource; see discovery.xml") } })
        }
    }

    typealias Document = (node: GeoNode, root: String)
    /// A form of fields only (media come as `media_url`): the description's 4,000 characters and the rest fit easily.
    static let maxBody = 64 * 1024

    /// Runs a handler for the format the path names and writes its answer, or its error, in that format.
    func geo(_ req: Request, _ body: (String) async throws -> Document) async -> Response {
        let file = req.parameters.get("file") ?? req.url.path.split(separator: "/").last.map(String.init) ?? ""
        guard let (name, format) = GeoFormat.split(file) else {
            return respond(GeoReportError(404, "add .xml or .json to the resource name").node, root: GeoReportError.root, format: .xml, status: .notFound)
        }
        do {
            try checkJurisdiction(req.query[String.self, at: "jurisdiction_id"], req)
            let (node, root) = try await body(name)
            return respond(node, root: root, format: format, status: req.method == .POST ? .created : .ok)
        } catch let error as GeoReportError {
            return respond(error.node, root: GeoReportError.root, format: format, status: HTTPResponseStatus(statusCode: error.status))
        } catch let error as AppError {
            let status = error.status == .unprocessableEntity ? HTTPResponseStatus.badRequest : error.status
            return respond(GeoReportError(Int(status.code), error.reason).node, root: GeoReportError.root, format: format, status: status)
        } catch where DatabaseOutage.matches(error) {
            let response = respond(GeoReportError(503, "the database cannot be reached just now; try again shortly").node, root: GeoReportError.root,
                                   format: format, status: .serviceUnavailable)
            response.headers.replaceOrAdd(name: .retryAfter, value: String(DatabaseOutage.retryAfter))
            return response
        } catch let error as any AbortError {
            let status = error.status.code < 500 ? error.status : .internalServerError
            return respond(GeoReportError(Int(status.code), error.reason).node, root: GeoReportError.root, format: format, status: status)
        } catch {
            req.logger.error("open311: \(String(reflecting: error))")
            return respond(GeoReportError(500, "the request could not be completed").node, root: GeoReportError.root, format: format, status: .internalServerError)
        }
    }

    func respond(_ node: GeoNode, root: String, format: GeoFormat, status: HTTPResponseStatus) -> Response {
        let response = Response(status: status, body: .init(string: format.render(node, root: root)))
        response.headers.replaceOrAdd(name: .contentType, value: format.contentType)
        response.headers.replaceOrAdd(name: "Access-Control-Allow-Origin", value: "*")
        return response
    }

    /// One installation serves one jurisdiction: a request naming another is refused; an empty one counts as absent.
    func checkJurisdiction(_ asked: String?, _ req: Request) throws {
        if let jurisdiction = req.settings.open311Jurisdiction, let asked = asked.nonBlank, asked != jurisdiction {
            throw GeoReportError(404, "jurisdiction_id \(asked) not found; this endpoint serves \(jurisdiction)")
        }
    }

    func top(_ req: Request, _ name: String) async throws -> Document {
        switch name {
        case "discovery": return try await discovery(req)
        case "services": return (GeoService.list(try await Open311Catalogue.entries(db: req.db).map(\.service)), GeoService.listRoot)
        case "requests": return try await requests(req)
        case "servicerequestupdates": return try await updates(req)
        default: throw GeoReportError(404, "no such resource \(name); see discovery.xml")
        }
    }

    func discovery(_ req: Request) async throws -> Document {
        let base = req.baseURL
        let changed = try await Open311Service.query(on: req.db).max(\.$updatedAt) ?? Date(timeIntervalSince1970: 1_767_225_600)
        return (GeoDiscovery.node(baseURL: base + "/open311/v2", changeset: changed, contact: req.settings.open311Contact ?? base + "/portal",
                                  keyService: "API keys are issued by the administrators of this installation (\(base)/admin/open311)",
                                  zone: req.settings.timeZone), GeoDiscovery.root)
    }

    func definition(_ req: Request, _ code: String) async throws -> Document {
        guard let entry = try await Open311Catalogue.entry(code: code, db: req.db) else { throw GeoReportError(404, "service_code \(code) not found") }
        return (entry.service.definition, GeoService.definitionRoot)
    }

    func requests(_ req: Request) async throws -> Document {
        let params = req.queryFields
        let query = try GeoRequestQuery.parse(params, now: req.now)
        var filter = PublicAppeals.Filter(ids: query.ids, serviceCodes: query.serviceCodes, from: query.start, to: query.end,
                                          limit: GeoRequestQuery.maxRecords)
        if !query.serviceCodes.isEmpty {
            filter.serviceTopics = try await Open311Service.query(on: req.db).filter(\.$code ~~ query.serviceCodes).all().map(\.topicCode)
        }
        if !query.statuses.isEmpty { filter.states = query.statuses.flatMap { PublicAppeals.states($0 == .open ? .open : .closed) } }
        return (GeoServiceRequest.list(try await geoRequests(try await PublicAppeals.find(filter, db: req.db), req: req), zone: req.settings.timeZone),
                GeoServiceRequest.listRoot)
    }

    func one(_ req: Request, _ id: String) async throws -> Document {
        let found = try await PublicAppeals.find(PublicAppeals.Filter(ids: [id]), db: req.db)
        guard !found.isEmpty else { throw GeoReportError(404, "service_request_id \(id) not found") }
        return (GeoServiceRequest.list(try await geoRequests(found, req: req), zone: req.settings.timeZone), GeoServiceRequest.listRoot)
    }

    func token(_ req: Request, _ token: String) async throws -> Document {
        guard let row = try await PublicAppeal.query(on: req.db).filter(\.$requestToken == token).first(),
              let appeal = try await Appeal.find(row.id, on: req.db) else { throw GeoReportError(404, "token \(token) not found") }
        return (GeoServiceRequest.token(token, id: appeal.trackingCode), GeoServiceRequest.listRoot)
    }

    /// The public views as Open311 requests: names of services and agencies looked up once for the whole list.
    func geoRequests(_ views: [PublicAppeals.View], req: Request) async throws -> [GeoServiceRequest] {
        let services = try await Open311Catalogue.entries(activeOnly: false, db: req.db)
        let serviceNames = Dictionary(services.map { ($0.row.code, $0.row.name) }, uniquingKeysWith: { a, _ in a })
        let byTopic = Dictionary(services.map { ($0.row.topicCode, $0.row.code) }, uniquingKeysWith: { a, _ in a })
        let topicCodes = Set(views.compactMap(\.topicCode))
        let topicNames = Dictionary(uniqueKeysWithValues: try await TopicRecord.query(on: req.db).filter(\.$id ~~ topicCodes).all().map { (try $0.requireID(), $0.name) })
        let units = try await PublicAppeals.unitNames(views.compactMap(\.agencyID), db: req.db)
        let zone = req.settings.timeZone
        return views.map { v in
            let code = v.serviceCode ?? v.topicCode.flatMap { byTopic[$0] } ?? v.topicCode ?? "other"
            let state = AppealTransitions.workflow.state(v.status)
            var r = GeoServiceRequest(id: v.trackingCode, status: state?.open311 ?? .open, serviceCode: code, requested: v.receivedAt)
            r.statusNotes = req.text("states", v.status)
            r.serviceName = serviceNames[code] ?? v.topicCode.flatMap { topicNames[$0] }
            r.description = v.text
            r.agencyResponsible = v.agencyID.flatMap { units[$0] }
            r.updated = v.closedAt ?? v.updatedAt
            r.expected = state?.terminal == true ? nil : v.controlDate.flatMap(CivilDate.init(iso:)).map { $0.adding(days: 1).start(in: zone).addingTimeInterval(-1) }
            r.address = v.address ?? v.district
            r.addressID = v.addressID
            r.lat = v.lat
            r.lon = v.lon
            r.mediaURL = v.mediaURL
            return r
        }
    }

    func post(_ req: Request, _ name: String) async throws -> Document {
        guard req.headers.contentType?.type == "application", req.headers.contentType?.subType == "x-www-form-urlencoded" else {
            throw GeoReportError(400, "send the fields as application/x-www-form-urlencoded")
        }
        let body: ByteBuffer
        do { body = try await req.body.collect(max: Self.maxBody).get() ?? ByteBuffer() } catch {
            throw GeoReportError(413, "the request is larger than \(Self.maxBody / 1024) KB")
        }
        let text = String(buffer: body)
        if let field = NULScan.form(text) { throw AppError.nulCharacter(field: field) }  // its own parser, past the decoders
        let pairs = FormPairs.parse(text)
        let fields = Dictionary(pairs, uniquingKeysWith: { first, _ in first })
        try checkJurisdiction(fields["jurisdiction_id"], req)
        let client = try await Open311Keys.client(key: fields["api_key"] ?? req.query[String.self, at: "api_key"], db: req.db)
        switch name {
        case "requests": return try await Open311Intake.create(pairs, client: client, req: req)
        case "servicerequestupdates": return try await Open311Intake.update(fields, client: client, req: req)
        default: throw GeoReportError(404, "no such resource \(name) to post to")
        }
    }

    func updates(_ req: Request) async throws -> Document {
        var params = req.queryFields
        params["service_request_id"] = nil
        let query = try GeoRequestQuery.parse(params, now: req.now)
        let updates = try await Open311Intake.updates(from: query.start, to: query.end, req: req)
        return (GeoRequestUpdate.list(updates, zone: req.settings.timeZone), GeoRequestUpdate.listRoot)
    }
}

/// Form fields in order, a repeated key kept each time (`attribute[kind][]=a&attribute[kind][]=b`).
enum FormPairs {
    static func parse(_ body: String) -> [(String, String)] {
        body.split(separator: "&").compactMap { part in
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String { String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s) }
            guard let key = kv.first.map(decode), !key.isEmpty else { return nil }
            return (key, kv.count > 1 ? decode(kv[1]) : "")
        }
    }
}

extension Request {
    /// The query's parameters as text (the first of a repeated one).
    var queryFields: [String: String] { Dictionary(FormPairs.parse(url.query ?? ""), uniquingKeysWith: { first, _ in first }) }
}
