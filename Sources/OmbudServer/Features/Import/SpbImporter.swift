import Fluent
import Foundation
import OmbudDomain
import Vapor

/// Loads the St Petersburg portal export as appeals, in batches, skipping rows already imported (by external id).
enum SpbImporter {
    struct Result { var imported: Int; var skipped: Int }

    /// `shiftToNow` moves the dates by whole weeks so the newest appeal is of this week (the demo); `progress` hears the
    /// count imported after each batch.
    static func run(path: String, limit: Int?, shiftToNow: Bool = false, officeID: UUID? = nil, app: Application,
                    progress: (@Sendable (_ done: Int, _ total: Int) -> Void)? = nil) async throws -> Result {
        let store = app.store
        let settings = app.ombudSettings
        let records = try CSVReader.records(try DataImport.readText(URL(fileURLWithPath: path)))
        let zone = TimeZone(identifier: "Europe/Moscow")!
        var rows: [SpbAppealsImport.Row] = []
        for record in records.prefix(limit ?? Int.max) {
            do { rows.append(try SpbAppealsImport.row(record, zone: zone)) } catch SpbAppealsImport.ImportError.invalidRow {
                continue
            }
        }
        if shiftToNow {
            let shift = SpbAppealsImport.demoShift(rows, now: app.clock.now())
            rows = rows.map { $0.shifted(by: shift) }
        }
        let topics = Set(rows.map(\.topicCode))
        try await TopicStore.requireAssignable(Array(topics), db: store.db, field: "topics (import the classifier first)")
        let existing = Set(try await Appeal.query(on: store.db).filter(\.$externalID != nil).all(\.$externalID).compactMap { $0 })
        let units = try await ensureUnits(rows, store: store)
        let calendar = try await store.references.calendar(settings.calendarKey, db: store.db)
        let control = try await store.references.stageControl(db: store.db)
        let system = Actor(userID: UUID.timeOrdered(), login: "import:spb", roleKeys: ["administrator"], permissions: Set(Permission.catalogue), unitIDs: [])
        var imported = 0
        var skipped = 0
        let fresh = rows.filter { !existing.contains("spb:\($0.externalID)") }
        skipped = rows.count - fresh.count
        for batch in stride(from: 0, to: fresh.count, by: 500).map({ Array(fresh[$0..<min($0 + 500, fresh.count)]) }) {
            try await store.write { db in
                for row in batch {
                    try await insert(row, units: units, officeID: officeID, settings: settings, calendar: calendar, control: control, actor: system, db: db)
                }
            }
            imported += batch.count
            progress?(imported, fresh.count)
        }
        return Result(imported: imported, skipped: skipped)
    }

    static func ensureUnits(_ rows: [SpbAppealsImport.Row], store: Store) async throws -> [String: UUID] {
        let names = Set(rows.compactMap(\.executorName))
        return try await store.writeReferences { db in
            var map: [String: UUID] = [:]
            let rootCode = "spb"
            let root: OrgUnit
            if let found = try await OrgUnit.query(on: db).filter(\.$code == rootCode).first() {
                root = found
            } else {
                root = OrgUnit(code: rootCode, name: "Санкт-Петербург", kind: OrgUnitKind.hq.rawValue, parentID: nil, createdAt: Date())
                try await root.create(on: db)
            }
            for name in names.sorted() {
                let code = SpbAppealsImport.unitCode(forExecutor: name)
                if let unit = try await OrgUnit.query(on: db).filter(\.$code == code).first() {
                    map[name] = unit.id
                } else {
                    let unit = OrgUnit(code: code, name: name, kind: OrgUnitKind.body.rawValue, parentID: root.id, createdAt: Date())
                    try await unit.create(on: db)
                    map[name] = unit.id
                }
            }
            return map
        }
    }

    static func insert(_ row: SpbAppealsImport.Row, units: [String: UUID], officeID: UUID?, settings: Settings, calendar: BusinessCalendar, control: StageControl,
                       actor: Actor, db: any Database) async throws {
        let received = CivilDate.of(row.received, in: settings.timeZone)
        let number = try await AppealIntake.reserveTrackingNumbers(year: received.year, count: 1, db: db)
        let appeal = Appeal()
        appeal.id = UUID.timeOrdered()
        appeal.trackingCode = TrackingCode(year: received.year, number: number).description
        appeal.workflow = AppealTransitions.workflow.key
        appeal.status = row.state
        appeal.channel = AppealChannel.web.rawValue
        appeal.kind = AppealKind.statement.rawValue
        appeal.form = AppealForm.electronic.rawValue
        appeal.urgency = Urgency.followUp.rawValue
        appeal.receivedAt = row.received
        appeal.isCollective = false
        appeal.isDeputyInquiry = false
        appeal.text = row.text
        appeal.addressText = row.address
        appeal.lat = row.latitude
        appeal.lon = row.longitude
        appeal.district = row.district
        appeal.$office.id = officeID
        appeal.externalID = "spb:\(row.externalID)"
        appeal.deadlines = DeadlineRules.onReceipt(received: received, policy: settings.deadlinePolicy)
        if let registered = row.registered, row.state != "received" {
            appeal.registeredAt = registered
            appeal.deadlines = DeadlineRules.onRegistration(received: received, registered: CivilDate.of(registered, in: settings.timeZone),
                                                            policy: settings.deadlinePolicy, calendar: calendar)
        }
        let state = AppealTransitions.workflow.state(row.state)
        appeal.underControl = state?.underControl ?? true
        appeal.closedAt = state?.terminal == true ? row.closed : nil
        appeal.searchText = AppealSearch.document(appeal, applicantName: nil)
        appeal.createdAt = row.received
        appeal.updatedAt = row.closed ?? row.answered ?? row.received
        try await appeal.create(on: db)

        let question = Question()
        question.$appeal.id = try appeal.requireID()
        question.position = 1
        question.topicCode = row.topicCode
        question.text = ""
        question.executorUnitID = row.executorName.flatMap { units[$0] }
        question.status = row.result?.isFinal == true ? QuestionStatus.done.rawValue : QuestionStatus.inProgress.rawValue
        question.result = row.result?.rawValue
        question.answerText = row.answerText
        question.createdAt = row.received
        question.updatedAt = appeal.updatedAt
        try await question.create(on: db)
        // The city portal published these reports (text, place and answer): they stay public here.
        try await PublicAppeals.make(appealID: appeal.requireID(), listed: true, textPublic: true, lat: row.latitude, lon: row.longitude,
                                     district: row.district, at: row.received).create(on: db)
        // An open appeal gets the task of its state; alerts that fell due before the import are not sent.
        for task in try TaskPlanner.tasks(for: appeal, entering: appeal.status, at: appeal.updatedAt, questions: [question], headUserID: nil,
                                      control: control, calendar: calendar, zone: settings.timeZone, alertsFrom: Date()) {
            try await task.create(on: db)
        }
        try await HistoryRecorder(db: db, actor: actor, at: row.received)
            .record(entity: "appeal", id: appeal.requireID(), appealID: appeal.requireID(), action: "import", to: row.state, comment: appeal.externalID)
    }
}
