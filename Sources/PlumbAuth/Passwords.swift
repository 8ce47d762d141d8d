import Foundation
import Synchronization

/// A stored password (or answer): `scrypt$N$r$p$salt$hash` (base64url), so parameters can be raised later and old
/// hashes still verify.
public enum PasswordHash {
    public static func make(_ secret: String, parameters: Scrypt.Parameters) throws -> String {
        var g = SystemRandomNumberGenerator()
        let salt = (0..<16).map { _ in UInt8.random(in: 0...255, using: &g) }
        let derived = try Scrypt.derive(password: Array(secret.utf8), salt: salt, parameters: parameters)
        return "scrypt$\(parameters.n)$\(parameters.r)$\(parameters.p)$\(Base64URL.encode(salt))$\(Base64URL.encode(derived))"
    }

    /// Whether `secret` matches; the comparison is constant-time.
    public static func verify(_ secret: String, against stored: String) -> Bool {
        let parts = stored.split(separator: "$").map(String.init)
        guard parts.count == 6, parts[0] == "scrypt", let n = Int(parts[1]), let r = Int(parts[2]), let p = Int(parts[3]),
            let salt = Base64URL.decode(parts[4]), let expected = Base64URL.decode(parts[5]),
            let derived = try? Scrypt.derive(password: Array(secret.utf8), salt: salt, parameters: .init(n: n, r: r, p: p), length: expected.count)
        else { return false }
        return ConstantTime.equal(derived, expected)
    }

    /// A hash of a random secret with `parameters`, made once per parameter set: what an unknown name is checked
    /// against, so that the answer takes as long as for a real one.
    public static func decoy(parameters: Scrypt.Parameters) -> String {
        decoys.withLock { d in
            if let h = d[parameters] { return h }
            let h = (try? make("decoy-\(UUID().uuidString)", parameters: parameters)) ?? ""
            d[parameters] = h
            return h
        }
    }
    static let decoys = Mutex<[Scrypt.Parameters: String]>([:])
}

/// Password rules: at least 12 characters, not the email, and not a dictionary word or a common password (also
/// with digits or symbols around it).
public enum PasswordRules {
    static let common: Set<String> = [
        "password", "passw0rd", "qwerty", "letmein", "welcome", "admin", "iloveyou", "monkey", "dragon", "football", "baseball",
        "sunshine", "princess", "trustno1", "superman", "starwars", "whatever", "shadow", "master", "michael", "abc123", "123456",
        "1234567890", "qwertyuiop", "correcthorsebatterystaple",
    ]

    /// The words of the system dictionary (`/usr/share/dict/words`, Debian's wamerican), lowercased.
    public static let dictionary: Set<String> = {
        guard let text = try? String(contentsOfFile: "/usr/share/dict/words", encoding: .utf8) else { return [] }
        return Set(text.split(separator: "\n").map { $0.lowercased() }.filter { $0.count >= 4 })
    }()

    /// What is wrong with `password` for the account `email` (or user name), nil when it is acceptable.
    public static func problem(_ password: String, email: String) -> String? {
        guard password.count >= 12 else { return "the password must have at least 12 characters" }
        guard password.count <= 256 else { return "the password must have at most 256 characters" }
        let lower = password.lowercased()
        if lower == email || lower == String(email.split(separator: "@").first ?? "") { return "the password must not be the email address" }
        let core = String(lower.drop { !$0.isLetter }.reversed().drop { !$0.isLetter }.reversed())
        for candidate in [lower, core] where common.contains(candidate) || dictionary.contains(candidate) {
            return "the password is a dictionary word or a common password"
        }
        if Set(lower).count <= 3 { return "the password repeats too few characters" }
        return nil
    }
}
