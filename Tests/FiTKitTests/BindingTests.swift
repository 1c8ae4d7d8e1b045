import Foundation
import Testing
@testable import FiTKit

/// Strict binding: a checkpoint must hold exactly the tensors its configuration needs.
@Suite struct BindingTests {
    /// The v2-tiny fixture rewritten with `edit` applied to its tensor list.
    func editedCheckpoint(_ edit: (inout [(String, SafetensorsWriter.Value)]) -> Void) throws -> (ModelCheckpoint, FiTConfiguration) {
        let source = try ModelCheckpoint(path: Fixtures.forward("v2-tiny.safetensors"))
        var tensors: [(String, SafetensorsWriter.Value)] = try source.file.names.map { ($0, .float32(try source.file.tensor($0))) }
        edit(&tensors)
        let path = Fixtures.scratchDirectory().appendingPathComponent("edited.safetensors").path
        try SafetensorsWriter.write(tensors, metadata: source.file.metadata, to: path)
        return (try ModelCheckpoint(path: path), source.configuration)
    }

    @Test func missingTensorIsNamed() throws {
        let (checkpoint, _) = try editedCheckpoint { $0.removeAll { $0.0 == "blocks.1.mlp.fc2.weight" } }
        #expect(throws: FiTError.missingTensors(names: ["blocks.1.mlp.fc2.weight"])) { try checkpoint.makeModel() }
    }

    @Test func unexpectedTensorIsNamed() throws {
        let (checkpoint, _) = try editedCheckpoint { $0.append(("blocks.9.extra", .float32(Tensor(zeros: [2])))) }
        #expect(throws: FiTError.unexpectedTensors(names: ["blocks.9.extra"])) { try checkpoint.makeModel() }
    }

    @Test func shapeMismatchNamesBothShapes() throws {
        let (checkpoint, config) = try editedCheckpoint { list in
            let i = list.firstIndex { $0.0 == "final_layer.linear.weight" }!
            list[i].1 = .float32(Tensor(zeros: [8, 64]))
        }
        let expected = [config.patchSize * config.patchSize * config.outChannels, config.hiddenSize]
        #expect(throws: FiTError.shapeMismatch(tensor: "final_layer.linear.weight", expected: expected, found: [8, 64])) {
            try checkpoint.makeModel()
        }
    }

    @Test func configurationThatContradictsTheShapes() throws {
        var config = try ModelCheckpoint(path: Fixtures.forward("v2-tiny.safetensors")).configuration
        config.depth = 3
        let path = Fixtures.scratchDirectory().appendingPathComponent("c.json").path
        try JSONEncoder().encode(config).write(to: URL(fileURLWithPath: path))
        let checkpoint = try ModelCheckpoint(path: Fixtures.forward("v2-tiny.safetensors"), configurationPath: path)
        #expect(checkpoint.source == .file(path))
        #expect(throws: FiTError.self) { try checkpoint.makeModel() }
    }
}
