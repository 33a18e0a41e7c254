import Fluent
import Foundation
import OmbudDomain
import SQLKit
import SQLiteNIO
import Vapor

/// `ombud import csv FILE[.gz] --mapping MAP.json`: another system's appeals, read as a stream and written in
/// batches of one transaction each (an appeal is stored whole with its question and history entry, or not at all).
/// Idempotent by the external id: rows already imported are counted and skipped. Refused rows go to
/// `FILE.rejects.csv` with their line and the reason.
enum CSVImporter {
    struct Result: Equatable {
        var imported = 0
        var present = 0
        var refused = 0
        var rows = 0
        var rejectsFile: String?
    }

    /// Appeals per transaction.
    static let batchSize = 10_000

    static func run(path: String, mapping mappingPath: String, app: Application, progress: ((ImportProgress) -> Void)? = nil) async throws -> Result {
        let mappingData: Data
        do { mappingData = try Data(contentsOf: URL(fileURLWithPath: mappingPath)) } catch {
            throw AppError.invalid(field: "mapping", reason: "cannot read \(mappingPath)")
        }
        let mapping: CSVMapping
        do {
            mapping = try CSVMapping(json: mappingData) { field, value in
                switch field {
                case "status": AppealTransitions.workflow.state(value) != nil
                case "channel": AppealChannel(rawValue: value) != nil
                default: AppealKind(rawValue: value) != nil
                }
            }
        } catch { throw AppError.invalid(field: "mapping: \(error.field)", reason: error.reason) }

        let file = try CompressedFile(path: path)
        var stream = CSVStream(next: { try file.next() })
        let header: [String]
        do {
            guard let first = try stream.nextRow() else { throw AppError.invalid(field: "file", reason: "\(path) is empty") }
            header = first.fields
        } catch let error as CSVError { throw AppError.invalid(field: "file", reason: "\(error)") }
        let missing = mapping.missingColumns(header: header)
        guard missing.isEmpty else { throw AppError.invalid(field: "mapping: fields", reason: "the file has no column \(missing.joined(separator: ", "))") }
        let columns = mapping.columns(header: header)

        let rejectsPath = (path.hasSuffix(".gz") ? String(path.dropLast(3)) : path) + ".rejects.csv"
        try? FileManager.default.removeItem(atPath: rejectsPath)
        var rejects: FileHandle?
        let writer = BatchWriter(app: app, mapping: mapping)
        try await writer.prepare()
        var result = Result()
        var batch: [(line: Int, appeal: MappedAppeal)] = []
        var seen = Set<String>()
        let started = Date()
        var lastReport = started

        func refuse(_ line: Int, _ reason: String, _ fields: [String]) throws {
            if rejects == nil {
                FileManager.default.createFile(atPath: rejectsPath, contents: nil)
                rejects = try FileHandle(forWritingTo: URL(fileURLWithPath: rejectsPath))
                try rejects?.write(contentsOf: Data((["line", "reason"] + header).map(CSVField.quoted).joined(separator: ",").utf8 + [0x0D, 0x0A]))
            }
            try rejects?.write(contentsOf: Data(([String(line), reason] + fields).map(CSVField.quoted).joined(separator: ",").utf8 + [0x0D, 0x0A]))
            result.refused += 1
        }
        // While a batch is written, the next one is read and mapped: the database and the parsing share the cores.
        var writing: Task<Int, any Error>?
        func flush() async throws {
            guard !batch.isEmpty else {
                result.imported += try await writing?.value ?? 0
                writing = nil
                return
            }
            let fresh = try await writer.withoutPresent(batch.map(\.appeal))
            result.present += batch.count - fresh.count
            batch.removeAll(keepingCapacity: true)
            let prepared = try await writer.prepare(fresh)
            result.imported += try await writing?.value ?? 0
            writing = Task { try await writer.commit(prepared); return fresh.count }
        }

        func readAll() async throws {
            while true {
                let row: (line: Int, fields: [String])?
                do { row = try stream.nextRow() } catch let error as CSVError {
                    // The file cannot be read past this point: what was read is kept, and the rest is named.
                    try await flush()
                    try await flush()
                    throw AppError.invalid(field: "file", reason: "\(error); \(result.imported) appeals imported before it")
                }
                guard let row else { break }
                result.rows += 1
                switch mapping.appeal(row.fields, columns: columns, terminal: { AppealTransitions.workflow.state($0)?.terminal }) {
                case let .failure(error): try refuse(row.line, "\(error.field): \(error.reason)", row.fields)
                case let .success(appeal):
                    if seen.insert(appeal.externalID).inserted {
                        batch.append((row.line, appeal))
                    } else {
                        try refuse(row.line, "externalId: \(appeal.externalID) appears twice in the file", row.fields)
                    }
                }
                if batch.count >= batchSize { try await flush() }
                if let progress, Date().timeIntervalSince(lastReport) > 0.25 {
                    lastReport = Date()
                    progress(ImportProgress(rows: result.rows, fraction: file.fraction, elapsed: lastReport.timeIntervalSince(started)))
                }
        }
        try await flush()
        try await flush()
        }

        do {
            try await readAll()
        } catch {
            // A batch still being written is awaited, so nothing is written after the command has answered.
            _ = try? await writing?.value
            try? rejects?.close()
            throw error
        }
        try rejects?.close()
        result.rejectsFile = result.refused > 0 ? rejectsPath : nil
        progress?(ImportProgress(rows: result.rows, fraction: 1, elapsed: Date().timeIntervalSince(started)))
        return result
    }
}

struct ImportProgress {
    var rows: Int
    /// Of the file read (its compressed bytes for `.gz`).
    var fraction: Double
    var elapsed: TimeInterval

    /// `  412,000 rows  38,150 rows/s  41%  ETA 0:16`
    var line: String {
        let rate = elapsed > 0 ? Double(rows) / elapsed : 0
        let remaining = fraction > 0.001 ? elapsed * (1 - fraction) / fraction : 0
        let eta = fraction >= 1 ? "done" : "ETA \(Int(remaining) / 60):\(String(format: "%02d", Int(remaining) % 60))"
        return "\(rows.formatted()) rows  \(Int(rate).formatted()) rows/s  \(Int(fraction * 100))%  \(eta)"
    }
}

/// A file read in chunks, through `gzip -dc` when its name ends in `.gz`; `fraction` is how much of the file on disk
/// has been read.
final class CompressedFile: @unchecked Sendable {
    private let handle: FileHandle
    private let size: Double
    private let process: Process?
    private let output: FileHandle?
    private let lock = NSLock()
    private var consumed = 0

    init(path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw AppError.invalid(field: "file", reason: "cannot read \(path)") }
        self.handle = handle
        size = Double((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0)
        guard path.hasSuffix(".gz") else {
            process = nil
            output = nil
            return
        }
        // gzip may stop reading (a damaged file): a write to its closed pipe must fail, not kill this process.
        signal(SIGPIPE, SIG_IGN)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["gzip", "-dc"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        self.process = process
        self.output = output.fileHandleForReading
        // The compressed bytes are fed from here, so that progress counts them.
        let writer = input.fileHandleForWriting
        Thread.detachNewThread { [self] in
            while let chunk = try? handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                lock.withLock { consumed += chunk.count }
                do { try writer.write(contentsOf: chunk) } catch { break }
            }
            try? writer.close()
        }
    }

    deinit {
        if let process, process.isRunning { process.terminate() }
        try? handle.close()
    }

    func next() throws -> [UInt8]? {
        if let output {
            guard let chunk = try output.read(upToCount: 1 << 20), !chunk.isEmpty else {
                process?.waitUntilExit()
                if let process, process.terminationStatus != 0 { throw AppError.invalid(field: "file", reason: "is not a gzip file") }
                return nil
            }
            return Array(chunk)
        }
        guard let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty else { return nil }
        lock.withLock { consumed += chunk.count }
        return Array(chunk)
    }

    var fraction: Double { size > 0 ? min(1, Double(lock.withLock { consumed }) / size) : 0 }
}

extension CSVImporter {
    /// Stores mapped appeals: the topics and units they name first (once each), then the appeals, their one question
    /// and their history entry in one transaction per batch.
    /// Used from one task at a time (the import's loop); the closures it hands to the database run inside that turn.
    final class BatchWriter: @unchecked Sendable {
        let app: Application
        let mapping: CSVMapping
        let groupCode: String
        private var topics: [String: String] = [:]
        private var units: [String: UUID] = [:]
        private let actor = "import:csv"

        init(app: Application, mapping: CSVMapping) {
            self.app = app
            self.mapping = mapping
            groupCode = CSVMapping.code(source: mapping.source, value: nil)
        }

        /// The source's topic group, and what earlier runs created.
        func prepare() async throws {
            let store = app.store
            // A bulk load inserts into every index of three tables at random places: with SQLite's default cache of
            // 2 MB nearly each insert reads and writes pages through the kernel. A quarter of a gigabyte of cache for
            // this process's writer, and statement journals in memory, make it several times faster.
            try await app.ombud.writer?.execute("PRAGMA cache_size = -262144; PRAGMA temp_store = MEMORY")
            let group = groupCode
            let source = mapping.source
            let existing = try await TopicRecord.find(group, on: store.db)
            if let existing, !existing.isLocal {
                throw AppError.invalid(field: "mapping: source", reason: "\(group) is an official topic code")
            }
            if existing == nil {
                let topic: Topic
                do { topic = try Classifier.localTopic(code: group, name: source, parent: nil) } catch {
                    throw AppError.invalid(field: "mapping: source", reason: "cannot make a topic code of \(source)")
                }
                try await TopicStore.addLocal(topic, store: store)
            }
            for record in try await TopicRecord.query(on: store.db).filter(\.$parentCode == group).all() {
                topics[record.name] = record.id
            }
            for unit in try await OrgUnit.query(on: store.db).filter(\.$code >= group + ".").filter(\.$code < group + "/").all() {
                units[unit.name] = unit.id
            }
        }

        /// The appeals not imported before (by source and external id).
        func withoutPresent(_ appeals: [MappedAppeal]) async throws -> [MappedAppeal] {
            let keys = appeals.map { key($0) }
            var present = Set<String>()
            for chunk in stride(from: 0, to: keys.count, by: 10_000).map({ Array(keys[$0..<min($0 + 10_000, keys.count)]) }) {
                let rows = try await app.store.sql.select().column("external_id").from("appeals")
                    .where("external_id", .in, SQLBind.group(chunk)).all()
                for row in rows { present.insert(try row.decode(column: "external_id", as: String.self)) }
            }
            return appeals.filter { !present.contains(key($0)) }
        }

        private func key(_ appeal: MappedAppeal) -> String { "\(mapping.source):\(appeal.externalID)" }

        /// The topics and units this batch names that do not exist yet.
        private func references(_ appeals: [MappedAppeal]) async throws {
            let newTopics = Set(appeals.compactMap(\.category)).subtracting(topics.keys).sorted()
            let newUnits = Set(appeals.compactMap(\.executor)).subtracting(units.keys).sorted()
            guard !newTopics.isEmpty || !newUnits.isEmpty else { return }
            let source = mapping.source, group = groupCode
            guard let parent = try await TopicRecord.find(group, on: app.db) else { throw AppError.notFound(entity: "topic", id: group) }
            let parentTopic = Topic(code: group, name: parent.name, level: parent.level, parentCode: nil, section: parent.section,
                                    assignable: true, isLocal: true)
            let now = Date()
            let made: ([String: String], [String: UUID]) = try await app.store.writeReferences { db in
                var topics: [String: String] = [:]
                var units: [String: UUID] = [:]
                for name in newTopics {
                    let code = CSVMapping.code(source: source, value: name)
                    if try await TopicRecord.find(code, on: db) == nil {
                        try await TopicStore.insertLocal(try Classifier.localTopic(code: code, name: name, parent: parentTopic), db: db)
                    }
                    topics[name] = code
                }
                for name in newUnits {
                    let code = CSVMapping.code(source: source, value: name)
                    if let unit = try await OrgUnit.query(on: db).filter(\.$code == code).first() {
                        units[name] = try unit.requireID()
                    } else {
                        let unit = OrgUnit(code: code, name: name, kind: OrgUnitKind.body.rawValue, parentID: nil, createdAt: now)
                        try await unit.create(on: db)
                        units[name] = try unit.requireID()
                    }
                }
                return (topics, units)
            }
            topics.merge(made.0) { a, _ in a }
            units.merge(made.1) { a, _ in a }
        }

        /// A batch built and converted, waiting for its tracking codes: everything but the codes is done before the
        /// previous batch has finished writing.
        struct Prepared: @unchecked Sendable {
            /// PostgreSQL: the rows (SQLite gets `statements` instead).
            var tables: [IntakeWriter.Table]
            /// Each appeal's year of receipt and index document without its code.
            var years: [Int]
            var documents: [String]
            /// SQLite: the statements, values converted.
            var statements: [(sql: String, binds: [SQLiteData])]
        }

        static let appealColumns = [
            "id", "tracking_code", "workflow", "status", "channel", "kind", "form", "urgency", "received_at", "registered_at",
            "closed_at", "is_collective", "is_deputy_inquiry", "text", "address_text", "lat", "lon", "district",
            "registration_due", "answer_due", "control_date", "extension_days", "under_control", "external_id", "search_text",
            "created_at", "updated_at"]
        /// Where `commit` writes each appeal's tracking code and index document.
        static let codeColumn = appealColumns.firstIndex(of: "tracking_code") ?? 1
        static let searchColumn = appealColumns.firstIndex(of: "search_text") ?? 24

        func prepare(_ appeals: [MappedAppeal]) async throws -> Prepared {
            try await references(appeals)
            let settings = app.ombudSettings
            let calendar = try await app.store.references.calendar(settings.calendarKey, db: app.db)
            let days = appeals.map { CivilDate.of($0.receivedAt, in: settings.timeZone) }
            let (tables, documents) = tables(appeals, days: days, calendar: calendar, settings: settings)
            let sqlite = app.ombud.writer != nil
            return Prepared(tables: sqlite ? [] : tables, years: days.map(\.year), documents: documents,
                            statements: sqlite ? try IntakeWriter.statements(tables) : [])
        }

        /// Numbers the batch and writes it, in one transaction.
        func commit(_ batch: Prepared) async throws {
            guard !batch.years.isEmpty else { return }
            let needed = batch.years.reduce(into: [Int: Int]()) { $0[$1, default: 0] += 1 }
            @Sendable func codes(_ first: [Int: Int]) -> [(code: String, document: String)] {
                zip(IntakeWriter.codes(years: batch.years, first: first), batch.documents).map { code, document in
                    (code, PersonalSearch.document(open: [code], personal: []) + " " + document)
                }
            }
            if let writer = app.ombud.writer, let gate = app.ombud.gate {
                let width = Self.appealColumns.count
                let perStatement = IntakeWriter.rowsPerStatement(columns: width)
                try await gate.locked {
                    try await writer.transaction { connection in
                        var statements = batch.statements
                        for (index, filled) in codes(try IntakeWriter.reserveNumbers(needed, connection: connection)).enumerated() {
                            let row = (index % perStatement) * width
                            statements[index / perStatement].binds[row + Self.codeColumn] = .text(filled.code)
                            statements[index / perStatement].binds[row + Self.searchColumn] = .text(filled.document)
                        }
                        try IntakeWriter.run(statements, connection: connection)
                    }
                }
            } else {
                try await app.store.write { db in
                    var tables = batch.tables
                    for (index, filled) in codes(try await IntakeWriter.reserveNumbers(needed, db: db)).enumerated() {
                        tables[0].rows[index][Self.codeColumn] = filled.code
                        tables[0].rows[index][Self.searchColumn] = filled.document
                    }
                    try await IntakeWriter.insert(tables, db: db as! any SQLDatabase)
                }
            }
        }

        /// The rows of a batch, the tracking code and the index document left empty (`commit` fills them in), and
        /// each appeal's index document without its code.
        private func tables(_ appeals: [MappedAppeal], days: [CivilDate], calendar: BusinessCalendar,
                            settings: Settings) -> ([IntakeWriter.Table], [String]) {
            var rows = IntakeWriter.Table(name: "appeals", columns: Self.appealColumns)
            var questions = IntakeWriter.Table(name: "questions", columns: [
                "id", "appeal_id", "position", "topic_code", "text", "executor_unit_id", "status", "created_at", "updated_at"])
            var history = IntakeWriter.Table(name: "history", columns: [
                "id", "entity", "entity_id", "appeal_id", "actor", "at", "action", "to_value", "comment"])
            var documents: [String] = []
            documents.reserveCapacity(appeals.count)
            for (appeal, day) in zip(appeals, days) {
                let id = UUID.timeOrdered(at: appeal.receivedAt)
                var deadlines = DeadlineRules.onReceipt(received: day, policy: settings.deadlinePolicy)
                if let registered = appeal.registeredAt {
                    deadlines = DeadlineRules.onRegistration(received: day, registered: CivilDate.of(registered, in: settings.timeZone),
                                                             policy: settings.deadlinePolicy, calendar: calendar)
                }
                if let control = appeal.controlDate {
                    deadlines.controlDate = control
                    deadlines.answerDue = control
                }
                let state = AppealTransitions.workflow.state(appeal.status)
                let changed = appeal.closedAt ?? appeal.registeredAt ?? appeal.receivedAt
                documents.append(PersonalSearch.document(open: [appeal.text, appeal.category, appeal.district], personal: [appeal.address]))
                rows.rows.append([
                    id, "", AppealTransitions.workflow.key, appeal.status, appeal.channel, appeal.kind, AppealForm.electronic.rawValue,
                    Urgency.followUp.rawValue, appeal.receivedAt, appeal.registeredAt, appeal.closedAt, false, false, appeal.text,
                    appeal.address, appeal.lat, appeal.lon, appeal.district, deadlines.registrationDue.iso, deadlines.answerDue?.iso,
                    deadlines.controlDate?.iso, 0, state?.underControl ?? true, key(appeal), "", appeal.receivedAt, changed,
                ])
                let final = state?.terminal == true
                questions.rows.append([
                    UUID.timeOrdered(at: appeal.receivedAt), id, 1, appeal.category.flatMap { topics[$0] } ?? groupCode, appeal.category ?? "",
                    appeal.executor.flatMap { units[$0] }, (final ? QuestionStatus.done : QuestionStatus.inProgress).rawValue,
                    appeal.receivedAt, changed,
                ])
                history.rows.append([UUID.timeOrdered(at: appeal.receivedAt), "appeal", id, id, actor, appeal.receivedAt, "import",
                                     appeal.status, key(appeal)])
            }
            return ([rows, questions, history], documents)
        }
    }
}
