/// One text's tokens and the per-token valence rules of VADER.
struct Sentence {
    let tokens: [String]
    let lowered: [String]
    let lexicon: [String: Double]
    /// True when some, but not all, tokens are in ALL CAPS: only then does capitalisation add emphasis.
    let capsDiffer: Bool

    init(tokens: [String], lexicon: [String: Double]) {
        self.tokens = tokens
        self.lowered = tokens.map { $0.lowercased() }
        self.lexicon = lexicon
        let caps = tokens.filter(Self.isAllCaps).count
        capsDiffer = caps > 0 && caps < tokens.count
    }

    typealias V = VaderVocabulary

    /// Python's `str.isupper`: at least one cased letter, and no lowercase or titlecase letter.
    static func isAllCaps(_ word: String) -> Bool {
        var sawUpper = false
        for scalar in word.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .uppercaseLetter: sawUpper = true
            case .lowercaseLetter, .titlecaseLetter: return false
            default: if scalar.properties.isLowercase { return false }
            }
        }
        return sawUpper
    }

    func word(_ i: Int) -> String { lowered[i] }

    func inLexicon(_ i: Int) -> Bool { lexicon[lowered[i]] != nil }

    static func isNegation(_ lowered: String) -> Bool {
        V.negations.contains(lowered) || lowered.contains("n't")
    }

    /// The valence of token `i` after every rule that looks at its neighbours.
    func valence(at i: Int) -> Double {
        let w = lowered[i]
        // Boosters and "kind of" modify their neighbour; they carry no sentiment themselves.
        if V.boosters[w] != nil { return 0 }
        if w == "kind" && i + 1 < lowered.count && lowered[i + 1] == "of" { return 0 }
        guard let base = lexicon[w] else { return 0 }
        var valence = base
        // "no" directly before a sentiment word negates it rather than scoring on its own.
        if w == "no" && i != lowered.count - 1 && inLexicon(i + 1) { valence = 0 }
        if (i > 0 && word(i - 1) == "no") || (i > 1 && word(i - 2) == "no")
            || (i > 2 && word(i - 3) == "no" && (word(i - 1) == "or" || word(i - 1) == "nor"))
        {
            valence = base * V.negationScalar
        }
        if capsDiffer && Self.isAllCaps(tokens[i]) {
            valence += valence > 0 ? V.capsIncrement : -V.capsIncrement
        }
        // Up to three preceding non-lexicon words can boost, dampen or negate; farther ones count less.
        for distance in 0..<3 where i > distance && !inLexicon(i - distance - 1) {
            var scalar = boost(at: i - distance - 1, valence: valence)
            if distance == 1 { scalar *= 0.95 }
            if distance == 2 { scalar *= 0.9 }
            valence += scalar
            valence = negation(valence, distance: distance, at: i)
            if distance == 2 { valence = specialCases(valence, at: i) }
        }
        return least(valence, at: i)
    }

    /// The increment the booster or dampener word at `j` gives a valence of this sign (more when it is in CAPS).
    func boost(at j: Int, valence: Double) -> Double {
        guard var scalar = V.boosters[lowered[j]] else { return 0 }
        if valence < 0 { scalar = -scalar }
        if capsDiffer && Self.isAllCaps(tokens[j]) {
            scalar += valence > 0 ? V.capsIncrement : -V.capsIncrement
        }
        return scalar
    }

    func negation(_ valence: Double, distance: Int, at i: Int) -> Double {
        switch distance {
        case 0:
            return Self.isNegation(word(i - 1)) ? valence * V.negationScalar : valence
        case 1:
            if word(i - 2) == "never" && (word(i - 1) == "so" || word(i - 1) == "this") { return valence * 1.25 }
            if word(i - 2) == "without" && word(i - 1) == "doubt" { return valence }
            return Self.isNegation(word(i - 2)) ? valence * V.negationScalar : valence
        default:
            // As VADER evaluates it: "never so/this …" or a directly preceding "so"/"this" intensify.
            if (word(i - 3) == "never" && (word(i - 2) == "so" || word(i - 2) == "this"))
                || word(i - 1) == "so" || word(i - 1) == "this"
            {
                return valence * 1.25
            }
            if word(i - 3) == "without" && (word(i - 2) == "doubt" || word(i - 1) == "doubt") { return valence }
            return Self.isNegation(word(i - 3)) ? valence * V.negationScalar : valence
        }
    }

    /// Phrases whose valence replaces the word's ("the bomb", "kiss of death"), and two-word dampeners.
    func specialCases(_ valence: Double, at i: Int) -> Double {
        var valence = valence
        let oneZero = "\(word(i - 1)) \(word(i))"
        let twoOneZero = "\(word(i - 2)) \(word(i - 1)) \(word(i))"
        let twoOne = "\(word(i - 2)) \(word(i - 1))"
        let threeTwoOne = "\(word(i - 3)) \(word(i - 2)) \(word(i - 1))"
        let threeTwo = "\(word(i - 3)) \(word(i - 2))"
        for phrase in [oneZero, twoOneZero, twoOne, threeTwoOne, threeTwo] {
            if let special = V.specialCases[phrase] {
                valence = special
                break
            }
        }
        if lowered.count - 1 > i, let special = V.specialCases["\(word(i)) \(word(i + 1))"] {
            valence = special
        }
        if lowered.count - 1 > i + 1, let special = V.specialCases["\(word(i)) \(word(i + 1)) \(word(i + 2))"] {
            valence = special
        }
        for phrase in [threeTwoOne, threeTwo, twoOne] {
            if let increment = V.boosters[phrase] { valence += increment }
        }
        return valence
    }

    /// "least" before a word negates it, except in "at least" and "very least".
    func least(_ valence: Double, at i: Int) -> Double {
        if i > 1 && !inLexicon(i - 1) && word(i - 1) == "least" {
            if word(i - 2) != "at" && word(i - 2) != "very" { return valence * V.negationScalar }
        } else if i > 0 && !inLexicon(i - 1) && word(i - 1) == "least" {
            return valence * V.negationScalar
        }
        return valence
    }
}
