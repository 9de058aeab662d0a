import ArgumentParser
import Foundation
import Logging
import PosternConfig
import PosternLog
import PosternMap
import PosternProcess
import PosternServer

/// The `postern` command line: run the proxy, check a config, or ask the map about a user.
@main
struct Postern: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "postern",
        abstract: "A front-end proxy for IMAP, POP3 and ManageSieve.",
        version: BuildInfo.version,
        subcommands: [
            Run.self, CheckConfig.self, ReloadCommand.self, ConfigCommand.self, Lookup.self, ImportPerdition.self,
            BenchLookup.self,
        ],
        defaultSubcommand: Run.self)
}

struct ConfigOption: ParsableArguments {
    @Option(name: [.short, .customLong("config")], help: "The YAML configuration file.")
    var config: String = "/etc/postern/postern.yaml"

    /// Loads the config or prints every problem and exits 1.
    func load() throws -> PosternConfig {
        do {
            return try ConfigLoader.load(path: config)
        } catch let errors as ConfigErrors {
            for issue in errors.issues { FileHandle.standardError.write(Data("\(issue)\n".utf8)) }
            throw ExitCode(1)
        }
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the proxy in the foreground, logging to stderr. SIGHUP reloads, SIGTERM drains and stops.")

    @OptionGroup var options: ConfigOption

    func run() throws {
        // A peer that closes while we write must not kill the process (exit 141).
        signal(SIGPIPE, SIG_IGN)
        // A SIGHUP before the server catches signals must not kill it either: the config is read after this
        // (one sent while the server is being built, before `catchSignals`, is lost; it is held from then on).
        signal(SIGHUP, SIG_IGN)
        let config = try options.load()
        // One shared setting for every logger: a reload changes level and format at once.
        let control = LogControl(
            priorityPrefix: FileDescriptorLogSink.isJournalStream(
                fileDescriptor: STDERR_FILENO, environment: ProcessInfo.processInfo.environment))
        control.apply(config.server)
        LoggingSystem.bootstrap(PosternLogHandler.factory(control: control))
        let logger = Logger(label: "postern")
        for (path, mode) in FileAccessReport.secretsOthersCanRead(config) {
            logger.warning(
                "secret file readable by every user",
                metadata: [
                    "file": "\(path)", "mode": "\(mode)", "fix": "chmod 0640 (owner root, group of server.user)",
                ])
        }
        let process: ProcessSetup
        do {
            process = try ProcessSetup.prepare(config, logger: logger)
        } catch {
            logger.critical("cannot start: \(error)")
            throw ExitCode(1)
        }
        let server: Server
        do {
            server = try Server(config: config, logger: logger, logControl: control)
            // Before the listeners accept: a SIGHUP sent as soon as a port answers must not kill us.
            server.catchSignals()
            try server.start()
            try process.dropPrivileges(logger: logger)
        } catch {
            logger.critical("cannot start: \(error)")
            process.cleanUp()
            throw ExitCode(1)
        }
        server.announceReady()
        logger.info(
            "started",
            metadata: [
                "config": "\(config.sourcePath)", "pid": "\(getpid())",
                "event_loop": "\(config.server.eventLoop.rawValue)",
            ])
        server.runUntilStopped()
        process.cleanUp()
    }
}

struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a configuration: exit 0 if it is good, else print every error and exit 1.")

    @OptionGroup var options: ConfigOption

    func run() throws {
        let config = try options.load()
        let runtime: Runtime
        do {
            runtime = try Runtime(config: config, generation: 0)
        } catch {
            FileHandle.standardError.write(Data("\(config.sourcePath): \(error)\n".utf8))
            throw ExitCode(1)
        }
        print("\(config.sourcePath): OK")
        for listener in config.listeners {
            let addresses = listener.listen.map(\.description).joined(separator: ", ")
            print(
                "listener \(listener.name): \(listener.proto.rawValue) on \(addresses), tls \(listener.tls.rawValue), "
                    + "backend port \(listener.backend.port) tls \(listener.backend.tls.rawValue), "
                    + "sasl \(listener.sasl.map(\.rawValue).joined(separator: " "))")
        }
        for line in TLSReportPrinter.lines(for: runtime) { print(line) }
        let identity: ProcessIdentity?
        do {
            identity = try ProcessIdentity.resolve(user: config.server.user, group: config.server.group)
        } catch {
            FileHandle.standardError.write(Data("\(config.sourcePath): \(error)\n".utf8))
            throw ExitCode(1)
        }
        for warning in FileAccessReport.warnings(config, identity: identity) { print("warning: \(warning)") }
    }
}
