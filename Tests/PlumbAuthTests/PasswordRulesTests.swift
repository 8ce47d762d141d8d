import PlumbAuth
import Testing

/// The password rules judge guessability, not the shape: `dictionarydictionary` passed and `Elephant12345!` was
/// refused, both weak; now both are refused and passphrases pass.
@Suite("Password rules")
struct PasswordRulesTests {
    @Test(
        "weak patterns are refused whatever their length",
        arguments: [
            "dictionarydictionary", "Elephant12345!", "elephantine!", "Password1234!", "Sunshine2026!!",
            "Football1234567",
            "qwertyqwertyqwerty", "aaaaaaaaaaaaaaaa", "Monkey-Monkey-Monkey",
        ])
    func refused(_ password: String) {
        #expect(
            PasswordRules.problem(password, email: "ana@example.com") != nil,
            "\(password): \(PasswordRules.estimatedBits(password)) bits")
    }

    @Test(
        "passphrases and random strings pass",
        arguments: [
            "Tangerine-Orbit-47-Quill", "Cobalt-Lantern-92-Fjord", "Granite-Harbour-58-Kestrel", "xK9#mQ2$vL7p",
            "violet staple 4 orchard",
            "Harbour-Quartz-58-Meadow",
        ])
    func accepted(_ password: String) {
        #expect(
            PasswordRules.problem(password, email: "ana@example.com") == nil,
            "\(password): \(PasswordRules.estimatedBits(password)) bits")
    }

    @Test("the estimate follows the pieces: a word, the same word again, counting digits, symbols")
    func estimate() {
        #expect(PasswordRules.estimatedBits("elephant") == 17)
        #expect(PasswordRules.estimatedBits("elephantelephant") == 18)
        #expect(PasswordRules.estimatedBits("Elephant12345!") == 30)
        #expect(PasswordRules.estimatedBits("12345") == 7 && PasswordRules.estimatedBits("90210") > 16)
        #expect(PasswordRules.problem("Elephant12345!", email: "x@example.com")?.contains("30 bits") == true)
    }
}
