import Documents
import Foundation
import PlumbTesting
import Testing

/// k-means parity with scikit-learn on a real corpus: fortunes from four of Debian's fortunes files (their file is
/// the known grouping), the same TF-IDF matrix, the same k and number of initialisations.
@Suite("Clustering")
struct ClusteringTests {
    static let files = ["startrek", "food", "computers", "sports"]

    /// Up to `each` fortunes of at least 60 characters from each file, with the file's index as the true label.
    static func corpus(each: Int = 100) throws -> (texts: [String], truth: [Int]) {
        var texts: [String] = []
        var truth: [Int] = []
        for (label, file) in files.enumerated() {
            let path = "/usr/share/games/fortunes/" + file
            guard
                let text = try? String(contentsOfFile: path, encoding: .utf8)
                    ?? String(contentsOfFile: path, encoding: .isoLatin1)
            else {
                throw TestFailure("\(path) is missing: scripts/setup.sh installs Debian's fortunes package")
            }
            let fortunes = text.components(separatedBy: "\n%\n").filter { $0.count >= 60 }.prefix(each)
            texts += fortunes
            truth += Array(repeating: label, count: fortunes.count)
        }
        return (texts, truth)
    }

    @Test("TF-IDF rows are unit length, sublinear, with scikit-learn's smoothed idf")
    func tfidf() {
        let t = TFIDF(documents: ["apple apple apple banana", "banana cherry", "cherry cherry"])
        #expect(t.vocabulary == ["apple", "banana", "cherry"])
        #expect(abs(t.idf[0] - (log(4.0 / 2.0) + 1)) < 1e-12 && abs(t.idf[1] - (log(4.0 / 3.0) + 1)) < 1e-12)
        for row in t.rows { #expect(abs(row.reduce(0) { $0 + $1.1 * $1.1 } - 1) < 1e-12) }
        // Row 0: tf apple = 1 + ln 3, banana = 1, times idf, then normalised.
        let a = (1 + log(3.0)) * t.idf[0]
        let b = t.idf[1]
        #expect(abs(t.rows[0][0].1 - a / (a * a + b * b).squareRoot()) < 1e-12)
        #expect(t.vector("apple kiwi").count == 1, "an unseen term is left out")
    }

    @Test(
        "inertia within 5 % of scikit-learn's KMeans (best of 10 inits) on the same matrix; adjusted Rand index reported"
    )
    func parityWithScikitLearn() async throws {
        let (texts, truth) = try Self.corpus()
        let tfidf = TFIDF(documents: texts, stopWords: DocumentsPlugin.stopWords)
        let rows = tfidf.rows
        let k = Self.files.count
        let started = ContinuousClock.now
        let ours = KMeans.fit(rows, dimensions: tfidf.vocabulary.count, k: k, initialisations: 10, seed: 0)
        let elapsed = ContinuousClock.now - started
        let dir = TemporaryDirectory("plumb-kmeans")
        defer { dir.remove() }
        let matrix: [String: Any] = [
            "rows": rows.count, "columns": tfidf.vocabulary.count, "k": k, "inits": 10,
            "indices": rows.map { $0.map(\.0) }, "values": rows.map { $0.map(\.1) }, "truth": truth,
            "plumb_labels": ours.labels,
        ]
        try JSONSerialization.data(withJSONObject: matrix).write(to: URL(fileURLWithPath: dir.path + "/matrix.json"))
        let run = try await Python.run(
            Checkout.root + "/Tests/DocumentsTests/kmeans_reference.py", [dir.path + "/matrix.json"])
        try #require(
            run.status == 0, "kmeans_reference.py (scikit-learn, installed by scripts/setup.sh): \(run.errors)")
        let reference = try #require(try JSONSerialization.jsonObject(with: run.output) as? [String: Any])
        let theirs = try #require(reference["inertia"] as? Double)
        let ari = KMeans.adjustedRandIndex(truth, ours.labels)
        let ratio = ours.inertia / theirs
        print(
            String(
                format:
                    "kmeans: %d fortunes × %d terms, k = %d, 10 inits: Plumb inertia %.3f in %@, scikit-learn %.3f in %.3f s, ratio %.4f; adjusted Rand index vs the files: Plumb %.3f, scikit-learn %.3f",
                rows.count, tfidf.vocabulary.count, k, ours.inertia, "\(elapsed)", theirs,
                reference["seconds"] as? Double ?? -1, ratio, ari, reference["ari_sklearn"] as? Double ?? -1))
        #expect(abs(ratio - 1) <= 0.05, "Plumb \(ours.inertia) vs scikit-learn \(theirs)")
        // Plumb's ARI agrees with scikit-learn's adjusted_rand_score on the same labels.
        #expect(abs(ari - (reference["ari_plumb"] as? Double ?? -9)) < 1e-9)
        #expect(ari > 0.05, "the clusters follow the files more than chance: ARI \(ari)")
    }

    @Test("silhouette picks the k of clearly separated groups; the same seed gives the same labels")
    func silhouetteAndDeterminism() {
        let groups = [
            ["red apple fruit", "green apple fruit", "apple fruit pie"],
            ["fast car engine", "car engine oil", "race car engine"],
            ["jazz music band", "rock music band", "music band tour"],
        ]
        let tfidf = TFIDF(documents: groups.flatMap { $0 })
        let scores = (2...5).map { k in
            (
                k,
                KMeans.silhouette(
                    tfidf.rows,
                    labels: KMeans.fit(tfidf.rows, dimensions: tfidf.vocabulary.count, k: k, seed: 7).labels, k: k)
            )
        }
        #expect(scores.max { $0.1 < $1.1 }?.0 == 3, "\(scores)")
        let a = KMeans.fit(tfidf.rows, dimensions: tfidf.vocabulary.count, k: 3, seed: 7).labels
        let b = KMeans.fit(tfidf.rows, dimensions: tfidf.vocabulary.count, k: 3, seed: 7).labels
        #expect(
            a == b && Set(a[0..<3]).count == 1 && Set(a[3..<6]).count == 1 && Set(a[6..<9]).count == 1
                && Set(a).count == 3)
        #expect(KMeans.adjustedRandIndex([0, 0, 1, 1], [1, 1, 0, 0]) == 1)
    }
}
