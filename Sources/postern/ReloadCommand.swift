import ArgumentParser
import Foundation
import PosternConfig
import PosternProcess
import PosternServer
import Yams

/// `postern reload -c FILE`: signals the running server (found through `server.pid_file`) and waits for the
/// outcome in the status file next to the pid file, so that `ExecReload=` makes `systemctl reload` fail when
/// the configuration was refused.
struct ReloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Make the running server reload and wait for the outcome.",
        discussion: """
            Reads server.pid_file from the configuration (also from one that does not validate), sends the \
            process SIGHUP and waits for the new generation or the refusal. Exit status: 0 the new \
            configuration serves, 1 it was refused (the errors are printed; the old one keeps serving), \
            2 no server or no answer in time.
            """)

    @OptionGroup var options: ConfigOption

    @Option(name: .customLong("pid-file"), help: "The pid file to use instead of the configuration's server.pid_file.")
    var pidFile: String?

    @Option(help: "Seconds to wait for the outcome.")
    var timeout: Double = 30

    func run() throws {
        let pidPath = try pidFile ?? Self.pidFile(fromConfig: options.config)
        let pid: Int32
        do {
            pid = try PidFile.readPID(path: pidPath)
        } catch {
            throw fail("\(error)")
        }
        guard PidFile.isAlive(pid) else { throw fail("pid file \(pidPath): process \(pid) is not running") }
        let statusPath = ReloadStatus.path(forPidFile: pidPath)
        guard let before = Self.readStatus(statusPath, pid: pid, within: 2) else {
            throw fail("\(statusPath): no status from process \(pid) (is it a Postern with this pid file?)")
        }
        guard kill(pid, SIGHUP) == 0 else {
            throw fail("cannot signal process \(pid): \(String(cString: strerror(errno)))")
        }
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let status = ReloadStatus.read(path: statusPath), status.pid == pid, status.attempt > before.attempt {
                if status.succeeded {
                    print("reloaded: configuration generation \(status.generation) in service")
                    return
                }
                FileHandle.standardError.write(
                    Data("reload refused; generation \(status.generation) keeps serving:\n".utf8))
                for error in status.errors { FileHandle.standardError.write(Data("\(error)\n".utf8)) }
                throw ExitCode(1)
            }
            guard PidFile.isAlive(pid) else { throw fail("process \(pid) exited during the reload") }
            usleep(50_000)
        }
        throw fail("no reload outcome from process \(pid) within \(timeout) s")
    }

    private func fail(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("postern reload: \(message)\n".utf8))
        return ExitCode(2)
    }

    /// The status the server wrote last (read again while it is caught half-written).
    static func readStatus(_ path: String, pid: Int32, within seconds: Double) -> ReloadStatus? {
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            if let status = ReloadStatus.read(path: path), status.pid == pid { return status }
            usleep(20_000)
        } while Date() < deadline
        return nil
    }

    /// `server.pid_file` of a configuration: from the validated config, or, when it does not validate (the
    /// reload is then refused by the server, which reports why), straight from its YAML.
    static func pidFile(fromConfig path: String) throws -> String {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL
        if let config = try? ConfigLoader.load(path: path) {
            if let pidFile = config.server.pidFile { return pidFile }
        } else if let text = try? String(contentsOf: absolute, encoding: .utf8),
            let root = try? Yams.compose(yaml: text), let server = root["server"],
            let raw = server["pid_file"]?.string, !raw.isEmpty
        {
            return raw.hasPrefix("/")
                ? raw
                : absolute.deletingLastPathComponent().appendingPathComponent(raw).standardizedFileURL.path
        }
        FileHandle.standardError.write(Data("postern reload: \(path): server.pid_file is not set\n".utf8))
        throw ExitCode(2)
    }
}
