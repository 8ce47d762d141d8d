import ArgumentParser
import Classifier
import Foundation

/// `plumb bench-classifier CSV`: training time on a CSV data set (all rows, XGBoost's default hyper-parameters) and
/// prediction time per row, medians over rounds.
struct BenchClassifierCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-classifier", abstract: "Benchmark the classifier's training and per-row prediction.",
        shouldDisplay: false)

    @Argument(help: "CSV with a header and a label column.") var csv: String
    @Option(help: "Label column.") var label = "label"
    @Option(help: "Rounds (the median is reported).") var rounds = 3

    func run() async throws {
        let dataset = try Dataset.parse(try String(contentsOfFile: csv, encoding: .utf8), label: label)
        var train: [Double] = []
        var predict: [Double] = []
        var model: BoostedModel?
        for _ in 0..<rounds {
            var started = ContinuousClock.now
            let trained = BoostedModel.train(
                features: dataset.rows, labels: dataset.labels, featureNames: dataset.featureNames,
                parameters: BoostingParameters())
            train.append(Self.seconds(ContinuousClock.now - started))
            model = trained
            started = ContinuousClock.now
            var sink = 0
            for row in dataset.rows { sink &+= trained.predictIndex(row) }
            predict.append(Self.seconds(ContinuousClock.now - started) / Double(dataset.rows.count) * 1e6)
            if sink == -1 { print("") }
        }
        try BenchOutput.print(
            Result(
                rows: dataset.rows.count, features: dataset.featureNames.count, classes: model?.classes.count ?? 0,
                trainSeconds: Self.median(train), predictMicrosecondsPerRow: Self.median(predict)))
    }

    struct Result: Encodable {
        var rows: Int
        var features: Int
        var classes: Int
        var trainSeconds: Double
        var predictMicrosecondsPerRow: Double

        enum CodingKeys: String, CodingKey {
            case rows, features, classes
            case trainSeconds = "train_seconds"
            case predictMicrosecondsPerRow = "predict_microseconds_per_row"
        }
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
    static func median(_ v: [Double]) -> Double { v.sorted()[v.count / 2] }
}
