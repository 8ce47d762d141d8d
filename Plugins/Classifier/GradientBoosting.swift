import Foundation
import PlumbKit

/// Hyper-parameters, with XGBoost's names and defaults.
public struct BoostingParameters: Codable, Sendable, Equatable {
    /// Boosting rounds (`n_estimators`).
    public var rounds = 50
    public var maxDepth = 6
    /// Learning rate (`eta`).
    public var eta = 0.3
    /// L2 regularisation of leaf weights (`lambda`).
    public var lambda = 1.0
    /// Minimum loss reduction to split (`gamma`, `min_split_loss`).
    public var gamma = 0.0
    /// Minimum hessian sum in a child (`min_child_weight`).
    public var minChildWeight = 1.0
    /// Fraction of features each tree may use (`colsample_bytree`).
    public var colsampleByTree = 1.0
    public var seed: UInt64 = 0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case rounds, eta, lambda, gamma, seed
        case maxDepth = "max_depth"
        case minChildWeight = "min_child_weight"
        case colsampleByTree = "colsample_bytree"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        rounds = try c.decodeIfPresent(Int.self, forKey: .rounds) ?? rounds
        maxDepth = try c.decodeIfPresent(Int.self, forKey: .maxDepth) ?? maxDepth
        eta = try c.decodeIfPresent(Double.self, forKey: .eta) ?? eta
        lambda = try c.decodeIfPresent(Double.self, forKey: .lambda) ?? lambda
        gamma = try c.decodeIfPresent(Double.self, forKey: .gamma) ?? gamma
        minChildWeight = try c.decodeIfPresent(Double.self, forKey: .minChildWeight) ?? minChildWeight
        colsampleByTree = try c.decodeIfPresent(Double.self, forKey: .colsampleByTree) ?? colsampleByTree
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? seed
    }

    /// The first problem with these values, if any.
    public func validate() -> String? {
        if !(1...2_000).contains(rounds) { return "rounds must be from 1 to 2000" }
        if !(1...16).contains(maxDepth) { return "max_depth must be from 1 to 16" }
        if !(eta > 0 && eta <= 1) { return "eta must be above 0 and at most 1" }
        if !(lambda >= 0) || !(gamma >= 0) || !(minChildWeight >= 0) {
            return "lambda, gamma and min_child_weight must be 0 or more"
        }
        if !(colsampleByTree > 0 && colsampleByTree <= 1) { return "colsample_bytree must be above 0 and at most 1" }
        return nil
    }
}

/// One regression tree: node 0 is the root; a leaf has `feature == -1` and its weight in `value`.
public struct RegressionTree: Codable, Sendable, Equatable {
    public var feature: [Int32]
    public var threshold: [Double]
    public var left: [Int32]
    public var right: [Int32]
    public var value: [Double]

    /// The leaf weight for `x`: `x[f] < threshold` goes left.
    @inline(__always)
    public func predict(_ x: UnsafeBufferPointer<Double>) -> Double {
        var node = 0
        while feature[node] >= 0 {
            node = Int(x[Int(feature[node])] < threshold[node] ? left[node] : right[node])
        }
        return value[node]
    }

    public var nodeCount: Int { feature.count }
}

/// Gradient-boosted trees in XGBoost's formulation for multi-class softmax (`multi:softprob`): each round fits one
/// tree per class to the gradients g = p − y and hessians h = max(2p(1 − p), 1e−16) of the softmax loss; a split's
/// loss change is G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ), kept when above γ with both children's hessian sums at
/// least `min_child_weight`; a leaf's weight is −η·G/(H+λ). Splits are found exactly (XGBoost's `exact` method):
/// every feature's rows are sorted once, and each level of the tree is grown in one pass per feature, a threshold
/// being the midpoint between neighbouring distinct values. Deterministic for a given seed.
public enum GradientBoosting {
    /// - Parameters:
    ///   - features: n rows of d values (finite).
    ///   - labels: class index of each row, in 0..<classCount.
    /// - Returns: trees per round, one per class.
    public static func train(
        features: [[Double]], labels: [Int], classCount: Int, parameters p: BoostingParameters
    ) -> [[RegressionTree]] {
        let n = features.count
        guard n > 0, classCount >= 2 else { return [] }
        let d = features[0].count
        // Column-major values and each feature's row order by value.
        var columns = [[Double]](repeating: [Double](repeating: 0, count: n), count: d)
        for i in 0..<n { for f in 0..<d { columns[f][i] = features[i][f] } }
        let sorted: [[Int32]] = (0..<d).map { f in
            let column = columns[f]
            return (0..<n).sorted { column[$0] < column[$1] || (column[$0] == column[$1] && $0 < $1) }.map { Int32($0) }
        }
        var margins = [Double](repeating: 0.5, count: n * classCount)
        var rng = SplitMix64(seed: p.seed)
        var rounds: [[RegressionTree]] = []
        rounds.reserveCapacity(p.rounds)
        var g = [Double](repeating: 0, count: n)
        var h = [Double](repeating: 0, count: n)
        var probabilities = [Double](repeating: 0, count: n * classCount)
        for _ in 0..<p.rounds {
            // Softmax of the current margins.
            for i in 0..<n {
                let base = i * classCount
                var maximum = -Double.infinity
                for k in 0..<classCount { maximum = max(maximum, margins[base + k]) }
                var total = 0.0
                for k in 0..<classCount {
                    let e = exp(margins[base + k] - maximum)
                    probabilities[base + k] = e
                    total += e
                }
                for k in 0..<classCount { probabilities[base + k] /= total }
            }
            var trees: [RegressionTree] = []
            for k in 0..<classCount {
                for i in 0..<n {
                    let prob = probabilities[i * classCount + k]
                    g[i] = prob - (labels[i] == k ? 1 : 0)
                    h[i] = max(2 * prob * (1 - prob), 1e-16)
                }
                let allowed = sampleColumns(d, fraction: p.colsampleByTree, rng: &rng)
                let (tree, leafOf) = grow(columns: columns, sorted: sorted, g: g, h: h, allowed: allowed, p: p)
                for i in 0..<n { margins[i * classCount + k] += tree.value[Int(leafOf[i])] }
                trees.append(tree)
            }
            rounds.append(trees)
        }
        return rounds
    }

    static func sampleColumns(_ d: Int, fraction: Double, rng: inout SplitMix64) -> [Bool] {
        guard fraction < 1 else { return [Bool](repeating: true, count: d) }
        let keep = max(1, Int((Double(d) * fraction).rounded(.down)))
        var order = Array(0..<d)
        for i in stride(from: d - 1, to: 0, by: -1) {
            let j = Int(rng.next() % UInt64(i + 1))
            order.swapAt(i, j)
        }
        var allowed = [Bool](repeating: false, count: d)
        for f in order.prefix(keep) { allowed[f] = true }
        return allowed
    }

    struct Candidate {
        var gain = 0.0
        var feature: Int32 = -1
        var threshold = 0.0
        var leftG = 0.0, leftH = 0.0
    }

    /// Grows one tree depth-wise; returns it and the leaf each row ends in.
    static func grow(
        columns: [[Double]], sorted: [[Int32]], g: [Double], h: [Double], allowed: [Bool], p: BoostingParameters
    ) -> (RegressionTree, [Int32]) {
        let n = g.count
        var tree = RegressionTree(feature: [-1], threshold: [0], left: [-1], right: [-1], value: [0])
        var sumG = [g.reduce(0, +)]
        var sumH = [h.reduce(0, +)]
        var position = [Int32](repeating: 0, count: n)
        var frontier: [Int32] = [0]
        func weight(_ G: Double, _ H: Double) -> Double { -G / (H + p.lambda) * p.eta }
        func score(_ G: Double, _ H: Double) -> Double { G * G / (H + p.lambda) }

        for _ in 0..<p.maxDepth {
            guard !frontier.isEmpty else { break }
            let nodeCount = tree.nodeCount
            var isFrontier = [Bool](repeating: false, count: nodeCount)
            for node in frontier { isFrontier[Int(node)] = true }
            var best = [Candidate](repeating: Candidate(), count: nodeCount)
            // Per-node running sums and the last value seen, reset for each feature.
            var runG = [Double](repeating: 0, count: nodeCount)
            var runH = [Double](repeating: 0, count: nodeCount)
            var last = [Double](repeating: .nan, count: nodeCount)
            for f in 0..<columns.count where allowed[f] {
                for node in frontier {
                    runG[Int(node)] = 0
                    runH[Int(node)] = 0
                    last[Int(node)] = .nan
                }
                let column = columns[f]
                for row32 in sorted[f] {
                    let row = Int(row32)
                    let node = Int(position[row])
                    guard node < nodeCount, isFrontier[node] else { continue }
                    let value = column[row]
                    let previous = last[node]
                    if !previous.isNaN, value != previous {
                        // Candidate split between previous and value: rows so far go left.
                        let GL = runG[node]
                        let HL = runH[node]
                        let GR = sumG[node] - GL
                        let HR = sumH[node] - HL
                        if HL >= p.minChildWeight && HR >= p.minChildWeight {
                            let gain = score(GL, HL) + score(GR, HR) - score(sumG[node], sumH[node])
                            if gain > best[node].gain {
                                best[node] = Candidate(
                                    gain: gain, feature: Int32(f), threshold: (previous + value) * 0.5, leftG: GL,
                                    leftH: HL)
                            }
                        }
                    }
                    runG[node] += g[row]
                    runH[node] += h[row]
                    last[node] = value
                }
            }
            // Apply the splits worth more than gamma.
            var next: [Int32] = []
            var children: [(left: Int32, right: Int32)?] = [(Int32, Int32)?](repeating: nil, count: nodeCount)
            for node32 in frontier {
                let node = Int(node32)
                let c = best[node]
                guard c.feature >= 0, c.gain > max(p.gamma, 1e-6) else { continue }
                let leftIndex = Int32(tree.nodeCount)
                let rightIndex = leftIndex + 1
                tree.feature[node] = c.feature
                tree.threshold[node] = c.threshold
                tree.left[node] = leftIndex
                tree.right[node] = rightIndex
                for _ in 0..<2 {
                    tree.feature.append(-1)
                    tree.threshold.append(0)
                    tree.left.append(-1)
                    tree.right.append(-1)
                    tree.value.append(0)
                }
                sumG.append(c.leftG)
                sumH.append(c.leftH)
                sumG.append(sumG[node] - c.leftG)
                sumH.append(sumH[node] - c.leftH)
                children[node] = (leftIndex, rightIndex)
                next.append(leftIndex)
                next.append(rightIndex)
            }
            if next.isEmpty { break }
            for row in 0..<n {
                let node = Int(position[row])
                guard node < nodeCount, let (l, r) = children[node] else { continue }
                let f = Int(tree.feature[node])
                position[row] = columns[f][row] < tree.threshold[node] ? l : r
            }
            frontier = next
        }
        for node in 0..<tree.nodeCount where tree.feature[node] < 0 {
            tree.value[node] = weight(sumG[node], sumH[node])
        }
        return (tree, position)
    }
}

/// A trained classifier: class names, feature names, parameters and trees.
public struct BoostedModel: Codable, Sendable {
    public var classes: [String]
    public var features: [String]
    public var parameters: BoostingParameters
    public var trees: [[RegressionTree]]

    public init(classes: [String], features: [String], parameters: BoostingParameters, trees: [[RegressionTree]]) {
        self.classes = classes
        self.features = features
        self.parameters = parameters
        self.trees = trees
    }

    /// Trains on rows whose labels are class names.
    public static func train(
        features: [[Double]], labels: [String], featureNames: [String], parameters: BoostingParameters
    ) -> BoostedModel {
        let classes = Array(Set(labels)).sorted()
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        let trees = GradientBoosting.train(
            features: features, labels: labels.map { index[$0]! }, classCount: classes.count, parameters: parameters)
        return BoostedModel(classes: classes, features: featureNames, parameters: parameters, trees: trees)
    }

    /// Class probabilities for one row (softmax of the summed margins).
    public func probabilities(_ x: [Double]) -> [Double] {
        let k = classes.count
        var margins = [Double](repeating: 0.5, count: k)
        x.withUnsafeBufferPointer { row in
            for round in trees {
                for c in 0..<k { margins[c] += round[c].predict(row) }
            }
        }
        let maximum = margins.max() ?? 0
        var total = 0.0
        for c in 0..<k {
            margins[c] = exp(margins[c] - maximum)
            total += margins[c]
        }
        return margins.map { $0 / total }
    }

    /// The most probable class index.
    public func predictIndex(_ x: [Double]) -> Int {
        let p = probabilities(x)
        var best = 0
        for c in 1..<p.count where p[c] > p[best] { best = c }
        return best
    }
}

/// Accuracy and confusion matrix of k-fold cross-validation; rows go to folds round-robin in their order
/// (row i → fold i mod k), so another implementation can use the very same folds.
public struct CrossValidation: Codable, Sendable {
    public var folds: Int
    public var accuracy: Double
    public var foldAccuracies: [Double]
    /// confusion[actual][predicted], classes in `BoostedModel.classes` order.
    public var confusion: [[Int]]
    public var classes: [String]

    public static func run(
        features: [[Double]], labels: [String], featureNames: [String], parameters: BoostingParameters, folds: Int
    ) -> CrossValidation {
        let classes = Array(Set(labels)).sorted()
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: classes.count), count: classes.count)
        var accuracies: [Double] = []
        var correct = 0
        for fold in 0..<folds {
            var trainX: [[Double]] = []
            var trainY: [String] = []
            var testRows: [Int] = []
            for i in features.indices {
                if i % folds == fold {
                    testRows.append(i)
                } else {
                    trainX.append(features[i])
                    trainY.append(labels[i])
                }
            }
            guard !testRows.isEmpty, Set(trainY).count >= 2 else { continue }
            let model = BoostedModel.train(
                features: trainX, labels: trainY, featureNames: featureNames, parameters: parameters)
            var foldCorrect = 0
            for i in testRows {
                let predicted = model.classes[model.predictIndex(features[i])]
                if predicted == labels[i] { foldCorrect += 1 }
                confusion[index[labels[i]]!][index[predicted]!] += 1
            }
            correct += foldCorrect
            accuracies.append(Double(foldCorrect) / Double(testRows.count))
        }
        return CrossValidation(
            folds: folds, accuracy: Double(correct) / Double(max(1, features.count)), foldAccuracies: accuracies,
            confusion: confusion, classes: classes)
    }
}
