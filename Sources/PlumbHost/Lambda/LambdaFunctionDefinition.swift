import Foundation
import PlumbKit

/// A function whose code is a Lambda handler run by a runtime process (the config file's `functions.NAME` entry
/// with a `runtime`), as Lambda's `CreateFunction` describes one.
public struct LambdaFunctionDefinition: Sendable, Equatable {
    public enum Runtime: String, Sendable, Equatable, CaseIterable {
        /// The system's Python 3 with `awslambdaric` (`python3 -m awslambdaric HANDLER`).
        case python3
        /// Any `bootstrap` executable in the code directory that speaks the Runtime API.
        case provided
    }

    /// Letters, digits, `-` and `_`, at most 64 (Lambda's function names).
    public var name: String
    public var runtime: Runtime
    /// `module.function` for Python (`app.handler`); passed to a `provided` runtime as `_HANDLER`.
    public var handler: String
    /// The directory holding the code (Lambda's task root).
    public var codeDirectory: String
    /// Variables given to the process besides Lambda's own.
    public var environment: [String: String] = [:]
    /// Seconds an invocation may run (1 to 900, Lambda's default 3).
    public var timeout = 3
    /// Lambda's `MemorySize` (128 to 10,240): the process's memory cgroup (or data segment) is limited to it.
    public var memoryMB = 128
    /// How it is called besides the invoke APIs: an HTTP route at `/apps/lambda<path>` (API Gateway's proxy event
    /// in, its proxy answer out), a schedule (EventBridge's scheduled event), or `.event` (invocations and topics).
    public var trigger: Trigger = .event
    /// Who may call its HTTP route.
    public var access: Access = .user

    public init(name: String, runtime: Runtime, handler: String, codeDirectory: String) {
        self.name = name
        self.runtime = runtime
        self.handler = handler
        self.codeDirectory = codeDirectory
    }

    /// Lambda's names: `[A-Za-z0-9_-]{1,64}`.
    public static func validName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64
            && name.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-"
                    || $0 == "_"
            }
    }

    /// What is wrong with the definition, or nil.
    public func problem() -> String? {
        if let problem = settingsProblem() { return problem }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: codeDirectory, isDirectory: &isDirectory), isDirectory.boolValue
        else { return "code '\(codeDirectory)' is not a directory" }
        if runtime == .provided, !FileManager.default.isExecutableFile(atPath: codeDirectory + "/bootstrap") {
            return "a provided runtime needs an executable 'bootstrap' in \(codeDirectory)"
        }
        return nil
    }

    /// What is wrong with the definition's settings (all but its code), or nil.
    public func settingsProblem() -> String? {
        guard Self.validName(name) else { return "name '\(name)' must be 1 to 64 letters, digits, - or _" }
        guard (1...900).contains(timeout) else { return "timeout must be 1 to 900 seconds" }
        guard (128...10_240).contains(memoryMB) else { return "memory_mb must be 128 to 10240" }
        guard !handler.isEmpty, handler.utf8.count <= 128,
            handler.unicodeScalars.allSatisfy({ $0.value > 32 && $0.value < 127 })
        else { return "handler must be 1 to 128 printable characters (module.function)" }
        guard access != .admin else { return "access must be public or user" }
        if case .http(_, let path) = trigger, !path.hasPrefix("/") || path.utf8.count > 256 {
            return "route's path must start with / (at most 256 bytes)"
        }
        for key in environment.keys {
            guard let first = key.unicodeScalars.first, ("A"..."Z").contains(first) || ("a"..."z").contains(first),
                key.unicodeScalars.allSatisfy({
                    ("A"..."Z").contains($0) || ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_"
                })
            else { return "environment variable name '\(key)' must be letters, digits and _" }
            if LambdaProcess.reservedVariables.contains(key) { return "environment variable \(key) is Lambda's own" }
        }
        return nil
    }

    /// The definition with `${PLUMB_DATA}` in its environment's values replaced by the server's data directory.
    func expanding(dataDirectory: String) -> LambdaFunctionDefinition {
        var expanded = self
        expanded.environment = environment.mapValues {
            $0.replacingOccurrences(of: "${PLUMB_DATA}", with: dataDirectory)
        }
        return expanded
    }
}
