/// The fixed vocabulary of VADER's rules: negations, boosters/dampeners, special-case phrases and constants.
///
/// These lists and constants are data of the VADER model (Hutto & Gilbert, ICWSM 2014; the `vaderSentiment`
/// package, MIT licence). The lexicon itself (≈7,500 rated words and the emoji descriptions) is not part of
/// Plumb's source: the setup script installs it from the `vaderSentiment` package.
enum VaderVocabulary {
    /// Mean intensity increase of a booster word, and decrease of a dampener.
    static let boosterIncrement = 0.293
    /// Intensity added to a sentiment word in ALL CAPS when the rest of the text is not.
    static let capsIncrement = 0.733
    /// Scalar applied to a negated sentiment.
    static let negationScalar = -0.74
    /// Normalisation constant of the compound score: `s / sqrt(s² + α)`.
    static let normalizationAlpha = 15.0

    static let negations: Set<String> = [
        "aint", "arent", "cannot", "cant", "couldnt", "darent", "didnt", "doesnt",
        "ain't", "aren't", "can't", "couldn't", "daren't", "didn't", "doesn't",
        "dont", "hadnt", "hasnt", "havent", "isnt", "mightnt", "mustnt", "neither",
        "don't", "hadn't", "hasn't", "haven't", "isn't", "mightn't", "mustn't",
        "neednt", "needn't", "never", "none", "nope", "nor", "not", "nothing", "nowhere",
        "oughtnt", "shant", "shouldnt", "uhuh", "wasnt", "werent",
        "oughtn't", "shan't", "shouldn't", "uh-uh", "wasn't", "weren't",
        "without", "wont", "wouldnt", "won't", "wouldn't", "rarely", "seldom", "despite",
    ]

    static let boosterWords: [String] = [
        "absolutely", "amazingly", "awfully", "completely", "considerable", "considerably", "decidedly", "deeply",
        "effing", "enormous", "enormously", "entirely", "especially", "exceptional", "exceptionally", "extreme",
        "extremely", "fabulously", "flipping", "flippin", "frackin", "fracking", "fricking", "frickin", "frigging",
        "friggin", "fully", "fuckin", "fucking", "fuggin", "fugging", "greatly", "hella", "highly", "hugely",
        "incredible", "incredibly", "intensely", "major", "majorly", "more", "most", "particularly", "purely",
        "quite", "really", "remarkably", "so", "substantially", "thoroughly", "total", "totally", "tremendous",
        "tremendously", "uber", "unbelievably", "unusually", "utter", "utterly", "very",
    ]

    static let dampenerWords: [String] = [
        "almost", "barely", "hardly", "just enough", "kind of", "kinda", "kindof", "kind-of", "less", "little",
        "marginal", "marginally", "occasional", "occasionally", "partly", "scarce", "scarcely", "slight",
        "slightly", "somewhat", "sort of", "sorta", "sortof", "sort-of",
    ]

    /// Booster (+) and dampener (−) words with their increments.
    static let boosters: [String: Double] = {
        var table: [String: Double] = [:]
        for word in boosterWords { table[word] = boosterIncrement }
        for word in dampenerWords { table[word] = -boosterIncrement }
        return table
    }()

    /// Phrases containing lexicon words whose meaning differs from their words.
    static let specialCases: [String: Double] = [
        "the shit": 3, "the bomb": 3, "bad ass": 1.5, "badass": 1.5, "bus stop": 0.0, "yeah right": -2,
        "kiss of death": -1.5, "to die for": 3, "beating heart": 3.5,
    ]
}
