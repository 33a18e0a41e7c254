import Foundation
import Testing
@testable import OmbudDomain

@Suite struct RegistryRulesTests {
    @Test func trackingCodeFormatAndParse() {
        #expect(TrackingCode(year: 2026, number: 123).description == "2026-000123")
        #expect(TrackingCode(year: 2026, number: 1_234_567).description == "2026-1234567")
        #expect(TrackingCode("2026-000123") == TrackingCode(year: 2026, number: 123))
        #expect(TrackingCode("2026-12") == nil)
        #expect(TrackingCode("abcd-000001") == nil)
        #expect(TrackingCode("2026-000000") == nil)
    }

    @Test func theOfficialClassifierLoadsWholeWithHierarchy() throws {
        // act
        let csv = try String(contentsOf: SharedData.root.appendingPathComponent("ru-appeals-classifier/classifier.csv"), encoding: .utf8)
        let topics = try Classifier.parse(csv: csv)
        // check
        #expect(topics.count == 2108)
        #expect(topics.filter { $0.level == 1 }.count == 5)
        #expect(topics.filter(\.assignable).allSatisfy { $0.level >= 4 })
        #expect(topics.filter(\.assignable).count == 1225 + 651)
        #expect(topics.first { $0.code == "0005.0005.0056.1168" }?.parentCode == "0005.0005.0056")
    }

    @Test func classifierWithUnknownParentIsRejected() {
        let csv = "code,code4,level,name,parent_code,section,assignable\n0001.0001,x,2,Name,0001,0001,no\n"
        #expect(throws: TopicError.unknownParent(code: "0001.0001", parent: "0001")) { try Classifier.parse(csv: csv) }
    }

    @Test func localTopicsCannotImitateOfficialCodes() throws {
        #expect(throws: TopicError.invalidCode("0001.0002")) { try Classifier.localTopic(code: "0001.0002", name: "x", parent: nil) }
        #expect(throws: TopicError.emptyName) { try Classifier.localTopic(code: "L-1", name: " ", parent: nil) }
        let topic = try Classifier.localTopic(code: "L-PARKS", name: "Парки района", parent: nil)
        #expect(topic.assignable && topic.isLocal)
    }

    @Test func attachmentNamesCarryNoPath() throws {
        #expect(throws: AttachmentError.pathInName("../../etc/passwd")) { try AttachmentRules.sanitizedName("../../etc/passwd") }
        #expect(throws: AttachmentError.pathInName("C:\\x.pdf")) { try AttachmentRules.sanitizedName("C:\\x.pdf") }
        #expect(throws: AttachmentError.invalidName) { try AttachmentRules.sanitizedName("..") }
        #expect(try AttachmentRules.sanitizedName("акт\u{0007} осмотра.pdf") == "акт осмотра.pdf")
        #expect(throws: AttachmentError.tooLarge(limit: 10)) { try AttachmentRules.checkSize(11, limit: 10) }
    }

    @Test func attachmentTypeComesFromContentNotTheClaim() {
        #expect(AttachmentRules.sniffType(Array("%PDF-1.7".utf8), name: "x.exe") == "application/pdf")
        #expect(AttachmentRules.sniffType([0x89, 0x50, 0x4E, 0x47, 0x0D], name: "photo.jpg") == "image/png")
        #expect(AttachmentRules.sniffType(Array("<html><script>".utf8), name: "page.html") == "application/octet-stream")
        #expect(AttachmentRules.sniffType(Array("<svg onload=x>".utf8), name: "a.svg") == "application/octet-stream")
        // Call recordings as telephone systems and phones make them.
        #expect(AttachmentRules.sniffType([0xFF, 0xF3, 0x64, 0xC4], name: "call.bin") == "audio/mpeg")
        #expect(AttachmentRules.sniffType(Array("RIFF\u{0}\u{0}\u{0}\u{0}WAVEfmt ".utf8), name: "call") == "audio/wav")
        #expect(AttachmentRules.sniffType([0, 0, 0, 0x20] + Array("ftypM4A ".utf8), name: "memo.m4a") == "audio/mp4")
        #expect(AttachmentRules.sniffType([0, 0, 0, 0x20] + Array("ftypisom".utf8), name: "clip.m4a") == "video/mp4")
        #expect(AttachmentRules.relativePath(sha256: String(repeating: "ab", count: 32)).hasPrefix("ab/ab/abab"))
    }

    @Test func duplicateApplicantsBySameContactOrSimilarNameAtSameAddress() {
        let a = ApplicantMatching.Card(fullName: "Иванов Иван Петрович", phoneKeys: ["79215551234"], emailKeys: [], address: "ул. Мира, д. 1")
        let samePhone = ApplicantMatching.Card(fullName: "Петров", phoneKeys: ["79215551234"], emailKeys: [], address: nil)
        let typo = ApplicantMatching.Card(fullName: "Иваноф Иван", phoneKeys: [], emailKeys: [], address: "Ул. Мира д 1")
        let other = ApplicantMatching.Card(fullName: "Сидоров Пётр", phoneKeys: [], emailKeys: [], address: "ул. Мира, д. 1")
        #expect(ApplicantMatching.reasons(a, samePhone) == [.samePhone])
        #expect(ApplicantMatching.reasons(a, typo) == [.similarNameSameAddress])
        #expect(ApplicantMatching.reasons(a, other).isEmpty)
    }

    @Test func validationNamesTheField() {
        #expect(throws: ValidationError(field: "channel", reason: "must be one of " + AppealChannel.allCases.map(\.rawValue).joined(separator: ", "))) {
            _ = try Validate.choice("fax", field: "channel") as AppealChannel
        }
        #expect(throws: ValidationError(field: "address.lat", reason: "must be between -90 and 90")) {
            try Validate.coordinates(lat: 91, lon: 0, field: "address")
        }
        #expect(throws: ValidationError(field: "text", reason: "is required")) { _ = try Validate.text("  ", field: "text") }
    }

    @Test func stPetersburgRowsMapToTopicsAndStates() throws {
        let zone = TimeZone(identifier: "Europe/Moscow")!
        var record = Dictionary(uniqueKeysWithValues: SpbAppealsImport.requiredColumns.map { ($0, "") })
        record["id"] = "1"
        record["created_at"] = "2020-10-18T15:07:24.217139"
        record["final_status"] = "Завершено: Пользователь удовлетворен решением проблемы"
        record["category"] = "Благоустройство"
        record["reason"] = "Неубранный снег на автомобильных дорогах"
        record["text"] = "Снег не убран"
        let row = try SpbAppealsImport.row(record, zone: zone)
        #expect(row.state == "closed")
        #expect(row.result == .supportedMeasuresTaken)
        #expect(row.topicCode == "0003.0009.0097.0694")
        #expect(row.received == Date(timeIntervalSince1970: 1_603_022_844.217139))
        record["created_at"] = "yesterday"
        #expect(throws: SpbAppealsImport.ImportError.invalidRow(id: "1", field: "created_at")) { try SpbAppealsImport.row(record, zone: zone) }
    }
}

@Suite struct ReplyChannelTests {
    @Test func theAnswerGoesBackTheWayTheAppealCameOrAsAsked() {
        #expect(ReplyChannel.choose(requested: nil, inbound: .email, hasEmail: true, hasPostalAddress: true) == .email)
        #expect(ReplyChannel.choose(requested: nil, inbound: .social, hasEmail: false, hasPostalAddress: false) == .social)
        #expect(ReplyChannel.choose(requested: nil, inbound: .web, hasEmail: true, hasPostalAddress: true) == .email)
        #expect(ReplyChannel.choose(requested: nil, inbound: .visit, hasEmail: false, hasPostalAddress: true) == .letter)
        #expect(ReplyChannel.choose(requested: .letter, inbound: .email, hasEmail: true, hasPostalAddress: true) == .letter)
        #expect(ReplyChannel.choose(requested: nil, inbound: .phone, hasEmail: false, hasPostalAddress: false) == nil)
    }
}
