import Foundation
import PlumbAPI

/// The shapes Lambda answers with: a function's configuration and a provisioned concurrency config.
extension LambdaService {
    func configuration(_ function: AWSLambdaFunction) -> JSONValue {
        var output: [String: JSONValue] = [
            "FunctionName": .string(function.name), "FunctionArn": .string(functionARN(function.name)),
            "Handler": .string(function.name), "MemorySize": .number(Double(function.memoryMB)),
            "Description": .string(function.trigger), "Version": .string("$LATEST"), "State": .string("Active"),
            "PackageType": .string("Zip"), "LastUpdateStatus": .string("Successful"),
        ]
        if let handler = function.handler {
            output["Runtime"] = .string(handler.runtime)
            output["Handler"] = .string(handler.handler)
            output["Timeout"] = .number(Double(handler.timeout))
            output["Description"] = .string(handler.description)
            output["Environment"] = .object(["Variables": .object(handler.environment.mapValues { .string($0) })])
            if let role = handler.role { output["Role"] = .string("arn:aws:iam::\(names.account):role/\(role)") }
            output["CodeSha256"] = .string(handler.codeSHA256)
            output["CodeSize"] = .number(Double(handler.codeSize))
            output["Architectures"] = .array([.string("x86_64")])
            if handler.lastModified > 0 { output["LastModified"] = .string(Self.lambdaTime(handler.lastModified)) }
        }
        return .object(output)
    }

    /// Lambda's `LastModified`: `2026-12-07T20:40:00.000+0000`.
    static func lambdaTime(_ milliseconds: Int64) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSSZ"
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1_000))
    }

    func provisionedConfig(_ function: AWSLambdaFunction) -> [String: JSONValue] {
        let ready = function.provisionedInstances >= function.provisioned
        return [
            "RequestedProvisionedConcurrentExecutions": .number(Double(function.provisioned)),
            "AllocatedProvisionedConcurrentExecutions": .number(Double(function.provisionedInstances)),
            "AvailableProvisionedConcurrentExecutions": .number(Double(function.provisionedInstances)),
            "Status": .string(ready ? "READY" : "IN_PROGRESS"),
        ]
    }
}
