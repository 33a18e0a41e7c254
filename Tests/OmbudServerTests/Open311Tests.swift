import Fluent
import Foundation
import OmbudDomain
import Testing
import Vapor
import VaporTesting
@testable import OmbudServer

extension TestContext {
    /// A service mapped to the street-lighting topic with a two-question checklist, and a client key.
    func open311Setup() async throws -> String {
        let actor = Actor(userID: UUID(), login: "tester", roleKeys: [], permissions: [], unitIDs: [], isUser: false)
        try await Open311Catalogue.save(.init(code: "light", topicCode: "0003.0009.0097.0690", name: "Не горит фонарь", description: "Уличное освещение",
                                              group: "ЖКХ", keywords: "фонарь, свет", position: 1, active: true,
                                              checklist: "poles | number | required | Сколько фонарей не горит?\nwhen | singlevaluelist | optional | Когда? | night=Ночью; always=Всегда"),
                                        actor: actor, store: app.store, now: Date())
        return try await Open311Keys.create(name: "311 app", actor: nil, store: app.store, now: Date()).key
    }

    /// Sends an Open311 request and returns the status and the body.
    func geo(_ method: HTTPMethod, _ path: String, form: [(String, String)]? = nil) async throws -> (HTTPStatus, String, String?) {
        var result: (HTTPStatus, String, String?)?
        var headers = HTTPHeaders()
        var body: ByteBuffer?
        if let form {
            headers.replaceOrAdd(name: .contentType, value: "application/x-www-form-urlencoded")
            body = ByteBuffer(string: form.map { "\(Browser.encode($0.0))=\(Browser.encode($0.1))" }.joined(separator: "&"))
        }
        try await app.testing().test(method, path, headers: headers, body: body) { res in
            result = (res.status, res.body.string, res.headers.first(name: .contentType))
        }
        return try #require(result)
    }
}

extension OmbudServerSuite {
    @Suite struct Open311Tests {
        func json(_ text: String) throws -> Any { try JSONSerialization.jsonObject(with: Data(text.utf8)) }

        @Test func aReportPostedByAnAppBecomesAnAppealAndReadsBackInBothFormats() async throws {
            try await withOmbud { ctx, clock in
                // setup
                let key = try await ctx.open311Setup()
                // act
                let (status, body, type) = try await ctx.geo(.POST, "/open311/v2/requests.json", form: [
                    ("api_key", key), ("service_code", "light"), ("lat", "59.93412"), ("long", "30.30161"),
                    ("description", "<b>Темно</b> во дворе"), ("attribute[poles]", "3"), ("attribute[when]", "night"),
                    ("first_name", "Анна"), ("email", "anna@example.org"), ("media_url", "https://example.org/p.jpg"),
                ])
                // check
                #expect(status == .created, "\(body)")
                #expect(type == "application/json; charset=utf-8")
                let created = try #require(try json(body) as? [[String: Any]]).first!
                let id = try #require(created["service_request_id"] as? String)
                // Created at once: the id, and no token (the spec gives a token only when there is no id yet).
                #expect(created["token"] == nil)
                let appeal = try #require(try await Appeal.query(on: ctx.app.db).filter(\.$trackingCode == id).first())
                #expect(appeal.channel == "open311")
                // The description as sent; the attribute answers kept beside it and shown on the card.
                #expect(appeal.text == "<b>Темно</b> во дворе")
                let token = try #require(try await PublicAppeal.find(appeal.id, on: ctx.app.db)?.requestToken)
                let applicant = try #require(try await Applicant.find(appeal.$applicant.id, on: ctx.app.db))
                #expect(applicant.name == "Анна" && applicant.emails == ["anna@example.org"])
                let history = try await HistoryEntry.query(on: ctx.app.db).filter(\.$entityID == appeal.id!).all()
                #expect(history.first?.actor == "open311:311 app")
                // The description is text: the staff card shows the tags as typed, never as markup.
                let staff = try await Browser.signedIn(ctx, login: "clerk", roles: ["reception"])
                #expect(try await staff.send(.GET, "/appeals/\(id)").status == .ok)
                #expect(staff.html.contains("&lt;b&gt;Темно&lt;/b&gt;") && !staff.html.contains("<b>Темно</b>"))
                #expect(staff.html.contains("Сколько фонарей не горит?: 3") && staff.html.contains("Когда?: Ночью"))

                let (_, one, _) = try await ctx.geo(.GET, "/open311/v2/requests/\(id).json")
                let request = try #require(try json(one) as? [[String: Any]]).first!
                #expect(request["status"] as? String == "open" && request["status_notes"] as? String == "Поступило")
                #expect(request["service_code"] as? String == "light" && request["service_name"] as? String == "Не горит фонарь")
                #expect(request["description"] as? String == "<b>Темно</b> во дворе")
                // The point reads back as the client sent it (the portal's own appeals show only their cell's centre).
                #expect(request["lat"] as? Double == 59.93412 && request["long"] as? Double == 30.30161)
                #expect(request["media_url"] as? String == "https://example.org/p.jpg")
                let (_, xml, xmlType) = try await ctx.geo(.GET, "/open311/v2/request/\(id).xml")
                #expect(xmlType == "text/xml; charset=utf-8")
                #expect(xml.hasPrefix("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<service_requests><request><service_request_id>\(id)</service_request_id>"))
                #expect(xml.contains("<description>&lt;b&gt;Темно&lt;/b&gt; во дворе"))
                let (_, tokenBody, _) = try await ctx.geo(.GET, "/open311/v2/tokens/\(token).json")
                #expect((try json(tokenBody) as? [[String: Any]])?.first?["service_request_id"] as? String == id)

                // Registration sets the control date; closing makes it closed, with the state in the notes.
                _ = try await ctx.transition(appeal.id!, ["to": "registered"])
                _ = try await ctx.transition(appeal.id!, ["to": "assigned", "unitCode": "roads"])
                let (_, assigned, _) = try await ctx.geo(.GET, "/open311/v2/requests/\(id).json")
                let assignedRequest = try #require(try json(assigned) as? [[String: Any]]).first!
                #expect(assignedRequest["agency_responsible"] as? String == "Дорожный отдел")
                #expect((assignedRequest["expected_datetime"] as? String)?.hasSuffix("T23:59:59+03:00") == true)
                _ = try await ctx.transition(appeal.id!, ["to": "withdrawn", "reason": "отозвано заявителем"])
                let (_, closed, _) = try await ctx.geo(.GET, "/open311/v2/requests.json?status=closed&service_code=light")
                let closedList = try #require(try json(closed) as? [[String: Any]])
                #expect(closedList.map { $0["service_request_id"] as? String } == [id])
                #expect(closedList.first?["status"] as? String == "closed")
                let (_, open, _) = try await ctx.geo(.GET, "/open311/v2/requests.json?status=open")
                #expect((try json(open) as? [[String: Any]])?.isEmpty == true)
                _ = clock
            }
        }

        @Test func badRequestsGetTheSpecsErrorsAndStoreNothing() async throws {
            try await withOmbud { ctx, _ in
                let key = try await ctx.open311Setup()
                let before = try await ctx.appealCount()
                func refused(_ form: [(String, String)], _ status: HTTPStatus, _ words: String, format: String = "json") async throws {
                    let (got, body, _) = try await ctx.geo(.POST, "/open311/v2/requests.\(format)", form: form)
                    #expect(got == status, "\(form): \(body)")
                    #expect(body.contains(words), "\(body)")
                    if format == "json" {
                        let errors = try #require(try json(body) as? [[String: Any]], "\(body)")
                        #expect(errors.first?["code"] as? Int == Int(status.code))
                    } else {
                        #expect(body.contains("<errors><error><code>\(status.code)</code><description>"))
                    }
                }
                let place = [("lat", "59.9"), ("long", "30.3")]
                try await refused([("service_code", "light")] + place, .forbidden, "api_key is required")
                try await refused([("api_key", "o311_guess"), ("service_code", "light")] + place, .forbidden, "not valid")
                try await refused([("api_key", key)] + place, .badRequest, "service_code is required")
                try await refused([("api_key", key), ("service_code", "nope")] + place, .badRequest, "service_code nope not found", format: "xml")
                try await refused([("api_key", key), ("service_code", "light"), ("attribute[poles]", "2")], .badRequest, "location")
                try await refused([("api_key", key), ("service_code", "light"), ("attribute[poles]", "2"), ("description", String(repeating: "a", count: 4001))] + place,
                                  .badRequest, "description")
                try await refused([("api_key", key), ("service_code", "light")] + place, .badRequest, "attribute[poles] is required")
                try await refused([("api_key", key), ("service_code", "light"), ("attribute[poles]", "many")] + place, .badRequest, "must be a number")
                #expect(try await ctx.appealCount() == before)

                // A revoked key is refused at once.
                let client = try #require(try await Open311Client.query(on: ctx.app.db).first())
                _ = try await Open311Keys.revoke(client.id!, actor: nil, store: ctx.app.store, now: Date())
                try await refused([("api_key", key), ("service_code", "light"), ("attribute[poles]", "2")] + place, .forbidden, "revoked")

                // Reading errors.
                let (s1, b1, _) = try await ctx.geo(.GET, "/open311/v2/requests.json?start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z")
                #expect(s1 == .badRequest && b1.contains("90 days"))
                let (s2, b2, _) = try await ctx.geo(.GET, "/open311/v2/requests/2099-000001.xml")
                #expect(s2 == .notFound && b2.contains("<code>404</code>"))
                let (s3, _, _) = try await ctx.geo(.GET, "/open311/v2/services/nope.json")
                #expect(s3 == .notFound)
                let (s4, _, _) = try await ctx.geo(.GET, "/open311/v2/tokens/nope.json")
                #expect(s4 == .notFound)
                let (s5, b5, _) = try await ctx.geo(.GET, "/open311/v2/services.html")
                #expect(s5 == .notFound && b5.contains("<errors>"))
                let (s6, _, _) = try await ctx.geo(.GET, "/open311/v2/requests.json?start_date=yesterday")
                #expect(s6 == .badRequest)
            }
        }

        @Test func anInstallationServesItsOwnJurisdictionOnly() async throws {
            try await withOmbud(settings: { $0.open311Jurisdiction = "spb.example" }) { ctx, _ in
                let key = try await ctx.open311Setup()
                #expect(try await ctx.geo(.GET, "/open311/v2/services.json?jurisdiction_id=spb.example").0 == .ok)
                #expect(try await ctx.geo(.GET, "/open311/v2/services.json").0 == .ok)
                let (status, body, _) = try await ctx.geo(.GET, "/open311/v2/services.xml?jurisdiction_id=msk.example")
                #expect(status == .notFound && body.contains("jurisdiction_id msk.example not found"))
                let post: [(String, String)] = [("api_key", key), ("service_code", "light"), ("address_string", "Невский, 1"), ("attribute[poles]", "1")]
                #expect(try await ctx.geo(.POST, "/open311/v2/requests.json", form: post + [("jurisdiction_id", "msk.example")]).0 == .notFound)
                #expect(try await ctx.geo(.POST, "/open311/v2/requests.json", form: post + [("jurisdiction_id", "spb.example")]).0 == .created)
            }
        }

        @Test func servicesListTheirChecklistAsAttributes() async throws {
            try await withOmbud { ctx, _ in
                _ = try await ctx.open311Setup()
                let (_, list, _) = try await ctx.geo(.GET, "/open311/v2/services.json")
                let services = try #require(try json(list) as? [[String: Any]])
                #expect(services.count == 1 && services[0]["metadata"] as? Bool == true && services[0]["group"] as? String == "ЖКХ")
                let (_, definition, _) = try await ctx.geo(.GET, "/open311/v2/services/light.json")
                let attributes = try #require((try json(definition) as? [String: Any])?["attributes"] as? [[String: Any]])
                #expect(attributes.map { $0["code"] as? String } == ["poles", "when"])
                #expect(attributes[1]["datatype"] as? String == "singlevaluelist")
                #expect((attributes[1]["values"] as? [[String: Any]])?.map { $0["key"] as? String } == ["night", "always"])
                let (_, xml, _) = try await ctx.geo(.GET, "/open311/v2/services/light.xml")
                #expect(xml.contains("<service_definition><service_code>light</service_code><attributes><attribute><variable>true</variable><code>poles</code>"))
                // An appeal published without a service shows, and is found, under the service of its topic.
                let staffAppeal = try await ctx.createAppeal(["channel": "phone", "text": "Темно на улице",
                                                              "questions": AnyEncodable([["topicCode": AnyEncodable("0003.0009.0097.0690")]])])
                try await PublicAppeals.make(appealID: staffAppeal.id, listed: true, textPublic: false, lat: nil, lon: nil, district: nil, at: Date())
                    .create(on: ctx.app.db)
                let (_, filtered, _) = try await ctx.geo(.GET, "/open311/v2/requests.json?service_code=light")
                let found = try #require(try json(filtered) as? [[String: Any]])
                #expect(found.map { $0["service_request_id"] as? String } == [staffAppeal.trackingCode] && found.first?["service_code"] as? String == "light")
                #expect(found.first?["description"] is NSNull)
                let (_, discovery, _) = try await ctx.geo(.GET, "/open311/v2/discovery.json")
                #expect(discovery.contains("\"specification\":\"http://wiki.open311.org/GeoReport_v2\""))
            }
        }

        @Test func anOutsideAgencysUpdatesLandOnceAndUpdatesReadBack() async throws {
            try await withOmbud { ctx, _ in
                let key = try await ctx.open311Setup()
                let (_, body, _) = try await ctx.geo(.POST, "/open311/v2/requests.json", form: [
                    ("api_key", key), ("service_code", "light"), ("address_string", "Невский, 1"), ("attribute[poles]", "1")])
                let id = try #require((try json(body) as? [[String: Any]])?.first?["service_request_id"] as? String)
                let update: [(String, String)] = [("api_key", key), ("service_request_id", id), ("status", "FIXED"), ("update_id", "ext-7"),
                                                  ("updated_datetime", "2026-11-20T10:00:00+03:00"), ("description", "Лампа заменена")]
                let (s1, b1, _) = try await ctx.geo(.POST, "/open311/v2/servicerequestupdates.json", form: update)
                let (s2, b2, _) = try await ctx.geo(.POST, "/open311/v2/servicerequestupdates.json", form: update)
                #expect(s1 == .created && s2 == .created && b1 == b2, "\(b1) \(b2)")
                let entries = try await HistoryEntry.query(on: ctx.app.db).filter(\.$action == "external-update").all()
                #expect(entries.count == 1 && entries.first?.toValue == "FIXED" && entries.first?.comment == "Лампа заменена")
                let (s3, _, _) = try await ctx.geo(.POST, "/open311/v2/servicerequestupdates.json", form: [("api_key", key), ("service_request_id", "2099-000009"),
                    ("status", "OPEN"), ("updated_datetime", "2026-11-20T10:00:00Z"), ("description", "x")])
                #expect(s3 == .notFound)
                let (s4, _, _) = try await ctx.geo(.POST, "/open311/v2/servicerequestupdates.json", form: Array(update.dropFirst()))
                #expect(s4 == .forbidden)
                // Another client may not write on this request, unless it speaks for the unit the appeal was sent to.
                let other = try await Open311Keys.create(name: "other", actor: nil, store: ctx.app.store, now: Date()).key
                let agency = try await Open311Keys.create(name: "roads agency", unitCode: "roads", actor: nil, store: ctx.app.store, now: Date()).key
                let update2: [(String, String)] = Array(update.dropFirst()).map { $0.0 == "update_id" ? ($0.0, "ext-8") : $0 }
                #expect(try await ctx.geo(.POST, "/open311/v2/servicerequestupdates.json", form: [("api_key", other)] + update2).0 == .forbidden)
                #expect(try await ctx.geo(.POST, "/open311/v2/servicerequestupdates.json", form: [("api_key", agency)] + update2).0 == .forbidden)

                let appealID = try #require(try await Appeal.query(on: ctx.app.db).filter(\.$trackingCode == id).first()?.id)
                _ = try await ctx.transition(appealID, ["to": "registered"])
                _ = try await ctx.transition(appealID, ["to": "assigned", "unitCode": "roads"])
                #expect(try await ctx.geo(.POST, "/open311/v2/servicerequestupdates.json", form: [("api_key", agency)] + update2).0 == .created)
                let (_, read, _) = try await ctx.geo(.GET, "/open311/v2/servicerequestupdates.json")
                let updates = try #require(try json(read) as? [[String: Any]])
                #expect(Set(updates.compactMap { $0["status"] as? String }) == ["FIXED", "OPEN"])
                #expect(updates.count == 4)  // two agencies' updates and two moves
                #expect(updates.allSatisfy { $0["service_request_id"] as? String == id })
            }
        }
    }
}

extension OmbudServerSuite {
    @Suite struct Open311AdminPagesTests {
        @Test func administratorsIssueAndRevokeKeysAndMapServicesToTopics() async throws {
            try await withOmbud { ctx, _ in
                let admin = try await Browser.signedIn(ctx, login: "boss", roles: ["administrator"])
                #expect(try await admin.send(.GET, "/admin/open311").status == .ok)
                // A service with a checklist; a bad checklist line comes back named, the input kept.
                var res = try await admin.send(.POST, "/admin/open311/services", form: ["_csrf": admin.csrf ?? "", "code": "light", "topicCode": "0003.0009.0097.0690",
                                                                                         "name": "Фонарь", "position": "1", "active": "on",
                                                                                         "checklist": "poles | number | sometimes | Сколько?"])
                #expect(res.status == .unprocessableEntity && admin.html.contains("checklist line 1") && admin.html.contains("Сколько?"))
                res = try await admin.send(.POST, "/admin/open311/services", form: ["_csrf": admin.csrf ?? "", "code": "light", "topicCode": "0003.0009.0097.0690",
                                                                                     "name": "Фонарь", "position": "1", "active": "on",
                                                                                     "checklist": "poles | number | required | Сколько?"])
                #expect(res.status == .seeOther)
                let (_, definition, _) = try await ctx.geo(.GET, "/open311/v2/services/light.json")
                #expect(definition.contains("\"code\":\"poles\""))
                // A key is shown once, works, and stops working when revoked.
                try await admin.send(.GET, "/admin/open311")
                res = try await admin.send(.POST, "/admin/open311/keys", form: ["_csrf": admin.csrf ?? "", "name": "Приложение 311"])
                #expect(res.status == .ok)
                let key = try #require(admin.html.range(of: #"o311_[A-Za-z0-9_-]+"#, options: .regularExpression).map { String(admin.html[$0]) })
                let post: [(String, String)] = [("api_key", key), ("service_code", "light"), ("address_string", "Невский, 1"), ("attribute[poles]", "2")]
                #expect(try await ctx.geo(.POST, "/open311/v2/requests.xml", form: post).0 == .created)
                let client = try #require(try await Open311Client.query(on: ctx.app.db).first())
                try await admin.send(.GET, "/admin/open311")
                #expect(!admin.html.contains(key))
                #expect(try await admin.send(.POST, "/admin/open311/keys/\(client.id!)/revoke", form: ["_csrf": admin.csrf ?? ""]).status == .ok)
                #expect(try await ctx.geo(.POST, "/open311/v2/requests.xml", form: post).0 == .forbidden)
                let audit = try await AuditRecord.query(on: ctx.app.db).filter(\.$action ~~ ["open311.key-created", "open311.key-revoked", "open311.service"]).count()
                #expect(audit == 3)
                // An operator may not issue keys.
                let operatorBrowser = try await Browser.signedIn(ctx, login: "op", roles: ["reception"])
                #expect(try await operatorBrowser.send(.GET, "/admin/open311").status == .forbidden)
            }
        }
    }
}
