import Fluent
import Foundation
import OmbudDomain
import Testing
import Vapor
@testable import OmbudServer

extension OmbudServerSuite {
    @Suite struct MailGatewayTests {
        func raw(_ text: String) -> [UInt8] { Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8) }

        @Test func aMailBecomesAnAppealItsRepliesJoinItAndNothingLandsTwice() async throws {
            try await withOmbud { ctx, clock in
                // setup
                let first = raw("""
                    From: "Анна Иванова" <Anna@Example.org>
                    To: appeals@city.example
                    Subject: =?UTF-8?B?0K/QvNCwINC90LAg0LTQvtGA0L7Qs9C1?=
                    Message-ID: <m1@example.org>
                    Content-Type: multipart/mixed; boundary=b

                    --b
                    Content-Type: text/plain; charset=koi8-r
                    Content-Transfer-Encoding: quoted-printable

                    =F1=CD=C1 =D5 =C4=CF=CD=C1 5
                    --b
                    Content-Type: image/png
                    Content-Disposition: attachment; filename="photo.png"
                    Content-Transfer-Encoding: base64

                    iVBORw0KGgoAAAANSUhEUg==
                    --b--
                    """)
                // act
                let outcome = try await MailGateway.receive(first, app: ctx.app, now: clock.now)
                // check
                guard case let .created(code) = outcome else { Issue.record("\(outcome)"); return }
                let appeal = try #require(try await Appeal.query(on: ctx.app.db).filter(\.$trackingCode == code).first())
                #expect(appeal.channel == "e-mail" && appeal.form == "electronic" && appeal.text == "Яма на дороге\n\nЯма у дома 5")
                let applicant = try #require(try await Applicant.find(appeal.$applicant.id, on: ctx.app.db))
                #expect(applicant.name == "Анна" && applicant.surname == "Иванова" && applicant.emails == ["anna@example.org"])
                let files = try await Attachment.query(on: ctx.app.db).filter(\.$appeal.$id == appeal.id!).all()
                #expect(Set(files.map(\.contentType)) == ["image/png", "application/octet-stream"])
                #expect(files.contains { $0.fileName.hasSuffix(".eml") && $0.size == first.count })

                // The same message delivered again is kept once.
                #expect(try await MailGateway.receive(first, app: ctx.app, now: clock.now) == .duplicate(code))
                // A reply naming the code joins the appeal; the sender's next new message finds their card.
                let reply = raw("From: anna@example.org\nSubject: Re: [\(code)] ответ\nMessage-ID: <m2@example.org>\n\nЕщё одна яма рядом")
                #expect(try await MailGateway.receive(reply, app: ctx.app, now: clock.now) == .added(code))
                let next = raw("From: Anna <anna@example.org>\nSubject: Другое\nMessage-ID: <m3@example.org>\n\nШумят соседи")
                guard case let .created(second) = try await MailGateway.receive(next, app: ctx.app, now: clock.now) else { Issue.record("no appeal"); return }
                let other = try #require(try await Appeal.query(on: ctx.app.db).filter(\.$trackingCode == second).first())
                #expect(other.$applicant.id == applicant.id)
                #expect(try await ctx.appealCount() == 2)
                let letters = try await CorrespondenceRecord.query(on: ctx.app.db).filter(\.$appealID == appeal.id!).sort(\.$at).all()
                #expect(letters.map(\.messageID) == ["m1@example.org", "m2@example.org"] && letters[1].text == "Ещё одна яма рядом")
                let history = try await HistoryEntry.query(on: ctx.app.db).filter(\.$appealID == appeal.id!).filter(\.$action == "mail-in").count()
                #expect(history == 2)
            }
        }

        @Test func automaticAndUnreadableMailNeverBecomeAppeals() async throws {
            try await withOmbud { ctx, clock in
                let auto = raw("From: robot@example.org\nAuto-Submitted: auto-replied\nSubject: Out of office\n\nI am away")
                guard case let .ignored(path) = try await MailGateway.receive(auto, app: ctx.app, now: clock.now) else { Issue.record("not ignored"); return }
                #expect(FileManager.default.fileExists(atPath: path))
                for (message, reason) in [("garbage, no headers", "no header fields"), ("Subject: no sender\n\ntext", "no sender"),
                                          ("From: a@b.ru\nContent-Type: multipart/mixed\n\nx", "no boundary")] {
                    do {
                        _ = try await MailGateway.receive(raw(message), app: ctx.app, now: clock.now)
                        Issue.record("\(message) was taken")
                    } catch let error as MailGateway.Quarantined {
                        #expect(error.reason.contains(reason), "\(error.reason)")
                        #expect(FileManager.default.fileExists(atPath: error.file.path))
                        let why = try String(contentsOf: error.file.deletingPathExtension().appendingPathExtension("reason"), encoding: .utf8)
                        #expect(why.contains(reason))
                    }
                }
                #expect(try await ctx.appealCount() == 0)
            }
        }

        @Test func anApprovedAnswerQueuesItsReplyAndALetterWaitsToBeSent() async throws {
            try await withOmbud { ctx, _ in
                let appeal = try await ctx.createAppeal([
                    "channel": "visit", "text": "Протекает крыша",
                    "applicant": AnyEncodable(["surname": AnyEncodable("Орлов"), "postalAddress": AnyEncodable("Невский, 1")]),
                    "questions": AnyEncodable([["topicCode": AnyEncodable("0003.0009.0097.0689")]]),
                ])
                #expect(appeal.replyChannel == "letter")
                for step in [["to": "registered"], ["to": "assigned", "unitCode": "roads"], ["to": "in-progress"], ["to": "answer-drafted"]] {
                    _ = try await ctx.transition(appeal.id, step)
                }
                try await ctx.app.testing().test(.PATCH, "/api/v1/appeals/\(appeal.id)/questions/\(appeal.questions[0].id)", headers: ctx.auth, beforeRequest: { req in
                    try req.content.encode(QuestionUpdate(result: "explained", answerText: "Крышу починят в мае"), as: .json)
                }) { res in #expect(res.status == .ok) }
                _ = try await ctx.transition(appeal.id, ["to": "on-approval"])
                #expect(try await JobRecord.query(on: ctx.app.db).filter(\.$kind == ReplyJob.kind).count() == 0)
                _ = try await ctx.transition(appeal.id, ["to": "answered"])
                let job = try #require(try await JobRecord.query(on: ctx.app.db).filter(\.$kind == ReplyJob.kind).first())
                try await ReplyJob.run(job, app: ctx.app)
                let pending = try await HistoryEntry.query(on: ctx.app.db).filter(\.$appealID == appeal.id).filter(\.$action == "reply-pending").first()
                #expect(pending?.toValue == "letter")
                // A channel asked for explicitly is kept; an unknown one is refused naming the field.
                let asked = try await ctx.createAppeal(["channel": "e-mail", "replyChannel": "letter", "text": "Текст",
                                                        "applicant": AnyEncodable(["surname": AnyEncodable("Котов"), "email": AnyEncodable("k@example.org")])])
                #expect(asked.replyChannel == "letter")
                try await ctx.post("/api/v1/appeals", ["channel": AnyEncodable("phone"), "replyChannel": "pigeon", "text": "x"]) { res in
                    #expect(res.status == .unprocessableEntity && res.body.string.contains("replyChannel"))
                }
            }
        }
    }
}
