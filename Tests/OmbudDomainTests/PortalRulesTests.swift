import Foundation
import OmbudDomain
import Testing

@Suite struct PortalRulesTests {
    @Test func thePublicPointIsTheCentreOfItsCellAndNeverTheDoor() {
        let a = PublicLocation.approximate(lat: 59.93412, lon: 30.30161)
        let b = PublicLocation.approximate(lat: 59.93499, lon: 30.30401)
        #expect(a == b)
        #expect(a.lat == 59.9325 && a.lon == 30.3025)
        #expect(PublicLocation.distance((59.93412, 30.30161), a) < 400)
        #expect(abs(PublicLocation.distance((59.9386, 30.3141), (55.7558, 37.6173)) - 634_000) < 5_000)
    }

    @Test func addressesAreCountedByHostOrByIPv6Network() {
        #expect(RateLimit.addressKey("203.0.113.7") == "203.0.113.7")
        #expect(RateLimit.addressKey("2001:db8:85a3:12::1") == "2001:db8:85a3:12::/64")
        #expect(RateLimit.addressKey("2001:DB8:85A3:0012:ffff:ffff:ffff:fffe") == "2001:db8:85a3:12::/64")
        #expect(RateLimit.addressKey("::1") == "0:0:0:0::/64")
        #expect(RateLimit.addressKey("::ffff:203.0.113.7") == "203.0.113.7")
        #expect(RateLimit.portalSubmissions.allows(recent: 4))
        #expect(!RateLimit.portalSubmissions.allows(recent: 5))
    }

    @Test func aRatingIsOneToFiveWithAnAnswerToWasItSolved() throws {
        let r = try AnswerRating(score: "2", comment: "  still a hole ", solved: "no")
        #expect(r.score == 2 && r.comment == "still a hole" && !r.solved)
        #expect(throws: ValidationError(field: "score", reason: "must be 1 to 5")) { try AnswerRating(score: "6", comment: nil, solved: "yes") }
        #expect(throws: ValidationError(field: "score", reason: "is required")) { try AnswerRating(score: "", comment: nil, solved: "yes") }
        #expect(throws: ValidationError(field: "solved", reason: "say yes or no")) { try AnswerRating(score: "5", comment: nil, solved: nil) }
        #expect(AnswerRating.isOpen(stateAnswered: true, terminal: false))
        #expect(!AnswerRating.isOpen(stateAnswered: true, terminal: true))
        #expect(!AnswerRating.isOpen(stateAnswered: false, terminal: false))
        #expect(r.moves(from: "answered") == ["feedback", "in-progress"] && r.moves(from: "feedback") == ["in-progress"])
        #expect(try AnswerRating(score: "5", comment: nil, solved: "yes").moves(from: "answered") == ["feedback"])
    }

    @Test func aSubscriptionCoversItsDistrictOrItsCircle() throws {
        let district = try AreaSubscription(district: "Центральный ", lat: "", lon: nil, radius: nil)
        #expect(district.covers(district: "центральный", lat: nil, lon: nil))
        #expect(!district.covers(district: "Адмиралтейский", lat: nil, lon: nil))
        let circle = try AreaSubscription(district: "ignored", lat: "59.9386", lon: "30.3141", radius: "500")
        #expect(circle.covers(district: nil, lat: 59.9400, lon: 30.3141))
        #expect(!circle.covers(district: "ignored", lat: 59.9500, lon: 30.3141))
        #expect(throws: ValidationError.self) { try AreaSubscription(district: nil, lat: nil, lon: nil, radius: nil) }
        #expect(throws: ValidationError.self) { try AreaSubscription(district: nil, lat: "59", lon: "30", radius: "50000") }
        #expect(throws: ValidationError.self) { try AreaSubscription(district: nil, lat: "north", lon: "30", radius: nil) }
    }

    @Test func programsAndArchivesAreRefusedFromThePublic() {
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        #expect(AttachmentRules.acceptedFromPublic(png, name: "photo.png"))
        #expect(AttachmentRules.acceptedFromPublic(Array("%PDF-1.7".utf8), name: "letter.pdf"))
        #expect(!AttachmentRules.acceptedFromPublic([0x4D, 0x5A, 0x90, 0x00], name: "photo.jpg"))
        #expect(!AttachmentRules.acceptedFromPublic(Array("#!/bin/sh\n".utf8), name: "notes.txt"))
        #expect(!AttachmentRules.acceptedFromPublic(png, name: "photo.png.exe"))
        #expect(!AttachmentRules.acceptedFromPublic([0x50, 0x4B, 0x03, 0x04], name: "all.zip"))
        #expect(!AttachmentRules.acceptedFromPublic(Array("<svg onload=alert(1)>".utf8), name: "x.svg"))
        // Sixteen bytes of Russian text end in the middle of a letter: still text.
        #expect(AttachmentRules.acceptedFromPublic(Array("Жалоба на шум".utf8).prefix(16), name: "жалоба.txt"))
        #expect(!AttachmentRules.acceptedFromPublic([0x41, 0xFF, 0xFE, 0x00, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41], name: "x.txt"))
    }
}
