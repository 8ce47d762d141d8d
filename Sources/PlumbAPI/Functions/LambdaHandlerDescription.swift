/// A Lambda handler's definition, as `GET /api/v1/functions/{name}` shows it.
public struct LambdaHandlerDescription: Codable, Sendable, Equatable {
    /// As it was asked for (`python3.12`, `provided.al2023`); Plumb runs the system's Python 3 or the `bootstrap`.
    public var runtime: String
    public var handler: String
    /// Seconds an invocation may run.
    public var timeout: Int
    public var memoryMB: Int
    /// The IAM user whose policies its credentials carry.
    public var role: String?
    public var environment: [String: String]
    public var description: String
    /// `config` (the config file's `functions:`) or `api` (made through the API; it may be updated and deleted).
    public var definedBy: String
    /// The zip file's SHA-256 (base64) and size, and when it last changed (ms since the epoch): API-made only.
    public var codeSHA256: String?
    public var codeSize: Int?
    public var lastModified: Int64?

    public init(
        runtime: String, handler: String, timeout: Int, memoryMB: Int, role: String?, environment: [String: String],
        description: String, definedBy: String, codeSHA256: String?, codeSize: Int?, lastModified: Int64?
    ) {
        self.runtime = runtime
        self.handler = handler
        self.timeout = timeout
        self.memoryMB = memoryMB
        self.role = role
        self.environment = environment
        self.description = description
        self.definedBy = definedBy
        self.codeSHA256 = codeSHA256
        self.codeSize = codeSize
        self.lastModified = lastModified
    }
}

/// `PUT /api/v1/functions/{name}`: a Lambda handler to make, or the changes to one made through the API (every key
/// optional on a change; `runtime`, `handler` and `zipFile` required to make one).
public struct LambdaHandlerRequest: Codable, Sendable, Equatable {
    /// `python3`, `python3.N`, `provided`, `provided.al2` or `provided.al2023`.
    public var runtime: String?
    /// `module.function` for Python; given to a `provided` runtime's `bootstrap` as `_HANDLER`.
    public var handler: String?
    /// The code: a zip file, base64 (at most 50 MB zipped, 250 MB unzipped).
    public var zipFile: String?
    public var environment: [String: String]?
    public var timeout: Int?
    public var memoryMB: Int?
    /// An IAM user to act as; an empty string removes it.
    public var role: String?
    public var description: String?

    public init(
        runtime: String? = nil, handler: String? = nil, zipFile: String? = nil, environment: [String: String]? = nil,
        timeout: Int? = nil, memoryMB: Int? = nil, role: String? = nil, description: String? = nil
    ) {
        self.runtime = runtime
        self.handler = handler
        self.zipFile = zipFile
        self.environment = environment
        self.timeout = timeout
        self.memoryMB = memoryMB
        self.role = role
        self.description = description
    }
}
