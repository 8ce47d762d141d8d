import Foundation

/// A private CA made with the `openssl` command line, and server certificates it signs for localhost and 127.0.0.1:
/// what a client trusts with `--cacert ca.pem` (curl) or `cafile=` (Python).
public struct TestCertificateAuthority: Sendable {
    public let directory: String
    public var caFile: String { directory + "/ca.pem" }

    /// A certificate and its key, as certbot lays them out (`fullchain.pem`, `privkey.pem`).
    public struct Issued: Sendable {
        public let certFile: String
        public let keyFile: String
        /// SHA-256 of the certificate (DER), lowercase hex, from `openssl x509 -fingerprint -sha256`.
        public let fingerprint: String

        public init(certFile: String, keyFile: String, fingerprint: String) {
            self.certFile = certFile
            self.keyFile = keyFile
            self.fingerprint = fingerprint
        }
    }

    public init(directory: String) async throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try await Self.openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-subj", "/CN=Plumb Test CA", "-keyout", directory + "/ca.key", "-out", directory + "/ca.pem",
        ])
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\n".write(
            toFile: directory + "/san.cnf", atomically: true, encoding: .utf8)
    }

    /// Issues a server certificate named `name` (files `<name>/fullchain.pem` and `<name>/privkey.pem`).
    public func issue(_ name: String) async throws -> Issued {
        let folder = directory + "/" + name
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try await Self.openssl([
            "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=localhost",
            "-keyout", folder + "/privkey.pem", "-out", folder + "/request.csr",
        ])
        try await Self.openssl([
            "x509", "-req", "-in", folder + "/request.csr", "-CA", caFile, "-CAkey", directory + "/ca.key",
            "-CAcreateserial",
            "-days", "2", "-extfile", directory + "/san.cnf", "-out", folder + "/fullchain.pem",
        ])
        let printed = try await Self.openssl([
            "x509", "-in", folder + "/fullchain.pem", "-noout", "-fingerprint", "-sha256",
        ])
        let hex =
            printed.split(separator: "=").last.map { $0.replacingOccurrences(of: ":", with: "").lowercased() } ?? ""
        return Issued(
            certFile: folder + "/fullchain.pem", keyFile: folder + "/privkey.pem",
            fingerprint: hex.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @discardableResult
    static func openssl(_ arguments: [String]) async throws -> String {
        let outcome = try await CLI.runProgram("/usr/bin/env", ["openssl"] + arguments)
        guard outcome.status == 0 else {
            throw TestFailure("openssl \(arguments.prefix(2).joined(separator: " ")) failed: \(outcome.output)")
        }
        return outcome.output
    }
}
