import Foundation
import OmbudDomain
import Testing

struct RetryPolicyTests {
    @Test func failedJobsWaitLongerEachTimeThenStop() {
        let policy = RetryPolicy(base: 30, cap: 3600, maxAttempts: 8)
        #expect((1...8).map { policy.delay(afterAttempt: $0) } == [30, 60, 120, 240, 480, 960, 1920, 3600])
        let t = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(policy.nextRun(afterAttempt: 1, failedAt: t) == t + 30)
        #expect(policy.nextRun(afterAttempt: 7, failedAt: t) == t + 1920)
        #expect(policy.nextRun(afterAttempt: 8, failedAt: t) == nil)
        #expect(policy.delay(afterAttempt: 1000) == 3600)
    }
}
