import Foundation
import OmbudDomain
import Testing

struct SignInTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func sessionEndsWhenIdleOrTooOld() {
        let policy = SessionPolicy(idle: 3600, lifetime: 12 * 3600)
        #expect(!policy.isExpired(createdAt: t0, lastSeen: t0, now: t0 + 3599))
        #expect(policy.isExpired(createdAt: t0, lastSeen: t0, now: t0 + 3600))
        // Active all along, still ends after the lifetime.
        #expect(!policy.isExpired(createdAt: t0, lastSeen: t0 + 11 * 3600, now: t0 + 11.9 * 3600))
        #expect(policy.isExpired(createdAt: t0, lastSeen: t0 + 11.9 * 3600, now: t0 + 12 * 3600))
        // A clock set back does not revive a session.
        #expect(policy.isExpired(createdAt: t0, lastSeen: t0, now: t0 - 1))
        #expect(!policy.needsTouch(lastSeen: t0, now: t0 + 59))
        #expect(policy.needsTouch(lastSeen: t0, now: t0 + 60))
    }

    @Test func csrfTokensCompareExactly() {
        #expect(SessionPolicy.constantTimeEqual("abc", "abc"))
        #expect(!SessionPolicy.constantTimeEqual("abc", "abd"))
        #expect(!SessionPolicy.constantTimeEqual("abc", "abcd"))
        #expect(!SessionPolicy.constantTimeEqual("", ""))
    }

    @Test func passwordRules() {
        #expect(throws: ValidationError(field: "password", reason: "must be at least 8 characters")) { try PasswordRules.validate("short") }
        #expect(throws: ValidationError(field: "new", reason: "must differ from the login")) {
            try PasswordRules.validate("Ivanov.Ivan", field: "new", login: "ivanov.ivan")
        }
        #expect(throws: ValidationError.self) { try PasswordRules.validate(String(repeating: "я", count: 40)) }
        #expect(throws: Never.self) { try PasswordRules.validate("correct horse") }
    }

    @Test func failuresFarApartDoNotLock() {
        let rule = LoginThrottle.account
        var state = LoginThrottle.State()
        for day in 0..<10 { state = rule.failed(state, now: t0 + Double(day) * 86_400) }
        #expect(state.failures == 1 && !rule.isLocked(state, now: t0 + 9 * 86_400))
        // An office behind one address may mistype more often than one person.
        var office = LoginThrottle.State()
        for i in 0..<19 { office = LoginThrottle.address.failed(office, now: t0 + Double(i)) }
        #expect(!LoginThrottle.address.isLocked(office, now: t0 + 20))
        office = LoginThrottle.address.failed(office, now: t0 + 20)
        #expect(LoginThrottle.address.isLocked(office, now: t0 + 21))
    }

    @Test func ldapFiltersParseFromTheirTextForm() throws {
        #expect(try LDAPFilter.parse("(uid=ivanov)") == .equal("uid", Array("ivanov".utf8)))
        #expect(try LDAPFilter.parse("(&(objectClass=person)(!(mail=*)))") ==
                .and([.equal("objectClass", Array("person".utf8)), .not(.present("mail"))]))
        #expect(try LDAPFilter.parse("(|(cn=Ив*ов)(sn>=b))") ==
                .or([.substrings("cn", initial: Array("Ив".utf8), any: [], final: Array("ов".utf8)), .greaterOrEqual("sn", [0x62])]))
        #expect(try LDAPFilter.parse("(cn=a\\2ab)") == .equal("cn", Array("a*b".utf8)))
        for bad in ["uid=x", "(uid=x", "(=x)", "(&)", "(uid=x))", "(cn=a\\zz)", "(cn>=a*)"] {
            #expect(throws: ValidationError.self, "\(bad)") { try LDAPFilter.parse(bad) }
        }
    }

    @Test func loginsCannotInjectIntoAFilter() throws {
        #expect(LDAPFilter.escape("*)(uid=*") == "\\2a\\29\\28uid=\\2a")
        let filled = LDAPFilter.fill("(&(objectClass=person)(uid={login}))", ["login": "admin)(|(uid=*"])
        #expect(try LDAPFilter.parse(filled) == .and([.equal("objectClass", Array("person".utf8)), .equal("uid", Array("admin)(|(uid=*".utf8))]))
        #expect(LDAPFilter.escape("Иванов") == "Иванов")
    }

    @Test func directoryGroupsMapToRolesAndUnits() throws {
        let roles = try DirectoryMapping.rules("reception = cn=Reception, ou=Groups,dc=city ; supervisor=cn=heads,ou=groups,dc=city;approver=cn=heads,ou=groups,dc=city", field: "OMBUD_LDAP_ROLES")
        let mapping = DirectoryMapping(roles: roles, units: try DirectoryMapping.rules("roads=cn=roads,ou=groups,dc=city", field: "u"))
        #expect(mapping.roleKeys(forGroups: ["CN=Heads,OU=Groups,DC=City"]) == ["approver", "supervisor"])
        #expect(mapping.roleKeys(forGroups: ["cn=reception,ou=groups,dc=city", "cn=other,dc=city"]) == ["reception"])
        #expect(mapping.roleKeys(forGroups: []) == [])
        #expect(mapping.unitCodes(forGroups: ["cn=roads,ou=groups,dc=city"]) == ["roads"])
        #expect(throws: ValidationError(field: "m[1]", reason: "write KEY=GROUP-DN")) { try DirectoryMapping.rules("a=cn=x;nogroup", field: "m") }
        #expect(throws: ValidationError(field: "m[0]", reason: "plain is not a DN")) { try DirectoryMapping.rules("a=plain", field: "m") }
    }
}
