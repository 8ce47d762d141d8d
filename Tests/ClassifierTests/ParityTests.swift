import Classifier
import Foundation
import PlumbTesting
import Testing

/// The learner against Python XGBoost (`tree_method="exact"`, the same hyper-parameters, the same folds) on
/// scikit-learn's data sets.
@Suite("Gradient boosting parity with XGBoost", .serialized)
struct ParityTests {
    struct Reference: Decodable {
        let csv: String
        let accuracy: Double
        let train_seconds_all_folds: Double
        let rows: Int
    }

    static let references = Task<[String: Reference], any Error> {
        let dir = NSTemporaryDirectory() + "plumb-xgb-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let run = try await Python.run(Checkout.root + "/Tests/ClassifierTests/xgb_reference.py", [dir])
        guard run.status == 0 else {
            throw TestFailure(
                "xgb_reference.py failed (needs scikit-learn and xgboost-cpu; scripts/test.sh installs them): \(run.errors)"
            )
        }
        return try JSONDecoder().decode([String: Reference].self, from: run.output)
    }

    @Test(arguments: ["iris", "breast_cancer", "digits"])
    func accuracyWithinTwoPointsOfXGBoost(_ name: String) async throws {
        let reference = try #require(try await Self.references.value[name])
        let dataset = try Dataset.parse(try String(contentsOfFile: reference.csv, encoding: .utf8), label: "label")
        #expect(dataset.rows.count == reference.rows)
        let started = ContinuousClock.now
        let cv = CrossValidation.run(
            features: dataset.rows, labels: dataset.labels, featureNames: dataset.featureNames,
            parameters: BoostingParameters(), folds: 5)
        let seconds =
            Double((ContinuousClock.now - started).components.attoseconds) / 1e18
            + Double((ContinuousClock.now - started).components.seconds)
        print(
            "\(name): Plumb 5-fold accuracy \(cv.accuracy) in \(String(format: "%.2f", seconds)) s; XGBoost \(reference.accuracy) in \(String(format: "%.2f", reference.train_seconds_all_folds)) s"
        )
        #expect(abs(cv.accuracy - reference.accuracy) <= 0.02, "Plumb \(cv.accuracy) vs XGBoost \(reference.accuracy)")
        #expect(cv.confusion.flatMap { $0 }.reduce(0, +) == dataset.rows.count)
    }

    @Test("the same seed gives the same model; another seed with column subsampling gives another")
    func deterministic() async throws {
        let reference = try #require(try await Self.references.value["breast_cancer"])
        let dataset = try Dataset.parse(try String(contentsOfFile: reference.csv, encoding: .utf8), label: "label")
        var p = BoostingParameters()
        p.rounds = 10
        p.colsampleByTree = 0.5
        p.seed = 7
        let a = BoostedModel.train(
            features: dataset.rows, labels: dataset.labels, featureNames: dataset.featureNames, parameters: p)
        let b = BoostedModel.train(
            features: dataset.rows, labels: dataset.labels, featureNames: dataset.featureNames, parameters: p)
        #expect(a.trees == b.trees)
        p.seed = 8
        let c = BoostedModel.train(
            features: dataset.rows, labels: dataset.labels, featureNames: dataset.featureNames, parameters: p)
        #expect(a.trees != c.trees)
    }
}
