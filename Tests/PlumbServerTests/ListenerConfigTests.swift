import Foundation
import PlumbServer
import PlumbTesting
import Testing

/// The `http:` and `tls:` config sections: the example config documents the defaults the code has, and a bad
/// value is an error naming its key.
@Suite struct ListenerConfigTests {
    /// The commented-out `name:` section of deploy/plumb.yaml, uncommented.
    static func documentedSection(_ name: String) throws -> String {
        let lines = try String(contentsOfFile: Checkout.root + "/deploy/plumb.yaml", encoding: .utf8).components(
            separatedBy: "\n")
        let start = try #require(
            lines.firstIndex(of: "# \(name):"), "deploy/plumb.yaml documents no `\(name):` section")
        let section = lines[start...].prefix { $0.hasPrefix("#") }
        return section.map { String($0.dropFirst(2)) }.joined(separator: "\n") + "\n"
    }

    static func load(_ yaml: String) throws -> ServerConfig {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try yaml.write(toFile: dir.path + "/plumb.yaml", atomically: true, encoding: .utf8)
        return try ServerConfig.load(path: dir.path + "/plumb.yaml")
    }

    @Test func exampleConfigDocumentsTheDefaults() throws {
        let http = try Self.load(Self.documentedSection("http")).http
        #expect(http == ServerConfig.HTTPSettings())
        let tls = try #require(try Self.load(Self.documentedSection("tls")).tls)
        #expect(
            tls
                == ServerConfig.TLSSettings(
                    certFile: "/etc/plumb/tls/fullchain.pem", keyFile: "/etc/plumb/tls/privkey.pem"))
        #expect(ServerConfig().tls == nil)
    }

    @Test(arguments: [
        ("http:\n  header_timeout: 0\n", "http.header_timeout"),
        ("http:\n  idle_timeout: -1\n", "http.idle_timeout"),
        ("http:\n  max_head_bytes: 100\n", "http.max_head_bytes"),
        ("http:\n  max_connections_per_address: -1\n", "http.max_connections_per_address"),
        ("http:\n  per_address_exempt: [\"10.0.0.0/33\"]\n", "http.per_address_exempt: '10.0.0.0/33'"),
        ("tls:\n  key_file: /k.pem\n", "tls.cert_file is required"),
    ])
    func badValuesNameTheirKey(yaml: String, key: String) {
        #expect(throws: ConfigError.self) { try Self.load(yaml) }
        do {
            _ = try Self.load(yaml)
        } catch {
            #expect("\(error)".contains(key), "\(error)")
        }
    }

    @Test func publicURLFollowsTLS() throws {
        let plain = try Self.load("listen: \"0.0.0.0:8443\"\n")
        #expect(plain.resolvedPublicURL == "http://127.0.0.1:8443")
        let secure = try Self.load("listen: \"0.0.0.0:8443\"\ntls:\n  cert_file: /c.pem\n  key_file: /k.pem\n")
        #expect(secure.resolvedPublicURL == "https://127.0.0.1:8443")
    }

    @Test func logSealingSettingsHaveTheirDocumentedDefaultsAndTheOldName() throws {
        let documented = try Self.load(Self.documentedSection("logs")).logs
        #expect(documented.sealAfter == ServerConfig.LogSettings().sealAfter && documented.sealAfter == 300)
        #expect(documented.maintenanceInterval == ServerConfig.LogSettings().maintenanceInterval)
        // A config written for the segment archive keeps working: archive_after is the same setting's old name.
        #expect(try Self.load("logs:\n  archive_after: 900\n").logs.sealAfter == 900)
        #expect(try Self.load("logs:\n  seal_after: 60\n  archive_after: 900\n").logs.sealAfter == 60)
        #expect(throws: ConfigError.self) { try Self.load("logs:\n  seal_after: 0\n") }
    }
}
