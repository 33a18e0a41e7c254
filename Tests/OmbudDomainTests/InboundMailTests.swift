import Foundation
import OmbudDomain
import Testing

@Suite struct InboundMailTests {
    func mail(_ text: String) throws -> InboundMail { try InboundMail.parse(Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8)) }
    func bytes(_ parts: [Any]) -> [UInt8] {
        parts.flatMap { part -> [UInt8] in
            if let s = part as? String { return Array(s.replacingOccurrences(of: "\n", with: "\r\n").utf8) }
            return part as! [UInt8]
        }
    }

    @Test func koi8AndWindows1251AreReadByTheirTables() {
        // "Привет, ёлка!" in both.
        let koi8: [UInt8] = [0xF0, 0xD2, 0xC9, 0xD7, 0xC5, 0xD4, 0x2C, 0x20, 0xA3, 0xCC, 0xCB, 0xC1, 0x21]
        let cp1251: [UInt8] = [0xCF, 0xF0, 0xE8, 0xE2, 0xE5, 0xF2, 0x2C, 0x20, 0xB8, 0xEB, 0xEA, 0xE0, 0x21]
        #expect(MailCharset.decode(koi8, charset: "KOI8-R") == "Привет, ёлка!")
        #expect(MailCharset.decode(cp1251, charset: "windows-1251") == "Привет, ёлка!")
        #expect(MailCharset.decode([0x41], charset: "x-unknown") == nil)
    }

    @Test func encodedWordsInEveryFormAreDecoded() {
        #expect(EncodedWords.decode("=?UTF-8?B?0J/RgNC+0LHQu9C10LzQsA==?=") == "Проблема")
        #expect(EncodedWords.decode("=?koi8-r?Q?=F0=D2=C9=D7=C5=D4?= world") == "Привет world")
        // Whitespace between two encoded words is not text.
        #expect(EncodedWords.decode("=?utf-8?q?=D0=AF=D0=BC=D0=B0?= =?utf-8?q?_=D0=B2=D0=BE_=D0=B4=D0=B2=D0=BE=D1=80=D0=B5?=") == "Яма во дворе")
        #expect(EncodedWords.decode("Re: =?windows-1251?B?zvLi5fI=?= [2026-000123]") == "Re: Ответ [2026-000123]")
        #expect(EncodedWords.decode("=?bogus?X?abc?= plain") == "=?bogus?X?abc?= plain")
    }

    @Test func multipartAlternativeGivesThePlainTextAndFilesAreKept() throws {
        let m = try mail("""
            From: "Анна Иванова" <anna@example.org>
            To: appeals@city.example
            Subject: =?UTF-8?B?0K/QvNCwINC90LAg0LTQvtGA0L7Qs9C1?=
            Message-ID: <abc@example.org>
            MIME-Version: 1.0
            Content-Type: multipart/mixed; boundary="outer"

            --outer
            Content-Type: multipart/alternative; boundary=inner

            --inner
            Content-Type: text/plain; charset=utf-8
            Content-Transfer-Encoding: quoted-printable

            =D0=AF=D0=BC=D0=B0 =D0=BF=D0=BE=D0=B4 =D0=BE=D0=BA=D0=BD=D0=BE=D0=BC, =
            =D0=B3=D0=BB=D1=83=D0=B1=D0=BE=D0=BA=D0=B0=D1=8F.
            --inner
            Content-Type: text/html; charset=utf-8

            <p>HTML copy</p>
            --inner--
            --outer
            Content-Type: image/jpeg; name="photo.jpg"
            Content-Disposition: attachment; filename*=UTF-8''%D1%8F%D0%BC%D0%B0.jpg
            Content-Transfer-Encoding: base64

            /9j/4AAQ
            SkZJRg==
            --outer--
            """)
        #expect(m.fromAddress == "anna@example.org" && m.fromName == "Анна Иванова")
        #expect(m.subject == "Яма на дороге" && m.messageID == "abc@example.org")
        #expect(m.text == "Яма под окном, глубокая.")
        #expect(m.attachments.count == 1)
        #expect(m.attachments[0].fileName == "яма.jpg" && m.attachments[0].contentType == "image/jpeg")
        #expect(m.attachments[0].data == [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x4A, 0x46, 0x49, 0x46])
    }

    @Test func aDisplayNameBecomesTheCardsName() {
        #expect(MailboxParser.cardName(display: "Анна Иванова", email: "a@b.ru") == ("Иванова", "Анна"))
        #expect(MailboxParser.cardName(display: "Иванов Иван Петрович", email: "a@b.ru") == ("Иванов", "Иван Петрович"))
        #expect(MailboxParser.cardName(display: nil, email: "petr@b.ru") == (nil, "petr"))
    }

    @Test func htmlOnlyMailBecomesText() throws {
        let m = try mail("""
            From: boss@example.org
            Subject: test
            Content-Type: text/html; charset=windows-1251

            <html><head><style>p{color:red}</style></head><body><p>Line&nbsp;one &amp; two</p><script>alert(1)</script><p>Second&#33;<br>Third</p></body></html>
            """)
        #expect(m.text == "Line one & two\n\nSecond!\nThird")
    }

    @Test func eightBitMailInOldRussianCharsetsIsRead() throws {
        let raw = bytes(["From: ", [0xC8, 0xE2, 0xE0, 0xED] as [UInt8], " <ivan@example.org>\nSubject: ", [0xC6, 0xE0, 0xEB, 0xEE, 0xE1, 0xE0] as [UInt8],
                         "\nContent-Type: text/plain; charset=koi8-r\nContent-Transfer-Encoding: 8bit\n\n",
                         [0xF0, 0xD2, 0xC9, 0xD7, 0xC5, 0xD4] as [UInt8], "\n"])
        let m = try InboundMail.parse(raw)
        #expect(m.subject == "Жалоба" && m.fromName == "Иван" && m.text == "Привет")
    }

    @Test func threadsFindTheirAppeal() throws {
        #expect(MailRules.trackingCode(subject: "Re: Ответ по обращению [2026-000123]", threadIDs: []) == TrackingCode(year: 2026, number: 123))
        let id = MailRules.messageID(code: TrackingCode(year: 2026, number: 45), unique: "7f3a", host: "ombud.example")
        #expect(id == "appeal-2026-000045.7f3a@ombud.example")
        let reply = try mail("From: a@b.ru\nSubject: Re: ваш ответ\nIn-Reply-To: <\(id)>\nReferences: <x@y> <\(id)>\n\nСпасибо")
        #expect(MailRules.trackingCode(subject: reply.subject, threadIDs: reply.threadIDs) == TrackingCode(year: 2026, number: 45))
        #expect(MailRules.trackingCode(subject: "Телефон 8-2026-0001234 и 12026-000123", threadIDs: ["other@x"]) == nil)
    }

    @Test func automaticMailIsKnownByItsHeaders() throws {
        for header in ["Auto-Submitted: auto-replied", "Precedence: bulk", "X-Autoreply: yes", "Return-Path: <>", "X-Auto-Response-Suppress: All"] {
            #expect(MailRules.isAutomatic(try mail("From: a@b.ru\n\(header)\nSubject: x\n\nx").headers), "\(header)")
        }
        #expect(!MailRules.isAutomatic(try mail("From: a@b.ru\nAuto-Submitted: no\nSubject: x\n\nx").headers))
    }

    @Test func brokenMailIsRefusedWithAReasonOrReadAsFarAsItGoes() throws {
        #expect(throws: MailParseError("the message is empty")) { try InboundMail.parse([]) }
        #expect(throws: MailParseError.self) { try mail("this is not a message at all\nno headers here") }
        #expect(throws: MailParseError("a multipart part has no boundary parameter")) {
            try mail("From: a@b.ru\nContent-Type: multipart/mixed\n\nbody")
        }
        #expect(throws: MailParseError.self) { try mail("From: a@b.ru\nContent-Type: multipart/mixed; boundary=zz\n\nno parts at all") }
        // A message cut off before its closing boundary keeps what arrived.
        let cut = try mail("From: a@b.ru\nContent-Type: multipart/mixed; boundary=zz\n\n--zz\nContent-Type: text/plain\n\nПервая часть\n--zz\nContent-Type: text/plain\n\nоборвано")
        #expect(cut.text == "Первая часть\n\nоборвано")
        // No From: parsed, with no sender (the gateway decides).
        let anonymous = try mail("Subject: без отправителя\n\nТекст")
        #expect(anonymous.fromAddress == nil && anonymous.text == "Текст")
        // A huge folded subject is unfolded whole.
        let long = String(repeating: "очень длинная тема ", count: 300)
        let folded = try mail("From: a@b.ru\nSubject: \(long.split(separator: " ").joined(separator: "\n "))\n\nx")
        #expect(folded.subject == long.trimmed())
    }

    @Test func aForwardedMessageIsReadInside() throws {
        let m = try mail("""
            From: clerk@city.example
            Subject: Fwd: жалоба
            Content-Type: multipart/mixed; boundary=b1

            --b1
            Content-Type: text/plain; charset=utf-8

            Пересылаю.
            --b1
            Content-Type: message/rfc822

            From: citizen@example.org
            Subject: жалоба
            Content-Type: text/plain; charset=utf-8

            Шумят соседи.
            --b1--
            """)
        #expect(m.text == "Пересылаю.\n\nШумят соседи.")
    }
}
