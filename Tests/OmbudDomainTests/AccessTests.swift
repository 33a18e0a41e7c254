import Foundation
import OmbudDomain
import Testing

struct AccessTests {
    @Test func shippedRolesCoverEveryRoleKeyAndOnlyKnownPermissions() {
        #expect(RoleDefinition.shipped.map(\.key) == RoleKey.allCases.map(\.rawValue))
        for role in RoleDefinition.shipped {
            #expect(role.permissions.allSatisfy { Permission(rawValue: $0.rawValue) != nil })
            #expect(role.permissions.contains(.actAs(RoleKey(rawValue: role.key)!)))
        }
        let byKey = Dictionary(uniqueKeysWithValues: RoleDefinition.shipped.map { ($0.key, $0) })
        // Journalists and media editors see no personal data by default; the others do.
        #expect(!byKey["journalist"]!.permissions.contains(.personalData))
        #expect(!byKey["editor"]!.permissions.contains(.personalData))
        #expect(byKey["reception"]!.permissions.contains(.personalData))
        #expect(byKey["administrator"]!.permissions == Set(Permission.catalogue))
    }

    @Test func unknownPermissionIsNamed() throws {
        #expect(throws: ValidationError(field: "permissions[1]", reason: "unknown permission appeals.fly")) {
            try Permission.parse(["appeals.read", "appeals.fly"], field: "permissions")
        }
        #expect(try Permission.parse([" appeals.read "], field: "p") == [.appealsRead])
    }

    @Test func roleKeysAreChecked() throws {
        #expect(try RoleDefinition.validateKey("call-centre-2") == "call-centre-2")
        #expect(throws: ValidationError.self) { try RoleDefinition.validateKey("Call Centre") }
        #expect(throws: ValidationError.self) { try RoleDefinition.validateKey(nil) }
    }

    @Test func workflowRolesFollowActAsPermissions() {
        #expect(Permission.workflowRoles([.appealsRead, .actAs(.reception), .actAs(.executor)]) == ["reception", "executor"])
        let reception = WorkflowDefinition.federalLaw59
        #expect(WorkflowEngine.allowedTargets(reception, from: "received", roles: ["reception"]).contains("registered"))
        #expect(!WorkflowEngine.allowedTargets(reception, from: "received", roles: ["journalist"]).contains("registered"))
    }

    // hq ─┬─ city ── roads
    //     └─ police
    let hq = UUID(), city = UUID(), roads = UUID(), police = UUID(), user = UUID()
    var parents: [UUID: UUID?] { [hq: nil, city: hq, roads: city, police: hq] }

    @Test func scopeCoversOwnUnitsAndThoseBelow() {
        let scope = AccessScope.of(memberOf: [city], parents: parents, hqUnits: [], permissions: [.appealsRead])
        #expect(scope == .units([city, roads], includesRoot: false))
        #expect(scope.allows(office: roads, executorUnits: [], redirectedTo: nil, executorUsers: [], user: user))
        #expect(scope.allows(office: police, executorUnits: [roads], redirectedTo: nil, executorUsers: [], user: user))
        #expect(scope.allows(office: police, executorUnits: [], redirectedTo: city, executorUsers: [], user: user))
        #expect(scope.allows(office: police, executorUnits: [], redirectedTo: nil, executorUsers: [user], user: user))
        #expect(!scope.allows(office: police, executorUnits: [police], redirectedTo: nil, executorUsers: [UUID()], user: user))
        // Appeals with no office and no executor belong to the root.
        #expect(!scope.allows(office: nil, executorUnits: [], redirectedTo: nil, executorUsers: [], user: user))
        let root = AccessScope.of(memberOf: [hq], parents: parents, hqUnits: [], permissions: [])
        #expect(root.allows(office: nil, executorUnits: [], redirectedTo: nil, executorUsers: [], user: user))
    }

    @Test func hqMembershipOrScopeAllSeesEverything() {
        #expect(AccessScope.of(memberOf: [police], parents: parents, hqUnits: [police], permissions: []) == .all)
        #expect(AccessScope.of(memberOf: [], parents: parents, hqUnits: [], permissions: [.scopeAll]) == .all)
        let nobody = AccessScope.of(memberOf: [], parents: parents, hqUnits: [], permissions: [])
        #expect(!nobody.allows(office: city, executorUnits: [], redirectedTo: nil, executorUsers: [], user: user))
    }

    @Test func masking() {
        #expect(!PersonalDataMask.shows(permissions: [.appealsRead], publicityConsent: false))
        #expect(PersonalDataMask.shows(permissions: [.appealsRead], publicityConsent: true))
        #expect(PersonalDataMask.shows(permissions: [.personalData], publicityConsent: false))
        #expect(PersonalDataMask.approximate(59.93863) == 59.94)
        #expect(PersonalDataMask.approximate(nil) == nil)
    }

    @Test func throttleLocksAfterFiveFailuresForFifteenMinutes() {
        let throttle = LoginThrottle()
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        var state = LoginThrottle.State()
        for i in 0..<4 {
            state = throttle.failed(state, now: t0.addingTimeInterval(Double(i)))
            #expect(!throttle.isLocked(state, now: t0.addingTimeInterval(Double(i))))
        }
        state = throttle.failed(state, now: t0.addingTimeInterval(5))
        #expect(throttle.isLocked(state, now: t0.addingTimeInterval(6)))
        #expect(throttle.isLocked(state, now: t0.addingTimeInterval(5 + 899)))
        #expect(!throttle.isLocked(state, now: t0.addingTimeInterval(5 + 900)))
        // After the lock ends, counting starts again.
        state = throttle.failed(state, now: t0.addingTimeInterval(5 + 901))
        #expect(state.failures == 1)
        #expect(!throttle.isLocked(state, now: t0.addingTimeInterval(5 + 902)))
    }
}
