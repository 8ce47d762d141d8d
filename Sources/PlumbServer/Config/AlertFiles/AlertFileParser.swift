import Foundation
import PlumbAPI
import PlumbAlarms
import PlumbLogs
import PlumbNotify

/// Loads alert files (`alerts/*.yaml`, CONTRACT.md): reads each file with YAML into a `ConfigNode` tree and hands each
/// domain its sections (`topics` to PlumbNotify, `alarms` and `composite_alarms` to PlumbAlarms, `metric_filters` to
/// PlumbLogs), then checks the files together. Also reads the alarm and metric filter documents sent to the API.
public enum AlertFileParser {
    static let topLevel: Set<String> = AlarmParser.sections.union(["topics", "metric_filters"])
    static let reader = YAMLConfigReader()

    /// Parses one file's text. Every problem is returned; the configuration holds what parsed cleanly.
    public static func parse(_ text: String, file: String) -> (AlertConfiguration, [AlertFileError]) {
        switch compose(text, file: file) {
        case .failure(let error): return (AlertConfiguration(), [error])
        case .success(nil): return (AlertConfiguration(), [])
        case .success(let root?): return parse(root, file: file, extraKeys: [])
        }
    }

    /// The tree of `text`, or the syntax error with its line.
    static func compose(_ text: String, file: String) -> Result<ConfigNode?, AlertFileError> {
        do throws(AlertFileError) {
            // A document that is only `~` or `null` declares nothing, as an empty one.
            let root = try reader.read(text, file: file)
            return .success(root?.isNull == true ? nil : root)
        } catch {
            var located = error
            located.message = "not valid YAML: \(error.message)"
            return .failure(located)
        }
    }

    /// Parses a composed document; `extraKeys` are further top-level keys the caller reads itself.
    static func parse(
        _ root: ConfigNode, file: String, extraKeys: Set<String>
    ) -> (AlertConfiguration, [AlertFileError]) {
        let sink = ConfigErrorSink()
        var config = AlertConfiguration()
        guard let fields = ConfigFields(root, path: "", file: file, sink: sink) else { return (config, sink.errors) }
        fields.rejectUnknown(topLevel.union(extraKeys))
        for (node, path) in fields.list("topics") {
            guard let t = fields.item(node, path: path), let topic = TopicDefinition.parse(t) else { continue }
            config.topics.append(topic)
            config.topicLocations[topic.name] = .init(file: file, line: t.line)
        }
        config.alarmConfiguration = AlarmParser.parse(fields)
        for (node, path) in fields.list("metric_filters") {
            guard let f = fields.item(node, path: path), let filter = MetricFilter.parse(f) else { continue }
            config.metricFilters.append(filter)
            config.metricFilterLocations[filter.name] = .init(file: file, line: f.line)
        }
        return (config, sink.errors)
    }

    /// Reads every `*.yaml`/`*.yml` file directly in `directory` (not `tests/`), in name order, and checks them
    /// together. A missing directory is an empty configuration.
    public static func load(
        directory: String, extraAlarms: Set<String> = [], extraTopics: Set<String> = []
    )
        -> (AlertConfiguration, [AlertFileError])
    {
        var config = AlertConfiguration()
        var errors: [AlertFileError] = []
        for path in alertFiles(in: directory) {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                errors.append(AlertFileError(file: path, line: 0, field: "", message: "cannot read the file"))
                continue
            }
            let (fileConfig, fileErrors) = parse(text, file: path)
            config.merge(fileConfig)
            errors += fileErrors
        }
        errors += config.crossCheck(extraAlarms: extraAlarms, extraTopics: extraTopics)
        return (config, errors)
    }

    public static func alertFiles(in directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted().map { directory + "/" + $0 }
    }

    /// An alarm sent to `PUT /api/v1/alarms/{name}` as JSON (or YAML): metric fields, or `rule` for a composite.
    public static func parseAlarmDocument(_ text: String, name: String) -> Result<AlarmDefinition, AlertFileErrors> {
        AlarmParser.parseDocument(text, name: name, reader: reader)
    }

    /// A metric filter sent to `PUT /api/v1/metric-filters/{name}` (the alert-file fields as JSON).
    public static func parseMetricFilterDocument(_ text: String, name: String) -> Result<MetricFilter, AlertFileErrors>
    {
        let root: ConfigNode?
        do throws(AlertFileError) { root = try reader.read(text, file: "request body") } catch {
            return .failure(
                AlertFileErrors([
                    AlertFileError(
                        file: "request body", line: 1, field: "", message: "not valid JSON: \(error.message)")
                ]))
        }
        return MetricFilter.parseDocument(root, name: name)
    }
}
