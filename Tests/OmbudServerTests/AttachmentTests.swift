import Fluent
import Foundation
import OmbudDomain
import Testing
import Vapor
import VaporTesting
@testable import OmbudServer

extension OmbudServerSuite {
    @Suite struct AttachmentTests {
        func multipart(_ name: String, _ bytes: [UInt8]) -> (String, ByteBuffer) {
            let boundary = "ombud-boundary"
            var buffer = ByteBuffer()
            buffer.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(name)\"\r\nContent-Type: text/html\r\n\r\n")
            buffer.writeBytes(bytes)
            buffer.writeString("\r\n--\(boundary)--\r\n")
            return ("multipart/form-data; boundary=\(boundary)", buffer)
        }

        @Test func uploadIsContentAddressedAndServedWithTheSniffedType() async throws {
            try await withOmbud { ctx, _ in
                let appeal = try await ctx.createAppeal(basicAppeal)
                let pdf = Array("%PDF-1.4\nfake but enough".utf8)
                let (type, body) = multipart("акт.pdf", pdf)
                var headers = ctx.auth
                headers.replaceOrAdd(name: .contentType, value: type)
                var attachment: AttachmentView?
                try await ctx.app.testing().test(.POST, "/api/v1/appeals/\(appeal.id)/attachments", headers: headers, body: body) { res in
                    #expect(res.status == .created, "\(res.body.string)")
                    attachment = try res.content.decode(AttachmentView.self)
                }
                let stored = try #require(attachment)
                #expect(stored.contentType == "application/pdf")
                #expect(stored.fileName == "акт.pdf")
                let path = AttachmentStore.path(sha256: stored.sha256, settings: ctx.settings)
                #expect(FileManager.default.fileExists(atPath: path.path))
                try await ctx.get("/api/v1/attachments/\(stored.id)") { res in
                    #expect(res.status == .ok)
                    #expect(res.headers.contentType?.serialize() == "application/pdf")
                    #expect(Array(res.body.readableBytesView) == pdf)
                }
                try await ctx.get("/api/v1/appeals/\(appeal.id)/attachments") { res in
                    let decoded = try res.content.decode([AttachmentView].self)
                    #expect(decoded.count == 1)
                }
            }
        }

        @Test func oversizedOrPathNamedUploadsAreRefusedAndStoreNothing() async throws {
            try await withOmbud { ctx, _ in
                let appeal = try await ctx.createAppeal(basicAppeal)
                for (name, bytes, status) in [("big.bin", [UInt8](repeating: 1, count: 64 * 1024 + 1), HTTPStatus.payloadTooLarge),
                                              ("../../etc/passwd", Array("x".utf8), .unprocessableEntity),
                                              ("empty.txt", [], .unprocessableEntity)] {
                    let (type, body) = multipart(name, bytes)
                    var headers = ctx.auth
                    headers.replaceOrAdd(name: .contentType, value: type)
                    try await ctx.app.testing().test(.POST, "/api/v1/appeals/\(appeal.id)/attachments", headers: headers, body: body) { res in
                        #expect(res.status == status, "\(name): \(res.body.string)")
                        #expect(res.body.string.contains(#""field":"file""#))
                    }
                }
                #expect(try await Attachment.query(on: ctx.app.db).count() == 0)
            }
        }
    }
}
