import Foundation
import Testing
@testable import OmbudServer

/// The hand-written JSON of the appeal views must say exactly what Foundation's encoder says. Foundation orders keys
/// as its dictionary happens to, so whole documents are compared parsed; single values are compared byte for byte.
struct JSONWriterTests {
    func same(_ value: some Encodable & JSONWritable) throws -> Bool {
        let theirs = try JSONSerialization.jsonObject(with: try JSONCoding.encoder.encode(value)) as! NSObject
        let mine = try JSONSerialization.jsonObject(with: Data(JSONWriter.encode(value))) as! NSObject
        return mine.isEqual(theirs)
    }

    func foundation(_ value: some Encodable) throws -> String {
        String(decoding: try JSONCoding.encoder.encode(value), as: UTF8.self)
    }

    func ours(_ value: some JSONWritable) -> String {
        String(decoding: JSONWriter.encode(value), as: UTF8.self)
    }

    static let awkward = ["", "plain", "Ул. Садовая, 5/7 — «кв.» 12", "quote \" backslash \\ slash /", "tab\tnew\nline\r\u{8}\u{c}\u{1}\u{1f}\u{7f}",
                          "emoji 🏠 and فارسی", "\u{2028}\u{2029}"]

    func appeal(_ i: Int, full: Bool) -> AppealView {
        let text = Self.awkward[i % Self.awkward.count]
        let date = Date(timeIntervalSince1970: Double(i) * 7_777_777.123 - 900_000_000)
        let applicant = ApplicantSummary(id: UUID(), kind: "person", fullName: text, surname: full ? text : nil, name: full ? "Анна" : nil,
                                         patronymic: nil, organisationName: full ? "ООО \"Ромашка\"" : nil, phones: full ? ["+79215551234", text] : [],
                                         emails: [], postalAddress: full ? text : nil, publicityConsent: i % 2 == 0, masked: i % 3 == 0)
        let question = QuestionView(id: UUID(), position: i, topicCode: "0003.0009.0097.0689", text: text,
                                    executorUnitCode: full ? "roads" : nil, executorUserId: full ? UUID() : nil, status: "in-work",
                                    result: full ? "explained" : nil, answerText: full ? text : nil)
        let task = TaskView(id: UUID(), appealId: UUID(), trackingCode: "2026-000001", key: "prepare-answer", title: text, state: full ? "in-progress" : nil,
                            status: "open", assigneeUnitCode: full ? "roads" : nil, assigneeUserId: full ? UUID() : nil, assigneeName: full ? text : nil,
                            dueAt: full ? date : nil, overdue: i % 2 == 0, enteredAt: date, closedAt: full ? date : nil,
                            checklist: [ChecklistItemView(label: "draft-answer", text: text, done: full, doneBy: full ? "ivanova" : nil, doneAt: full ? date : nil)])
        let promise = PromiseView(id: UUID(), appealId: UUID(), trackingCode: "2026-000001", applicantId: full ? UUID() : nil, text: text,
                                  dueDate: "2026-12-01", status: "given", responsibleUserId: full ? UUID() : nil, responsibleName: full ? text : nil,
                                  responsibleUnitCode: nil, overdue: full, createdAt: date, settledAt: full ? date : nil)
        let coordinates: [Double] = [59.93863, 30.0, -0.5, 1e-7, 123456789.125, 0, 59.94]
        return AppealView(
            id: UUID(), trackingCode: "2026-00000\(i % 10)", status: "registered", channel: "phone", kind: "complaint", form: "oral",
            urgency: "follow-up", receivedAt: date, registeredAt: full ? date.addingTimeInterval(0.999) : nil, closedAt: full ? date.addingTimeInterval(-0.001) : nil,
            applicant: full || i % 2 == 0 ? applicant : nil, coApplicants: full ? [applicant, applicant] : [], isCollective: full, isDeputyInquiry: !full,
            text: text, address: full ? AddressView(text: text, lat: coordinates[i % coordinates.count], lon: coordinates[(i + 3) % coordinates.count], district: "Центральный") : AddressView(text: nil, lat: nil, lon: nil, district: nil),
            officeCode: full ? "hq" : nil, complainedUnitCode: full ? "police" : nil, redirectedToUnitCode: full ? "city" : nil,
            repeatOf: full ? "2025-000001" : nil, duplicateOf: full ? "2025-000002" : nil, article11Ground: full ? "obscene" : nil,
            deadlines: DeadlinesView(registrationDue: "2026-11-25", redirectDue: full ? "2026-11-29" : nil, answerDue: full ? "2026-12-22" : nil,
                                     controlDate: full ? "2026-12-22" : nil, extensionDays: i, extensionReason: full ? text : nil, daysLeft: full ? -i : nil),
            overdue: i % 2 == 1, questions: full ? [question, question] : [], allowedTransitions: full ? ["assigned", "withdrawn"] : [],
            tasks: full ? [task, task] : [], promises: full ? [promise] : [])
    }

    @Test func appealViewsAreWrittenAsFoundationWritesThem() throws {
        for i in 0..<60 {
            for full in [true, false] {
                let view = appeal(i, full: full)
                #expect(try same(view), "appeal \(i) full: \(full)")
            }
        }
    }

    @Test func listPagesAreWrittenAsFoundationWritesThem() throws {
        let items = (0..<20).map { i in
            AppealListItem(id: UUID(), trackingCode: "2026-000123", status: "received", channel: "web", kind: "statement",
                           receivedAt: Date(timeIntervalSince1970: Double(i) * 86_399.5), controlDate: i % 2 == 0 ? "2026-01-31" : nil,
                           overdue: i % 3 == 0, district: i % 4 == 0 ? nil : "Невский", excerpt: Self.awkward[i % Self.awkward.count])
        }
        for page in [AppealPage(items: items, nextCursor: "MTc2|abc/="), AppealPage(items: [], nextCursor: nil)] {
            #expect(try same(page))
        }
    }

    @Test func stringsAndNumbersAreWrittenAsFoundationWritesThem() throws {
        struct Text: Encodable, JSONWritable {
            var s: String
            func write(to json: inout JSONWriter) { json.object { $0.field("s", s) } }
        }
        struct Number: Encodable, JSONWritable {
            var d: Double
            func write(to json: inout JSONWriter) { json.object { $0.field("d", d) } }
        }
        for text in Self.awkward { #expect(ours(Text(s: text)) == (try foundation(Text(s: text)))) }
        for d in [59.93863, 30.0, -0.5, 1e-7, 123456789.125, 0, 59.94, -180, 1e21] {
            #expect(ours(Number(d: d)) == (try foundation(Number(d: d))))
        }
    }

    @Test func keysFollowTheDeclarationOrder() {
        let text = ours(appeal(1, full: true))
        #expect(text.hasPrefix(#"{"id":""#))
        #expect(text.contains(#""allowedTransitions":["assigned","withdrawn"],"tasks":[{"id":"#))
        #expect(text.contains(#"}],"promises":[{"id":"#))
    }

    @Test func datesMatchFoundationAcrossCenturiesAndFractions() throws {
        struct Box: Encodable, JSONWritable {
            var at: Date
            func write(to json: inout JSONWriter) { json.object { $0.field("at", at) } }
        }
        var seconds = -2_208_988_800.0  // 1900-01-01
        while seconds < 4_102_444_800 {  // 2100-01-01
            for fraction in [0.0, 0.001, 0.5, 0.999999] {
                let box = Box(at: Date(timeIntervalSince1970: seconds + fraction))
                #expect(ours(box) == (try foundation(box)), "\(seconds + fraction)")
            }
            seconds += 86_400 * 97.37
        }
    }
}
