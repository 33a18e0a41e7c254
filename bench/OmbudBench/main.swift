import Foundation

// ombud-bench: measures the real `ombud` release binary over HTTP. See docs/benchmarks.md.
ServerProcessGuard.install()

let options: Options
do {
    options = try Options.parse(Array(CommandLine.arguments.dropFirst()))
} catch {
    FileHandle.standardError.write(Data("ombud-bench: \(error)\n".utf8))
    exit(2)
}

do {
    try await Bench(options: options).run()
} catch {
    FileHandle.standardError.write(Data("ombud-bench: \(error)\n".utf8))
    exit(1)
}
