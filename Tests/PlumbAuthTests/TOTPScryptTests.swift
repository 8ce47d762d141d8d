import Foundation
import PlumbAuth
import PlumbTesting
import Testing

@Suite("TOTP")
struct TOTPTests {
    /// RFC 6238 appendix B, SHA-1, 8 digits, secret "12345678901234567890".
    @Test(
        "RFC 6238 test vectors",
        arguments: [
            (Int64(59), "94287082"), (1_111_111_109, "07081804"), (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"), (20_000_000_000, "65353130"),
        ])
    func rfcVectors(_ c: (Int64, String)) {
        let totp = TOTP(secret: Array("12345678901234567890".utf8), digits: 8)
        #expect(totp.code(at: c.0) == c.1)
    }

    @Test("±1 step is accepted, 2 steps are not; a used code (or an older one) is a replay")
    func window() {
        let totp = TOTP.generate()
        let t: Int64 = 1_800_000_000
        let code = totp.code(at: t)
        #expect(totp.verify(code, at: t) == totp.step(at: t))
        #expect(totp.verify(code, at: t + 30) != nil && totp.verify(code, at: t - 30) != nil)
        #expect(totp.verify(code, at: t + 60) == nil && totp.verify(code, at: t - 60) == nil)
        #expect(totp.verify(code, at: t, lastUsed: totp.step(at: t)) == nil, "replay")
        #expect(
            totp.verify(totp.code(at: t - 30), at: t, lastUsed: totp.step(at: t)) == nil, "older than the last used")
        #expect(totp.verify("12345", at: t) == nil && totp.verify("abcdef", at: t) == nil)
        #expect(Base32.decode(Base32.encode(totp.secret)) == totp.secret)
        #expect(
            totp.uri(issuer: "Plumb", account: "ana@example.com").hasPrefix(
                "otpauth://totp/Plumb:ana@example.com?secret=\(Base32.encode(totp.secret))&issuer=Plumb"))
    }

    static func python(_ script: String) async throws -> String {
        let run = try await CLI.runProgram("/usr/bin/env", ["python3", "-c", script])
        guard run.status == 0 else { throw TestFailure("python: \(run.output)") }
        return run.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("interop with pyotp: its codes are accepted, and it accepts Plumb's, for the same secret and URI")
    func pyotp() async throws {
        let totp = TOTP.generate()
        let secret = Base32.encode(totp.secret)
        let now = Int64(Date().timeIntervalSince1970)
        for t in [now, now - 3_600, 1_700_000_000] {
            let theirs = try await Self.python("import pyotp; print(pyotp.TOTP('\(secret)').at(\(t)))")
            #expect(totp.verify(theirs, at: t) != nil, "pyotp's \(theirs) at \(t)")
            let ours = totp.code(at: t)
            #expect(
                try await Self.python("import pyotp; print(pyotp.TOTP('\(secret)').verify('\(ours)', for_time=\(t)))")
                    == "True", "ours \(ours) at \(t)")
        }
        let uri = totp.uri(issuer: "Plumb", account: "ana@example.com")
        let parsed = try await Self.python(
            "import pyotp; t = pyotp.parse_uri('\(uri)'); print(t.secret, t.digits, t.interval, t.issuer, t.name)")
        #expect(parsed == "\(secret) 6 30 Plumb ana@example.com", "\(parsed)")
    }
}

@Suite("Scrypt")
struct ScryptTests {
    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    @Test("RFC 7914 test vectors")
    func rfcVectors() throws {
        #expect(
            Self.hex(try Scrypt.derive(password: [], salt: [], parameters: .init(n: 16, r: 1, p: 1), length: 64))
                == "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906"
        )
        #expect(
            Self.hex(
                try Scrypt.derive(
                    password: Array("password".utf8), salt: Array("NaCl".utf8),
                    parameters: .init(n: 1_024, r: 8, p: 16), length: 64))
                == "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640"
        )
    }

    @Test("agrees with Python's hashlib.scrypt (OpenSSL) on random inputs; bad parameters are refused")
    func hashlib() async throws {
        for (n, r, p) in [(2, 1, 1), (256, 4, 2), (4_096, 8, 1)] {
            var g = SystemRandomNumberGenerator()
            let password = (0..<Int.random(in: 0...40, using: &g)).map { _ in UInt8.random(in: 0...255, using: &g) }
            let salt = (0..<16).map { _ in UInt8.random(in: 0...255, using: &g) }
            let ours = try Scrypt.derive(
                password: password, salt: salt, parameters: .init(n: n, r: r, p: p), length: 48)
            let theirs = try await TOTPTests.python(
                "import hashlib; print(hashlib.scrypt(bytes.fromhex('\(Self.hex(password))'), salt=bytes.fromhex('\(Self.hex(salt))'), n=\(n), r=\(r), p=\(p), dklen=48, maxmem=2**28).hex())"
            )
            #expect(Self.hex(ours) == theirs, "N=\(n) r=\(r) p=\(p)")
        }
        #expect(throws: Scrypt.Invalid.self) {
            try Scrypt.derive(password: [], salt: [], parameters: .init(n: 1_000, r: 8, p: 1))
        }
        #expect(throws: Scrypt.Invalid.self) {
            try Scrypt.derive(password: [], salt: [], parameters: .init(n: 1_024, r: 0, p: 1))
        }
    }
}
