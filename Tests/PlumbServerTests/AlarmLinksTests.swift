import Crypto
import Foundation
import PlumbTesting
import Testing

@testable import PlumbServer

/// The signed links of alarm mails: what is signed, what a change to any part does, how malformed parts are named,
/// and the key file.
@Suite("Alarm links")
struct AlarmLinksTests {
    static let links = AlarmLinks(
        key: SymmetricKey(data: Data(repeating: 7, count: 32)), publicURL: "https://plumb.example/", expiry: 604_800)

    @Test("a link is absolute, escapes the name, expires after the configured time and verifies only as made")
    func signAndVerify() throws {
        let (url, expires) = Self.links.link(for: "p99 latency/api?x#y", now: 1_800_000_000)
        #expect(expires == 1_800_604_800)
        let sig = Self.links.signature(name: "p99 latency/api?x#y", expires: expires)
        #expect(url == "https://plumb.example/alarms/p99%20latency%2Fapi%3Fx%23y?exp=1800604800&sig=\(sig)")
        #expect(
            sig.count == AlarmLinks.signatureLength && !sig.contains("=") && !sig.contains("+") && !sig.contains("/"))
        #expect(Self.links.verify(name: "p99 latency/api?x#y", expires: expires, signature: sig))
        #expect(!Self.links.verify(name: "p99 latency/api?x#z", expires: expires, signature: sig), "another name")
        #expect(!Self.links.verify(name: "p99 latency/api?x#y", expires: expires + 1, signature: sig), "another expiry")
        let other = AlarmLinks(
            key: SymmetricKey(data: Data(repeating: 8, count: 32)), publicURL: "https://plumb.example", expiry: 60)
        #expect(!other.verify(name: "p99 latency/api?x#y", expires: expires, signature: sig), "another server's key")
        for bad in [
            "", String(sig.dropLast()), sig + "A", String(sig.dropLast()) + "=",
            sig.replacingOccurrences(of: sig.prefix(1), with: "+"),
        ] {
            #expect(!Self.links.verify(name: "p99 latency/api?x#y", expires: expires, signature: bad), "\(bad)")
        }
        // The name's length is signed with it: no two name/expiry pairs share the signed text.
        #expect(AlarmLinks.signed(name: "a\n1", expires: 2) != AlarmLinks.signed(name: "a", expires: 12))
    }

    @Test("parsing names the part that is malformed, before any signature is checked")
    func parseNamesTheParameter() throws {
        let sig = Self.links.signature(name: "api", expires: 1_900_000_000)
        let good = try AlarmLinkRequest.parse(rawName: "api", query: ["exp": "1900000000", "sig": sig])
        #expect(good == AlarmLinkRequest(name: "api", expires: 1_900_000_000, signature: sig))
        #expect(
            try AlarmLinkRequest.parse(rawName: "p99%20latency", query: ["exp": "1", "sig": sig]).name == "p99 latency")
        let cases: [(String?, [String: String], String)] = [
            (nil, ["exp": "1", "sig": sig], "name"), ("a%0Db", ["exp": "1", "sig": sig], "name"),
            ("a%00b", ["exp": "1", "sig": sig], "name"),
            ("a%FF%FEb", ["exp": "1", "sig": sig], "name"),
            (String(repeating: "n", count: 256), ["exp": "1", "sig": sig], "name"),
            ("api", ["sig": sig], "exp"), ("api", ["exp": "-1", "sig": sig], "exp"),
            ("api", ["exp": "1e300", "sig": sig], "exp"),
            ("api", ["exp": "9223372036854775808", "sig": sig], "exp"), ("api", ["exp": "1.5", "sig": sig], "exp"),
            ("api", ["exp": "１２", "sig": sig], "exp"), ("api", ["exp": "1"], "sig"),
            ("api", ["exp": "1", "sig": "short"], "sig"),
            ("api", ["exp": "1", "sig": String(repeating: "é", count: 43)], "sig"),
        ]
        for (name, query, field) in cases {
            do {
                _ = try AlarmLinkRequest.parse(rawName: name, query: query)
                Issue.record("\(String(describing: name)) \(query) was accepted")
            } catch let error as APIError {
                #expect(
                    error.status == 400 && error.message.hasPrefix(field),
                    "\(String(describing: name)) \(query): \(error.message)")
                #expect(!error.message.contains("\r") && !error.message.contains("\0") && error.message.count < 300)
            }
        }
    }

    @Test("authorize: a changed signature is InvalidSignature, a past expiry LinkExpired, both 403")
    func authorize() throws {
        let sig = Self.links.signature(name: "api", expires: 1_000)
        try AlarmLinkRequest(name: "api", expires: 1_000, signature: sig).authorize(Self.links, now: 999)
        for (request, now, code) in [
            (AlarmLinkRequest(name: "api", expires: 1_000, signature: sig), Int64(1_000), "LinkExpired"),
            (AlarmLinkRequest(name: "api", expires: 1_001, signature: sig), Int64(999), "InvalidSignature"),
            (AlarmLinkRequest(name: "apj", expires: 1_000, signature: sig), Int64(999), "InvalidSignature"),
        ] {
            #expect(throws: APIError.self) { try request.authorize(Self.links, now: now) }
            do { try request.authorize(Self.links, now: now) } catch let error as APIError {
                #expect(error.status == 403 && error.code == code, "\(request): \(error.code)")
            }
        }
    }

    @Test("the key file: made once (32 bytes, mode 0600), read back the same on the next start, refused when damaged")
    func keyFile() throws {
        let dir = TemporaryDirectory("plumb-alarm-links")
        defer { dir.remove() }
        let first = try AlarmLinks.load(dataDirectory: dir.path, publicURL: "http://x", expiry: 60)
        let path = dir.path + "/" + AlarmLinks.fileName
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600 && (attributes[.size] as? Int) == 32)
        let second = try AlarmLinks.load(dataDirectory: dir.path, publicURL: "http://x", expiry: 60)
        #expect(first.signature(name: "a", expires: 5) == second.signature(name: "a", expires: 5))
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: dir.path) == [AlarmLinks.fileName],
            "no temporary file left")
        try Data(repeating: 1, count: 31).write(to: URL(fileURLWithPath: path))
        #expect(throws: ConfigError.self) {
            _ = try AlarmLinks.load(dataDirectory: dir.path, publicURL: "http://x", expiry: 60)
        }
    }

    @Test("alarm_page.link_expiry: 7 days by default, 300 s to 90 days accepted")
    func config() throws {
        #expect(ServerConfig().alarmPage.linkExpiry == 604_800)
        // deploy/plumb.yaml documents the section with the default the code has.
        let documented = try ListenerConfigTests.load(try ListenerConfigTests.documentedSection("alarm_page"))
        #expect(documented.alarmPage == ServerConfig.AlarmPageSettings())
        let dir = TemporaryDirectory("plumb-alarm-config")
        defer { dir.remove() }
        for (value, ok) in [
            ("3600", true), ("300", true), ("7776000", true), ("299", false), ("7776001", false), ("-1", false),
            ("1e300", false),
        ] {
            try "alarm_page: {link_expiry: \(value)}\n".write(
                toFile: dir.path + "/p.yaml", atomically: true, encoding: .utf8)
            let loaded = Result { try ServerConfig.load(path: dir.path + "/p.yaml") }
            switch loaded {
            case .success(let config): #expect(ok && String(config.alarmPage.linkExpiry) == value, "\(value)")
            case .failure(let error): #expect(!ok && "\(error)".contains("link_expiry"), "\(value): \(error)")
            }
        }
    }
}
