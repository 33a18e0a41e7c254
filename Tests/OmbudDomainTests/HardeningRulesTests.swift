import Foundation
import Testing
@testable import OmbudDomain

@Suite struct HardeningRulesTests {
    @Test func aTokenNeverHasMoreThanItsMaker() throws {
        let all = Set(Permission.catalogue)
        // The console and a full administrator give what is asked, or no limit.
        #expect(try Administration.tokenLimit(requested: nil, maker: nil, field: "permissions") == nil)
        #expect(try Administration.tokenLimit(requested: nil, maker: all, field: "permissions") == nil)
        #expect(try Administration.tokenLimit(requested: [.appealsRead], maker: all, field: "permissions") == [.appealsRead])
        // A narrowed maker: no more than its own rights, and asking for more names what it lacks.
        #expect(try Administration.tokenLimit(requested: nil, maker: [.tokensManage], field: "permissions") == [.tokensManage])
        #expect(throws: ValidationError.self) { try Administration.tokenLimit(requested: [.appealsRead], maker: [.tokensManage], field: "permissions") }
        do {
            _ = try Administration.tokenLimit(requested: [.appealsRead, .tokensManage], maker: [.tokensManage], field: "permissions")
        } catch {
            #expect(error.field == "permissions" && error.reason.contains("appeals.read") && !error.reason.contains("tokens.manage"))
        }
    }

    @Test func someoneMustHoldBothVitalRights() {
        let roles: [String: Set<Permission>] = ["administrator": Set(Permission.catalogue), "users": [.usersManage], "roles": [.rolesManage]]
        #expect(Administration.someoneAdministers([.init(isActive: true, roles: ["administrator"])], activeRoles: roles))
        #expect(!Administration.someoneAdministers([.init(isActive: false, roles: ["administrator"])], activeRoles: roles))
        #expect(!Administration.someoneAdministers([.init(isActive: true, roles: ["administrator"])], activeRoles: ["users": [.usersManage]]))
        // Two roles of one person together are enough; two people with one each are not.
        #expect(Administration.someoneAdministers([.init(isActive: true, roles: ["users", "roles"])], activeRoles: roles))
        #expect(!Administration.someoneAdministers([.init(isActive: true, roles: ["users"]), .init(isActive: true, roles: ["roles"])], activeRoles: roles))
    }

    @Test func personalWordsAreMarkedAndOnlyTheirReadersSearchThem() {
        let document = PersonalSearch.document(open: ["Я, Смирнова, прошу починить фонарь", "Центральный"], personal: ["Смирнова Ольга", "ул. Садовая, 5"])
        let words = document.split(separator: " ").map(String.init)
        #expect(words.contains(PersonalSearch.mark + RussianStemmer.stem("смирнова")))
        #expect(!words.contains(RussianStemmer.stem("смирнова")))  // also where the text repeats the name
        #expect(words.contains(RussianStemmer.stem("фонарь")) && words.contains(PersonalSearch.mark + "5"))
        #expect(PersonalSearch.terms("Смирнова фонарь", personal: true).count == 2)
        #expect(PersonalSearch.terms("Смирнова", personal: true) == [[RussianStemmer.stem("смирнова"), PersonalSearch.mark + RussianStemmer.stem("смирнова")]])
        #expect(PersonalSearch.terms("Смирнова", personal: false) == [[RussianStemmer.stem("смирнова")]])
        // A reader without the permission cannot aim at the marked words by typing the mark, or a prefix of it.
        #expect(PersonalSearch.terms("\(PersonalSearch.mark)смирнов q qx", personal: false).isEmpty)
    }

    @Test func nulIsFoundWithItsField() {
        #expect(NULScan.json(Array(#"{"a":"ok","b":{"c":["x","y\u0000"]}}"#.utf8)) == "b.c[1]")
        #expect(NULScan.json(Array(#"{"text":"C:\\u0000dir"}"#.utf8)) == nil)  // an escaped backslash, then text
        #expect(NULScan.json(Array(#"{"t":"\\\u0000"}"#.utf8)) == "t")
        #expect(NULScan.json(Array(#"{"ok":"fine"}"#.utf8)) == nil)
        #expect(NULScan.form("name=Ivan&surname=Pe%00trov") == "surname")
        #expect(NULScan.form("q=%00") == "q")
        #expect(NULScan.form("q=100%25") == nil)
        #expect(NULScan.path("/api/v1/topics/%00") && !NULScan.path("/api/v1/topics/0003"))
    }

    @Test func theOverdueTabHoldsEverythingOverdueInScope() {
        #expect(Worklist.overdue.assignee == .all && Worklist.overdue.overdueOnly)
        #expect(Worklist.unit.assignee == .unit && Worklist.mine.assignee == .mine)
    }
}

extension HardeningRulesTests {
    @Test func aWebhooksPayloadIsTakenWithoutNUL() {
        let stripped = NULScan.strippingJSON(Array(#"{"text":"a\u0000b","path":"C:\\u0000"}"#.utf8))
        #expect(String(decoding: stripped, as: UTF8.self) == #"{"text":"ab","path":"C:\\u0000"}"#)
        #expect(NULScan.json(stripped) == nil)
    }
}

extension HardeningRulesTests {
    @Test func aTypedContactInAnySpellingMatchesTheCardsOwn() {
        #expect(ApplicantMatching.sharesContact(typedPhones: ["8 (921) 555 12 34"], typedEmails: [], phones: ["+7 921 555-12-34"], emails: []))
        #expect(ApplicantMatching.sharesContact(typedPhones: [], typedEmails: ["Olga@Example.RU"], phones: [], emails: ["olga@example.ru"]))
        #expect(!ApplicantMatching.sharesContact(typedPhones: ["+7 921 000-00-00"], typedEmails: [], phones: ["+7 921 555-12-34"], emails: []))
        #expect(!ApplicantMatching.sharesContact(typedPhones: [], typedEmails: [], phones: ["+7 921 555-12-34"], emails: []))
    }
}
