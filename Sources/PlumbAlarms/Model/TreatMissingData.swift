/// How an alarm treats periods without data when fewer than N real datapoints are in the evaluation range.
public enum TreatMissingData: String, Sendable, Codable, CaseIterable {
    /// Default: nothing concluded → INSUFFICIENT_DATA.
    case missing
    /// Missing periods count as within the threshold.
    case notBreaching
    /// Missing periods count as breaching.
    case breaching
    /// Nothing concluded → the current state is kept.
    case ignore

    /// How CloudWatch names the treatment in a reason ("treated as [NonBreaching]").
    var reasonName: String {
        switch self {
        case .missing: "Missing"
        case .notBreaching: "NonBreaching"
        case .breaching: "Breaching"
        case .ignore: "Ignore"
        }
    }
}
