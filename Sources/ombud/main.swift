import Foundation
import OmbudServer

// A command that fails has already logged why: exit 1 rather than crash with a backtrace.
do {
    try await OmbudMain.run()
} catch {
    exit(1)
}
