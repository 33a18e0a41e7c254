import Testing
import VaporTesting
@testable import OmbudServer
@Test func smoke() { #expect(true) }
