import Foundation

/// Foundation's `JSONDecoder` on Linux reports a number that does not fit its field (`1e300` or `1.5` for a whole
/// number) as "not valid JSON" with no path. When the body does parse as JSON, the culprit is such a number: this
/// finds it, so the 400 can name the field.
public enum JSONNumberProblem {
    /// The path (`a.b.0.c`) of the first number outside ±2^63, else of the first number that is not whole; nil when
    /// the body is not JSON at all or holds no such number.
    public static func locate(in body: [UInt8]) -> String? {
        guard let root = try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed]) else {
            return nil
        }
        var outOfRange: String?
        var fractional: String?
        var pending: [(Any, [String])] = [(root, [])]
        while let (value, path) = pending.popLast() {
            if let object = value as? [String: Any] {
                pending.append(contentsOf: object.keys.sorted().reversed().map { (object[$0]!, path + [$0]) })
            } else if let array = value as? [Any] {
                pending.append(contentsOf: array.indices.reversed().map { (array[$0], path + [String($0)]) })
            } else if let number = value as? NSNumber, !(value is Bool) {
                let double = number.doubleValue
                if !double.isFinite || abs(double) >= 9.2e18 {
                    outOfRange = outOfRange ?? path.joined(separator: ".")
                } else if double != double.rounded() {
                    fractional = fractional ?? path.joined(separator: ".")
                }
            }
        }
        return outOfRange ?? fractional
    }
}
