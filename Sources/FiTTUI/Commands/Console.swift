import ArgumentParser
import FiTKit
import Foundation

/// Messages on stderr and the mapping from FiTKit errors to exit codes.
enum Console {
    /// Writes one line to stderr.
    static func note(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }

    /// Runs `body`; a ``FiTError`` becomes a one-line `error:` message and exit code 2.
    static func reportingErrors(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as FiTError {
            note("error: \(error.description)")
            throw ExitCode(2)
        }
    }
}
