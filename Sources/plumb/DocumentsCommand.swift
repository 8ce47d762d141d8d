import ArgumentParser
import Documents
import Foundation
import NIOHTTP1

/// `plumb documents …`: the document service from the terminal.
struct DocumentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "documents",
        abstract:
            "Documents: upload text files, see their named entities as a word cloud, cluster them into categories.",
        subcommands: [Upload.self, List.self, Cloud.self, Cluster.self, Categories.self, Download.self, Delete.self])

    static func object(_ body: [UInt8]) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]) ?? [:]
    }

    struct Upload: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Upload plain UTF-8 text files (each prints its id and top entities).")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Files to upload.") var files: [String]
        func run() async throws {
            for (n, path) in files.enumerated() {
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw ValidationError("cannot read \(path)")
                }
                let name = (path as NSString).lastPathComponent
                let body = try await client.request(
                    .POST, "/apps/documents/files?name=\(ClientOptions.path(name))", body: Array(data),
                    contentType: "text/plain; charset=utf-8"
                ).body
                if client.output == .json {
                    client.printJSON(body)
                    continue
                }
                let answer = DocumentsCommand.object(body)
                let top = (answer["entities"] as? [[String: Any]] ?? []).prefix(5).map {
                    "\($0["text"] ?? "") (\($0["mentions"] ?? 0))"
                }
                print("[\(n + 1)/\(files.count)] \(name): \(answer["id"] ?? "?")  \(top.joined(separator: ", "))")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the files, optionally of one category.")
        @OptionGroup var client: ClientOptions
        @Option(help: "A category id (see `plumb documents categories`).") var category: Int?
        func run() async throws {
            let body = try await client.request(
                .GET, "/apps/documents/files" + (category.map { "?category=\($0)" } ?? "")
            ).body
            if client.output == .json { return client.printJSON(body) }
            let files = DocumentsCommand.object(body)["files"] as? [[String: Any]] ?? []
            print(
                table(
                    ["ID", "NAME", "BYTES", "CATEGORY"],
                    files.map {
                        [
                            $0["id"] as? String ?? "", $0["name"] as? String ?? "", "\($0["bytes"] ?? "")",
                            ($0["category_name"] as? String) ?? "–",
                        ]
                    }))
        }
    }

    struct Cloud: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "A file's named entities as a terminal word cloud (ranked, coloured, sized by weight); --svg saves the SVG."
        )
        @OptionGroup var client: ClientOptions
        @Argument var id: String
        @Option(help: "Write the SVG word cloud to this file instead.") var svg: String?
        @Option(help: "How many entities to show.") var limit = 30
        func run() async throws {
            if let svg {
                let body = try await client.request(
                    .GET, "/apps/documents/files/\(ClientOptions.path(id))/wordcloud.svg"
                ).body
                FileManager.default.createFile(atPath: svg, contents: Data(body))
                return print("wrote \(svg) (\(body.count) bytes)")
            }
            let body = try await client.request(.GET, "/apps/documents/files/\(ClientOptions.path(id))/entities").body
            if client.output == .json { return client.printJSON(body) }
            let entities = (DocumentsCommand.object(body)["entities"] as? [[String: Any]] ?? []).map {
                ($0["text"] as? String ?? "", $0["mentions"] as? Int ?? 0)
            }
            let columns = Terminal.size().map { $0.width > 20 ? $0.width : 80 } ?? 80
            let colours = isatty(STDOUT_FILENO) != 0 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
            print(
                WordCloud.terminal(
                    entities, columns: columns, colours: colours, limit: limit, unicode: Terminal.showsUnicode),
                terminator: "")
        }
    }

    struct Cluster: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-cluster every file now (k given, or chosen by silhouette over k_min…k_max).")
        @OptionGroup var client: ClientOptions
        @Option(help: "The number of categories.") var k: Int?
        func run() async throws {
            let body = try await client.request(
                .POST, "/apps/documents/cluster", body: Array((k.map { #"{"k": \#($0)}"# } ?? "{}").utf8)
            ).body
            if client.output == .json { return client.printJSON(body) }
            let answer = DocumentsCommand.object(body)
            for t in answer["tried"] as? [[String: Any]] ?? [] {
                print(
                    String(
                        format: "k = %d: silhouette %.3f, inertia %.2f", t["k"] as? Int ?? 0,
                        t["silhouette"] as? Double ?? 0, t["inertia"] as? Double ?? 0))
            }
            print("\(answer["files"] ?? 0) files in \(answer["k"] ?? 0) categories:")
            for c in answer["categories"] as? [[String: Any]] ?? [] {
                print("  \(c["id"] ?? "")  \(c["name"] ?? "")  (\(c["files"] ?? 0) files)")
            }
        }
    }

    struct Categories: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The categories of the last clustering, with their top terms and sizes.")
        @OptionGroup var client: ClientOptions
        func run() async throws {
            let body = try await client.request(.GET, "/apps/documents/categories").body
            if client.output == .json { return client.printJSON(body) }
            let answer = DocumentsCommand.object(body)
            let rows = (answer["categories"] as? [[String: Any]] ?? []).map {
                ["\($0["id"] ?? "")", $0["name"] as? String ?? "", "\($0["files"] ?? 0)"]
            }
            print(rows.isEmpty ? "no clustering yet: `plumb documents cluster`" : table(["ID", "NAME", "FILES"], rows))
        }
    }

    struct Download: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a file's text.")
        @OptionGroup var client: ClientOptions
        @Argument var id: String
        func run() async throws {
            print(
                String(
                    decoding: try await client.request(.GET, "/apps/documents/files/\(ClientOptions.path(id))").body,
                    as: UTF8.self), terminator: "")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a file.")
        @OptionGroup var client: ClientOptions
        @Argument var id: String
        func run() async throws {
            _ = try await client.request(.DELETE, "/apps/documents/files/\(ClientOptions.path(id))")
            print("deleted \(id)")
        }
    }
}
