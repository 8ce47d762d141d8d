import Foundation

/// Where plugins find the data files Plumb ships (`share/plumb/...`): next to the binary or in any directory above
/// it (a checkout), the working directory, then `/usr/local/share/plumb` and `/usr/share/plumb`.
public enum SharedFiles {
    public static func candidates(_ relative: String) -> [String] {
        var candidates: [String] = []
        let executable =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var directory = URL(fileURLWithPath: executable).deletingLastPathComponent().standardizedFileURL
        while directory.path != "/" {
            candidates.append(directory.appendingPathComponent("share/plumb/" + relative).path)
            directory = directory.deletingLastPathComponent()
        }
        candidates.append(FileManager.default.currentDirectoryPath + "/share/plumb/" + relative)
        candidates += ["/usr/local/share/plumb/" + relative, "/usr/share/plumb/" + relative]
        return candidates
    }

    /// The first candidate that exists, else the first candidate (so an error can name where it looked first).
    public static func locate(_ relative: String, containing file: String? = nil) -> String {
        let all = candidates(relative)
        return all.first { candidate in
            FileManager.default.fileExists(atPath: file.map { candidate + "/" + $0 } ?? candidate)
        } ?? all[0]
    }
}
