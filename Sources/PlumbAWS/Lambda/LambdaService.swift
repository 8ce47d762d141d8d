import Foundation
import PlumbAPI

/// A hosted function as the Lambda API describes it.
public struct AWSLambdaFunction: Sendable {
    public var name: String
    public var plugin: String
    public var memoryMB: Int
    /// How it is reached (`POST /apps/sentiment/analyze`, a schedule, `event`), as its description.
    public var trigger: String
    public var reserved: Int?
    public var provisioned: Int
    public var provisionedInstances: Int
    /// A Lambda handler's definition; nil for a plugin's function.
    public var handler: AWSLambdaHandler?

    public init(
        name: String, plugin: String, memoryMB: Int, trigger: String, reserved: Int?, provisioned: Int,
        provisionedInstances: Int, handler: AWSLambdaHandler? = nil
    ) {
        self.handler = handler
        self.name = name
        self.plugin = plugin
        self.memoryMB = memoryMB
        self.trigger = trigger
        self.reserved = reserved
        self.provisioned = provisioned
        self.provisionedInstances = provisionedInstances
    }
}

/// A Lambda handler as `CreateFunction` makes one and `GetFunctionConfiguration` describes it.
public struct AWSLambdaHandler: Sendable {
    public var runtime: String
    public var handler: String
    public var timeout: Int
    /// The IAM user its role is (`arn:aws:iam::ACCOUNT:role/NAME` names the user NAME).
    public var role: String?
    public var environment: [String: String]
    public var description: String
    /// Whether it was made through the API (so it may be updated and deleted).
    public var madeByAPI: Bool
    public var codeSHA256: String
    public var codeSize: Int
    /// Milliseconds since the epoch.
    public var lastModified: Int64

    public init(
        runtime: String, handler: String, timeout: Int, role: String?, environment: [String: String],
        description: String, madeByAPI: Bool, codeSHA256: String, codeSize: Int, lastModified: Int64
    ) {
        self.runtime = runtime
        self.handler = handler
        self.timeout = timeout
        self.role = role
        self.environment = environment
        self.description = description
        self.madeByAPI = madeByAPI
        self.codeSHA256 = codeSHA256
        self.codeSize = codeSize
        self.lastModified = lastModified
    }
}

/// A handler's settings as `CreateFunction` and `UpdateFunctionConfiguration` give them (nil: not given).
public struct AWSLambdaSettings: Sendable, Equatable {
    public var runtime: String?
    public var handler: String?
    public var timeout: Int?
    public var memoryMB: Int?
    /// `.some(nil)`: no role.
    public var role: String??
    public var environment: [String: String]?
    public var description: String?

    public init() {}
}

/// What an invocation gave: the payload, Lambda's `FunctionError` when the function failed, and the tail of its log.
public struct AWSLambdaResult: Sendable {
    public var payload: [UInt8]
    public var functionError: String?
    public var logTail: String?

    public init(payload: [UInt8], functionError: String? = nil, logTail: String? = nil) {
        self.payload = payload
        self.functionError = functionError
        self.logTail = logTail
    }
}

/// What the Lambda API needs of the host: its functions, invocation (synchronous and queued) and concurrency.
public protocol AWSLambdaBackend: Sendable {
    func functions() -> [AWSLambdaFunction]
    func function(named name: String) -> AWSLambdaFunction?
    /// Runs the function with `payload`; a throttle throws (`TooManyRequestsException`), a function's failure is
    /// the result's `functionError`.
    func invoke(_ name: String, payload: [UInt8], logTail: Bool) async throws -> AWSLambdaResult
    /// The action an operator-only function also needs (its `admin_action`), nil for other functions.
    func adminAction(of name: String) -> String?
    /// Queues an async event (Lambda's `Event` invocation, retried by its rules); its id.
    func enqueue(_ name: String, payload: [UInt8]) async throws -> String
    func setReserved(_ name: String, _ value: Int?) async throws
    func setProvisioned(_ name: String, _ value: Int) async throws
    /// The account's concurrency limit and what is left unreserved.
    func accountLimits() -> (concurrent: Int, unreserved: Int)
    /// Makes a handler from a zip file (`ResourceConflictException` when the name is taken).
    func createFunction(_ name: String, _ settings: AWSLambdaSettings, zip: [UInt8]) async throws
    /// Changes a handler made through the API: its code, its settings, or both.
    func updateFunction(_ name: String, _ settings: AWSLambdaSettings, zip: [UInt8]?) async throws
    func deleteFunction(_ name: String) async throws
}

/// Lambda (`lambda`, REST-JSON) over the host: `Invoke` runs the same function `plumb functions` lists — an HTTP
/// function's payload is its JSON request body and its response body the returned payload — and the concurrency
/// operations are the host's reserved and provisioned concurrency. Authorized with Plumb's actions
/// (`lambda:InvokeFunction` is `functions:InvokeFunction` on `function/NAME`).
public struct LambdaService: Sendable {
    public static let signingName = "lambda"
    /// The largest payloads, as Lambda: 6 MB synchronous, 256 KB queued (`Event`).
    static let maxSyncPayload = 6 * 1_048_576
    static let maxEventPayload = 256 * 1_024
    static let pageSize = 50

    let backend: any AWSLambdaBackend
    let names: AWSNames

    public init(backend: any AWSLambdaBackend, names: AWSNames) {
        self.backend = backend
        self.names = names
    }

    /// Whether `path` is one of the Lambda API's (they begin with the API version the model gives each operation).
    static func serves(_ path: String) -> Bool {
        ["/2015-03-31/", "/2017-10-31/", "/2019-09-30/", "/2016-08-19/"].contains { path.hasPrefix($0) }
    }

    func handle(_ request: AWSRequest, body: [UInt8], caller: AWSCaller, requestID: String) async throws -> AWSResponse
    {
        let segments = request.path.split(separator: "/", omittingEmptySubsequences: true).map {
            String($0).removingPercentEncoding ?? String($0)
        }
        let query = Dictionary(FormQuery.pairs(request.query), uniquingKeysWith: { _, last in last })
        // The route as the model writes it (`GET 2015-03-31 functions/{name}/configuration`) and the name in it.
        var route = segments
        var name = ""
        if route.count >= 3, route[1] == "functions" {
            name = route[2]
            route[2] = "{name}"
        }
        let key = "\(request.method) " + route.joined(separator: "/")
        return try await AWSOperation.run("lambda:" + (Self.operations[key] ?? "Unknown")) {
            try await run(
                key, name: name, query: query, request: request, body: body, caller: caller,
                requestID: requestID)
        }
    }

    /// Each route's operation, as AWS IAM names Lambda's actions (`lambda:InvokeFunction`).
    static let operations: [String: String] = [
        "GET 2016-08-19/account-settings": "GetAccountSettings", "GET 2015-03-31/functions": "ListFunctions",
        "POST 2015-03-31/functions": "CreateFunction", "DELETE 2015-03-31/functions/{name}": "DeleteFunction",
        "PUT 2015-03-31/functions/{name}/code": "UpdateFunctionCode",
        "PUT 2015-03-31/functions/{name}/configuration": "UpdateFunctionConfiguration",
        "GET 2015-03-31/functions/{name}": "GetFunction",
        "GET 2015-03-31/functions/{name}/configuration": "GetFunctionConfiguration",
        "POST 2015-03-31/functions/{name}/invocations": "InvokeFunction",
        "PUT 2017-10-31/functions/{name}/concurrency": "PutFunctionConcurrency",
        "GET 2019-09-30/functions/{name}/concurrency": "GetFunctionConcurrency",
        "DELETE 2017-10-31/functions/{name}/concurrency": "DeleteFunctionConcurrency",
        "PUT 2019-09-30/functions/{name}/provisioned-concurrency": "PutProvisionedConcurrencyConfig",
        "GET 2019-09-30/functions/{name}/provisioned-concurrency": "GetProvisionedConcurrencyConfig",
        "DELETE 2019-09-30/functions/{name}/provisioned-concurrency": "DeleteProvisionedConcurrencyConfig",
    ]

    func run(
        _ key: String, name: String, query: [String: String], request: AWSRequest, body: [UInt8],
        caller: AWSCaller, requestID: String
    ) async throws -> AWSResponse {
        switch key {
        case "GET 2016-08-19/account-settings":
            try caller.authorize("functions:ListFunctions", "function/*")
            let limits = backend.accountLimits()
            return json([
                "AccountLimit": .object([
                    "ConcurrentExecutions": .number(Double(limits.concurrent)),
                    "UnreservedConcurrentExecutions": .number(Double(limits.unreserved)),
                    "TotalCodeSize": .number(0), "CodeSizeUnzipped": .number(262_144_000),
                    "CodeSizeZipped": .number(52_428_800),
                ]),
                "AccountUsage": .object([
                    "FunctionCount": .number(Double(backend.functions().count)), "TotalCodeSize": .number(0),
                ]),
            ])
        case "GET 2015-03-31/functions":
            return try listFunctions(query, caller: caller)
        case "POST 2015-03-31/functions", "PUT 2015-03-31/functions/{name}/code",
            "PUT 2015-03-31/functions/{name}/configuration", "DELETE 2015-03-31/functions/{name}":
            return try await manage(key, name: name, body: body, caller: caller, requestID: requestID)
        case "GET 2015-03-31/functions/{name}":
            let function = try self.function(name, caller: caller, action: "functions:GetFunction")
            var output: [String: JSONValue] = ["Configuration": configuration(function)]
            if let reserved = function.reserved {
                output["Concurrency"] = .object(["ReservedConcurrentExecutions": .number(Double(reserved))])
            }
            return json(output)
        case "GET 2015-03-31/functions/{name}/configuration":
            return json(
                configuration(try function(name, caller: caller, action: "functions:GetFunction")).object ?? [:])
        case "POST 2015-03-31/functions/{name}/invocations":
            return try await invoke(name, request: request, body: body, caller: caller, requestID: requestID)
        case "PUT 2017-10-31/functions/{name}/concurrency":
            let function = try self.function(name, caller: caller, action: "functions:PutFunctionConcurrency")
            let input = try object(body)
            guard case .number(let n)? = input["ReservedConcurrentExecutions"], let value = Int(exactly: n), value >= 0
            else { throw Self.invalid("ReservedConcurrentExecutions must be a whole number ≥ 0") }
            try await backend.setReserved(function.name, value)
            return json(["ReservedConcurrentExecutions": .number(Double(value))])
        case "GET 2019-09-30/functions/{name}/concurrency":
            let function = try self.function(name, caller: caller, action: "functions:GetFunction")
            return json(function.reserved.map { ["ReservedConcurrentExecutions": .number(Double($0))] } ?? [:])
        case "DELETE 2017-10-31/functions/{name}/concurrency":
            let function = try self.function(name, caller: caller, action: "functions:PutFunctionConcurrency")
            try await backend.setReserved(function.name, nil)
            return AWSResponse(status: 204, headers: [("x-amzn-RequestId", requestID)])
        case "PUT 2019-09-30/functions/{name}/provisioned-concurrency",
            "GET 2019-09-30/functions/{name}/provisioned-concurrency",
            "DELETE 2019-09-30/functions/{name}/provisioned-concurrency":
            return try await provisioned(
                request.method, name, query: query, body: body, caller: caller, requestID: requestID)
        default:
            throw AWSError(
                code: "UnknownOperationException", type: "UnknownOperationException",
                "Lambda has no operation \(request.method) \(request.path.prefix(200)) on this endpoint", status: 404)
        }
    }

    // MARK: - Operations

    func listFunctions(_ query: [String: String], caller: AWSCaller) throws -> AWSResponse {
        try caller.authorize("functions:ListFunctions", "function/*")
        let all = backend.functions().sorted { $0.name < $1.name }
        var limit = Self.pageSize
        if let text = query["MaxItems"] {
            guard let n = Int(text), (1...10_000).contains(n) else { throw Self.invalid("MaxItems must be 1…10000") }
            limit = n
        }
        var offset = 0
        if let marker = query["Marker"] {
            guard let n = AWSPageToken.offset(marker, count: all.count) else {
                throw Self.invalid("Marker is not one this endpoint gave")
            }
            offset = n
        }
        let page = all.dropFirst(offset).prefix(limit)
        var output: [String: JSONValue] = ["Functions": .array(page.map(configuration))]
        if offset + page.count < all.count { output["NextMarker"] = AWSPageToken.encode(offset + page.count) }
        return json(output)
    }

    func invoke(
        _ name: String, request: AWSRequest, body: [UInt8], caller: AWSCaller, requestID: String
    ) async throws -> AWSResponse {
        let function = try self.function(name, caller: caller, action: "functions:InvokeFunction")
        // An operator-only function also needs its own action, as through Plumb's API.
        if let admin = backend.adminAction(of: function.name) {
            try caller.authorize(admin, "function/\(function.name)")
        }
        let type = request.header("x-amz-invocation-type") ?? "RequestResponse"
        let tail: Bool
        switch request.header("x-amz-log-type") ?? "None" {
        case "None": tail = false
        case "Tail": tail = true
        case let other: throw Self.invalid("X-Amz-Log-Type '\(other.prefix(20))' is not None or Tail")
        }
        if let qualifier = FormQuery.parse(request.query)["Qualifier"], qualifier != "$LATEST" {
            throw Self.invalid("Qualifier '\(qualifier.prefix(40))': functions here have one version, $LATEST")
        }
        switch type {
        case "RequestResponse":
            guard body.count <= Self.maxSyncPayload else {
                throw AWSError(
                    code: "RequestTooLargeException", "Request must be smaller than \(Self.maxSyncPayload) bytes",
                    status: 413)
            }
            let result = try await backend.invoke(function.name, payload: body, logTail: tail)
            var headers: [(name: String, value: String)] = [
                ("Content-Type", "application/json"), ("x-amzn-RequestId", requestID),
                ("X-Amz-Executed-Version", "$LATEST"),
            ]
            if let error = result.functionError { headers.append(("X-Amz-Function-Error", error)) }
            if tail, let log = result.logTail {
                // The last 4 KB, as Lambda (cut on a character boundary).
                var bytes = Array(log.utf8.suffix(4_096))
                while let first = bytes.first, first & 0xC0 == 0x80 { bytes.removeFirst() }
                headers.append(("X-Amz-Log-Result", Data(bytes).base64EncodedString()))
            }
            return AWSResponse(status: 200, headers: headers, body: result.payload)
        case "Event":
            guard body.count <= Self.maxEventPayload else {
                throw AWSError(
                    code: "RequestTooLargeException",
                    "An Event invocation's payload must be smaller than \(Self.maxEventPayload) bytes", status: 413)
            }
            _ = try await backend.enqueue(function.name, payload: body)
            return AWSResponse(status: 202, headers: [("x-amzn-RequestId", requestID)])
        case "DryRun":
            return AWSResponse(status: 204, headers: [("x-amzn-RequestId", requestID)])
        default:
            throw Self.invalid("X-Amz-Invocation-Type '\(type.prefix(20))' is not RequestResponse, Event or DryRun")
        }
    }

    func provisioned(
        _ method: String, _ name: String, query: [String: String], body: [UInt8], caller: AWSCaller,
        requestID: String
    ) async throws -> AWSResponse {
        guard let qualifier = query["Qualifier"], !qualifier.isEmpty else {
            throw Self.invalid("Qualifier is required (an alias or version; here every qualifier names the function)")
        }
        let action = method == "GET" ? "functions:GetFunction" : "functions:PutFunctionConcurrency"
        var function = try self.function(name, caller: caller, action: action)
        switch method {
        case "PUT":
            let input = try object(body)
            guard case .number(let n)? = input["ProvisionedConcurrentExecutions"], let value = Int(exactly: n),
                value >= 1
            else { throw Self.invalid("ProvisionedConcurrentExecutions must be a whole number ≥ 1") }
            try await backend.setProvisioned(function.name, value)
            function = backend.function(named: function.name) ?? function
            return json(provisionedConfig(function), status: 202)
        case "GET":
            guard function.provisioned > 0 else {
                throw AWSError(
                    code: "ProvisionedConcurrencyConfigNotFoundException",
                    "No Provisioned Concurrency Config found for this function", status: 404)
            }
            return json(provisionedConfig(function))
        case "DELETE":
            try await backend.setProvisioned(function.name, 0)
            return AWSResponse(status: 204, headers: [("x-amzn-RequestId", requestID)])
        default:
            throw AWSError(code: "UnknownOperationException", "no \(method) on provisioned-concurrency", status: 404)
        }
    }

    func functionARN(_ name: String) -> String {
        "arn:aws:lambda:\(names.region):\(names.account):function:\(name)"
    }

    /// The function a path names (by name or ARN, without a version), once the caller may do `action` on it.
    func function(_ text: String, caller: AWSCaller, action: String) throws -> AWSLambdaFunction {
        var name = text
        if text.hasPrefix("arn:"), let range = text.range(of: ":function:") {
            name = String(text[range.upperBound...])
        }
        if let colon = name.firstIndex(of: ":") {
            guard name[name.index(after: colon)...] == "$LATEST" else {
                throw Self.invalid("functions here have one version, $LATEST")
            }
            name = String(name[..<colon])
        }
        try caller.authorize(action, "function/\(name)")
        guard let function = backend.function(named: name) else {
            throw AWSError(
                code: "ResourceNotFoundException", "Function not found: \(functionARN(name))", status: 404)
        }
        return function
    }

    func object(_ body: [UInt8]) throws -> [String: JSONValue] {
        guard !body.isEmpty else { return [:] }
        guard case .object(let members)? = try? JSONValue.parse(body) else {
            throw Self.invalid("the body is not a JSON object")
        }
        return members
    }

    func json(_ output: [String: JSONValue], status: Int = 200) -> AWSResponse {
        AWSResponse(
            status: status, headers: [("Content-Type", "application/json")],
            body: AWSJSON.encode(.object(output), types: AWSMemberTypes()))
    }

    static func invalid(_ message: String) -> AWSError {
        AWSError(code: "InvalidParameterValueException", message)
    }
}
