import AsyncKit
import NIOConcurrencyHelpers
import PostgresNIO
import SQLiteNIO
import Vapor

/// Errors that mean "the database cannot be reached now" (a PostgreSQL restart, a lost connection, a pool that
/// cannot connect, SQLite's file locked past its timeout): not a fault of the request nor of Ombud. They answer 503
/// with `Retry-After`; nothing was committed (the error came before the commit), and the pool reconnects by itself.
enum DatabaseOutage {
    static let retryAfter = 5

    static func matches(_ error: any Error) -> Bool {
        switch error {
        case let error as PSQLError:
            switch error.code {
            case .clientClosedConnection, .serverClosedConnection, .connectionError, .uncleanShutdown, .poolClosed:
                return true
            case .server:
                // 08: connection exceptions; 57P: the server shutting down or starting; 53300: too many connections.
                let state = error.serverInfo?[.sqlState] ?? ""
                return state.hasPrefix("08") || state.hasPrefix("57P") || state == "53300"
            default:
                return false
            }
        case let error as SQLiteError:
            return [.busy, .locked].contains(error.reason)
        case is ConnectionPoolTimeoutError, is ConnectionPoolError:
            return true
        default:
            return false
        }
    }
}

extension DatabaseOutage {
    /// Runs a database transaction, giving up after `seconds`. When PostgreSQL restarts under a transaction, its
    /// connection can be left waiting for an answer that never comes (seen: an intake batch after a restart hung, and
    /// the whole intake queue behind it). Used for the intake queue's batches only, which are short: giving up lets
    /// the queue go on (the batch's appeals are then written one by one); a long transaction elsewhere is never cut.
    static func bounded<T: Sendable>(_ seconds: Double, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let settled = NIOLockedValueBox(false)
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            func settle(_ result: Result<T, any Error>) {
                guard settled.withLockedValue({ done in defer { done = true }; return !done }) else { return }
                continuation.resume(with: result)
            }
            Task {
                do { settle(.success(try await body())) } catch { settle(.failure(error)) }
            }
            Task {
                try? await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000))
                settle(.failure(ConnectionPoolTimeoutError.connectionRequestTimeout))
            }
        }
    }
}
