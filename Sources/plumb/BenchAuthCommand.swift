import ArgumentParser
import Foundation
import PlumbAuth

/// `plumb bench-auth`: what one core does per second for sign-in (scrypt at the given parameters) and for token
/// verification (ES256), in process.
struct BenchAuthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-auth",
        abstract: "Measure scrypt password checks and ES256 token verifications per second on one core.")

    @Option(help: "scrypt N (a power of two).") var n = Scrypt.Parameters.default.n
    @Option(help: "scrypt r.") var r = Scrypt.Parameters.default.r
    @Option(help: "Seconds per measurement.") var seconds = 3.0

    func run() async throws {
        let parameters = Scrypt.Parameters(n: n, r: r, p: 1)
        guard parameters.valid else { throw ValidationError("N must be a power of two") }
        let salt = Array("0123456789abcdef".utf8)
        var count = 0
        var start = Date()
        while Date().timeIntervalSince(start) < seconds {
            _ = try Scrypt.derive(password: Array("Tangerine-Orbit-47-Quill".utf8), salt: salt, parameters: parameters)
            count += 1
        }
        let hashRate = Double(count) / Date().timeIntervalSince(start)
        print(
            String(
                format: "scrypt N=%d r=%d p=1 (%d MiB): %.1f password checks/s on one core (%.1f ms each)", n, r,
                128 * r * n / 1_048_576, hashRate, 1_000 / hashRate))
        let now = Int64(Date().timeIntervalSince1970)
        let ring = try KeyRing(path: nil, maxTokenLifetime: 900, now: now)
        let token = try ring.sign(["iss": "bench", "aud": "plumb", "sub": "u", "iat": now, "exp": now + 900])
        count = 0
        start = Date()
        while Date().timeIntervalSince(start) < seconds {
            _ = try ring.verify(token, now: now, issuer: "bench", audience: "plumb")
            count += 1
        }
        let verifyRate = Double(count) / Date().timeIntervalSince(start)
        count = 0
        start = Date()
        while Date().timeIntervalSince(start) < seconds {
            _ = try ring.sign(["iss": "bench", "aud": "plumb", "sub": "u", "iat": now, "exp": now + 900])
            count += 1
        }
        let signRate = Double(count) / Date().timeIntervalSince(start)
        print(
            String(format: "ES256: %.0f token verifications/s, %.0f tokens signed/s on one core", verifyRate, signRate))
    }
}
