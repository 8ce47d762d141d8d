import Foundation
import PlumbAPI

/// CreateFunction, UpdateFunctionCode, UpdateFunctionConfiguration and DeleteFunction: Lambda handlers made from a
/// zip file (`Code.ZipFile`), with the admin's key only (a handler is code run on the server's host).
extension LambdaService {
    static let iamActions = [
        "POST 2015-03-31/functions": "functions:CreateFunction",
        "PUT 2015-03-31/functions/{name}/code": "functions:UpdateFunctionCode",
        "PUT 2015-03-31/functions/{name}/configuration": "functions:UpdateFunctionConfiguration",
        "DELETE 2015-03-31/functions/{name}": "functions:DeleteFunction",
    ]

    func manage(
        _ key: String, name pathName: String, body: [UInt8], caller: AWSCaller, requestID: String
    ) async throws -> AWSResponse {
        let input = try object(body)
        let name: String
        if key == "POST 2015-03-31/functions" {
            guard case .string(let given)? = input["FunctionName"] else {
                throw Self.invalid("FunctionName is required")
            }
            name = given
        } else {
            name = Self.plainName(pathName)
        }
        guard caller.isAdmin else {
            throw AWSError(
                code: "AccessDeniedException",
                "only the admin's access key may make, change or delete functions (a function is code run on the host)",
                status: 403)
        }
        try caller.authorize(Self.iamActions[key] ?? "functions:CreateFunction", "function/\(name)")
        switch key {
        case "POST 2015-03-31/functions":
            let settings = try Self.settings(input, creating: true)
            guard case .object(let code)? = input["Code"] else { throw Self.invalid("Code is required") }
            try await backend.createFunction(name, settings, zip: try Self.zipFile(code))
            return try described(name, status: 201)
        case "PUT 2015-03-31/functions/{name}/code":
            for member in ["S3Bucket", "S3Key", "S3ObjectVersion", "ImageUri"] where input[member] != nil {
                throw Self.invalid("\(member) is not served here: send the code as ZipFile")
            }
            try await backend.updateFunction(name, AWSLambdaSettings(), zip: try Self.zipFile(input))
            return try described(name, status: 200)
        case "PUT 2015-03-31/functions/{name}/configuration":
            try await backend.updateFunction(name, try Self.settings(input, creating: false), zip: nil)
            return try described(name, status: 200)
        default:
            try await backend.deleteFunction(name)
            return AWSResponse(status: 204, headers: [("x-amzn-RequestId", requestID)])
        }
    }

    private func described(_ name: String, status: Int) throws -> AWSResponse {
        guard let function = backend.function(named: name) else {
            throw AWSError(code: "ResourceNotFoundException", "Function not found: \(functionARN(name))", status: 404)
        }
        return json(configuration(function).object ?? [:], status: status)
    }

    /// A name or ARN without a qualifier.
    static func plainName(_ text: String) -> String {
        if text.hasPrefix("arn:"), let range = text.range(of: ":function:") {
            return String(text[range.upperBound...].prefix { $0 != ":" })
        }
        return String(text.prefix { $0 != ":" })
    }

    /// `ZipFile` (a blob: base64 in JSON); the other ways of giving code are refused by name.
    static func zipFile(_ code: [String: JSONValue]) throws -> [UInt8] {
        for member in ["S3Bucket", "S3Key", "S3ObjectVersion", "ImageUri"] where code[member] != nil {
            throw invalid("Code.\(member) is not served here: send the code as ZipFile")
        }
        guard case .string(let text)? = code["ZipFile"], let bytes = Data(base64Encoded: text), !bytes.isEmpty else {
            throw invalid("ZipFile is required: the function's code as a zip file")
        }
        return Array(bytes)
    }

    /// The settings of CreateFunction or UpdateFunctionConfiguration, checked for type and range.
    static func settings(_ input: [String: JSONValue], creating: Bool) throws -> AWSLambdaSettings {
        var settings = AWSLambdaSettings()
        func string(_ member: String) throws -> String? {
            switch input[member] {
            case nil, .null?: return nil
            case .string(let text)?: return text
            default: throw invalid("\(member) must be a string")
            }
        }
        func integer(_ member: String, _ range: ClosedRange<Int>) throws -> Int? {
            switch input[member] {
            case nil, .null?: return nil
            case .number(let n)?:
                guard let value = Int(exactly: n), range.contains(value) else {
                    throw invalid("\(member) must be a whole number from \(range.lowerBound) to \(range.upperBound)")
                }
                return value
            default: throw invalid("\(member) must be a number")
            }
        }
        settings.runtime = try string("Runtime")
        settings.handler = try string("Handler")
        settings.description = try string("Description")
        settings.timeout = try integer("Timeout", 1...900)
        settings.memoryMB = try integer("MemorySize", 128...10_240)
        if let role = try string("Role") {
            // arn:aws:iam::ACCOUNT:role/NAME (or role/path/NAME): the IAM user NAME.
            guard role.hasPrefix("arn:"), let range = role.range(of: ":role/"),
                let user = role[range.upperBound...].split(separator: "/").last, !user.isEmpty
            else {
                throw invalid("Role must be a role's ARN (arn:aws:iam::ACCOUNT:role/NAME); NAME is an IAM user here")
            }
            settings.role = .some(String(user))
        } else if creating {
            throw invalid("Role is required: a role's ARN (arn:aws:iam::ACCOUNT:role/NAME), NAME an IAM user here")
        }
        switch input["Environment"] {
        case nil, .null?: break
        case .object(let environment)?:
            var variables: [String: String] = [:]
            if case .object(let given)? = environment["Variables"] {
                for (key, value) in given {
                    guard case .string(let text) = value else { throw invalid("Environment.Variables must be strings") }
                    variables[key] = text
                }
            }
            settings.environment = variables
        default: throw invalid("Environment must be {\"Variables\": {...}}")
        }
        if creating, settings.runtime == nil || settings.handler == nil {
            throw invalid("Runtime and Handler are required for a function from a zip file")
        }
        return settings
    }
}
