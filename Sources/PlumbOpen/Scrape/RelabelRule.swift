import Foundation

/// One `relabel_configs` (or `metric_relabel_configs`) rule, as Prometheus defines it: `replace` (the default),
/// `keep`, `drop`, `labelmap`, `labeldrop`, `labelkeep`, `lowercase`, `uppercase` (not `hashmod`, whose MD5 sharding
/// has no use on one scraper). The regex is anchored at both ends.
public struct RelabelRule: Sendable, Decodable {
    public enum Action: String, Sendable, Decodable {
        case replace, keep, drop, labelmap, labeldrop, labelkeep, lowercase, uppercase
    }

    public var sourceLabels: [String] = []
    public var separator = ";"
    public var regex: String = "(.*)"
    public var targetLabel: String?
    public var replacement = "$1"
    public var action: Action = .replace
    let compiled: RegexBox

    /// NSRegularExpression is immutable once made, and safe to share.
    final class RegexBox: @unchecked Sendable {
        let regex: NSRegularExpression
        init(_ regex: NSRegularExpression) { self.regex = regex }
    }

    enum CodingKeys: String, CodingKey {
        case separator, regex, replacement, action
        case sourceLabels = "source_labels"
        case targetLabel = "target_label"
    }

    public init(from decoder: Decoder) throws {
        try ScrapeConfig.refuseUnknownKeys(
            decoder, ["source_labels", "separator", "regex", "target_label", "replacement", "action"],
            in: "a relabel rule")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        sourceLabels = try c.decodeIfPresent([String].self, forKey: .sourceLabels) ?? []
        separator = try c.decodeIfPresent(String.self, forKey: .separator) ?? separator
        regex = try c.decodeIfPresent(String.self, forKey: .regex) ?? regex
        targetLabel = try c.decodeIfPresent(String.self, forKey: .targetLabel)
        replacement = try c.decodeIfPresent(String.self, forKey: .replacement) ?? replacement
        if let text = try c.decodeIfPresent(String.self, forKey: .action) {
            guard let parsed = Action(rawValue: text.lowercased()) else {
                throw ScrapeConfigError(
                    "relabel action '\(text)' is not one of replace, keep, drop, labelmap, labeldrop, labelkeep, lowercase, uppercase"
                )
            }
            action = parsed
        }
        do {
            compiled = RegexBox(try NSRegularExpression(pattern: "\\A(?:" + regex + ")\\z"))
        } catch {
            throw ScrapeConfigError("relabel regex '\(regex)' does not compile")
        }
        switch action {
        case .replace, .lowercase, .uppercase:
            guard let targetLabel, !targetLabel.isEmpty else {
                throw ScrapeConfigError("relabel action \(action.rawValue) needs target_label")
            }
        case .keep, .drop:
            guard !sourceLabels.isEmpty else {
                throw ScrapeConfigError("relabel action \(action.rawValue) needs source_labels")
            }
        case .labelmap, .labeldrop, .labelkeep:
            break
        }
    }

    func matches(_ text: String) -> NSTextCheckingResult? {
        compiled.regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text))
    }

    func expand(_ match: NSTextCheckingResult, in text: String, template: String) -> String {
        compiled.regex.replacementString(for: match, in: text, offset: 0, template: Self.goTemplate(template))
    }

    /// Prometheus writes groups as `$1` or `${1}`; NSRegularExpression as `$1`.
    static func goTemplate(_ template: String) -> String {
        var out = ""
        var rest = Substring(template)
        while let dollar = rest.firstIndex(of: "$") {
            out += rest[..<dollar]
            let after = rest[rest.index(after: dollar)...]
            if after.first == "{", let close = after.firstIndex(of: "}") {
                out += "$" + after[after.index(after: after.startIndex)..<close]
                rest = after[after.index(after: close)...]
            } else {
                out += "$"
                rest = after
            }
        }
        return out + rest
    }

    /// Applies the rules in order to `labels`; nil when a rule drops the target or sample.
    public static func apply(_ rules: [RelabelRule], to labels: [String: String]) -> [String: String]? {
        var labels = labels
        for rule in rules {
            let value = rule.sourceLabels.map { labels[$0] ?? "" }.joined(separator: rule.separator)
            switch rule.action {
            case .replace:
                guard let match = rule.matches(value), let target = rule.targetLabel else { continue }
                let name = rule.expand(match, in: value, template: target)
                let result = rule.expand(match, in: value, template: rule.replacement)
                guard let first = name.first, !first.isNumber,
                    name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") })
                else { continue }
                if result.isEmpty { labels[name] = nil } else { labels[name] = result }
            case .keep:
                if rule.matches(value) == nil { return nil }
            case .drop:
                if rule.matches(value) != nil { return nil }
            case .lowercase, .uppercase:
                guard let target = rule.targetLabel else { continue }
                labels[target] = rule.action == .lowercase ? value.lowercased() : value.uppercased()
            case .labelmap:
                for (name, v) in labels {
                    if let match = rule.matches(name) {
                        labels[rule.expand(match, in: name, template: rule.replacement)] = v
                    }
                }
            case .labeldrop:
                labels = labels.filter { rule.matches($0.key) == nil }
            case .labelkeep:
                labels = labels.filter { rule.matches($0.key) != nil }
            }
        }
        return labels
    }
}
