import ArgumentParser
import Foundation
import PlumbAPI
import PlumbStore

/// `plumb functions create|update|delete`: Lambda handlers made through the API from a code directory or a zip file
/// (admin token only: a handler is code run on the server's host).
extension FunctionsCommand {
    /// The code and settings options `create` and `update` share.
    struct HandlerOptions: ParsableArguments {
        @Option(help: "The code: a directory (zipped here, symbolic links refused) or a .zip file.") var code: String?
        @Option(help: "python3 (or python3.N), provided, provided.al2 or provided.al2023.") var runtime: String?
        @Option(help: "module.function for Python (app.handler); _HANDLER for a provided runtime's bootstrap.")
        var handler: String?
        @Option(name: .customLong("env"), help: "An environment variable, NAME=VALUE (repeatable).")
        var environment: [String] = []
        @Option(help: "Seconds an invocation may run (1 to 900; Lambda's default 3).") var timeout: Int?
        @Option(help: "Memory size in MB (128 to 10240): the runtime's memory limit.") var memory: Int?
        @Option(help: "An IAM user whose policies the handler's AWS credentials carry.") var role: String?
        @Option(help: "A description.") var description: String?

        func variables() throws -> [String: String]? {
            guard !environment.isEmpty else { return nil }
            var variables: [String: String] = [:]
            for pair in environment {
                guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                    throw ValidationError("--env takes NAME=VALUE, not '\(pair)'")
                }
                variables[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
            }
            return variables
        }

        /// The code as a zip file, base64.
        func zipFile() throws -> String? {
            guard let code else { return nil }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: code, isDirectory: &isDirectory) else {
                throw ValidationError("--code \(code): no such file or directory")
            }
            let bytes: [UInt8]
            if isDirectory.boolValue {
                do {
                    let files = try ZipArchive.files(in: code)
                    guard !files.isEmpty else { throw ValidationError("--code \(code) has no files") }
                    bytes = try ZipArchive.archive(files)
                } catch let error as ZipArchive.ZipError {
                    throw ValidationError("--code \(code): \(error.description)")
                }
            } else {
                guard let data = FileManager.default.contents(atPath: code) else {
                    throw ValidationError("--code \(code) cannot be read")
                }
                bytes = Array(data)
            }
            guard bytes.count <= 52_428_800 else {
                throw ValidationError("--code is \(bytes.count) bytes zipped; the limit is 50 MB")
            }
            return Data(bytes).base64EncodedString()
        }

        func request(role: String?) throws -> LambdaHandlerRequest {
            LambdaHandlerRequest(
                runtime: runtime, handler: handler, zipFile: try zipFile(), environment: try variables(),
                timeout: timeout, memoryMB: memory, role: role, description: description)
        }
    }

    static func summary(_ verb: String, _ f: FunctionDescription) -> String {
        guard let lambda = f.lambda else { return "\(verb) function \(f.name)" }
        let code = lambda.codeSize.map { ", code \($0) bytes zipped" } ?? ""
        return "\(verb) function \(f.name) (\(lambda.runtime) \(lambda.handler), timeout \(lambda.timeout) s, "
            + "\(lambda.memoryMB) MB\(code))"
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a Lambda handler from a code directory or zip file.",
            discussion: """
                The function is kept in the server's data directory and starts with it; invoke it with
                `plumb functions invoke NAME`, Lambda's Invoke, a topic subscription or an EventBridge rule.
                Example: plumb functions create resize --runtime python3 --handler app.handler --code ./resize \\
                  --env BUCKET=images --timeout 10 --role image-worker
                """)
        @OptionGroup var client: ClientOptions
        @Argument(help: "Function name: 1 to 64 letters, digits, - or _.") var name: String
        @OptionGroup var handler: HandlerOptions

        func validate() throws {
            guard handler.code != nil, handler.runtime != nil, handler.handler != nil else {
                throw ValidationError("create needs --code, --runtime and --handler")
            }
        }

        func run() async throws {
            let body = try JSONEncoder().encode(try handler.request(role: handler.role))
            let (_, answer) = try await client.request(
                .PUT, "/api/v1/functions/\(name)", body: Array(body), headers: [("If-None-Match", "*")])
            if client.output == .json { return client.printJSON(answer) }
            print(summary("created", try client.decode(FunctionDescription.self, answer)))
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a Lambda handler made through the API: its code, its settings, or both.",
            discussion: """
                Options left out keep their values; --env replaces the whole environment. Invocations running finish
                on the old code; the next ones start on the new. Functions the config file defines change there.
                """)
        @OptionGroup var client: ClientOptions
        @Argument(help: "Function name.") var name: String
        @OptionGroup var handler: HandlerOptions
        @Flag(help: "Remove the role (the handler gets no AWS credentials).") var noRole = false

        func validate() throws {
            if noRole && handler.role != nil { throw ValidationError("give --role or --no-role, not both") }
        }

        func run() async throws {
            let body = try JSONEncoder().encode(try handler.request(role: noRole ? "" : handler.role))
            let (_, answer) = try await client.request(
                .PUT, "/api/v1/functions/\(name)", body: Array(body), headers: [("If-Match", "*")])
            if client.output == .json { return client.printJSON(answer) }
            print(summary("updated", try client.decode(FunctionDescription.self, answer)))
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a Lambda handler made through the API (its code and settings are removed).")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Function name.") var name: String

        func run() async throws {
            _ = try await client.request(.DELETE, "/api/v1/functions/\(name)")
            if client.output == .text { print("deleted function \(name)") }
        }
    }
}
