import Fluent
import Foundation
import OmbudDomain
import Vapor

/// `/portal/track`: a citizen registered at reception or by phone finds the appeal by its tracking code and the PIN
/// printed on the slip, or the phone or e-mail given at intake. A form, and the same as `GET ?code=…&pin=…` or
/// `?code=…&contact=…`. A right pair shows the status page under a fresh secret link; a wrong pair, an unknown code
/// and an appeal that is not there all look alike and show nothing of it. Lookups are limited per client address
/// (`Tracking.attempts`) and per code from anywhere (`Tracking.lookupsPerCode`), both counted with the request itself, so a PIN cannot be guessed.
struct PortalTrackPages: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("track", use: track)
        routes.post("track", use: track)
    }

    struct Form: Content {
        var code: String?
        var pin: String?
        var contact: String?
    }

    func track(req: Request) async throws -> Response {
        let form = req.method == .POST ? try req.content.decode(Form.self) : try req.query.decode(Form.self)
        let code = form.code.nonBlank, pin = form.pin.nonBlank, contact = form.contact.nonBlank
        guard code != nil || pin != nil || contact != nil else { return try Self.formPage(req, form, errors: [:]) }
        var errors: [String: String] = [:]
        if code == nil { errors["code"] = req.message(.missing(field: "code")) }
        if pin == nil && contact == nil { errors["pin"] = req.message(.missing(field: "pin")) }
        guard errors.isEmpty, let code else { return try Self.formPage(req, form, errors: errors, status: .unprocessableEntity) }

        // Each attempt is recorded before it is counted, so requests sent at once cannot all pass under the limit.
        try await PublicAppeals.recordRate("portal.track", req: req)
        try await PublicAppeals.checkRate("portal.track", rule: Tracking.attempts, req: req, includingThis: true)
        guard let parsed = TrackingCode(TextNormalizer.latinDigits(code)) else {
            return try Self.formPage(req, form, errors: [:], notFound: true, status: .notFound)
        }
        // Lookups of one code from anywhere, counted the same way: a PIN is not guessed from many addresses either.
        let codeKey = "track:" + parsed.description
        try await PublicAppeals.recordRate("portal.track.code", req: req, key: codeKey)
        try await PublicAppeals.checkRate("portal.track.code", rule: Tracking.lookupsPerCode, req: req, key: codeKey, includingThis: true)

        if let appeal = try await Appeal.query(on: req.db).filter(\.$trackingCode == parsed.description).first(),
           try await Self.opens(appeal, pin: pin, contact: contact, db: req.db) {
            // A link of its own, as a mail's: the page's forms (the rating) and a bookmark work from it.
            let secret = PublicAppeals.secret(), appealID = try appeal.requireID(), now = req.now
            try await req.store.write { db in try await PortalLink(tokenHash: Tokens.hash(secret), appealID: appealID, createdAt: now).create(on: db) }
            return try await PortalStatusPages.page(req, appeal, secret: secret, ratingErrors: [:], tracked: true)
        }
        return try Self.formPage(req, form, errors: [:], notFound: true, status: .notFound)
    }

    /// Whether the PIN is the appeal's, or the contact one of its applicant's phones and e-mails.
    static func opens(_ appeal: Appeal, pin: String?, contact: String?, db: any Database) async throws -> Bool {
        if let pin {
            guard let typed = Tracking.pin(pin), let stored = try await AppealPIN.find(appeal.id, on: db) else { return false }
            return Tokens.hash(typed) == Tokens.hash(stored.pin)
        }
        guard let contact, let applicantID = appeal.$applicant.id, let applicant = try await Applicant.find(applicantID, on: db) else { return false }
        return Tracking.contactMatches(contact, phones: applicant.phones, emails: applicant.emails)
    }

    static func formPage(_ req: Request, _ form: Form, errors: [String: String], notFound: Bool = false,
                         status: HTTPResponseStatus = .ok) throws -> Response {
        // The PIN is never written back into the page.
        let context: [String: Any?] = ["code": form.code, "contact": form.contact, "errors": errors, "notFound": notFound]
        return req.page("portal-track", context.present, status: status)
    }
}
