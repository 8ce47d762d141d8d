import Foundation
import PlumbAuth
import PlumbTesting
import Testing

@Suite("Tokens")
struct TokenTests {
    static let issuer = "http://127.0.0.1:9400"

    static func claims(_ now: Int64, life: Int64 = 300) -> [String: Any] {
        ["iss": issuer, "aud": "plumb", "sub": "user-1", "iat": now, "exp": now + life, "scope": "openid"]
    }

    @Test("PyJWT verifies Plumb's tokens with the JWKS, also after a rotation, and refuses an expired one")
    func pyjwt() async throws {
        let now = Int64(Date().timeIntervalSince1970)
        let ring = try KeyRing(path: nil, maxTokenLifetime: 900, now: now)
        let before = try ring.sign(Self.claims(now))
        try ring.rotate(now: now)
        let after = try ring.sign(Self.claims(now))
        let jwks = String(decoding: try JSONSerialization.data(withJSONObject: try ring.jwks(now: now)), as: UTF8.self)
        let expired = try ring.sign(Self.claims(now - 1_000, life: 300))
        let script = """
            import json, sys, jwt
            jwks = jwt.PyJWKSet.from_json(sys.argv[1])
            for token in sys.argv[2:]:
                kid = jwt.get_unverified_header(token)["kid"]
                try:
                    claims = jwt.decode(token, key=jwks[kid].key, algorithms=["ES256"], audience="plumb", issuer="\(Self.issuer)")
                    print("ok", claims["sub"])
                except Exception as e:
                    print("refused", type(e).__name__)
            """
        let run = try await CLI.runProgram("/usr/bin/env", ["python3", "-c", script, jwks, before, after, expired])
        #expect(
            run.output.split(separator: "\n") == ["ok user-1", "ok user-1", "refused ExpiredSignatureError"],
            "\(run.output)")
    }

    @Test("tampered, expired, unknown-key, wrong-algorithm, wrong-issuer and malformed tokens are refused")
    func refusals() throws {
        let now: Int64 = 1_800_000_000
        let ring = try KeyRing(path: nil, maxTokenLifetime: 900, now: now)
        let token = try ring.sign(Self.claims(now))
        #expect(try ring.verify(token, now: now, issuer: Self.issuer, audience: "plumb")["sub"] as? String == "user-1")
        func reason(_ t: String, at: Int64 = now, issuer: String = Self.issuer) -> String? {
            do {
                _ = try ring.verify(t, now: at, issuer: issuer, audience: "plumb")
                return nil
            } catch let e as TokenError { return e.reason } catch { return "\(error)" }
        }
        let parts = token.split(separator: ".").map(String.init)
        // One changed claim: the payload re-encoded with another subject.
        var payload = try JSONSerialization.jsonObject(with: Data(Base64URL.decode(parts[1])!)) as! [String: Any]
        payload["sub"] = "admin"
        let tampered =
            parts[0] + "." + Base64URL.encode(try JSONSerialization.data(withJSONObject: payload)) + "." + parts[2]
        #expect(reason(tampered) == "bad signature")
        #expect(reason(token, at: now + 301) == "expired")
        let other = try KeyRing(path: nil, maxTokenLifetime: 900, now: now)
        #expect(reason(try other.sign(Self.claims(now))) == "unknown signing key")
        let none = Base64URL.encode(Array(#"{"alg":"none","typ":"JWT"}"#.utf8)) + "." + parts[1] + "."
        #expect(reason(none) == "unsupported algorithm")
        #expect(reason(token, issuer: "https://evil") == "wrong issuer")
        #expect(reason("abc") == "malformed token" && reason(parts[0] + "." + parts[1]) == "malformed token")
    }

    @Test("the active key is replaced at the first signature after rotateAfter; its tokens keep verifying")
    func scheduledRotation() throws {
        let now: Int64 = 1_800_000_000
        let ring = try KeyRing(path: nil, maxTokenLifetime: 900, now: now, rotateAfter: 86_400)
        let first = ring.activeKID
        let early = try ring.sign(Self.claims(now), now: now + 3_600)
        #expect(ring.activeKID == first)
        let late = try ring.sign(Self.claims(now + 86_400), now: now + 86_400)
        #expect(ring.activeKID != first)
        #expect(try ring.verify(late, now: now + 86_400, issuer: Self.issuer)["sub"] as? String == "user-1")
        #expect(
            (try? ring.verify(early, now: now + 86_400, issuer: Self.issuer)) == nil,
            "expired by then, and its key retires after 900 s")
        #expect(
            (try ring.jwks(now: now + 86_400)["keys"] as? [[String: Any]])?.count == 2,
            "the old key stays published for the token lifetime")
    }

    @Test("a retired key verifies until its tokens expire, then leaves the JWKS; keys persist in a private file")
    func rotation() throws {
        let root = TemporaryDirectory("plumb-keys")
        defer { root.remove() }
        let path = root.path + "/auth/keys.json"
        let now: Int64 = 1_800_000_000
        let ring = try KeyRing(path: path, maxTokenLifetime: 900, now: now)
        let old = try ring.sign(Self.claims(now))
        let oldKid = ring.activeKID
        try ring.rotate(now: now + 60)
        #expect(ring.activeKID != oldKid)
        #expect((try ring.jwks(now: now + 60)["keys"] as? [[String: Any]])?.count == 2)
        #expect(try ring.verify(old, now: now + 200, issuer: Self.issuer)["sub"] as? String == "user-1")
        #expect(
            (try ring.jwks(now: now + 1_000)["keys"] as? [[String: Any]])?.count == 1, "retired at +60, gone after +960"
        )
        let reopened = try KeyRing(path: path, maxTokenLifetime: 900, now: now + 100)
        #expect(reopened.activeKID == ring.activeKID)
        #expect(try reopened.verify(old, now: now + 100, issuer: Self.issuer)["sub"] as? String == "user-1")
        let mode = (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o600)
    }
}
