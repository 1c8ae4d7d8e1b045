import Foundation

/// Starts helper programs (tmux, Xvfb, xterm) with posix_spawn: with an empty signal mask (test
/// threads block signals, which the children must not inherit), and waited for with waitpid
/// (Foundation's Process does not notice such children ending here).
enum ChildProcess {
    /// Starts `argv` (argv[0] a full path); standard output goes to `output` (created), standard
    /// error is discarded.
    static func spawn(_ argv: [String], output: String = "/dev/null") throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, argv[0], &actions, &attributes, cArgs, environ) == 0 else { throw CancellationError() }
        return pid
    }
}
