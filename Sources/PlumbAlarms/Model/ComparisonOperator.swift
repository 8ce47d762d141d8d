/// CloudWatch's four static-threshold comparison operators.
public enum ComparisonOperator: String, Sendable, Codable, CaseIterable {
    case greaterThanOrEqualToThreshold = "GreaterThanOrEqualToThreshold"
    case greaterThanThreshold = "GreaterThanThreshold"
    case lessThanThreshold = "LessThanThreshold"
    case lessThanOrEqualToThreshold = "LessThanOrEqualToThreshold"

    /// Whether `value` breaches `threshold`.
    @inline(__always)
    public func breaches(_ value: Double, _ threshold: Double) -> Bool {
        switch self {
        case .greaterThanOrEqualToThreshold: value >= threshold
        case .greaterThanThreshold: value > threshold
        case .lessThanThreshold: value < threshold
        case .lessThanOrEqualToThreshold: value <= threshold
        }
    }

    /// The words CloudWatch writes in a state reason ("were greater than the threshold").
    public var phrase: String {
        switch self {
        case .greaterThanOrEqualToThreshold: "greater than or equal to"
        case .greaterThanThreshold: "greater than"
        case .lessThanThreshold: "less than"
        case .lessThanOrEqualToThreshold: "less than or equal to"
        }
    }
}
