import Fluent
import Foundation
import NIOCore
import OmbudDomain
import Testing
import Vapor
import VaporTesting
@testable import OmbudServer

/// A real OpenLDAP server (Debian's `slapd`) in a temporary folder on a loopback port, with a small directory.
final class Slapd: @unchecked Sendable {
    static let binary = "/usr/sbin/slapd"
    /// CI installs slapd; on a developer's machine without it these tests are skipped.
    static var available: Bool { FileManager.default.isExecutableFile(atPath: binary) || ProcessInfo.processInfo.environment["CI"] != nil }

    static let suffix = "dc=ombud,dc=test"
    static let serviceDN = "cn=ombud,ou=services,\(suffix)"
    static let servicePassword = "service-secret"

    let directory: URL
    let port: Int
    private var process: Process?

    init() async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("slapd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("db"), withIntermediateDirectories: true)
        let config = """
            include /etc/ldap/schema/core.schema
            include /etc/ldap/schema/cosine.schema
            include /etc/ldap/schema/inetorgperson.schema
            include /etc/ldap/schema/nis.schema
            pidfile \(directory.path)/slapd.pid
            modulepath /usr/lib/ldap
            moduleload back_mdb
            database mdb
            maxsize 10485760
            suffix "\(Self.suffix)"
            rootdn "cn=admin,\(Self.suffix)"
            rootpw admin-secret
            directory \(directory.path)/db
            """
        let people = [("petrova", "Петрова Анна Сергеевна", "domain-pass-1"), ("sidorov", "Сидоров Олег", "domain-pass-2")]
        var ldif = """
            dn: \(Self.suffix)
            objectClass: dcObject
            objectClass: organization
            o: Ombud test
            dc: ombud

            dn: ou=people,\(Self.suffix)
            objectClass: organizationalUnit
            ou: people

            dn: ou=groups,\(Self.suffix)
            objectClass: organizationalUnit
            ou: groups

            dn: ou=services,\(Self.suffix)
            objectClass: organizationalUnit
            ou: services

            dn: \(Self.serviceDN)
            objectClass: person
            cn: ombud
            sn: service
            userPassword: \(Self.servicePassword)


            """
        for (uid, name, password) in people {
            ldif += """
                dn: uid=\(uid),ou=people,\(Self.suffix)
                objectClass: inetOrgPerson
                uid: \(uid)
                cn: \(uid)
                sn: \(uid)
                displayName: \(name)
                userPassword: \(password)


                """
        }
        // petrova is in reception (a role) and roads-office (a unit); sidorov only in a group nobody mapped.
        for (group, member) in [("reception", "petrova"), ("roads-office", "petrova"), ("canteen", "sidorov")] {
            ldif += """
                dn: cn=\(group),ou=groups,\(Self.suffix)
                objectClass: groupOfNames
                cn: \(group)
                member: uid=\(member),ou=people,\(Self.suffix)


                """
        }
        try config.write(to: directory.appendingPathComponent("slapd.conf"), atomically: true, encoding: .utf8)
        try ldif.write(to: directory.appendingPathComponent("data.ldif"), atomically: true, encoding: .utf8)
        try Self.run("/usr/sbin/slapadd", ["-f", directory.appendingPathComponent("slapd.conf").path, "-l", directory.appendingPathComponent("data.ldif").path])

        // A free port: try a few at random; slapd exits at once when its port is taken.
        for _ in 0..<10 {
            let candidate = Int.random(in: 20_000...60_000)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Self.binary)
            process.arguments = ["-d", "0", "-f", directory.appendingPathComponent("slapd.conf").path, "-h", "ldap://127.0.0.1:\(candidate)/"]
            process.standardError = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            for _ in 0..<50 where process.isRunning {
                if (try? await Self.ping(port: candidate)) == true {
                    self.process = process
                    self.port = candidate
                    return
                }
                try await Task.sleep(nanoseconds: 100_000_000)
            }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        throw Abort(.internalServerError, reason: "slapd did not start")
    }

    var url: String { "ldap://127.0.0.1:\(port)" }

    /// SIGKILL: a child started from the test process may inherit a mask that blocks SIGTERM; the data is disposable.
    func stop() {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    private static func ping(port: Int) async throws -> Bool {
        let endpoint = try LDAPConnection.Endpoint(url: "ldap://127.0.0.1:\(port)")
        return try await LDAPConnection.with(endpoint, timeout: .seconds(1), group: MultiThreadedEventLoopGroup.singleton) { ldap in
            try await ldap.bind(dn: serviceDN, password: servicePassword).isSuccess
        }
    }

    private static func run(_ path: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw Abort(.internalServerError, reason: "\(path) exited with \(process.terminationStatus)") }
    }

    /// Directory settings as an installation would write them in its environment.
    func configuration(bindPassword: String = servicePassword) throws -> LDAPSettings {
        let settings = try LDAPSettings.fromEnvironment([
            "OMBUD_LDAP_URL": url,
            "OMBUD_LDAP_BIND_DN": Self.serviceDN,
            "OMBUD_LDAP_BIND_PASSWORD": bindPassword,
            "OMBUD_LDAP_USER_BASE": "ou=people,\(Self.suffix)",
            "OMBUD_LDAP_GROUP_BASE": "ou=groups,\(Self.suffix)",
            "OMBUD_LDAP_ROLES": "reception=cn=reception,ou=groups,\(Self.suffix); supervisor=cn=heads,ou=groups,\(Self.suffix)",
            "OMBUD_LDAP_UNITS": "roads=CN=Roads-Office, OU=Groups,\(Self.suffix)",
            "OMBUD_LDAP_TIMEOUT": "3",
        ])
        return try #require(settings)
    }
}

struct LDAPCodecTests {
    @Test func bindRequestIsEncodedAsRFC4511Says() throws {
        // LDAPMessage { messageID 1, [APPLICATION 0] { version 3, name "cn=a", simple [0] "pw" } }
        #expect(try LDAPMessages.bind(id: 1, dn: "cn=a", password: "pw") ==
                [0x30, 0x12, 0x02, 0x01, 0x01, 0x60, 0x0d, 0x02, 0x01, 0x03, 0x04, 0x04, 0x63, 0x6e, 0x3d, 0x61, 0x80, 0x02, 0x70, 0x77])
    }

    @Test func searchFilterUsesContextTags() throws {
        // and [0] { equalityMatch [3] { "uid", "x" }, present [7] "cn" }
        #expect(try LDAPMessages.encoded(.and([.equal("uid", [0x78]), .present("cn")])) == [0xa0, 0x0e, 0xa3, 0x08, 0x04, 0x03, 0x75, 0x69, 0x64, 0x04, 0x01, 0x78, 0x87, 0x02, 0x63, 0x6e])
    }

    @Test func responsesAreDecoded() throws {
        let bind: [UInt8] = [0x30, 0x0c, 0x02, 0x01, 0x07, 0x61, 0x07, 0x0a, 0x01, 0x31, 0x04, 0x00, 0x04, 0x00]
        let decoded = try LDAPMessages.decode(bind)
        #expect(decoded.id == 7 && decoded.response == .bind(.init(code: 49, matchedDN: "", message: "")))
        #expect(try LDAPMessages.frameLength(bind) == 14)
        #expect(try LDAPMessages.frameLength(bind.prefix(1)) == nil)
        #expect(try LDAPMessages.frameLength([0x30, 0x82, 0x01, 0x00]) == 260)
        #expect(throws: (any Error).self) { try LDAPMessages.decode([0x30, 0x03, 0x02, 0x01]) }
    }

    @Test func endpointsAreRead() throws {
        let plain = try LDAPConnection.Endpoint(url: "ldap://dc1.city.local")
        #expect(plain.host == "dc1.city.local" && plain.port == 389 && !plain.tls)
        let tls = try LDAPConnection.Endpoint(url: "ldaps://10.0.0.5:1636/")
        #expect(tls.host == "10.0.0.5" && tls.port == 1636 && tls.tls)
        #expect(throws: ValidationError.self) { try LDAPConnection.Endpoint(url: "http://x") }
        #expect(throws: ValidationError.self) { try LDAPConnection.Endpoint(url: "ldap://x:99999") }
    }

    @Test func settingsNameTheVariableAtFault() throws {
        let base = ["OMBUD_LDAP_URL": "ldap://127.0.0.1", "OMBUD_LDAP_USER_BASE": "ou=people,dc=x", "OMBUD_LDAP_ROLES": "reception=cn=r,dc=x"]
        #expect(try LDAPSettings.fromEnvironment([:]) == nil)
        #expect(throws: ValidationError.self) { try LDAPSettings.fromEnvironment(base.merging(["OMBUD_LDAP_USER_BASE": ""]) { $1 }) }
        do {
            _ = try LDAPSettings.fromEnvironment(base.merging(["OMBUD_LDAP_USER_FILTER": "(uid={login}"]) { $1 })
            Issue.record("a broken filter was accepted")
        } catch { #expect(error.field == "OMBUD_LDAP_USER_FILTER") }
        do {
            _ = try LDAPSettings.fromEnvironment(base.merging(["OMBUD_LDAP_ROLES": ""]) { $1 })
            Issue.record("no role mapping was accepted")
        } catch { #expect(error.field == "OMBUD_LDAP_ROLES") }
    }
}

extension OmbudServerSuite {
    @Suite(.enabled(if: Slapd.available, "slapd is not installed")) struct DirectoryLoginTests {
        @Test func domainUsersSignInWithTheirDirectoryPasswordAndGroups() async throws {
            let slapd = try await Slapd()
            defer { slapd.stop() }
            let directory = try slapd.configuration()
            try await withOmbud(settings: { $0.directory = directory }) { ctx, _ in
                // act
                let browser = Browser(ctx.app)
                let res = try await browser.signIn("petrova", "domain-pass-1")
                // check
                #expect(res.status == .seeOther, "\(browser.html)")
                let user = try #require(try await User.query(on: ctx.app.db).filter(\.$login == "petrova").first())
                #expect(user.authSource == "ldap" && user.roles == ["reception"] && user.fullName == "Петрова Анна Сергеевна")
                let roads = try await OrgUnit.query(on: ctx.app.db).filter(\.$code == "roads").first()!.requireID()
                #expect(user.unitIDs == [roads])
                #expect(user.passwordHash.isEmpty)
                let me = try await browser.send(.GET, "/api/v1/me")
                #expect(me.body.string.contains(#""authSource":"ldap""#))
                // Signing in again works and changes nothing.
                #expect(try await Browser(ctx.app).signIn("petrova", "domain-pass-1").status == .seeOther)
                #expect(try await User.query(on: ctx.app.db).filter(\.$login == "petrova").count() == 1)
                // The password page sends a domain user to the directory.
                try await browser.send(.GET, "/account/password")
                #expect(browser.html.contains("LDAP") && !browser.html.contains(#"name="current""#))
            }
        }

        @Test func theDirectoryRefusesWhatItShould() async throws {
            let slapd = try await Slapd()
            defer { slapd.stop() }
            let directory = try slapd.configuration()
            try await withOmbud(settings: { $0.directory = directory }) { ctx, _ in
                for (login, password) in [("petrova", "wrong"), ("petrova", ""), ("sidorov", "domain-pass-2"), ("*", "domain-pass-1"),
                                          ("petrova)(uid=*", "domain-pass-1"), ("nobody", "domain-pass-1")] {
                    let browser = Browser(ctx.app)
                    #expect(try await browser.signIn(login, password).status == .unauthorized, "\(login)")
                    #expect(browser.html.contains("Неверный логин или пароль."))
                }
                let reasons = try await AuditRecord.query(on: ctx.app.db).filter(\.$action == "login.failed").sort(\.$at).all().map(\.details)
                #expect(reasons.contains("no directory group maps to a role"))
                #expect(reasons.filter { $0 == "the directory refused the login or password" }.count == 5)
                #expect(try await User.query(on: ctx.app.db).filter(\.$authSource == "ldap").count() == 0)
                // A deactivated domain account stays out even with the right password.
                #expect(try await Browser(ctx.app).signIn("petrova", "domain-pass-1").status == .seeOther)
                try await ctx.raw(.PATCH, "/api/v1/users/petrova", body: #"{"isActive":false}"#) { #expect($0.status == .ok) }
                #expect(try await Browser(ctx.app).signIn("petrova", "domain-pass-1").status == .unauthorized)
            }
        }

        @Test func aDirectoryThatIsDownOrMisconfiguredIsSaidClearlyAndLocalAccountsStillWork() async throws {
            let slapd = try await Slapd()
            let wrongService = try slapd.configuration(bindPassword: "not-the-service-password")
            let directory = try slapd.configuration()
            slapd.stop()
            try await withOmbud(settings: { $0.directory = directory }) { ctx, _ in
                _ = try await Accounts.addUser(login: "local", password: "local-pass-1", roles: ["reception"], fullName: nil,
                                               unitCodes: [], store: ctx.app.store, now: Date())
                let browser = Browser(ctx.app)
                let down = try await browser.signIn("petrova", "domain-pass-1")
                #expect(down.status == .serviceUnavailable)
                #expect(browser.html.contains("LDAP") && browser.html.contains("недоступна"))
                let failed = try await AuditRecord.query(on: ctx.app.db).filter(\.$action == "login.failed").first()
                #expect(failed?.details?.hasPrefix("directory: ") == true)
                #expect(try await Browser(ctx.app).signIn("local", "local-pass-1").status == .seeOther)
            }
            let restarted = try await Slapd()
            defer { restarted.stop() }
            var misconfigured = wrongService
            misconfigured.endpoint = try LDAPConnection.Endpoint(url: restarted.url)
            try await withOmbud(settings: { $0.directory = misconfigured }) { ctx, _ in
                #expect(try await Browser(ctx.app).signIn("petrova", "domain-pass-1").status == .serviceUnavailable)
                let failed = try await AuditRecord.query(on: ctx.app.db).filter(\.$action == "login.failed").first()
                #expect(failed?.details?.contains("service account") == true)
            }
        }
    }
}
