import Foundation
import PlumbAPI
import PlumbLogs

/// PutMetricFilter, DescribeMetricFilters and DeleteMetricFilter: a filter made through boto3 is a metric filter made
/// through Plumb's API (stored as its document, installed on every node), and the alert files' filters are listed.
extension LogsService {
    func putMetricFilter(
        _ input: [String: JSONValue], group: String, caller: AWSCaller
    ) async throws -> [String:
        JSONValue]
    {
        let name = try string(input, "filterName")
        let pattern = try optionalString(input, "filterPattern") ?? ""
        guard case .array(let transformations)? = input["metricTransformations"], transformations.count == 1,
            case .object(let t) = transformations[0]
        else { throw Self.error("InvalidParameterException", "metricTransformations must hold exactly one") }
        guard let metric = t["metricName"]?.string, let namespace = t["metricNamespace"]?.string,
            let valueText = t["metricValue"]?.string
        else {
            throw Self.error(
                "InvalidParameterException", "a metric transformation needs metricName, metricNamespace and metricValue"
            )
        }
        var document: [String: JSONValue] = [
            "log_group": .string(group), "pattern": .string(pattern), "namespace": .string(namespace),
            "metric": .string(metric),
        ]
        if valueText.hasPrefix("$") {
            document["value"] = .string(valueText)
        } else if let number = Double(valueText), number.isFinite {
            document["value"] = .number(number)
        } else {
            throw Self.error("InvalidParameterException", "metricValue must be a number or a $field")
        }
        if let defaultValue = t["defaultValue"] { document["default_value"] = defaultValue }
        if let unit = t["unit"]?.string { document["unit"] = .string(unit) }
        if case .object(let dimensions)? = t["dimensions"] { document["dimensions"] = .object(dimensions) }
        let text = String(decoding: try JSONEncoder().encode(JSONValue.object(document)), as: UTF8.self)
        let filter: MetricFilter
        do {
            switch MetricFilter.parseDocument(try JSONConfigReader().read(text, file: "request"), name: name) {
            case .success(let parsed): filter = parsed
            case .failure(let errors):
                throw Self.error(
                    "InvalidParameterException",
                    errors.errors.map { $0.field.isEmpty ? $0.message : "\($0.field): \($0.message)" }.joined(
                        separator: "; "))
            }
        } catch let error as AlertFileError {
            throw Self.error("InvalidParameterException", error.message)
        }
        let existing = store.metricFilters.first { $0.filter.name == name }
        if existing?.fromFile == true {
            throw Self.error(
                "InvalidParameterException", "metric filter '\(name)' is declared in an alert file; change it there")
        }
        // The audit trail's filters and the platform's namespaces are the admin's, as through Plumb's API.
        if !caller.isAdmin,
            filter.group == "/plumb/audit" || filter.namespace.hasPrefix("Plumb/")
                || existing?.filter.group == "/plumb/audit"
        {
            throw AWSError(
                code: "AccessDeniedException",
                "metric filters on /plumb/audit and into the Plumb/ namespaces are reserved to the admin key",
                status: 400)
        }
        try await store.storeMetricFilterDocument(name: name, document: text)
        try await reinstallFilters()
        return [:]
    }

    func describeMetricFilters(_ input: [String: JSONValue]) throws -> [String: JSONValue] {
        let group = try optionalString(input, "logGroupName")
        let prefix = try optionalString(input, "filterNamePrefix")
        let metric = try optionalString(input, "metricName")
        let namespace = try optionalString(input, "metricNamespace")
        if (metric == nil) != (namespace == nil) {
            throw Self.error("InvalidParameterException", "metricName and metricNamespace go together")
        }
        let filters = store.metricFilters.map(\.filter).filter { filter in
            (group.map { filter.group == $0 } ?? true) && (prefix.map { filter.name.hasPrefix($0) } ?? true)
                && (metric.map { filter.metric == $0 } ?? true) && (namespace.map { filter.namespace == $0 } ?? true)
        }.sorted { $0.name < $1.name }
        let size = try limit(input, default: 50, max: 50)
        let start = try offset(input, count: filters.count)
        let page = filters.dropFirst(start).prefix(size)
        var output: [String: JSONValue] = [
            "metricFilters": .array(
                page.map { filter in
                    var transformation: [String: JSONValue] = [
                        "metricName": .string(filter.metric), "metricNamespace": .string(filter.namespace),
                    ]
                    switch filter.value {
                    case .constant(let value):
                        transformation["metricValue"] = .string(
                            value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value))
                    case .field(let field): transformation["metricValue"] = .string(field)
                    }
                    if let value = filter.defaultValue { transformation["defaultValue"] = .number(value) }
                    if let unit = filter.unit { transformation["unit"] = .string(unit.rawValue) }
                    if !filter.dimensions.isEmpty {
                        transformation["dimensions"] = .object(filter.dimensions.mapValues { .string($0) })
                    }
                    return .object([
                        "filterName": .string(filter.name), "filterPattern": .string(filter.pattern.text),
                        "logGroupName": .string(filter.group),
                        "metricTransformations": .array([.object(transformation)]),
                    ])
                })
        ]
        if start + page.count < filters.count { output["nextToken"] = pageToken(start + page.count) }
        return output
    }

    func deleteMetricFilter(
        _ input: [String: JSONValue], group: String, caller: AWSCaller
    ) async throws -> [String:
        JSONValue]
    {
        let name = try string(input, "filterName")
        guard
            let existing = store.metricFilters.first(where: {
                $0.filter.name == name && $0.filter.group == group && !$0.fromFile
            })
        else {
            throw Self.error(
                "ResourceNotFoundException", "The specified metric filter does not exist (made through an API).")
        }
        if existing.filter.group == "/plumb/audit", !caller.isAdmin {
            throw AWSError(
                code: "AccessDeniedException", "metric filters on /plumb/audit are reserved to the admin key",
                status: 400)
        }
        try await store.storeMetricFilterDocument(name: name, document: nil)
        try await reinstallFilters()
        return [:]
    }
}
