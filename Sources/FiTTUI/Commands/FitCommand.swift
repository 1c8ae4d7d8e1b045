import ArgumentParser
import FiTKit

/// `fit`: run FiT diffusion transformers on the CPU.
struct FitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fit",
        abstract: "Run FiT / FiTv2 diffusion transformers on the CPU.",
        version: FiTVersion.current,
        subcommands: [ExploreCommand.self, GenerateCommand.self, RenderCommand.self, ViewCommand.self, ForwardCommand.self, DecodeCommand.self, InspectCommand.self, BenchCommand.self],
        defaultSubcommand: ExploreCommand.self
    )
}
