import AsyncHTTPClient
import Foundation
import NIOCore
import OmbudDomain
import Vapor

/// The HTTP calls to social networks and the SMS gateway: live over AsyncHTTPClient, replaced in tests by a recorder
/// that answers in the network's wire format.
struct ChannelTransport: Sendable {
    /// The call's answer: status and body (at most 1 MB is read).
    var send: @Sendable (ChannelCall) async throws -> (status: Int, body: [UInt8])
    /// A file's bytes; nil when it is larger than `limit`.
    var download: @Sendable (_ url: String, _ limit: Int) async throws -> [UInt8]?

    static let answerLimit = 1024 * 1024
    static let timeout = TimeAmount.seconds(30)

    static func live(_ client: HTTPClient) -> ChannelTransport {
        ChannelTransport(
            send: { call in
                var request = HTTPClientRequest(url: call.url)
                request.method = .POST
                request.headers.add(name: "Content-Type", value: call.contentType)
                request.headers.add(name: "User-Agent", value: "Ombud")
                for (name, value) in call.headers { request.headers.add(name: name, value: value) }
                request.body = .bytes(ByteBuffer(bytes: call.body))
                let response = try await client.execute(request, timeout: timeout)
                let body = try await response.body.collect(upTo: answerLimit)
                return (Int(response.status.code), Array(buffer: body))
            },
            download: { url, limit in
                var request = HTTPClientRequest(url: url)
                request.headers.add(name: "User-Agent", value: "Ombud")
                let response = try await client.execute(request, timeout: .seconds(120))
                guard (200..<300).contains(response.status.code) else { throw Abort(.badGateway, reason: "HTTP \(response.status.code) for the file") }
                if let length = response.headers.first(name: "Content-Length").flatMap(Int.init), length > limit { return nil }
                do { return Array(buffer: try await response.body.collect(upTo: limit)) } catch is NIOTooManyBytesError { return nil }
            })
    }
}

extension Application {
    private struct TransportKey: StorageKey { typealias Value = ChannelTransport }
    var channelTransport: ChannelTransport {
        get { storage[TransportKey.self] ?? .live(http.client.shared) }
        set { storage[TransportKey.self] = newValue }
    }
}
