import Foundation

/// A text-similarity intent matcher: TF-IDF over word unigrams and bigrams, cosine similarity between the question
/// and every sample utterance; the best intent wins when its similarity reaches the threshold.
public struct IntentModel: Sendable {
    public struct Match: Sendable, Equatable {
        public var intent: String
        public var confidence: Double
    }

    struct Sample: Sendable {
        let intent: String
        let vector: [Int: Double]
        let norm: Double
    }

    let vocabulary: [String: Int]
    let idf: [Double]
    let samples: [Sample]
    public let threshold: Double

    /// - Parameter utterances: (intent, sample utterance) pairs.
    public init(utterances: [(intent: String, text: String)], threshold: Double) {
        var vocabulary: [String: Int] = [:]
        var documentFrequency: [Int] = []
        let tokenised = utterances.map { Self.features($0.text) }
        for features in tokenised {
            for feature in Set(features) {
                let index: Int
                if let known = vocabulary[feature] {
                    index = known
                } else {
                    index = vocabulary.count
                    vocabulary[feature] = index
                    documentFrequency.append(0)
                }
                documentFrequency[index] += 1
            }
        }
        let n = Double(utterances.count)
        // Smoothed IDF (as scikit-learn's default): ln((1 + n) / (1 + df)) + 1.
        let idf = documentFrequency.map { log((1 + n) / (1 + Double($0))) + 1 }
        self.vocabulary = vocabulary
        self.idf = idf
        self.threshold = threshold
        samples = zip(utterances, tokenised).map { pair, features in
            let vector = Self.weigh(features, vocabulary: vocabulary, idf: idf)
            return Sample(intent: pair.intent, vector: vector, norm: Self.norm(vector))
        }
    }

    /// Function words that say nothing about the intent ("what is the capital of Peru" must not match "what is the
    /// score"); question words that do (why, who, where) stay.
    static let stopWords: Set<String> = [
        "a", "an", "the", "is", "are", "am", "was", "were", "be", "i", "i'm", "me", "my", "you", "your", "it", "its",
        "what", "how", "can", "could", "would", "to", "of", "in", "on", "at", "for", "with", "this", "that", "there",
        "and", "or", "so", "please", "just", "some", "any", "do", "does", "did",
    ]

    /// Lower-cased words (letters, digits, apostrophes) without stop words, and the bigrams of neighbouring words.
    static func features(_ text: String) -> [String] {
        let words = text.lowercased().split { !($0.isLetter || $0.isNumber || $0 == "'") }.map(String.init).filter {
            !stopWords.contains($0)
        }
        .map(stem).filter { !$0.isEmpty && !stopWords.contains($0) }
        var features = words
        if words.count > 1 { for i in 0..<(words.count - 1) { features.append(words[i] + " " + words[i + 1]) } }
        return features
    }

    /// The same word in its common variants: `who's` → `who`, `rooms` → `room` (a trailing `s`, not `ss`, on words of
    /// four letters or more), applied to utterances and questions alike.
    static func stem(_ word: String) -> String {
        var w = word
        if let apostrophe = w.firstIndex(of: "'") { w = String(w[..<apostrophe]) }
        if w.count > 3, w.hasSuffix("s"), !w.hasSuffix("ss") { w.removeLast() }
        return w
    }

    static func weigh(_ features: [String], vocabulary: [String: Int], idf: [Double]) -> [Int: Double] {
        var counts: [Int: Double] = [:]
        for f in features { if let i = vocabulary[f] { counts[i, default: 0] += 1 } }
        for (i, c) in counts { counts[i] = c * idf[i] }
        return counts
    }

    static func norm(_ v: [Int: Double]) -> Double { v.values.reduce(0) { $0 + $1 * $1 }.squareRoot() }

    /// The closest intent and its cosine similarity; nil when nothing reaches the threshold.
    public func match(_ text: String) -> Match? {
        let best = rank(text).first
        guard let best, best.confidence >= threshold else { return nil }
        return best
    }

    /// Every intent with its best similarity, best first.
    ///
    /// Words no utterance has still count in the question's length, at the highest IDF (as a term seen in no
    /// document): "how do I cook pasta" shares only "how do I" with the navigation help, and "cook pasta" must pull
    /// the similarity down. Dropping them made such a question look exactly like "how do I use this site" (1.0).
    public func rank(_ text: String) -> [Match] {
        let features = Self.features(text)
        let query = Self.weigh(features, vocabulary: vocabulary, idf: idf)
        // Unseen words (not bigrams: a new pair of known words says little) weigh as an average word does.
        let unseenIDF = idf.isEmpty ? 1 : idf.reduce(0, +) / Double(idf.count)
        var unseen: [String: Double] = [:]
        for feature in features where vocabulary[feature] == nil && !feature.contains(" ") {
            unseen[feature, default: 0] += unseenIDF
        }
        let queryNorm = (Self.norm(query) * Self.norm(query) + unseen.values.reduce(0) { $0 + $1 * $1 }).squareRoot()
        guard queryNorm > 0 else { return [] }
        var best: [String: Double] = [:]
        for sample in samples where sample.norm > 0 {
            var dot = 0.0
            for (i, w) in query { if let s = sample.vector[i] { dot += w * s } }
            let cosine = dot / (queryNorm * sample.norm)
            if cosine > best[sample.intent, default: -1] { best[sample.intent] = cosine }
        }
        return best.map { Match(intent: $0.key, confidence: $0.value) }.sorted {
            $0.confidence > $1.confidence || ($0.confidence == $1.confidence && $0.intent < $1.intent)
        }
    }
}
