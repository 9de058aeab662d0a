import Foundation
import Yams

/// The `map` block: where users are routed.
extension SchemaWalker {
    static let mapKeys = ["file", "default"]

    /// The `map:` block: an optional map file and an optional default server.
    func readMap(_ node: Node, path: String, owner: Node?) -> MapConfig {
        var config = MapConfig()
        guard let reader = MappingReader(node, path: path, owner: owner, known: Self.mapKeys, collector: collector)
        else {
            return config
        }
        if let value = reader.optional("file") {
            config.file = existingFile(value, path: reader.path("file"))
        }
        if let value = reader.optional("default"), let text = collector.text(value, reader.path("default")) {
            switch AddressSyntax.parse(text, portRequired: false) {
            case .success: config.defaultServer = text
            case .failure(let problem): collector.report(reader.path("default"), at: value, problem.message)
            }
        }
        return config
    }
}
