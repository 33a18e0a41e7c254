import Fluent
import Foundation
import OmbudDomain
import SQLKit

/// Registers new appeals: validate (pure), prepare (reads, in parallel), write (batched, one transaction per batch).
enum AppealIntake {
    struct Validated: Sendable {
        var channel: AppealChannel
        var replyChannel: AppealChannel?
        var kind: AppealKind
        var form: AppealForm
        var urgency: Urgency
        var text: String
        var receivedAt: Date
        var applicant: ApplicantStore.Validated?
        var coApplicants: [ApplicantStore.Validated]
        var questions: [QuestionInput]
        var address: AddressInput?
        var input: AppealInput
    }

    static func validate(_ input: AppealInput, now: Date) throws(ValidationError) -> Validated {
        let channel: AppealChannel = try Validate.choice(input.channel, field: "channel")
        let text = try Validate.text(input.text, field: "text")!
        var applicant: ApplicantStore.Validated?
        if let a = input.applicant, a.id == nil { applicant = try ApplicantStore.validate(a, field: "applicant") }
        var coApplicants: [ApplicantStore.Validated] = []
        for (i, co) in (input.coApplicants ?? []).enumerated() where co.id == nil {
            coApplicants.append(try ApplicantStore.validate(co, field: "coApplicants[\(i)]"))
        }
        if let address = input.address {
            try Validate.coordinates(lat: address.lat, lon: address.lon, field: "address")
            _ = try Validate.text(address.text, field: "address.text", required: false, max: 1000)
        }
        guard (input.questions ?? []).count <= 50 else { throw ValidationError(field: "questions", reason: "at most 50 questions") }
        for (i, q) in (input.questions ?? []).enumerated() {
            _ = try Validate.text(q.text, field: "questions[\(i)].text", required: false)
            if q.topicCode.trimmingCharacters(in: .whitespaces).isEmpty {
                throw ValidationError(field: "questions[\(i)].topicCode", reason: "is required")
            }
        }
        if let received = input.receivedAt, received > now.addingTimeInterval(300) {
            throw ValidationError(field: "receivedAt", reason: "is in the future")
        }
        var reply: AppealChannel?
        if input.replyChannel?.isEmpty == false { reply = try Validate.choice(input.replyChannel, field: "replyChannel") as AppealChannel }
        return Validated(
            channel: channel, replyChannel: reply,
            kind: try Validate.choice(input.kind, field: "kind", default: .statement),
            form: try Validate.choice(input.form, field: "form", default: AppealForm.implied(by: channel)),
            urgency: try Validate.choice(input.urgency, field: "urgency", default: .followUp),
            text: text,
            receivedAt: input.receivedAt ?? now,
            applicant: applicant,
            coApplicants: coApplicants,
            questions: input.questions ?? [],
            address: input.address,
            input: input)
    }

    /// Resolves every reference; reads only.
    /// An existing card named by id, refused (on `field`) when unknown or merged into another.
    private static func card(_ id: UUID, field: String, db: any Database) async throws -> Applicant {
        guard let existing = try await Applicant.find(id, on: db) else { throw AppError.invalid(field: field, reason: "unknown applicant") }
        if let into = existing.mergedIntoID { throw AppError.invalid(field: field, reason: "this card was merged into applicant \(into.uuidString)") }
        return existing
    }

    static func prepare(_ v: Validated, actor: Actor?, settings: Settings, store: Store, now: Date) async throws -> PreparedAppeal {
        let db = store.db
        let references = store.references
        let snapshot = try await references.current(db: db)  // one look for the scope, the calendar and the timers
        let scope = actor?.scope(snapshot) ?? .all
        /// A card named by id: one the operator may see, or another unit's whose phone or e-mail the operator typed
        /// (the caller is that person); any other answers like an unknown card.
        func linkable(_ id: UUID, typed: ApplicantInput?, field: String) async throws -> Applicant {
            let existing = try await card(id, field: field, db: db)
            guard let actor, actor.isUser, scope != .all else { return existing }
            let visible = try await ApplicantAccess(scope: scope, user: actor.userID).allows(id, db: db)
            guard visible || typed.map({ ApplicantSearch.sharesContact($0, with: existing) }) == true else {
                throw AppError.invalid(field: field, reason: "unknown applicant")
            }
            return existing
        }
        func unitID(_ code: String?, field: String) async throws -> UUID? {
            guard let code = code?.trimmingCharacters(in: .whitespaces), !code.isEmpty else { return nil }
            guard let id = try await references.unitID(code, db: db) else { throw AppError.invalid(field: field, reason: "unknown unit code \(code)") }
            return id
        }
        var newApplicants: [PreparedAppeal.NewApplicant] = []
        var applicantID: UUID?
        var applicant: ApplicantSummary?
        if let id = v.input.applicant?.id {
            let existing = try await linkable(id, typed: v.input.applicant, field: "applicant.id")
            applicantID = id
            applicant = try ApplicantStore.summary(existing)
        } else if let card = v.applicant {
            let new = PreparedAppeal.NewApplicant(id: UUID.timeOrdered(), card: card)
            newApplicants.append(new)
            applicantID = new.id
            applicant = ApplicantStore.summary(id: new.id, card)
        }
        var coIDs: [UUID] = []
        var co: [ApplicantSummary] = []
        for (i, ref) in (v.input.coApplicants ?? []).enumerated() {
            guard let id = ref.id else { continue }
            let existing = try await linkable(id, typed: ref, field: "coApplicants[\(i)].id")
            coIDs.append(id)
            try co.append(ApplicantStore.summary(existing))
        }
        for card in v.coApplicants {
            let new = PreparedAppeal.NewApplicant(id: UUID.timeOrdered(), card: card)
            newApplicants.append(new)
            coIDs.append(new.id)
            co.append(ApplicantStore.summary(id: new.id, card))
        }
        let officeID = try await unitID(v.input.officeCode, field: "officeCode")
        // An office outside the operator's scope is refused exactly like an unknown code.
        if let officeID, case let .units(visible, _) = scope, !visible.contains(officeID) {
            throw AppError.invalid(field: "officeCode", reason: "unknown unit code \(v.input.officeCode?.trimmingCharacters(in: .whitespaces) ?? "")")
        }
        let complainedID = try await unitID(v.input.complainedUnitCode, field: "complainedUnitCode")
        var repeatOfID: UUID?
        var repeatOfCode: String?
        if let ref = v.input.repeatOf.nonBlank {
            let id = try await AppealQueries.resolve(ref, visibleTo: actor ?? .system("intake"), references: snapshot, db: db, field: "repeatOf")
            repeatOfID = id
            repeatOfCode = try await AppealQueries.trackingCodes([id], db: db)[id]
        }
        let codes = v.questions.map { $0.topicCode.trimmingCharacters(in: .whitespaces) }
        let unknown = try await references.unknownTopics(codes, db: db)
        if let first = codes.firstIndex(where: unknown.contains) {
            throw AppError.unknownTopic(code: codes[first], field: "questions[\(first)].topicCode")
        }
        var questions: [PreparedAppeal.NewQuestion] = []
        for (i, q) in v.questions.enumerated() {
            let code = q.executorUnitCode?.trimmingCharacters(in: .whitespaces)
            questions.append(.init(id: UUID.timeOrdered(), topicCode: q.topicCode.trimmingCharacters(in: .whitespaces),
                                   text: q.text?.trimmed() ?? "",
                                   executorUnitID: try await unitID(code, field: "questions[\(i)].executorUnitCode"),
                                   executorUnitCode: code?.isEmpty == false ? code : nil))
        }
        let receivedDay = CivilDate.of(v.receivedAt, in: settings.timeZone)
        var status = AppealTransitions.workflow.initial
        var deadlines = DeadlineRules.onReceipt(received: receivedDay, policy: settings.deadlinePolicy)
        let calendar = snapshot.calendars[settings.calendarKey] ?? BusinessCalendar()
        if v.input.register == true {
            let registered = CivilDate.of(now, in: settings.timeZone)
            deadlines = DeadlineRules.onRegistration(received: receivedDay, registered: registered, policy: settings.deadlinePolicy, calendar: calendar)
            status = "registered"
        }
        var prepared = PreparedAppeal(
            id: UUID.timeOrdered(), v: v, actor: actor, newApplicants: newApplicants, applicantID: applicantID, applicant: applicant,
            coApplicantIDs: coIDs, coApplicants: co, questions: questions, officeID: officeID, complainedUnitID: complainedID,
            repeatOfID: repeatOfID, receivedDay: receivedDay, status: status, deadlines: deadlines, now: now)
        // The registration clock runs from receipt; the next ones from registration.
        let executor = questions.first { $0.executorUnitID != nil }?.executorUnitID
        prepared.tasks = TaskPlanner.plan(state: status, entered: status == AppealTransitions.workflow.initial ? min(v.receivedAt, now) : now,
                                          people: .init(officeID: officeID, executorUnitID: executor), controlDate: deadlines.controlDate,
                                          control: snapshot.stageControl, calendar: calendar, zone: settings.timeZone)
        prepared.repeatOfCode = repeatOfCode
        prepared.replyChannel = ReplyChannel.choose(requested: v.replyChannel, inbound: v.channel, hasEmail: !(applicant?.emails.isEmpty ?? true),
                                                    hasPostalAddress: applicant?.postalAddress != nil)?.rawValue
        prepared.searchBody = PersonalSearch.document(open: [v.text, v.address?.district], personal: [applicant?.fullName, prepared.addressText])
        return prepared
    }

    /// Validates, prepares and writes one appeal; returns what the API answers.
    static func create(_ v: Validated, actor: Actor, settings: Settings, store: Store, queue: IntakeQueue, now: Date,
                       translate: TaskViews.Translate) async throws -> AppealView {
        let prepared = try await prepare(v, actor: actor, settings: settings, store: store, now: now)
        let code = try await queue.submit(prepared)
        return prepared.view(trackingCode: code, roles: actor.roles, today: CivilDate.of(now, in: settings.timeZone), translate: translate)
            .seen(by: actor.permissions, hidden: translate("card", "hidden"))
    }

    /// Reserves `count` numbers of the year's sequence and returns the last; the upsert makes the first appeal of a
    /// year safe under concurrency, and a rolled-back transaction gives its numbers back.
    static func reserveTrackingNumbers(year: Int, count: Int, db: any Database) async throws -> Int {
        let sql = db as! any SQLDatabase
        let row = try await sql.raw("""
            INSERT INTO tracking_sequences (year, last_value) VALUES (\(bind: year), \(bind: count))
            ON CONFLICT (year) DO UPDATE SET last_value = tracking_sequences.last_value + \(bind: count)
            RETURNING last_value
            """).first()
        guard let row else { throw AppError.conflict(code: "sequence", reason: "could not allocate a tracking code", field: nil) }
        return try row.decode(column: "last_value", as: Int.self)
    }
}

/// Resolves unit codes given in input to ids, naming the field when a code is unknown.
struct UnitLookup {
    let db: any Database

    func id(_ code: String?, field: String) async throws -> UUID? {
        guard let code = code?.trimmingCharacters(in: .whitespaces), !code.isEmpty else { return nil }
        guard let unit = try await OrgUnit.query(on: db).filter(\.$code == code).first() else {
            throw AppError.invalid(field: field, reason: "unknown unit code \(code)")
        }
        return unit.id
    }

    /// The unit's code and the codes of all units above it.
    func path(_ id: UUID) async throws -> [String] {
        var path: [String] = []
        var next: UUID? = id
        while let current = next, path.count < 32, let unit = try await OrgUnit.find(current, on: db) {
            path.append(unit.code)
            next = unit.$parent.id
        }
        return path
    }

    func codes(_ ids: [UUID]) async throws -> [UUID: String] {
        guard !ids.isEmpty else { return [:] }
        let units = try await OrgUnit.query(on: db).filter(\.$id ~~ Array(Set(ids))).all()
        return try Dictionary(uniqueKeysWithValues: units.map { (try $0.requireID(), $0.code) })
    }

    /// Units' names by their codes, for pages that show a unit to people.
    func names(codes: [String]) async throws -> [String: String] {
        guard !codes.isEmpty else { return [:] }
        let units = try await OrgUnit.query(on: db).filter(\.$code ~~ Array(Set(codes))).all()
        return Dictionary(units.map { ($0.code, $0.name) }, uniquingKeysWith: { a, _ in a })
    }
}
