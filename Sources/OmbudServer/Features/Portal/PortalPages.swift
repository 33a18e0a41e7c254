import Fluent
import Foundation
import OmbudDomain
import Vapor

/// The citizens' portal: no sign-in, its own look, in Russian, English and Persian. Submitting an appeal gives a
/// tracking code and a secret link to its status page; nothing of the appeal is public unless the citizen lists it,
/// and then only its topic, status, district and approximate place.
struct PortalPages: RouteCollection {
    let bodyLimit: Int
    static let maxFiles = 3

    func boot(routes: any RoutesBuilder) throws {
        let portal = routes.grouped(PageErrorMiddleware(template: "portal-error", section: "portalError")).grouped("portal")
        portal.get(use: home)
        portal.get("new", use: form)
        portal.get("checklist", use: checklist)
        portal.on(.POST, "new", body: .collect(maxSize: ByteCount(integerLiteral: bodyLimit)), use: submit)
        try portal.register(collection: PortalStatusPages())
        try portal.register(collection: PortalTrackPages())
        try portal.register(collection: PortalListPages())
    }

    struct Form: Content {
        var surname: String?
        var name: String?
        var patronymic: String?
        var email: String?
        var phone: String?
        var postalAddress: String?
        var consent: String?
        var kind: String?
        var service: String?
        var text: String?
        var address: String?
        var district: String?
        var lat: String?
        var lon: String?
        var listed: String?
        /// The honeypot: hidden from people, filled in by form-filling robots.
        var website: String?
        var files: [File]?
        /// Answers to the chosen service's topic checklist questions, by question code.
        var checklist: [String: String]?

        var realFiles: [File] { (files ?? []).filter { $0.data.readableBytes > 0 || !$0.filename.isEmpty } }
    }

    /// The questions of a service's topic, for the form's script when a service is chosen.
    func checklist(req: Request) async throws -> Response {
        let code = req.query[String.self, at: "service"] ?? ""
        guard code.count <= 100, let entry = try await Open311Catalogue.entry(code: code, db: req.db) else { return req.fragment("intake-checklist", [:]) }
        let context = ChecklistAnswers.context(try await ChecklistAnswers.questions(topics: [entry.row.topicCode], channel: AppealChannel.web.rawValue, db: req.db), answers: [:], errors: [:])
        return req.fragment("intake-checklist", ["checklist": context, "hasChecklist": !context.isEmpty])
    }

    func home(req: Request) async throws -> Response {
        req.page("portal-home")
    }

    func form(req: Request) async throws -> Response {
        try await Self.formPage(req, Form(kind: "statement"), errors: [:])
    }

    static func formPage(_ req: Request, _ form: Form, errors: [String: String], status: HTTPResponseStatus = .ok) async throws -> Response {
        let services = try await Open311Catalogue.entries(db: req.db)
        let districts = try await req.store.references.districts(db: req.db)
        let topic = services.first { $0.row.code == form.service }?.row.topicCode
        let checklist = ChecklistAnswers.context(try await ChecklistAnswers.questions(topics: topic.map { [$0] } ?? [], channel: AppealChannel.web.rawValue, db: req.db),
                                                 answers: form.checklist ?? [:], errors: errors)
        let values: [String: Any?] = [
            "surname": form.surname, "name": form.name, "patronymic": form.patronymic, "email": form.email, "phone": form.phone,
            "postalAddress": form.postalAddress, "text": form.text, "address": form.address, "lat": form.lat, "lon": form.lon,
            "consent": form.consent != nil, "listed": form.listed != nil,
        ]
        return req.page("portal-new", [
            "form": values.present,
            "errors": errors,
            "hasErrors": !errors.isEmpty,
            "kinds": AppealKind.allCases.map { ["key": $0.rawValue, "label": req.text("kinds", $0.rawValue), "selected": $0.rawValue == (form.kind ?? "statement")] },
            "services": services.map { ["code": $0.row.code, "name": $0.row.name, "group": $0.row.group ?? "", "selected": $0.row.code == form.service] },
            "districts": districts.map { ["name": $0, "selected": $0 == form.district] },
            "maxFiles": maxFiles, "limitBytes": req.settings.attachmentLimit,
            "maxText": Validate.maxTextLength,
            "checklist": checklist, "hasChecklist": !checklist.isEmpty,
        ], status: status)
    }

    func submit(req: Request) async throws -> Response {
        let form = try req.content.decode(Form.self)
        if form.website.nonBlank != nil {
            // People never see the field; a robot fills every field it finds.
            throw AppError.invalid(field: "website", reason: "this field must stay empty")
        }
        try await PublicAppeals.checkRate("portal.submit", rule: .portalSubmissions, req: req)
        var errors: [String: String] = [:]
        func check(_ field: String, _ ok: Bool, _ key: String) { if !ok, errors[field] == nil { errors[field] = req.text("portal", key) } }
        check("surname", form.surname.nonBlank != nil, "required")
        check("name", form.name.nonBlank != nil, "required")
        check("email", form.email.nonBlank != nil || form.postalAddress.nonBlank != nil, "contactRequired")
        check("consent", form.consent != nil, "consentRequired")
        check("text", form.text.nonBlank != nil, "required")
        check("text", (form.text?.count ?? 0) <= Validate.maxTextLength, "tooLong")
        if let email = form.email.nonBlank { check("email", TextNormalizer.emailKey(email) != nil, "badEmail") }
        if let phone = form.phone.nonBlank { check("phone", TextNormalizer.phoneKey(TextNormalizer.latinDigits(phone)) != nil, "badPhone") }
        var point: (Double, Double)?
        if form.lat.nonBlank != nil || form.lon.nonBlank != nil {
            if let lat = form.lat.nonBlank.flatMap({ Double(TextNormalizer.latinDigits($0)) }), let lon = form.lon.nonBlank.flatMap({ Double(TextNormalizer.latinDigits($0)) }),
               (-90...90).contains(lat), (-180...180).contains(lon) { point = (lat, lon) } else { check("lat", false, "badPoint") }
        }
        var service: Open311Catalogue.Entry?
        if let code = form.service.nonBlank {
            service = try await Open311Catalogue.entry(code: code, db: req.db)
            check("service", service != nil, "badService")
        }
        if let district = form.district.nonBlank {
            check("district", try await req.store.references.districts(db: req.db).contains(district), "badDistrict")
        }
        let files = form.realFiles
        check("files", files.count <= Self.maxFiles, "tooManyFiles")
        var total = 0
        for file in files {
            total += file.data.readableBytes
            let head = Array(file.data.readableBytesView.prefix(16))
            check("files", file.data.readableBytes > 0 && (try? AttachmentRules.sanitizedName(file.filename)) != nil, "badFile")
            check("files", AttachmentRules.acceptedFromPublic(head, name: file.filename), "fileType")
        }
        check("files", total <= req.settings.attachmentLimit, "filesTooBig")
        var answers: [String] = []
        do {
            answers = try ChecklistAnswers.lines(try await ChecklistAnswers.questions(topics: service.map { [$0.row.topicCode] } ?? [], channel: AppealChannel.web.rawValue, db: req.db),
                                                 answers: form.checklist ?? [:])
        } catch let error as AppError {
            errors[error.field ?? "checklist"] = req.message(error)
        }
        guard errors.isEmpty else { return try await Self.formPage(req, form, errors: errors, status: .unprocessableEntity) }

        let input = AppealInput(
            channel: AppealChannel.web.rawValue, text: form.text ?? "", kind: form.kind.nonBlank ?? AppealKind.statement.rawValue,
            form: AppealForm.electronic.rawValue,
            applicant: ApplicantInput(surname: form.surname.nonBlank, name: form.name.nonBlank, patronymic: form.patronymic.nonBlank,
                                      phone: form.phone.nonBlank.map(TextNormalizer.latinDigits), email: form.email.nonBlank,
                                      postalAddress: form.postalAddress.nonBlank, contactSource: "portal"),
            questions: service.map { [QuestionInput(topicCode: $0.row.topicCode, text: nil)] },
            address: form.address.nonBlank != nil || point != nil || form.district.nonBlank != nil
                ? AddressInput(text: form.address.nonBlank, lat: point?.0, lon: point?.1, district: form.district.nonBlank) : nil)
        let now = req.now
        let validated: AppealIntake.Validated
        do throws(ValidationError) { validated = try AppealIntake.validate(input, now: now) } catch {
            // The error goes next to its field when the form has one, else above the form.
            let name = error.field.split(separator: ".").last.map(String.init) ?? error.field
            let field = error.field.hasPrefix("address.") ? "address" : error.field.hasPrefix("applicant.") || ["text", "kind"].contains(error.field) ? name : "form"
            return try await Self.formPage(req, form, errors: [field: req.message(.invalid(field: field, reason: error.reason))],
                                           status: .unprocessableEntity)
        }
        let actor = PublicAppeals.portalActor
        var prepared = try await AppealIntake.prepare(validated, actor: actor, settings: req.settings, store: req.store, now: now)
        let secret = PublicAppeals.secret()
        prepared.publication = .init(listed: form.listed != nil, textPublic: false, statusTokenHash: Tokens.hash(secret), serviceCode: service?.row.code,
                                     attributes: answers)
        let code = try await req.intake.submit(prepared)
        try await PublicAppeals.recordRate("portal.submit", req: req)
        // The appeal stands; a file that fails to store is reported on the status page, not by losing the appeal.
        var failed = 0
        for file in files {
            do {
                _ = try await AttachmentStore.save(appealID: prepared.id, fileName: file.filename, data: file.data, actor: actor,
                                                   settings: req.settings, store: req.store, now: now)
            } catch {
                req.logger.warning("portal: file of \(code) not stored: \(error)")
                failed += 1
            }
        }
        if let email = form.email.nonBlank {
            // The mail carries a link of its own, made when it is sent: the one shown now is never written anywhere.
            let text = req.text("portal", "mailIntro").replacingOccurrences(of: "{code}", with: code) + "\n\n{link}\n\n" + req.text("portal", "mailKeep")
            let subject = req.text("portal", "mailSubject").replacingOccurrences(of: "{code}", with: code)
            let appealID = prepared.id
            try await req.store.write { db in
                try await PortalMail.enqueue(to: email, subject: subject, text: text, linkFor: appealID, settings: req.settings, now: now, db: db)
            }
        }
        return req.redirect(to: "/portal/s/\(secret)?created=1\(failed > 0 ? "&filesFailed=\(failed)" : "")", redirectType: .normal)
    }
}

extension Request {
    /// Where this installation is reached, for links in mail: `OMBUD_PUBLIC_URL`, else the address this request came to.
    var baseURL: String { settings.publicURL ?? "\(isSecure ? "https" : "http")://\(headers.first(name: .host) ?? "127.0.0.1")" }
}
