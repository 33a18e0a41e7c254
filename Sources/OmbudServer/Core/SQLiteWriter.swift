import Foundation
import SQLiteKit
import NIOCore
import SQLiteNIO
import Vapor
// The SQLite that SQLiteNIO compiles in. Using the same copy matters: two copies of SQLite in one process do not see
// each other's POSIX locks on the same file.
import VaporCSQLite

/// A dedicated write connection driven synchronously from its own thread.
///
/// Through SQLiteNIO every statement is a round trip between the event loop, the NIO thread pool and the Swift
/// concurrency pool; under load each costs 0.3–1 ms of waiting, and a batch of intake writes is a dozen statements.
/// Here a whole transaction is one job on one thread: prepared statements are reused and steps are plain C calls.
/// Callers hold the `WriteGate` while a transaction runs, like every other write to SQLite.
final class SQLiteWriter: @unchecked Sendable {
    /// One open connection; used only on `queue`.
    final class Connection {
        fileprivate let handle: OpaquePointer
        private var statements: [String: OpaquePointer] = [:]
        private let encoder = SQLiteDataEncoder()

        fileprivate init(handle: OpaquePointer) { self.handle = handle }

        /// Runs one statement, binding `binds` in order, and returns its rows.
        @discardableResult
        func query(_ sql: String, _ binds: [any Encodable & Sendable] = []) throws -> [[SQLiteData]] {
            try query(sql, data: binds.map { try SQLiteWriter.data($0, encoder: encoder) })
        }

        /// The same with values already SQLite's (converted off the writer's thread).
        @discardableResult
        func query(_ sql: String, data binds: [SQLiteData]) throws -> [[SQLiteData]] {
            let statement = try prepared(sql)
            defer {
                sqlite_nio_sqlite3_reset(statement)
                sqlite_nio_sqlite3_clear_bindings(statement)
            }
            for (offset, value) in binds.enumerated() { try bind(value, at: Int32(offset + 1), in: statement) }
            var rows: [[SQLiteData]] = []
            while true {
                let status = sqlite_nio_sqlite3_step(statement)
                if status == SQLITE_DONE { return rows }
                guard status == SQLITE_ROW else { throw error(status) }
                rows.append((0..<sqlite_nio_sqlite3_column_count(statement)).map { column(statement, $0) })
            }
        }

        func execute(_ sql: String) throws {
            let status = sqlite_nio_sqlite3_exec(handle, sql, nil, nil, nil)
            guard status == SQLITE_OK else { throw error(status) }
        }

        private func prepared(_ sql: String) throws -> OpaquePointer {
            if let statement = statements[sql] { return statement }
            var statement: OpaquePointer?
            let status = sqlite_nio_sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
            guard status == SQLITE_OK, let statement else { throw error(status) }
            statements[sql] = statement
            return statement
        }

        private func bind(_ value: SQLiteData, at index: Int32, in statement: OpaquePointer) throws {
            let status: Int32
            switch value {
            case .integer(let v): status = sqlite_nio_sqlite3_bind_int64(statement, index, sqlite3_int64(v))
            case .float(let v): status = sqlite_nio_sqlite3_bind_double(statement, index, v)
            case .text(let v): status = sqlite_nio_sqlite3_bind_text(statement, index, v, -1, transient)
            case .blob(let v):
                status = v.withUnsafeReadableBytes {
                    sqlite_nio_sqlite3_bind_blob64(statement, index, $0.baseAddress, UInt64($0.count), transient)
                }
            case .null: status = sqlite_nio_sqlite3_bind_null(statement, index)
            }
            guard status == SQLITE_OK else { throw error(status) }
        }

        private func column(_ statement: OpaquePointer, _ index: Int32) -> SQLiteData {
            switch sqlite_nio_sqlite3_column_type(statement, index) {
            case SQLITE_INTEGER: return .integer(SQLiteInt64(sqlite_nio_sqlite3_column_int64(statement, index)))
            case SQLITE_FLOAT: return .float(sqlite_nio_sqlite3_column_double(statement, index))
            case SQLITE_TEXT: return .text(String(cString: sqlite_nio_sqlite3_column_text(statement, index)))
            case SQLITE_NULL: return .null
            default:
                let count = Int(sqlite_nio_sqlite3_column_bytes(statement, index))
                var buffer = ByteBufferAllocator().buffer(capacity: count)
                if count > 0, let bytes = sqlite_nio_sqlite3_column_blob(statement, index) {
                    buffer.writeBytes(UnsafeRawBufferPointer(start: bytes, count: count))
                }
                return .blob(buffer)
            }
        }

        fileprivate func error(_ status: Int32) -> SQLiteWriterError {
            SQLiteWriterError(code: status, message: String(cString: sqlite_nio_sqlite3_errmsg(handle)))
        }

        fileprivate func close() {
            for statement in statements.values { sqlite_nio_sqlite3_finalize(statement) }
            statements.removeAll()
            sqlite_nio_sqlite3_close_v2(handle)
        }
    }

    private let queue = DispatchQueue(label: "ombud.sqlite-writer")
    private var connection: Connection?

    init(path: String) throws {
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        guard sqlite_nio_sqlite3_open_v2(path, &handle, flags, nil) == SQLITE_OK, let handle else {
            if let handle { sqlite_nio_sqlite3_close_v2(handle) }
            throw SQLiteWriterError(code: SQLITE_CANTOPEN, message: "cannot open \(path)")
        }
        let connection = Connection(handle: handle)
        // The same settings as the pool's connections: foreign keys on, every commit synced to disk.
        try connection.execute("PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL")
        self.connection = connection
    }

    /// Runs `body` in one IMMEDIATE transaction on the writer's thread; rolls back if it throws.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (Connection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                guard let connection = self.connection else {
                    return continuation.resume(throwing: SQLiteWriterError(code: SQLITE_MISUSE, message: "the SQLite writer is closed"))
                }
                do {
                    try connection.execute("BEGIN IMMEDIATE")
                    do {
                        let result = try body(connection)
                        try connection.execute("COMMIT")
                        continuation.resume(returning: result)
                    } catch {
                        try? connection.execute("ROLLBACK")
                        throw error
                    }
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    /// What `SQLiteDataEncoder` would make of the value, without its per-value encoder for optionals
    /// (a sixth of the writer's own time): plain values and optionals of them directly, the rest through it.
    static func data(_ value: any Encodable & Sendable, encoder: SQLiteDataEncoder = SQLiteDataEncoder()) throws -> SQLiteData {
        var value: any Encodable = value
        if let optional = value as? any OptionalBindable {
            guard let wrapped = optional.wrappedBindable else { return .null }
            value = wrapped
        }
        if let convertible = value as? any SQLiteDataConvertible, let data = convertible.sqliteData { return data }
        return try encoder.encode(value)
    }

    /// Runs statements outside a transaction (pragmas).
    func execute(_ sql: String) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            queue.async {
                guard let connection = self.connection else {
                    return continuation.resume(throwing: SQLiteWriterError(code: SQLITE_MISUSE, message: "the SQLite writer is closed"))
                }
                do {
                    try connection.execute(sql)
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    func close() {
        queue.sync {
            connection?.close()
            connection = nil
        }
    }
}

/// Closes the writer when the application shuts down.
struct SQLiteWriterLifecycle: LifecycleHandler {
    let writer: SQLiteWriter
    func shutdown(_ application: Application) { writer.close() }
}

struct SQLiteWriterError: Error, CustomStringConvertible {
    let code: Int32
    let message: String
    var description: String { "SQLite error \(code): \(message)" }
}

/// SQLITE_TRANSIENT: SQLite copies bound text and blobs before the call returns.
private let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

private protocol OptionalBindable {
    var wrappedBindable: (any Encodable)? { get }
}

extension Optional: OptionalBindable where Wrapped: Encodable {
    var wrappedBindable: (any Encodable)? { self }
}
