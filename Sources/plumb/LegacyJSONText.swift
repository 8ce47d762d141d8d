/// How the CLI's text output has always shown the numbers and flags of an answer, from the days it read answers with
/// `JSONSerialization`: a whole double without a fraction (`60`, not `60.0`) and a flag as `1` or `0` (Foundation's
/// NSNumber). Commands that now read typed answers print through this so that their output stays as it was.
enum LegacyJSONText {
    /// Exact for whole numbers below 2^53 and for every other double Swift prints in its shortest form.
    static func number(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 9_007_199_254_740_992 { return String(Int64(value)) }
        return "\(value)"
    }

    static func flag(_ value: Bool) -> String { value ? "1" : "0" }
}
