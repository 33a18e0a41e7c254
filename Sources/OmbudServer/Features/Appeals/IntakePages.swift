import Fluent
import Foundation
import OmbudDomain
import SQLKit
import Vapor

/// The intake form, built for a phone call: the caller's card found as the operator types (or with "Find" without
/// JavaScript) with the cards that look like the same person and their open appeals; topics found by words or code;
/// several questions; files; "register and take the next appeal of the same caller". Every button works without
/// JavaScript by posting the form, which comes back with the input kept; the script only saves the round trips.
struct IntakePages: RouteCollection {
    let bodyLimit: Int

    func boot(routes: any RoutesBuilder) throws {
        let pages = routes.grouped(PageGuard(), RememberLanguage(), Require(.appealsCreate)).grouped("appeals", "new")
        pages.get(use: blank)
        pages.on(.POST, body: .collect(maxSize: ByteCount(value: bodyLimit)), use: submit)
        pages.get("applicants", use: applicantMatches)
        pages.get("topics", use: topicMatches)
        pages.get("district", use: district)
        pages.get("address", use: address)
        pages.get("checklist", use: checklist)
    }

    /// The answers an operator can promise on the phone: by mail, by post, by SMS, or a call back (sent by hand).
    static let replyChannels = [AppealChannel.email, .letter, .sms, .phone].map(\.rawValue)

    /// Most files one form may carry; more are added on the card.
    static let maxFiles = 5

    /// What the form posts; every field optional so a half-filled form comes back with its errors.
    struct Form: Content {
        var _csrf: String?
        var _once: String?
        var channel: String?
        /// Empty: by the rule (the inbound channel, else e-mail, else a letter).
        var replyChannel: String?
        var kind: String?
        var urgency: String?
        var applicantId: String?
        var surname: String?
        var name: String?
        var patronymic: String?
        var phone: String?
        var email: String?
        var postalAddress: String?
        var address: String?
        /// "59.9386, 30.3141", as pasted from a map.
        var point: String?
        var district: String?
        var text: String?
        var topics: [String]?
        var questionTexts: [String]?
        var topicQuery: String?
        var pickTopic: String?
        var officeCode: String?
        var register: String?
        var action: String?
        /// The codes registered earlier in this call ("register and take another"), comma-separated.
        var done: String?
        /// The place and topics the operator has seen the open appeals for (`repeatKey`): the next submit registers,
        /// unless the call has changed since.
        var repeatChecked: String?

        var repeatKey: String {
            let parts = [(topics ?? []).compactMap(Form.latin).sorted().joined(separator: ","), address.nonBlank ?? "", point.nonBlank ?? ""]
            return String(Tokens.hash(parts.joined(separator: "|")).prefix(16))
        }
        var files: [File]?
        /// Answers to the chosen topics' checklist questions, by question code.
        var checklist: [String: String]?

        /// Persian and Arabic digits typed into codes and phones become Latin ones.
        static func latin(_ value: String?) -> String? { value.map(TextNormalizer.latinDigits).nonBlank }

        var chosenApplicant: UUID? { applicantId.nonBlank.flatMap(UUID.init(uuidString:)) }
        /// The topic codes typed or picked, Latin digits.
        var topicCodes: [String] { (topics ?? []).compactMap(Self.latin) }
        /// The operator chose "a new person" although cards were found.
        var wantsNewCard: Bool { applicantId == "new" }

        /// The question rows as typed (at least one), with a topic picked from the finder put in the first empty row.
        mutating func settleQuestions() {
            var codes = topics ?? [], texts = questionTexts ?? []
            if codes.isEmpty { codes = [""] }
            while texts.count < codes.count { texts.append("") }
            if let picked = Self.latin(pickTopic) {
                if let empty = codes.firstIndex(where: { $0.nonBlank == nil }) { codes[empty] = picked } else { codes.append(picked); texts.append("") }
                pickTopic = nil
            }
            topics = codes
            questionTexts = Array(texts.prefix(codes.count))
        }

        /// The form rows that hold a question (a topic code), in order: `questions[k]` of the API is row `questionRows[k]`.
        var questionRows: [Int] { (topics ?? []).indices.filter { Self.latin(topics?[$0]) != nil } }

        /// A row with a question's text but no topic: the question would be lost.
        var rowWithoutTopic: Int? {
            zip(topics ?? [], questionTexts ?? []).enumerated().first { $0.element.0.nonBlank == nil && $0.element.1.nonBlank != nil }?.offset
        }

        var applicantInput: ApplicantInput? {
            // The contacts typed go with the card chosen: they are what lets another unit's card be linked.
            if let id = chosenApplicant { return ApplicantInput(id: id, phone: Self.latin(phone), email: email.nonBlank) }
            guard [surname, name, patronymic, phone, email, postalAddress].contains(where: { $0.nonBlank != nil }) else { return nil }
            return ApplicantInput(surname: surname.nonBlank, name: name.nonBlank, patronymic: patronymic.nonBlank,
                                  phone: Self.latin(phone), email: email.nonBlank, postalAddress: postalAddress.nonBlank)
        }

        var input: AppealInput {
            let questions = zip(topics ?? [], questionTexts ?? []).compactMap { code, text in
                Self.latin(code).map { QuestionInput(topicCode: $0, text: text.nonBlank) }
            }
            let spot = point.nonBlank.flatMap(RepeatContactRule.point)
            let place = address.nonBlank != nil || district.nonBlank != nil || spot != nil
                ? AddressInput(text: address.nonBlank, lat: spot?.lat, lon: spot?.lon, district: district.nonBlank) : nil
            return AppealInput(channel: channel ?? "", replyChannel: replyChannel.nonBlank, text: text ?? "", kind: kind.nonBlank, urgency: urgency.nonBlank,
                               applicant: applicantInput, questions: questions.isEmpty ? nil : questions, address: place,
                               officeCode: Self.latin(officeCode), register: register != nil)
        }

        var realFiles: [File] { (files ?? []).filter { $0.data.readableBytes > 0 || !$0.filename.isEmpty } }
    }

    // MARK: the form

    func blank(req: Request) async throws -> Response {
        let user = try await req.currentUser()
        let office = try await OrgUnit.query(on: req.db).filter(\.$id ~~ user.unitIDs).first()?.code
        var form = Form(_once: UUID().uuidString, channel: req.query[String.self, at: "channel"] ?? AppealChannel.phone.rawValue,
                        kind: AppealKind.statement.rawValue, urgency: Urgency.followUp.rawValue,
                        applicantId: req.query[String.self, at: "applicant"], officeCode: office, register: "on")
        form.settleQuestions()
        form.done = req.query[String.self, at: "done"]
        return try await Self.page(req, form: form)
    }

    func submit(req: Request) async throws -> Response {
        var form = try req.content.decode(Form.self)
        form.settleQuestions()
        // The files sent with any button are kept under the form's token first: whatever page comes back, a refusal,
        // a look-up or another question, does not lose them.
        let token = form._once.flatMap(UUID.init(uuidString:)) ?? UUID()
        form._once = token.uuidString
        if let refused = try Self.stage(form, token: token, settings: req.settings) {
            return try await Self.page(req, form: form, errors: ["files": req.message(refused)], status: .unprocessableEntity)
        }
        switch form.action {
        case "lookup": return try await Self.page(req, form: form, lookup: true)
        case "findTopic": return try await Self.page(req, form: form, topicResults: true)
        case "addQuestion":
            form.topics?.append("")
            form.questionTexts?.append("")
            return try await Self.page(req, form: form, focus: "topicCode-\((form.topics?.count ?? 1) - 1)")
        case let action? where action.hasPrefix("link:"): return try await linkCall(req, form: form, code: String(action.dropFirst(5)))
        default: return try await register(req, form: form)
        }
    }

    /// Registers the appeal once per form (its `_once` token: a second submission of the same form goes to the appeal
    /// the first created), stores its files, then shows its card, or the form again for the caller's next appeal.
    func register(_ req: Request, form: Form) async throws -> Response {
        var form = form
        let token = form._once.flatMap(UUID.init(uuidString:)) ?? UUID()
        if let row = form.rowWithoutTopic {
            return try await Self.page(req, form: form, errors: [Self.rowField(row): req.message(.missing(field: "topicCode"))],
                                       status: .unprocessableEntity)
        }
        if let point = form.point.nonBlank, RepeatContactRule.point(point) == nil {
            return try await Self.page(req, form: form, errors: ["point": req.text("intake", "badPoint")], status: .unprocessableEntity)
        }
        let checklist: [String]
        do {
            checklist = try ChecklistAnswers.lines(try await ChecklistAnswers.questions(topics: form.topicCodes, channel: form.channel ?? AppealChannel.phone.rawValue, db: req.db), answers: form.checklist ?? [:])
        } catch let error as AppError {
            return try await Self.page(req, form: form, errors: [error.field ?? "checklist": req.message(error)], status: .unprocessableEntity)
        }
        if form.repeatChecked != form.repeatKey {
            let repeats = try await Self.repeatCandidates(req, form: form)
            if !repeats.isEmpty { return try await Self.page(req, form: form, repeats: repeats) }
        }
        let actor = try req.actor
        let now = req.now
        switch try await FormOnce.claim(token, userID: actor.userID, store: req.store, now: now) {
        case let .done(appealID):
            StagedFiles.discard(token, settings: req.settings)
            return try await registered(req, form: form, appealID: appealID, fresh: false)
        case .inFlight:
            // The same form is being registered by a request that came a moment earlier: wait for it.
            for _ in 0..<50 {
                try await Task.sleep(nanoseconds: 100_000_000)
                if case let .done(appealID) = try await FormOnce.claim(token, userID: actor.userID, store: req.store, now: now, peek: true) {
                    return try await registered(req, form: form, appealID: appealID, fresh: false)
                }
            }
            throw AppError.conflict(code: "in-flight", reason: "this form is still being registered", field: nil)
        case .claimed:
            break
        }
        // A phone already on a card: the appeal goes to that card (the one the form preselects) when the name typed is
        // that card's or none is typed; a second card for the phone only when the operator says it is a new person.
        if form.chosenApplicant == nil, !form.wantsNewCard, let phone = Form.latin(form.phone).flatMap(TextNormalizer.phoneKey) {
            let owners = Set(try await ApplicantContact.query(on: req.db).filter(\.$kind == "phone").filter(\.$valueKey == phone).all().map(\.$applicant.id))
            if !owners.isEmpty {
                let cards = try await Applicant.query(on: req.db).filter(\.$id ~~ owners).filter(\.$mergedIntoID == nil).all()
                let typed = [form.surname, form.name, form.patronymic].compactMap { $0.nonBlank }.joined(separator: " ")
                let matching = typed.isEmpty ? cards : cards.filter { ApplicantMatching.similarNames(typed, $0.fullName) }
                if matching.count == 1, let card = matching.first {
                    form.applicantId = try card.requireID().uuidString
                } else if !cards.isEmpty {
                    try await FormOnce.release(token, store: req.store)
                    return try await Self.page(req, form: form, errors: ["applicantId": req.text("intake", "chooseCard")], lookup: true,
                                               status: .unprocessableEntity)
                }
            }
        }

        do {
            let files = StagedFiles.files(token, settings: req.settings)
            let validated: AppealIntake.Validated
            var input = form.input
            input.address = try await AddressRegister.complete(input.address, db: req.db)
            do { validated = try AppealIntake.validate(input, now: now) } catch { throw error.appError }
            let view = try await AppealIntake.create(validated, actor: actor, settings: req.settings, store: req.store, queue: req.intake,
                                                     now: now, translate: TaskViews.translator(req))
            // The appeal is registered: from here on the form is done, whatever happens to its files.
            try await FormOnce.complete(token, appealID: view.id, store: req.store)
            try await ChecklistAnswers.store(checklist, appealID: view.id, store: req.store, now: now)
            defer { StagedFiles.discard(token, settings: req.settings) }
            var failed = 0
            for file in files {
                do {
                    _ = try await AttachmentStore.save(appealID: view.id, fileName: file.filename, data: file.data, actor: actor,
                                                       settings: req.settings, store: req.store, now: now)
                } catch {
                    failed += 1
                    req.logger.error("a file of appeal \(view.trackingCode) was not stored: \(error)")
                }
            }
            if failed > 0 { return req.redirect(to: "/appeals/\(view.trackingCode)?created=1&filesFailed=\(failed)#attachments", redirectType: .normal) }
            return try await registered(req, form: form, appealID: view.id, fresh: true)
        } catch let error as AppError {
            try await FormOnce.release(token, store: req.store)
            guard let field = error.field else { throw error }
            return try await Self.page(req, form: form, errors: [Self.formField(field, rows: form.questionRows): req.message(error)],
                                       status: .unprocessableEntity)
        }
    }

    /// Keeps the form's new files with those kept before; the refusal when they cannot be stored (nothing is kept then).
    static func stage(_ form: Form, token: UUID, settings: Settings) throws -> AppError? {
        let files = form.realFiles
        guard !files.isEmpty else { return nil }
        if let refused = refusal(of: files, limit: settings.attachmentLimit, kept: StagedFiles.names(token, settings: settings).count) { return refused }
        try StagedFiles.keep(files, token: token, settings: settings)
        return nil
    }

    /// Why the form's files cannot be stored (checked before the appeal is created, so a bad file creates nothing).
    static func refusal(of files: [File], limit: Int, kept: Int = 0) -> AppError? {
        guard files.count + kept <= maxFiles else { return .invalid(field: "files", reason: "at most \(maxFiles) files") }
        for file in files {
            do throws(AttachmentError) {
                _ = try AttachmentRules.sanitizedName(file.filename)
                try AttachmentRules.checkSize(file.data.readableBytes, limit: limit)
            } catch {
                return .invalid(field: "files", reason: "\(file.filename): \(AppError(error).reason)")
            }
        }
        return nil
    }

    /// Where a registered form goes: the card (with the "registered" notice the first time), or the caller's next appeal.
    private func registered(_ req: Request, form: Form, appealID: UUID, fresh: Bool) async throws -> Response {
        guard let appeal = try await Appeal.find(appealID, on: req.db) else { throw AppError.notFound(entity: "appeal", id: appealID.uuidString) }
        guard form.action == "another", let applicant = appeal.$applicant.id else {
            return req.redirect(to: "/appeals/\(appeal.trackingCode)" + (fresh ? "?created=1" : ""), redirectType: .normal)
        }
        // The caller's next appeal: a fresh form with the same caller and channel, and the codes registered so far.
        let done = Self.codes(form.done) + [appeal.trackingCode]
        return req.redirect(to: "/appeals/new?applicant=\(applicant.uuidString)&channel=\(appeal.channel)&done=\(done.joined(separator: ","))",
                            redirectType: .normal)
    }

    /// Tracking codes from a comma-separated list, the malformed ones left out.
    static func codes(_ list: String?) -> [String] {
        (list ?? "").split(separator: ",").compactMap { TrackingCode(String($0))?.description }
    }

    /// The id of a question row's topic field.
    static func rowField(_ row: Int) -> String { row == 0 ? "topicCode" : "topicCode-\(row)" }

    /// `applicant.phone` → `phone`, `questions[1].topicCode` → the topic field of the form row that question came from,
    /// `address.text` → `address`.
    static func formField(_ apiField: String, rows: [Int]) -> String {
        if let match = apiField.firstMatch(of: /^questions\[(\d+)\]/), let k = Int(match.1) {
            return rowField(k < rows.count ? rows[k] : k)
        }
        switch apiField {
        case "address.text": return "address"
        case "address.district": return "district"
        case "questions": return rowField(rows.first ?? 0)
        case "applicant.id": return "applicantId"
        default:
            let last = String(apiField.split(separator: ".").last ?? "")
            return last.split(separator: "[").first.map(String.init) ?? last
        }
    }

    static func page(_ req: Request, form: Form, errors: [String: String] = [:], lookup: Bool = false, repeats: [[String: Any]] = [],
                     topicResults: Bool = false, focus: String? = nil, status: HTTPResponseStatus = .ok) async throws -> Response {
        func options<E: RawRepresentable & CaseIterable>(_ type: E.Type, _ section: String, selected: String?) -> [[String: Any]]
        where E.RawValue == String {
            E.allCases.map { ["value": $0.rawValue, "label": req.text(section, $0.rawValue), "selected": $0.rawValue == selected] }
        }
        var fields: [String: Any] = [:]
        for (key, value) in [("surname", form.surname), ("name", form.name), ("patronymic", form.patronymic), ("phone", form.phone),
                             ("email", form.email), ("postalAddress", form.postalAddress), ("address", form.address),
                             ("point", form.point), ("district", form.district), ("text", form.text), ("officeCode", form.officeCode),
                             ("topicQuery", form.topicQuery), ("files", nil), ("applicantId", nil)] {
            fields[key] = ["value": value ?? "", "error": errors[key]].present
        }
        let codes = form.topics ?? [""]
        let names = try await topicNames(codes.compactMap(Form.latin), db: req.db)
        let questions: [[String: Any]] = codes.enumerated().map { i, code in
            let id = rowField(i)
            return ["id": id, "number": req.format.number(String(i + 1)), "code": code, "text": form.questionTexts?[i] ?? "",
                    "topicName": Form.latin(code).flatMap { names[$0] }, "error": errors[id], "many": codes.count > 1].present
        }
        var matches: [[String: Any]] = []
        if lookup || form.chosenApplicant != nil {
            matches = try await applicantCandidates(req, form: form)
        }
        var topics: [[String: Any]] = []
        if topicResults, let q = form.topicQuery.nonBlank { topics = try await topicOptions(q, req: req) }
        let checklist = ChecklistAnswers.context(try await ChecklistAnswers.questions(topics: form.topicCodes, channel: form.channel ?? AppealChannel.phone.rawValue, db: req.db),
                                                 answers: form.checklist ?? [:], errors: errors)
        let known = errors.keys.filter { fields[$0] != nil || $0.hasPrefix("topicCode") || $0.hasPrefix("checklist[") }
        return req.page("intake", [
            "form": fields, "once": form._once ?? "", "register": form.register != nil, "failed": !errors.isEmpty,
            "otherError": known.count < errors.count ? errors.filter { !known.contains($0.key) }.values.joined(separator: "; ") : "",
            "channels": options(AppealChannel.self, "channels", selected: form.channel),
            "replyChannels": ([""] + Self.replyChannels).map { ["value": $0, "label": $0.isEmpty ? req.text("intake", "replyAuto") : req.text("channels", $0),
                                                               "selected": $0 == (form.replyChannel ?? "")] },
            "kinds": options(AppealKind.self, "kinds", selected: form.kind),
            "urgencies": options(Urgency.self, "urgency", selected: form.urgency),
            "questions": questions, "matches": matches, "hasMatches": !matches.isEmpty, "looked": lookup && matches.isEmpty,
            "newChosen": form.wantsNewCard, "checklist": checklist, "hasChecklist": !checklist.isEmpty,
            "topics": topics, "noTopics": topicResults && topics.isEmpty,
            "linked": req.query[String.self, at: "linked"].flatMap { TrackingCode(TextNormalizer.latinDigits($0))?.description } ?? false,
            "done": Self.codes(form.done), "hasDone": !Self.codes(form.done).isEmpty, "doneList": Self.codes(form.done).joined(separator: ","),
            "focus": focus ?? (repeats.isEmpty ? "" : "repeats"),
            "repeats": repeats, "hasRepeats": !repeats.isEmpty,
            "repeatChecked": !repeats.isEmpty || form.repeatChecked == form.repeatKey ? form.repeatKey : "",
            "keptFiles": StagedFiles.names(form._once.flatMap(UUID.init(uuidString:)), settings: req.settings).joined(separator: ", ").nonEmpty ?? false,
            "filesLimit": req.text("intake", "filesLimit", ["files": maxFiles, "mb": req.settings.attachmentLimit / (1024 * 1024)]),
            "limitBytes": req.settings.attachmentLimit, "maxFilesRaw": maxFiles,
            "districts": try await req.store.references.districts(db: req.db),
        ], status: status)
    }

    // MARK: lookups (fragments for the script, and the same lists inside the form without it)

    /// Cards that may be the caller: the same phone or e-mail, a similar name at the same address, or the name typed;
    /// each with its open appeals. Masked for readers without the personal-data permission.
    static func applicantCandidates(_ req: Request, form: Form) async throws -> [[String: Any]] {
        let actor = try req.actor
        guard actor.can(.applicantsRead) else { return [] }
        var found: [(Applicant, [String])] = []
        if let id = form.chosenApplicant, let chosen = try await Applicant.find(id, on: req.db), chosen.mergedIntoID == nil {
            found.append((chosen, []))
        }
        let probe = ApplicantInput(surname: form.surname.nonBlank, name: form.name.nonBlank, patronymic: form.patronymic.nonBlank,
                                   phone: Form.latin(form.phone), email: form.email.nonBlank, postalAddress: form.postalAddress.nonBlank)
        if form.chosenApplicant == nil {
            let duplicates = Array(try await ApplicantSearch.candidates(of: probe, excluding: nil, req: req).prefix(8))
            let records = try await Applicant.query(on: req.db).filter(\.$id ~~ duplicates.map(\.applicant.id)).all()
            for candidate in duplicates {
                if let record = records.first(where: { $0.id == candidate.applicant.id }) { found.append((record, candidate.reasons)) }
            }
            let words = [probe.surname, probe.name, probe.patronymic].compactMap { $0 }.joined(separator: " ")
            if !words.isEmpty {
                // By name only the cards the operator may see: a name alone says nothing about the caller's identity.
                for record in try await ApplicantSearch.find(words, limit: 8, access: try await req.applicantAccess(), db: req.db) where !found.contains(where: { $0.0.id == record.id }) {
                    found.append((record, []))
                }
            }
        }
        let cards = Array(found.prefix(8))
        guard !cards.isEmpty else { return [] }
        let ids = try cards.map { try $0.0.requireID() }
        // A card of another unit found by the caller's phone or e-mail is named as existing, with nothing of the person.
        let visible = try await req.applicantAccess().visible(ids, db: req.db)
        if actor.can(.personalData) {
            try await req.audit("personal-data.search", entity: "applicant", entityID: nil,
                                details: "intake: " + ids.filter(visible.contains).map(\.uuidString).joined(separator: " "))
        }
        let open = try await openAppeals(of: ids, req: req)
        // The keyboard path: the card with the caller's phone is chosen already, unless the operator said "a new person".
        let best = form.chosenApplicant ?? (form.wantsNewCard ? nil : cards.first { $0.1.contains("same-phone") }?.0.id)
        return try cards.map { record, reasons -> [String: Any] in
            let card = try ApplicantStore.summary(record)
            let id = card.id
            let summary = visible.contains(id) ? try req.visible(card) : card.hidden
            let row: [String: Any?] = [
                "id": id.uuidString, "name": summary.fullName, "selected": id == best,
                "contacts": (summary.phones + summary.emails).joined(separator: ", ").nonEmpty,
                "address": summary.postalAddress, "reasons": reasons.map { req.text("duplicateReasons", $0) }.joined(separator: ", ").nonEmpty,
                "open": open[id] ?? [], "hasOpen": !(open[id] ?? []).isEmpty,
            ]
            return row.present
        }
    }

    /// Open appeals per applicant, within the reader's scope: their codes and states, newest first.
    static func openAppeals(of applicants: [UUID], req: Request) async throws -> [UUID: [[String: Any]]] {
        var query = Appeal.query(on: req.db).filter(\.$applicant.$id ~~ applicants)
            .filter(\.$status ~~ AppealTransitions.workflow.openStates)
        if let condition = try await req.appealCondition() { query = query.filter(.sql(condition)) }
        var result: [UUID: [[String: Any]]] = [:]
        for appeal in try await query.sort(\.$receivedAt, .descending).limit(50).all() {
            guard let owner = appeal.$applicant.id else { continue }
            result[owner, default: []].append(["code": appeal.trackingCode, "status": req.text("states", appeal.status)])
        }
        return result
    }

    /// Assignable topics found by words or code, as the finder lists them.
    static func topicOptions(_ q: String, req: Request) async throws -> [[String: Any]] {
        try await TopicStore.search(TextNormalizer.latinDigits(q), assignableOnly: true, limit: 30, db: req.db)
            .map { ["code": $0.id ?? "", "name": $0.name] }
    }

    static func topicNames(_ codes: [String], db: any Database) async throws -> [String: String] {
        guard !codes.isEmpty else { return [:] }
        return Dictionary(try await TopicRecord.query(on: db).filter(\.$id ~~ codes).all().map { ($0.id ?? "", $0.name) }, uniquingKeysWith: { a, _ in a })
    }

    func applicantMatches(req: Request) async throws -> Response {
        let form = try req.query.decode(Form.self)
        let matches = try await Self.applicantCandidates(req, form: form)
        return req.fragment("intake-applicants", ["matches": matches, "hasMatches": !matches.isEmpty, "newChosen": form.wantsNewCard])
    }

    /// The checklist questions of the topics on the form (`topics[]`), with the answers typed so far.
    func checklist(req: Request) async throws -> Response {
        let form = try req.query.decode(Form.self)
        let groups = try await ChecklistAnswers.questions(topics: Array(form.topicCodes.prefix(20)), channel: form.channel ?? AppealChannel.phone.rawValue, db: req.db)
        let context = ChecklistAnswers.context(groups, answers: form.checklist ?? [:], errors: [:])
        return req.fragment("intake-checklist", ["checklist": context, "hasChecklist": !context.isEmpty])
    }

    func topicMatches(req: Request) async throws -> Response {
        guard let q = req.query[String.self, at: "q"].nonBlank, q.count <= 200 else { return req.fragment("intake-topics", [:]) }
        let topics = try await Self.topicOptions(q, req: req)
        return req.fragment("intake-topics", ["topics": topics, "noTopics": topics.isEmpty])
    }

    /// The district of a typed address (plain text, empty when unknown): its building's or its street's in the address
    /// register, else the most common of the appeals that mention the street — all appeals, not only the reader's: only
    /// a district name comes back.
    func district(req: Request) async throws -> String {
        try await Self.place(req).district ?? ""
    }

    /// The same as JSON with the building's point, for the form to fill in the district and the point.
    func address(req: Request) async throws -> Response {
        let match = try await Self.place(req)
        return try await AddressMatch(district: match.district, lat: match.lat, lon: match.lon).encodeResponse(for: req)
    }

    struct AddressMatch: Content { var district: String?; var lat: Double?; var lon: Double? }

    static func place(_ req: Request) async throws -> AddressRegister.Match {
        let address = (req.query[String.self, at: "address"] ?? "").trimmed()
        guard address.count <= 500 else { throw AppError.invalid(field: "address", reason: "at most 500 characters") }
        if let match = try await AddressRegister.lookup(address, db: req.db) { return match }
        guard let street = ApplicantMatching.street(address) else { return AddressRegister.Match(building: false) }
        let page = try await AppealList.page(AppealList.Filters(q: street, limit: 50), scope: nil, personal: false, hidden: "", settings: req.settings,
                                             db: req.db, now: req.now)
        return AddressRegister.Match(district: ApplicantMatching.likelyDistrict(page.items.compactMap(\.district)), building: false)
    }
}
