import NIOCore
import NIOPosix
import NIOSSL
import OmbudDomain

/// One conversation with an LDAP server over SwiftNIO: open, exchange messages in order, close.
/// `ldap://` is plain TCP (use it on a trusted network or through a tunnel), `ldaps://` is TLS with the system's CAs.
struct LDAPConnection {
    struct Endpoint: Sendable, Equatable {
        var host: String
        var port: Int
        var tls: Bool

        init(url: String) throws(ValidationError) {
            let parts = url.split(separator: "://", maxSplits: 1).map(String.init)
            guard parts.count == 2, parts[0] == "ldap" || parts[0] == "ldaps" else {
                throw ValidationError(field: "OMBUD_LDAP_URL", reason: "write ldap://host[:port] or ldaps://host[:port]")
            }
            tls = parts[0] == "ldaps"
            let authority = parts[1].split(separator: "/").first.map(String.init) ?? ""
            if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
                guard let port = Int(authority[authority.index(after: colon)...]), (1...65535).contains(port) else {
                    throw ValidationError(field: "OMBUD_LDAP_URL", reason: "bad port in \(url)")
                }
                host = String(authority[..<colon])
                self.port = port
            } else {
                host = authority
                port = tls ? 636 : 389
            }
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            guard !host.isEmpty else { throw ValidationError(field: "OMBUD_LDAP_URL", reason: "no host in \(url)") }
        }
    }

    enum Failure: Error, CustomStringConvertible {
        case unreachable(String)
        case timedOut
        case protocolError(String)

        var description: String {
            switch self {
            case let .unreachable(reason): "the directory cannot be reached: \(reason)"
            case .timedOut: "the directory did not answer in time"
            case let .protocolError(reason): "the directory answered something unexpected: \(reason)"
            }
        }
    }

    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var nextID = 1

    /// Runs `body` on a new connection, closing it afterwards; the whole exchange is bounded by `timeout`.
    static func with<T: Sendable>(_ endpoint: Endpoint, timeout: TimeAmount, group: any EventLoopGroup,
                                  _ body: @escaping @Sendable (inout LDAPConnection) async throws -> T) async throws -> T {
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            let tls = try endpoint.tls ? NIOSSLContext(configuration: .makeClientConfiguration()) : nil
            channel = try await ClientBootstrap(group: group).connectTimeout(timeout)
                .connect(host: endpoint.host, port: endpoint.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tls {
                            try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: endpoint.host))
                        }
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder()))
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw Failure.unreachable("\(endpoint.host):\(endpoint.port): \(error)")
        }
        return try await withTimeout(timeout, closing: channel, timedOut: Failure.timedOut) {
            try await channel.executeThenClose { inbound, outbound in
                var connection = LDAPConnection(inbound: inbound.makeAsyncIterator(), outbound: outbound)
                let result = try await body(&connection)
                try? await connection.send(LDAPMessages.unbind(id: connection.takeID()))
                return result
            }
        }
    }

    private mutating func takeID() -> Int {
        defer { nextID += 1 }
        return nextID
    }

    private func send(_ bytes: [UInt8]) async throws {
        try await outbound.write(ByteBuffer(bytes: bytes))
    }

    private mutating func receive(id: Int) async throws -> LDAPMessages.Response {
        while true {
            guard var frame = try await inbound.next() else { throw Failure.protocolError("the connection closed") }
            let bytes = frame.readBytes(length: frame.readableBytes) ?? []
            let message: (id: Int, response: LDAPMessages.Response)
            do { message = try LDAPMessages.decode(bytes) } catch { throw Failure.protocolError("\(error)") }
            // Message id 0 is an unsolicited notification (e.g. notice of disconnection).
            if message.id == 0 { throw Failure.protocolError("the server ended the session") }
            if message.id == id { return message.response }
        }
    }

    /// A simple bind. An empty password would be an unauthenticated bind, which servers accept: refused here.
    mutating func bind(dn: String, password: String) async throws -> LDAPMessages.Result {
        precondition(!password.isEmpty, "an empty password is an unauthenticated bind")
        let id = takeID()
        try await send(LDAPMessages.bind(id: id, dn: dn, password: password))
        guard case let .bind(result) = try await receive(id: id) else { throw Failure.protocolError("expected a BindResponse") }
        return result
    }

    mutating func search(base: String, scope: LDAPMessages.Scope = .subtree, filter: LDAPFilter, attributes: [String],
                         sizeLimit: Int = 0) async throws -> (entries: [LDAPMessages.Entry], result: LDAPMessages.Result) {
        let id = takeID()
        try await send(LDAPMessages.search(id: id, base: base, scope: scope, filter: filter, attributes: attributes,
                                           sizeLimit: sizeLimit, timeLimit: 10))
        var entries: [LDAPMessages.Entry] = []
        while true {
            switch try await receive(id: id) {
            case let .searchEntry(entry): entries.append(entry)
            case let .searchDone(result): return (entries, result)
            case .bind: throw Failure.protocolError("a BindResponse to a search")
            case .other: continue
            }
        }
    }

    /// Cuts the byte stream into whole LDAPMessages.
    private struct FrameDecoder: ByteToMessageDecoder {
        typealias InboundOut = ByteBuffer
        static let maximum = 4 * 1024 * 1024

        mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
            guard let length = try LDAPMessages.frameLength(buffer.readableBytesView) else { return .needMoreData }
            guard length <= Self.maximum else { throw Failure.protocolError("a message of \(length) bytes") }
            guard let frame = buffer.readSlice(length: length) else { return .needMoreData }
            context.fireChannelRead(Self.wrapInboundOut(frame))
            return .continue
        }
    }
}
