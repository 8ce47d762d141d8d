import Foundation
import PlumbKit

/// TF-IDF vectors of documents, as scikit-learn's `TfidfVectorizer(sublinear_tf=True)` makes them: terms are
/// lowercased runs of two or more letters or digits, tf is 1 + ln(count), idf is ln((1 + n) / (1 + df)) + 1
/// (smoothed), and each row is scaled to unit length.
public struct TFIDF: Sendable {
    public let vocabulary: [String]
    public let idf: [Double]
    let stopWords: Set<String>
    /// Term → its column.
    let index: [String: Int]
    /// One sparse row per document it was fitted on: (term index, weight), by term index.
    public let rows: [[(Int, Double)]]

    public static func terms(_ text: String) -> [String] {
        var out: [String] = []
        var word = ""
        for c in text.lowercased() {
            if c.isLetter || c.isNumber {
                word.append(c)
            } else {
                if word.count >= 2 { out.append(word) }
                word = ""
            }
        }
        if word.count >= 2 { out.append(word) }
        return out
    }

    /// Fits the vocabulary and idf on `documents`. `stopWords`: terms left out (none, as scikit-learn's default).
    public init(documents: [String], stopWords: Set<String> = [], minDocumentFrequency: Int = 1) {
        let counted = documents.map { Self.counts($0, stopWords: stopWords) }
        var df: [String: Int] = [:]
        for counts in counted { for term in counts.keys { df[term, default: 0] += 1 } }
        let vocabulary = df.filter { $0.value >= minDocumentFrequency }.keys.sorted()
        let n = Double(documents.count)
        self.init(
            vocabulary: vocabulary, idf: vocabulary.map { log((1 + n) / (1 + Double(df[$0]!))) + 1 },
            stopWords: stopWords, counted: counted)
    }

    /// A fitted vocabulary and idf, kept from an earlier fit, to place new documents.
    public init(vocabulary: [String], idf: [Double], stopWords: Set<String> = []) {
        self.init(vocabulary: vocabulary, idf: idf, stopWords: stopWords, counted: [])
    }

    init(vocabulary: [String], idf: [Double], stopWords: Set<String>, counted: [[String: Int]]) {
        self.vocabulary = vocabulary
        self.idf = idf
        self.stopWords = stopWords
        let index = Dictionary(uniqueKeysWithValues: vocabulary.enumerated().map { ($1, $0) })
        self.index = index
        rows = counted.map { Self.row($0, index: index, idf: idf) }
    }

    static func counts(_ text: String, stopWords: Set<String>) -> [String: Int] {
        var counts: [String: Int] = [:]
        for term in terms(text) where !stopWords.contains(term) { counts[term, default: 0] += 1 }
        return counts
    }

    static func row(_ counts: [String: Int], index: [String: Int], idf: [Double]) -> [(Int, Double)] {
        var row = counts.compactMap { term, count -> (Int, Double)? in
            guard let i = index[term] else { return nil }
            return (i, (1 + log(Double(count))) * idf[i])
        }.sorted { $0.0 < $1.0 }
        let norm = row.reduce(0) { $0 + $1.1 * $1.1 }.squareRoot()
        if norm > 0 { for j in row.indices { row[j].1 /= norm } }
        return row
    }

    /// A new document's vector in this vocabulary (terms the fit never saw are left out).
    public func vector(_ text: String) -> [(Int, Double)] {
        Self.row(Self.counts(text, stopWords: stopWords), index: index, idf: idf)
    }
}

/// k-means over unit-length sparse rows (Lloyd's iterations, k-means++ seeding with scikit-learn's greedy variant:
/// 2 + ln k candidates per centre, the one that lowers the potential most). Rows have unit length, so the squared
/// distance of two documents is 2 − 2·cos: the clustering is by cosine distance, with mean centroids.
public struct KMeans: Sendable {
    public struct Result: Sendable {
        public var labels: [Int]
        public var centroids: [[Double]]
        /// Sum of squared distances of rows to their centroids (scikit-learn's `inertia_`).
        public var inertia: Double
        public var iterations: Int
    }

    static func squaredDistance(
        _ row: [(Int, Double)], rowNorm: Double, _ centroid: [Double], centroidNorm: Double
    ) -> Double {
        var dot = 0.0
        for (i, v) in row { dot += v * centroid[i] }
        return max(0, rowNorm + centroidNorm - 2 * dot)
    }

    /// The best of `initialisations` runs (lowest inertia), each seeded from `seed`.
    public static func fit(
        _ rows: [[(Int, Double)]], dimensions: Int, k: Int, initialisations: Int = 10, seed: UInt64 = 0,
        maxIterations: Int = 300,
        tolerance: Double = 1e-4
    ) -> Result {
        precondition(k >= 1 && k <= rows.count, "k must be from 1 to the number of rows")
        var generator = SplitMix64(seed: seed)
        var best: Result?
        for _ in 0..<initialisations {
            let run = once(
                rows, dimensions: dimensions, k: k, generator: &generator, maxIterations: maxIterations,
                tolerance: tolerance)
            if best == nil || run.inertia < best!.inertia { best = run }
        }
        return best!
    }

    static func once(
        _ rows: [[(Int, Double)]], dimensions: Int, k: Int, generator: inout SplitMix64, maxIterations: Int,
        tolerance: Double
    ) -> Result {
        let norms = rows.map { $0.reduce(0) { $0 + $1.1 * $1.1 } }
        func dense(_ row: [(Int, Double)]) -> [Double] {
            var v = [Double](repeating: 0, count: dimensions)
            for (i, x) in row { v[i] = x }
            return v
        }
        // k-means++ (greedy): each new centre is the best of 2 + ln k candidates drawn in proportion to D².
        let first = Int.random(in: 0..<rows.count, using: &generator)
        var centroids = [dense(rows[first])]
        var closest = rows.indices.map {
            squaredDistance(rows[$0], rowNorm: norms[$0], centroids[0], centroidNorm: norms[first])
        }
        let trials = 2 + Int(log(Double(k)))
        while centroids.count < k {
            let potential = closest.reduce(0, +)
            var bestCandidate: (index: Int, potential: Double, distances: [Double])?
            for _ in 0..<trials {
                var target = Double.random(in: 0..<max(potential, .leastNonzeroMagnitude), using: &generator)
                var pick = rows.count - 1
                for (i, d) in closest.enumerated() {
                    target -= d
                    if target < 0 {
                        pick = i
                        break
                    }
                }
                let candidate = dense(rows[pick])
                let cNorm = norms[pick]
                let distances = rows.indices.map {
                    min(closest[$0], squaredDistance(rows[$0], rowNorm: norms[$0], candidate, centroidNorm: cNorm))
                }
                let p = distances.reduce(0, +)
                if bestCandidate == nil || p < bestCandidate!.potential { bestCandidate = (pick, p, distances) }
            }
            centroids.append(dense(rows[bestCandidate!.index]))
            closest = bestCandidate!.distances
        }
        var labels = [Int](repeating: 0, count: rows.count)
        var iterations = 0
        var inertia = 0.0
        for iteration in 1...maxIterations {
            iterations = iteration
            let centroidNorms = centroids.map { $0.reduce(0) { $0 + $1 * $1 } }
            inertia = assign(rows, norms: norms, centroids: centroids, labels: &labels)
            var sums = [[Double]](repeating: [Double](repeating: 0, count: dimensions), count: k)
            var sizes = [Int](repeating: 0, count: k)
            for (r, row) in rows.enumerated() {
                sizes[labels[r]] += 1
                for (i, v) in row { sums[labels[r]][i] += v }
            }
            var shift = 0.0
            for c in 0..<k {
                // An empty cluster takes the row farthest from its centre.
                if sizes[c] == 0 {
                    let far = rows.indices.max { a, b in
                        squaredDistance(
                            rows[a], rowNorm: norms[a], centroids[labels[a]], centroidNorm: centroidNorms[labels[a]])
                            < squaredDistance(
                                rows[b], rowNorm: norms[b], centroids[labels[b]], centroidNorm: centroidNorms[labels[b]]
                            )
                    }!
                    sums[c] = dense(rows[far])
                    sizes[c] = 1
                }
                let updated = sums[c].map { $0 / Double(sizes[c]) }
                shift += zip(updated, centroids[c]).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
                centroids[c] = updated
            }
            if shift <= tolerance * tolerance { break }
        }
        // The labels and inertia of the final centroids.
        inertia = assign(rows, norms: norms, centroids: centroids, labels: &labels)
        return Result(labels: labels, centroids: centroids, inertia: inertia, iterations: iterations)
    }

    /// The centroid nearest to a unit-length row.
    public static func nearest(_ row: [(Int, Double)], centroids: [[Double]]) -> Int {
        var labels = [0]
        _ = assign([row], norms: [row.reduce(0) { $0 + $1.1 * $1.1 }], centroids: centroids, labels: &labels)
        return labels[0]
    }

    /// Puts each row in its nearest centroid's cluster; the sum of the squared distances.
    static func assign(_ rows: [[(Int, Double)]], norms: [Double], centroids: [[Double]], labels: inout [Int]) -> Double
    {
        let centroidNorms = centroids.map { $0.reduce(0) { $0 + $1 * $1 } }
        var inertia = 0.0
        for (r, row) in rows.enumerated() {
            var best = (cluster: 0, distance: Double.infinity)
            for (c, centroid) in centroids.enumerated() {
                let d = squaredDistance(row, rowNorm: norms[r], centroid, centroidNorm: centroidNorms[c])
                if d < best.distance { best = (c, d) }
            }
            labels[r] = best.cluster
            inertia += best.distance
        }
        return inertia
    }

    /// Mean silhouette by cosine distance (1 − cos; rows have unit length): for each row, (b − a) / max(a, b) with a
    /// its mean distance to its own cluster and b to the nearest other one. Over at most `sample` rows, evenly spaced
    /// (as scikit-learn's `silhouette_score(sample_size:)`), so the cost stays bounded for many files.
    public static func silhouette(_ rows: [[(Int, Double)]], labels: [Int], k: Int, sample: Int = 1_000) -> Double {
        guard k >= 2, rows.count > k else { return 0 }
        let chosen = stride(from: 0, to: rows.count, by: max(1, rows.count / sample)).prefix(sample).map { $0 }
        var total = 0.0
        var dims: [Int: Double] = [:]
        for a in chosen {
            dims.removeAll(keepingCapacity: true)
            for (i, v) in rows[a] { dims[i] = v }
            var sums = [Double](repeating: 0, count: k)
            var counts = [Int](repeating: 0, count: k)
            for b in chosen where b != a {
                var dot = 0.0
                for (i, v) in rows[b] { if let w = dims[i] { dot += v * w } }
                sums[labels[b]] += 1 - dot
                counts[labels[b]] += 1
            }
            let own = labels[a]
            guard counts[own] > 0 else { continue }  // a singleton scores 0
            let inside = sums[own] / Double(counts[own])
            let nearest =
                (0..<k).filter { $0 != own && counts[$0] > 0 }.map { sums[$0] / Double(counts[$0]) }.min() ?? 0
            let d = max(inside, nearest)
            total += d > 0 ? (nearest - inside) / d : 0
        }
        return total / Double(chosen.count)
    }

    /// Adjusted Rand index of two labelings (1: the same partition; about 0: chance agreement).
    public static func adjustedRandIndex(_ a: [Int], _ b: [Int]) -> Double {
        var table: [[Int: Int]] = []
        let aValues = Array(Set(a)).sorted()
        let bValues = Array(Set(b)).sorted()
        let ai = Dictionary(uniqueKeysWithValues: aValues.enumerated().map { ($1, $0) })
        table = Array(repeating: [:], count: aValues.count)
        for (x, y) in zip(a, b) { table[ai[x]!][y, default: 0] += 1 }
        func pairs(_ n: Int) -> Double { Double(n * (n - 1)) / 2 }
        let index = table.reduce(0.0) { $0 + $1.values.reduce(0.0) { $0 + pairs($1) } }
        let rowSums = table.reduce(0.0) { $0 + pairs($1.values.reduce(0, +)) }
        let colSums = bValues.reduce(0.0) { sum, v in sum + pairs(table.reduce(0) { $0 + ($1[v] ?? 0) }) }
        let expected = rowSums * colSums / pairs(a.count)
        let maximum = (rowSums + colSums) / 2
        return maximum == expected ? 1 : (index - expected) / (maximum - expected)
    }
}
