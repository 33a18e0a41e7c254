import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs programs to completion: the `ombud` CLI, `gzip`, `psql`, `nproc`.
enum Subprocess {
    /// Runs `executable` and returns its standard output (with standard error merged in unless `mergeErrors` is false,
    /// in which case standard error goes to ours). Throws when it exits with a non-zero status.
    @discardableResult
    static func run(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil, input: String? = nil,
                    mergeErrors: Bool = true) throws -> Data {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let environment { process.environment = environment }
        let output = Pipe()
        process.standardOutput = output
        if mergeErrors { process.standardError = output }
        let stdin = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        try process.run()
        if let input {
            try stdin.fileHandleForWriting.write(contentsOf: Data(input.utf8))
            try stdin.fileHandleForWriting.close()
        }
        // Read to the end before waiting, so a chatty program cannot block on a full pipe.
        let data = try output.fileHandleForReading.readToEnd() ?? Data()
        process.waitUntilExit()
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            let shown = ([executable.lastPathComponent] + arguments).joined(separator: " ")
            let text = String(decoding: data.suffix(4000), as: UTF8.self)
            throw BenchError("`\(shown)` failed with status \(process.terminationStatus):\n\(text)")
        }
        return data
    }

    /// Runs a program found on PATH.
    @discardableResult
    static func tool(_ name: String, _ arguments: [String], environment: [String: String]? = nil,
                     mergeErrors: Bool = true) throws -> Data {
        try run(URL(fileURLWithPath: "/usr/bin/env"), [name] + arguments, environment: environment, mergeErrors: mergeErrors)
    }

    /// A TCP port on 127.0.0.1 that was free a moment ago (the kernel picks it; we close the socket at once).
    static func freePort() throws(BenchError) -> Int {
        #if canImport(Glibc)
        let stream = Int32(SOCK_STREAM.rawValue)
        #else
        let stream = SOCK_STREAM
        #endif
        let fd = socket(AF_INET, stream, 0)
        guard fd >= 0 else { throw BenchError("socket() failed: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else { throw BenchError("bind(127.0.0.1:0) failed: errno \(errno)") }
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw BenchError("getsockname() failed: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
