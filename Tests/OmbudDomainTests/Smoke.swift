import Testing
@testable import OmbudDomain
@Test func smoke() { #expect(OmbudDomainVersion.value == "0.1.0") }
