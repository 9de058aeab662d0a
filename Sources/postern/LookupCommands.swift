import ArgumentParser
import Foundation
import PosternConfig
import PosternImport
import PosternMap
import PosternServer

struct Lookup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the whole map decision for a user: key, sources asked, cache, backends and why.")

    @OptionGroup var options: ConfigOption

    @Argument(help: "The login name (or authorization identity) to look up.")
    var user: String

    @Option(name: .customLong("client-ip"), help: "The client's IP address, for templates that use {client_ip}.")
    var clientIP: String?

    func run() throws {
        let command = self
        try BlockingRun.wait { try await command.lookUp() }
    }

    private func lookUp() async throws {
        let config = try options.load()
        let map: MapDirector
        do {
            map = try Runtime.buildMap(config.map)
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(1)
        }
        let trace = LookupTrace()
        let route: Route?
        do {
            route = try await map.lookup(MapQuery(user: user, clientIP: clientIP, trace: trace))
        } catch {
            for line in trace.lines { print("  \(line)") }
            print("\(user): lookup failed: \(error)")
            throw ExitCode(3)
        }
        for line in trace.lines { print("  \(line)") }
        guard let route else {
            print("\(user): no backend (not in the map and no default server)")
            throw ExitCode(2)
        }
        let login = route.backendUser.map { " as \($0)" } ?? ""
        print("\(user): \(route.servers.map(\.description).joined(separator: ", "))\(login) (\(route.reason))")
    }
}

struct ImportPerdition: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-perdition",
        abstract: "Translate a perdition.conf (and its popmap, popmap.re or LDAP URL) into a Postern config.")

    @Argument(help: "The perdition.conf to read.")
    var file: String

    @Option(name: [.short, .customLong("output")], help: "Write the YAML here instead of to stdout.")
    var output: String?

    func run() throws {
        let path = URL(fileURLWithPath: file).standardizedFileURL.path
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            FileHandle.standardError.write(Data("cannot read \(file)\n".utf8))
            throw ExitCode(1)
        }
        let importer = PerditionImporter(confPath: path, text: text)
        let result = importer.convert()
        guard let output else {
            print(result.yaml, terminator: "")
            if result.secret != nil {
                FileHandle.standardError.write(
                    Data(
                        ("note: the LDAP URL carries a bind password (x-bindpw); write it into "
                            + "\(importer.secretFileName) next to the config (use -o to have it written)\n").utf8))
            }
            return
        }
        let outURL = URL(fileURLWithPath: output)
        try Data(result.yaml.utf8).write(to: outURL)
        if let secret = result.secret {
            let secretURL = outURL.deletingLastPathComponent().appendingPathComponent(importer.secretFileName)
            _ = FileManager.default.createFile(
                atPath: secretURL.path, contents: Data((secret + "\n").utf8),
                attributes: [.posixPermissions: 0o600])
            FileHandle.standardError.write(Data("wrote \(secretURL.path) (mode 0600)\n".utf8))
        }
        FileHandle.standardError.write(
            Data("wrote \(output); \(result.notCarried.count) option(s) not carried over (see its comments)\n".utf8))
    }
}

/// Hidden: measures map lookups per second (used by scripts/bench-lookup).
struct BenchLookup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-lookup", abstract: "Measure map lookups per second (for scripts/bench-lookup).",
        shouldDisplay: false)

    @OptionGroup var options: ConfigOption

    @Option(help: "A file with one login name per line; lookups cycle through it.")
    var users: String

    @Option(help: "Number of lookups.")
    var count: Int = 10_000

    @Option(help: "Lookups in flight at once.")
    var concurrency: Int = 8

    @Flag(help: "Look every user up once before measuring (fills the cache).")
    var warm = false

    func run() throws {
        let command = self
        try BlockingRun.wait { try await command.measure() }
    }

    private func measure() async throws {
        let config = try options.load()
        let map = try Runtime.buildMap(config.map)
        let names = try String(contentsOfFile: users, encoding: .utf8).split(separator: "\n").map(String.init)
        guard !names.isEmpty, count > 0, concurrency > 0 else { throw ValidationError("need users and counts") }
        if warm {
            for name in names { _ = try await map.lookup(user: name) }
        }
        let start = Date()
        let per = (count + concurrency - 1) / concurrency
        let total = count
        let results = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var found = 0
                    var done = 0
                    for index in stride(from: worker * per, to: min(total, (worker + 1) * per), by: 1) {
                        if try await map.lookup(user: names[index % names.count]) != nil { found += 1 }
                        done += 1
                    }
                    return (done, found)
                }
            }
            var sum = (0, 0)
            for try await (done, found) in group { sum = (sum.0 + done, sum.1 + found) }
            return sum
        }
        let seconds = Date().timeIntervalSince(start)
        print(
            "lookups=\(results.0) found=\(results.1) seconds=\(String(format: "%.3f", seconds)) "
                + "per_second=\(String(format: "%.0f", Double(results.0) / seconds))")
    }
}
