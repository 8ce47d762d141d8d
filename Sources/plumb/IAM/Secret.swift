import ArgumentParser
import Foundation

/// Reads a secret: without echo from a terminal, else a line of standard input.
enum Secret {
    static func read(_ prompt: String, echo: Bool = false) throws -> String {
        let terminal = isatty(STDIN_FILENO) != 0
        if terminal {
            FileHandle.standardError.write(Data(prompt.utf8))
        }
        var saved = termios()
        let hide = terminal && !echo && tcgetattr(STDIN_FILENO, &saved) == 0
        if hide {
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(STDIN_FILENO, TCSANOW, &quiet)
        }
        defer {
            if hide {
                tcsetattr(STDIN_FILENO, TCSANOW, &saved)
                FileHandle.standardError.write(Data("\n".utf8))
            }
        }
        guard let line = readLine(strippingNewline: true), !line.isEmpty else {
            throw ValidationError("nothing was entered")
        }
        return line
    }
}
