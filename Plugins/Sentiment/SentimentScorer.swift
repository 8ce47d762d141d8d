import Foundation

/// VADER sentiment scores of one text: proportions of positive, neutral and negative intensity, and the
/// normalised compound score in [−1, 1].
public struct SentimentScores: Sendable, Codable, Equatable {
    public var pos: Double
    public var neu: Double
    public var neg: Double
    public var compound: Double

    public init(pos: Double, neu: Double, neg: Double, compound: Double) {
        self.pos = pos
        self.neu = neu
        self.neg = neg
        self.compound = compound
    }

    /// Positive when compound ≥ 0.05, Negative when ≤ −0.05, else Neutral (VADER's recommended thresholds).
    public var label: String {
        compound >= 0.05 ? "Positive" : compound <= -0.05 ? "Negative" : "Neutral"
    }
}

/// A VADER-compatible scorer: lexicon valences adjusted by VADER's rules — negation (up to three words back,
/// "no", "least"), booster and dampener words, ALL-CAPS emphasis, special-case phrases, the contrastive "but",
/// `!`/`?` emphasis — with emoji read as their text descriptions.
public struct SentimentScorer: Sendable {
    public let lexicon: VaderLexicon

    public init(lexicon: VaderLexicon) {
        self.lexicon = lexicon
    }

    public func score(_ text: String) -> SentimentScores {
        let prepared = replacingEmoji(text)
        let tokens = Self.tokens(prepared)
        guard !tokens.isEmpty else { return SentimentScores(pos: 0, neu: 0, neg: 0, compound: 0) }
        let sentence = Sentence(tokens: tokens, lexicon: lexicon.valences)
        var valences = (0..<tokens.count).map { sentence.valence(at: $0) }
        Self.applyContrast(&valences, lowered: sentence.lowered)
        return Self.combine(valences, punctuation: Self.punctuationEmphasis(prepared))
    }

    /// Replaces each emoji with its description, separated from a preceding non-space character by a space.
    func replacingEmoji(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var previousWasSpace = true
        for scalar in text.unicodeScalars {
            if let description = lexicon.emojis[scalar] {
                if !previousWasSpace { out.append(" ") }
                out.append(contentsOf: description.unicodeScalars)
                previousWasSpace = false
            } else {
                out.append(scalar)
                previousWasSpace = scalar == " "
            }
        }
        return String(out)
    }

    static func isSpace(_ s: Unicode.Scalar) -> Bool {
        s.properties.isWhitespace || (0x1C...0x1F).contains(s.value)
    }

    static func isASCIIPunctuation(_ s: Unicode.Scalar) -> Bool {
        (0x21...0x2F).contains(s.value) || (0x3A...0x40).contains(s.value) || (0x5B...0x60).contains(s.value)
            || (0x7B...0x7E).contains(s.value)
    }

    /// Whitespace-separated tokens with leading and trailing ASCII punctuation removed, unless that would leave
    /// two characters or fewer (then the token is probably an emoticon such as `:)` and is kept whole).
    static func tokens(_ text: String) -> [String] {
        var tokens: [String] = []
        var current: [Unicode.Scalar] = []
        func finish() {
            guard !current.isEmpty else { return }
            var start = 0
            var end = current.count
            while start < end && isASCIIPunctuation(current[start]) { start += 1 }
            while end > start && isASCIIPunctuation(current[end - 1]) { end -= 1 }
            let kept = end - start <= 2 ? current[...] : current[start..<end]
            var view = String.UnicodeScalarView()
            view.append(contentsOf: kept)
            tokens.append(String(view))
            current.removeAll(keepingCapacity: true)
        }
        for scalar in text.unicodeScalars {
            if isSpace(scalar) { finish() } else { current.append(scalar) }
        }
        finish()
        return tokens
    }

    /// `!` adds 0.292 each (up to 4); `?` adds 0.18 each when there are 2 or 3, 0.96 when more.
    static func punctuationEmphasis(_ text: String) -> Double {
        var exclamations = 0
        var questions = 0
        for scalar in text.unicodeScalars {
            if scalar == "!" { exclamations += 1 } else if scalar == "?" { questions += 1 }
        }
        let exclamation = Double(min(exclamations, 4)) * 0.292
        let question = questions > 3 ? 0.96 : questions > 1 ? Double(questions) * 0.18 : 0
        return exclamation + question
    }

    /// The contrastive "but": sentiment before the first "but" counts half, after it one and a half times.
    /// Each position is updated through the first position holding its current value, as VADER does.
    static func applyContrast(_ valences: inout [Double], lowered: [String]) {
        guard let butIndex = lowered.firstIndex(of: "but") else { return }
        for position in valences.indices {
            let value = valences[position]
            let target = valences.firstIndex(of: value)!
            if target < butIndex {
                valences[target] = value * 0.5
            } else if target > butIndex {
                valences[target] = value * 1.5
            }
        }
    }

    static func combine(_ valences: [Double], punctuation: Double) -> SentimentScores {
        var total = valences.reduce(0, +)
        if total > 0 { total += punctuation } else if total < 0 { total -= punctuation }
        let compound = max(-1, min(1, total / (total * total + VaderVocabulary.normalizationAlpha).squareRoot()))
        var positive = 0.0
        var negative = 0.0
        var neutral = 0.0
        for v in valences {
            if v > 0 { positive += v + 1 }
            if v < 0 { negative += v - 1 }
            if v == 0 { neutral += 1 }
        }
        if positive > abs(negative) {
            positive += punctuation
        } else if positive < abs(negative) {
            negative -= punctuation
        }
        let sum = positive + abs(negative) + neutral
        func round(_ x: Double, _ places: Double) -> Double { (x * places).rounded() / places }
        return SentimentScores(
            pos: round(abs(positive / sum), 1_000), neu: round(abs(neutral / sum), 1_000),
            neg: round(abs(negative / sum), 1_000), compound: round(compound, 10_000))
    }
}
