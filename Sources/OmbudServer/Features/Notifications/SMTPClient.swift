import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import OmbudDomain

/// Where outgoing mail goes: `OMBUD_SMTP_HOST`, `_PORT`, `_SECURITY` (none, starttls, tls), `_USER`, `_PASSWORD`,
/// `_TIMEOUT` (seconds), and `OMBUD_MAIL_FROM`. Without a host, notifications stay in the app.
struct SMTPSettings: Sendable, Equatable {
    enum Security: String, Sendable, CaseIterable { case none, starttls, tls }

    var host: String
    var port: Int
    var security: Security
    var username: String?
    var password: String?
    var from: MailAddress
    var timeout: TimeAmount = .seconds(30)
    /// A CA bundle (PEM) to trust instead of the system's, for a server with a private certificate.
    var caFile: String?

    /// The domain of our Message-IDs: the sender's.
    var messageIDHost: String { from.address.split(separator: "@").last.map(String.init) ?? "ombud" }

    /// The name the certificate is checked against; for an IP address (which SNI cannot carry) the address itself.
    var serverName: String? { (try? SocketAddress(ipAddress: host, port: 0)) == nil ? host : nil }

    static func fromEnvironment(_ env: [String: String]) throws(ValidationError) -> SMTPSettings? {
        guard let host = env["OMBUD_SMTP_HOST"]?.trimmed(), !host.isEmpty else { return nil }
        var security = Security.starttls
        if let raw = env["OMBUD_SMTP_SECURITY"], !raw.isEmpty {
            guard let value = Security(rawValue: raw.lowercased()) else {
                throw ValidationError(field: "OMBUD_SMTP_SECURITY", reason: "one of none, starttls, tls")
            }
            security = value
        }
        var port = security == .tls ? 465 : 587
        if let raw = env["OMBUD_SMTP_PORT"], !raw.isEmpty {
            guard let value = Int(raw), (1...65535).contains(value) else { throw ValidationError(field: "OMBUD_SMTP_PORT", reason: "a port number") }
            port = value
        }
        let user = env["OMBUD_SMTP_USER"].flatMap { $0.isEmpty ? nil : $0 }
        let password = env["OMBUD_SMTP_PASSWORD"]
        if user != nil, password?.isEmpty ?? true { throw ValidationError(field: "OMBUD_SMTP_PASSWORD", reason: "required with OMBUD_SMTP_USER") }
        if user != nil, security == .none, !["127.0.0.1", "localhost", "::1"].contains(host) {
            throw ValidationError(field: "OMBUD_SMTP_SECURITY", reason: "a password is not sent in clear text to another machine: use starttls or tls")
        }
        var settings = SMTPSettings(host: host, port: port, security: security, username: user, password: password,
                                    from: try MailAddress(env["OMBUD_MAIL_FROM"] ?? "ombud@\(host)", name: "Ombud", field: "OMBUD_MAIL_FROM"))
        // Connecting and the exchange together stay well inside a job's lease, so no other worker sends the mail again.
        if let raw = env["OMBUD_SMTP_TIMEOUT"], !raw.isEmpty {
            guard let seconds = Int(raw), (1...300).contains(seconds) else { throw ValidationError(field: "OMBUD_SMTP_TIMEOUT", reason: "1 to 300 seconds") }
            settings.timeout = .seconds(Int64(seconds))
        }
        settings.caFile = env["OMBUD_SMTP_CA_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        return settings
    }
}

/// A small SMTP client (RFC 5321) over SwiftNIO: EHLO, STARTTLS or implicit TLS, AUTH PLAIN, one message per
/// connection. Every reply is checked; a refusal or a silence becomes an error the job's retry handles.
enum SMTPClient {
    enum Failure: Error, CustomStringConvertible {
        case unreachable(String)
        case refused(step: String, reply: String)
        case timedOut
        case protocolError(String)

        var description: String {
            switch self {
            case let .unreachable(reason): "the mail server cannot be reached: \(reason)"
            case let .refused(step, reply): "the mail server refused \(step): \(reply)"
            case .timedOut: "the mail server did not answer in time"
            case let .protocolError(reason): "the mail server answered something unexpected: \(reason)"
            }
        }
    }

    static func send(_ message: MailMessage, settings: SMTPSettings, group: any EventLoopGroup) async throws {
        let tls = try settings.security == .none ? nil : makeTLSContext(settings)
        let gate = StartTLSGate()
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: group).connectTimeout(settings.timeout)
                .connect(host: settings.host, port: settings.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if settings.security == .tls, let tls {
                            try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: settings.serverName))
                        }
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineDecoder(gate: gate)))
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw Failure.unreachable("\(settings.host):\(settings.port): \(error)")
        }
        try await withTimeout(settings.timeout, closing: channel, timedOut: Failure.timedOut) {
            try await channel.executeThenClose { inbound, outbound in
                var session = Session(inbound: inbound.makeAsyncIterator(), outbound: outbound)
                try await session.expect(220, step: "the connection")
                let helo = "ombud.localhost"
                var ehlo = try await session.command("EHLO \(helo)", expect: 250, step: "EHLO")
                if settings.security == .starttls {
                    guard ehlo.extensions.contains("STARTTLS") else { throw Failure.refused(step: "STARTTLS", reply: "not offered") }
                    let raw = channel.channel
                    try await raw.eventLoop.submit { gate.armed = true }.get()
                    try await session.command("STARTTLS", expect: 220, step: "STARTTLS")
                    guard let tls else { throw Failure.refused(step: "STARTTLS", reply: "no TLS context") }
                    try await raw.eventLoop.submit {
                        try raw.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: settings.serverName),
                                                                   position: .first)
                        gate.closed = false
                    }.get()
                    ehlo = try await session.command("EHLO \(helo)", expect: 250, step: "EHLO after STARTTLS")
                }
                if let user = settings.username, let password = settings.password {
                    let token = Data(([0] + Array(user.utf8) + [0] + Array(password.utf8))).base64EncodedString()
                    try await session.command("AUTH PLAIN \(token)", expect: 235, step: "the login")
                }
                try await session.command("MAIL FROM:<\(settings.from.address)>", expect: 250, step: "the sender")
                try await session.command("RCPT TO:<\(message.to.address)>", expect: 250, step: "the recipient \(message.to.address)", alsoAccept: [251])
                try await session.command("DATA", expect: 354, step: "DATA")
                try await session.write(message.rendered() + ".\r\n")
                try await session.expect(250, step: "the message")
                _ = try? await session.command("QUIT", expect: 221, step: "QUIT")
            }
        }
    }

    private static func makeTLSContext(_ settings: SMTPSettings) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let caFile = settings.caFile { configuration.trustRoots = .file(caFile) }
        return try NIOSSLContext(configuration: configuration)
    }

    private struct Session {
        var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
        let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>

        mutating func reply() async throws -> SMTPReply {
            var lines: [String] = []
            while true {
                guard var line = try await inbound.next() else { throw Failure.protocolError("the connection closed") }
                lines.append(line.readString(length: line.readableBytes) ?? "")
                do { if let reply = try SMTPReply.parse(lines) { return reply } } catch { throw Failure.protocolError("\(error)") }
                if lines.count > 100 { throw Failure.protocolError("a reply of over 100 lines") }
            }
        }

        @discardableResult
        mutating func expect(_ code: Int, step: String, alsoAccept: Set<Int> = []) async throws -> SMTPReply {
            let reply = try await reply()
            guard reply.code == code || alsoAccept.contains(reply.code) else { throw Failure.refused(step: step, reply: reply.text) }
            return reply
        }

        func write(_ text: String) async throws { try await outbound.write(ByteBuffer(string: text)) }

        @discardableResult
        mutating func command(_ line: String, expect code: Int, step: String, alsoAccept: Set<Int> = []) async throws -> SMTPReply {
            try await write(line + "\r\n")
            return try await expect(code, step: step, alsoAccept: alsoAccept)
        }
    }

    /// Between the server's answer to STARTTLS and the TLS handler taking over, nothing may arrive in clear text
    /// (RFC 3207 §4.2): such bytes would otherwise be read as the server's replies after the handshake. Touched only on
    /// the channel's event loop.
    private final class StartTLSGate: @unchecked Sendable {
        /// The next complete reply is the answer to STARTTLS.
        var armed = false
        /// That answer came and TLS is not in place yet: clear text must stop.
        var closed = false
    }

    /// Cuts replies into lines (CRLF or LF), at most 4 KiB each.
    private struct LineDecoder: ByteToMessageDecoder {
        typealias InboundOut = ByteBuffer
        let gate: StartTLSGate

        mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
            if gate.closed {
                guard buffer.readableBytes == 0 else { throw Failure.protocolError("data in clear text after the answer to STARTTLS") }
                return .needMoreData
            }
            guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
                if buffer.readableBytes > 4096 { throw Failure.protocolError("a line of over 4 KiB") }
                return .needMoreData
            }
            let length = newline - buffer.readerIndex
            var line = buffer.readSlice(length: length)!
            buffer.moveReaderIndex(forwardBy: 1)
            if line.readableBytesView.last == UInt8(ascii: "\r") { line = line.getSlice(at: line.readerIndex, length: line.readableBytes - 1)! }
            // The last line of a reply has a space (or nothing) after its code.
            if gate.armed, line.readableBytes == 3 || line.getInteger(at: line.readerIndex + 3, as: UInt8.self) == UInt8(ascii: " ") {
                gate.armed = false
                gate.closed = true
                guard buffer.readableBytes == 0 else { throw Failure.protocolError("data in clear text after the answer to STARTTLS") }
            }
            context.fireChannelRead(Self.wrapInboundOut(line))
            return .continue
        }
    }
}
