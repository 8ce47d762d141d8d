import Foundation
import Synchronization

/// A stored password (or answer): `scrypt$N$r$p$salt$hash` (base64url), so parameters can be raised later and old
/// hashes still verify.
public enum PasswordHash {
    public static func make(_ secret: String, parameters: Scrypt.Parameters) throws -> String {
        var g = SystemRandomNumberGenerator()
        let salt = (0..<16).map { _ in UInt8.random(in: 0...255, using: &g) }
        let derived = try Scrypt.derive(password: Array(secret.utf8), salt: salt, parameters: parameters)
        return
            "scrypt$\(parameters.n)$\(parameters.r)$\(parameters.p)$\(Base64URL.encode(salt))$\(Base64URL.encode(derived))"
    }

    /// Whether `secret` matches; the comparison is constant-time.
    public static func verify(_ secret: String, against stored: String) -> Bool {
        let parts = stored.split(separator: "$").map(String.init)
        guard parts.count == 6, parts[0] == "scrypt", let n = Int(parts[1]), let r = Int(parts[2]),
            let p = Int(parts[3]),
            let salt = Base64URL.decode(parts[4]), let expected = Base64URL.decode(parts[5]),
            let derived = try? Scrypt.derive(
                password: Array(secret.utf8), salt: salt, parameters: .init(n: n, r: r, p: p), length: expected.count)
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

/// Password rules: 12 to 256 characters, not the email, not a common password, and hard enough to guess.
///
/// "Hard enough" is an estimate of the guesses an attacker who knows the usual tricks needs, in bits (the idea of
/// zxcvbn, kept small): a dictionary word costs about 17 bits (100,000 words), the same word again 1 bit, a capital
/// first letter 1 bit, a digit run that counts up, down or repeats about 7 bits, other digits 3.3 bits each, a
/// symbol 5 bits (the same again 1), a letter outside any word 4.7 bits. At least 36 bits are needed: about 7 · 10¹⁰
/// guesses, far beyond what the per-source throttle lets an online attacker try. So `Elephant12345!` (a word, a
/// count and a symbol: 30 bits) and `dictionarydictionary` (a word twice: 18) are refused alike, while
/// `Tangerine-Orbit-47-Quill` (three words, two digits, three symbols: 75) passes.
public enum PasswordRules {
    static let common: Set<String> = [
        "password", "passw0rd", "qwerty", "letmein", "welcome", "admin", "iloveyou", "monkey", "dragon", "football",
        "baseball",
        "sunshine", "princess", "trustno1", "superman", "starwars", "whatever", "shadow", "master", "michael", "abc123",
        "123456",
        "1234567890", "qwertyuiop", "correcthorsebatterystaple",
    ]

    /// Bits of guessing a password needs at least.
    public static let minimumBits = 36.0

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
        if lower == email || lower == String(email.split(separator: "@").first ?? "") {
            return "the password must not be the email address"
        }
        let core = String(lower.drop { !$0.isLetter }.reversed().drop { !$0.isLetter }.reversed())
        if common.contains(lower) || common.contains(core) {
            return "the password is a common password (a dictionary of leaked ones has it)"
        }
        if Set(lower).count <= 3 { return "the password repeats too few characters" }
        let bits = estimatedBits(password)
        guard bits >= minimumBits else {
            return String(
                format:
                    "the password is easy to guess: dictionary words, repeats and counting digits make it about %.0f bits; at least %.0f are needed (add words or characters that are not a pattern)",
                bits, minimumBits)
        }
        return nil
    }

    /// The estimated bits of guessing (see the type's comment).
    public static func estimatedBits(_ password: String) -> Double {
        let characters = Array(password)
        var bits = 0.0
        var i = 0
        var previousSymbol: Character?
        var previousWord: String?
        while i < characters.count {
            let c = characters[i]
            if c.isLetter {
                var j = i
                while j < characters.count, characters[j].isLetter { j += 1 }
                let (runBits, lastWord) = letterBits(Array(characters[i..<j]), after: previousWord)
                bits += runBits
                previousWord = lastWord
                i = j
            } else if c.isNumber {
                var j = i
                while j < characters.count, characters[j].isNumber { j += 1 }
                bits += digitBits(characters[i..<j].compactMap(\.wholeNumberValue))
                i = j
            } else {
                bits += c == previousSymbol ? 1 : 5
                previousSymbol = c
                i += 1
            }
        }
        return bits
    }

    /// A run of letters, split into dictionary words and loose letters the cheapest way (dynamic programming); a word
    /// repeating the one before (in this run or the previous one, `Monkey-Monkey`) costs 1 bit. Returns the bits and
    /// the run's last word.
    static func letterBits(_ run: [Character], after previous: String?) -> (Double, String?) {
        let lower = run.map { Character($0.lowercased()) }
        let n = lower.count
        // cost[k]: the cheapest reading of the first k letters, with the word it ended in (for repeats).
        var cost = [Double](repeating: .infinity, count: n + 1)
        var lastWord = [String?](repeating: nil, count: n + 1)
        cost[0] = 0
        lastWord[0] = previous
        for end in 1...n {
            // A loose letter.
            if cost[end - 1] + 4.7 < cost[end] {
                cost[end] = cost[end - 1] + 4.7
                lastWord[end] = nil
            }
            // A dictionary word ending here (4 letters or more), or the previous word again.
            for start in stride(from: end - 4, through: 0, by: -1) where cost[start].isFinite {
                let word = String(lower[start..<end])
                let price: Double
                if word == lastWord[start] {
                    price = 1
                } else if dictionary.contains(word) {
                    price = 17
                } else {
                    continue
                }
                if cost[start] + price < cost[end] {
                    cost[end] = cost[start] + price
                    lastWord[end] = word
                }
            }
        }
        let capitals = run.filter(\.isUppercase).count
        let capitalBits: Double = capitals == 0 ? 0 : (capitals == 1 && run[0].isUppercase ? 1 : Double(capitals))
        return (cost[n] + capitalBits, lastWord[n])
    }

    /// A run of digits: counting up or down, or one digit repeated, is a pattern (about 7 bits); otherwise 3.3 bits a
    /// digit.
    static func digitBits(_ digits: [Int]) -> Double {
        guard digits.count > 2 else { return Double(digits.count) * 3.32 }
        let steps = Set(zip(digits, digits.dropFirst()).map { $1 - $0 })
        if steps.count == 1, let step = steps.first, abs(step) <= 1 { return 7 }
        return Double(digits.count) * 3.32
    }
}
