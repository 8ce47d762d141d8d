import PlumbAPI
import Yams

/// The server's `ConfigReader`: YAML (and so JSON) through Yams, each node with its line.
///
/// The only place configuration documents meet Yams: the domains read the `ConfigNode` tree it builds.
struct YAMLConfigReader: ConfigReader {
    func read(_ text: String, file: String) throws(AlertFileError) -> ConfigNode? {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw AlertFileError(file: file, line: Self.line(of: error), field: "", message: "\(error)")
        } catch {
            throw AlertFileError(file: file, line: 1, field: "", message: "\(error)")
        }
        return root.map(Self.node)
    }

    static func node(_ node: Node) -> ConfigNode {
        let line = node.mark?.line ?? 0
        switch node {
        case .scalar(let scalar):
            return ConfigNode(node.null != nil ? .null(scalar.string) : .scalar(scalar.string), line: line)
        case .sequence(let sequence):
            return ConfigNode(.sequence(sequence.map(Self.node)), line: line)
        case .mapping(let mapping):
            return ConfigNode(
                .mapping(mapping.map { ConfigNode.Entry(key: Self.node($0.key), value: Self.node($0.value)) }),
                line: line)
        case .alias(let alias):
            // Yams resolves aliases while composing; one left here has no anchor to stand for.
            return ConfigNode(.null(""), line: alias.mark?.line ?? line)
        }
    }

    static func line(of error: YamlError) -> Int {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): mark.line
        default: 1
        }
    }
}
