import Fluent
import Foundation
import OmbudDomain
import SQLKit

/// Registers a new appeal in one transaction: applicant, questions, tracking code, deadlines, history, search index.
enum AppealIntake {
    struct Validated: Sendable {
        var channel: AppealChannel
        var kind: AppealKind
        var form: AppealForm
        var urgency: Urgency
        var text: String
        var receivedAt: Date
        var applicant: ApplicantStore.Validated?
        var applicantID: UUID?
        var coApplicants: [ApplicantStore.Validated]
        var coApplicantIDs: [UUID]
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
        for (i, q) in (input.questions ?? []).enumerated() {
            _ = try Validate.text(q.text, field: "questions[\(i)].text", required: false)
            if q.topicCode.trimmingCharacters(in: .whitespaces).isEmpty {
                throw ValidationError(field: "questions[\(i)].topicCode", reason: "is required")
            }
        }
        if let received = input.receivedAt, received > now.addingTimeInterval(300) {
            throw ValidationError(field: "receivedAt", reason: "is in the future")
        }
        return Validated(
            channel: channel,
            kind: try Validate.choice(input.kind, field: "kind", default: .statement),
            form: try Validate.choice(input.form, field: "form", default: AppealForm.implied(by: channel)),
            urgency: try Validate.choice(input.urgency, field: "urgency", default: .followUp),
            text: text,
            receivedAt: input.receivedAt ?? now,
            applicant: applicant,
            applicantID: input.applicant?.id,
            coApplicants: coApplicants,
            coApplicantIDs: (input.coApplicants ?? []).compactMap(\.id),
            questions: input.questions ?? [],
            address: input.address,
            input: input)
    }

    static func create(_ v: Validated, actor: Actor?, settings: Settings, store: Store, now: Date) async throws -> UUID {
        try await store.write { db in
            let history = HistoryRecorder(db: db, actor: actor, at: now)
            let units = UnitLookup(db: db)

            var applicantID = v.applicantID
            if let id = applicantID {
                guard try await Applicant.find(id, on: db) != nil else { throw AppError.notFound(entity: "applicant", id: id.uuidString) }
            } else if let applicant = v.applicant {
                applicantID = try await ApplicantStore.create(applicant, db: db, history: history).id
            }
            var coIDs = v.coApplicantIDs
            for id in coIDs where try await Applicant.find(id, on: db) == nil {
                throw AppError.notFound(entity: "applicant", id: id.uuidString)
            }
            for co in v.coApplicants { coIDs.append(try await ApplicantStore.create(co, db: db, history: history).id!) }

            let officeID = try await units.id(v.input.officeCode, field: "officeCode")
            let complainedID = try await units.id(v.input.complainedUnitCode, field: "complainedUnitCode")
            var repeatOfID: UUID?
            if let ref = v.input.repeatOf {
                repeatOfID = try await AppealQueries.resolve(ref, db: db, field: "repeatOf")
            }
            try await TopicStore.requireAssignable(v.questions.map(\.topicCode), db: db)
            var executorIDs: [UUID?] = []
            for (i, q) in v.questions.enumerated() {
                executorIDs.append(try await units.id(q.executorUnitCode, field: "questions[\(i)].executorUnitCode"))
            }

            let receivedDay = CivilDate.of(v.receivedAt, in: settings.timeZone)
            let number = try await nextTrackingNumber(year: receivedDay.year, db: db)
            let appeal = Appeal()
            appeal.id = UUID()
            appeal.trackingCode = TrackingCode(year: receivedDay.year, number: number).description
            appeal.workflow = WorkflowDefinition.federalLaw59.key
            appeal.status = WorkflowDefinition.federalLaw59.initial
            appeal.channel = v.channel.rawValue
            appeal.kind = v.kind.rawValue
            appeal.form = v.form.rawValue
            appeal.urgency = v.urgency.rawValue
            appeal.receivedAt = v.receivedAt
            appeal.$applicant.id = applicantID
            appeal.isCollective = v.input.isCollective ?? !coIDs.isEmpty
            appeal.isDeputyInquiry = v.input.isDeputyInquiry ?? false
            appeal.text = v.text
            appeal.addressText = v.address?.text?.trimmingCharacters(in: .whitespacesAndNewlines)
            appeal.lat = v.address?.lat
            appeal.lon = v.address?.lon
            appeal.district = v.address?.district
            appeal.$office.id = officeID
            appeal.complainedUnitID = complainedID
            appeal.repeatOfID = repeatOfID
            let deadlines = DeadlineRules.onReceipt(received: receivedDay, policy: settings.deadlinePolicy)
            appeal.registrationDue = deadlines.registrationDue.iso
            appeal.extensionDays = 0
            appeal.underControl = true
            appeal.searchText = ""
            appeal.createdAt = now
            appeal.updatedAt = now
            let id = appeal.id!

            if v.input.register == true {
                try await AppealTransitions.register(appeal, settings: settings, db: db, now: now)
            }
            var applicantName: String?
            if let applicantID { applicantName = try await Applicant.find(applicantID, on: db)?.fullName }
            appeal.searchText = TextNormalizer.searchDocument([appeal.trackingCode, v.text, applicantName, appeal.addressText, appeal.district])
            try await appeal.create(on: db)
            try await AppealSearch.index(appealID: id, document: appeal.searchText, db: db)

            for coID in coIDs { try await CoApplicant(appealID: id, applicantID: coID).create(on: db) }
            for (i, q) in v.questions.enumerated() {
                let question = Question()
                question.$appeal.id = id
                question.position = i + 1
                question.topicCode = q.topicCode.trimmingCharacters(in: .whitespaces)
                question.text = q.text?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
                question.executorUnitID = executorIDs[i]
                question.status = QuestionStatus.open.rawValue
                question.result = nil
                question.createdAt = now
                question.updatedAt = now
                try await question.create(on: db)
            }
            try await history.record(entity: "appeal", id: id, appealID: id, action: "create", to: appeal.trackingCode)
            if appeal.status != WorkflowDefinition.federalLaw59.initial {
                try await history.record(entity: "appeal", id: id, appealID: id, action: "transition", field: "status",
                                         from: WorkflowDefinition.federalLaw59.initial, to: appeal.status)
            }
            return id
        }
    }

    /// The next number of the year's sequence; the upsert makes the first appeal of a year safe under concurrency.
    static func nextTrackingNumber(year: Int, db: any Database) async throws -> Int {
        let sql = db as! any SQLDatabase
        let row = try await sql.raw("""
            INSERT INTO tracking_sequences (year, last_value) VALUES (\(bind: year), 1)
            ON CONFLICT (year) DO UPDATE SET last_value = tracking_sequences.last_value + 1
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
        return Dictionary(uniqueKeysWithValues: units.map { ($0.id!, $0.code) })
    }
}
