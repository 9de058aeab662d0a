import ArgumentParser
import PosternConfig

/// `postern config ...`: what the configuration amounts to.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Show the effective configuration.", subcommands: [Dump.self])

    /// `postern config dump -c FILE`.
    struct Dump: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the effective configuration as YAML: every key, defaults filled in, paths absolute.",
            discussion: "Secret files (LDAP password, keys) are named by their path; their content is never printed.")

        @OptionGroup var options: ConfigOption

        func run() throws {
            print(ConfigDump.yaml(try options.load()), terminator: "")
        }
    }
}
