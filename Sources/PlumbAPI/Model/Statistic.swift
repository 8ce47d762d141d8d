/// A statistic a query can ask for: CloudWatch's five plus percentiles `pNN(.NN)`.
public enum Statistic: Hashable, Sendable, CustomStringConvertible {
    case sampleCount, sum, average, minimum, maximum
    case percentile(Double)

    public init?(_ text: String) {
        switch text {
        case "SampleCount": self = .sampleCount
        case "Sum": self = .sum
        case "Average": self = .average
        case "Minimum": self = .minimum
        case "Maximum": self = .maximum
        default:
            guard text.count >= 2, text.first == "p" || text.first == "P" else { return nil }
            let number = text.dropFirst()
            guard number.allSatisfy({ $0.isNumber || $0 == "." }), number.first != ".", number.last != ".",
                number.filter({ $0 == "." }).count <= 1,
                number.split(separator: ".").dropFirst().first.map({ $0.count <= 2 }) ?? true,
                let p = Double(number), p > 0, p <= 100
            else { return nil }
            self = .percentile(p)
        }
    }

    public var description: String {
        switch self {
        case .sampleCount: "SampleCount"
        case .sum: "Sum"
        case .average: "Average"
        case .minimum: "Minimum"
        case .maximum: "Maximum"
        case .percentile(let p):
            p == p.rounded() ? "p\(Int(p))" : "p\(p)"
        }
    }
}
