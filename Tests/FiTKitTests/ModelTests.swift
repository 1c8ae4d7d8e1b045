import Foundation
import Testing
@testable import FiTKit

/// Timestep embedding, patch order and the forward pass's input checks.
@Suite struct ModelTests {
    @Test func timestepEmbeddingMatchesTheReference() throws {
        let file = try SafetensorsFile(path: Fixtures.forward("timestep_embedding.safetensors"))
        let t = try file.tensor("t").toArray().map(Double.init)
        let ours = TimestepEmbedder.frequencyEmbedding(t).toArray()
        let theirs = try file.tensor("emb").toArray()
        // The reference's frequencies are float32 (as the official code's): ≈6e-5 at t = 999.
        for (a, b) in zip(ours, theirs) { #expect(abs(a - b) < 2e-4) }
        #expect(ours[0] == 1 && ours[128] == 0) // t = 0: cosines first
    }

    @Test func patchifyIsTheInverseOfUnpatchifyInCP1P2Order() {
        let x = Tensor(shape: [1, 2, 4, 6], values: (0..<48).map(Float.init))
        let tokens = FiT.patchify(x, patchSize: 2)
        #expect(tokens.shape == [6, 8])
        // Token 1 is row 0, column 1: channel 0 pixels (0,2),(0,3),(1,2),(1,3), then channel 1.
        #expect(Array(tokens.toArray()[8..<16]) == [2, 3, 8, 9, 26, 27, 32, 33])
        let back = FiT.unpatchify(tokens, batch: 1, channels: 2, rows: 2, columns: 3, patchSize: 2)
        #expect(back.toArray() == x.toArray())
    }

    static let model = try! ModelCheckpoint(path: Fixtures.forward("v2-tiny.safetensors")).makeModel()

    @Test func gridNotAMultipleOfThePatch() {
        #expect(throws: FiTError.gridNotDivisible(height: 15, width: 16, patchSize: 2)) {
            try Self.model.forward(Tensor(zeros: [1, 4, 15, 16]), t: [0.5], y: [1])
        }
    }

    @Test func gridBeyondTheRoPECache() {
        #expect(throws: FiTError.gridTooLarge(rows: 257, columns: 1, limit: 256)) {
            try Self.model.forward(Tensor(zeros: [1, 4, 514, 2]), t: [0.5], y: [1])
        }
    }

    @Test func classOutOfRange() {
        #expect(throws: FiTError.classOutOfRange(label: 11, numClasses: 10, acceptsNull: true)) {
            try Self.model.forward(Tensor(zeros: [1, 4, 4, 4]), t: [0.5], y: [11])
        }
        #expect(throws: FiTError.classOutOfRange(label: -1, numClasses: 10, acceptsNull: true)) {
            try Self.model.forward(Tensor(zeros: [1, 4, 4, 4]), t: [0.5], y: [-1])
        }
    }

    @Test func wrongChannelCountAndBatchMismatch() {
        #expect(throws: FiTError.self) { try Self.model.forward(Tensor(zeros: [1, 3, 4, 4]), t: [0.5], y: [1]) }
        #expect(throws: FiTError.self) { try Self.model.forward(Tensor(zeros: [2, 4, 4, 4]), t: [0.5], y: [1, 2]) }
    }

    @Test func v1EmbedsTheRawTimestepAndV2Clamps() throws {
        let v1 = try ModelCheckpoint(path: Fixtures.forward("v1-tiny.safetensors")).makeModel()
        #expect(v1.embeddedTime(999) == 999)
        #expect(Self.model.embeddedTime(0.25) == 0.25)
        #expect(Self.model.embeddedTime(1.5) == 1)
    }

    @Test func everyExtrapolationModeChangesTheOutput() throws {
        // The parity fixtures only discriminate between modes if the modes disagree.
        let cases = try Fixtures.forwardCases().filter { $0.case.hasPrefix("v2-beyond-") }
        let outputs = try cases.map { try SafetensorsFile(path: Fixtures.forward($0.output)).tensor("out").toArray() }
        for i in outputs.indices {
            for j in outputs.indices where j > i {
                #expect(relativeError(outputs[i], outputs[j]) > 1e-3, "\(cases[i].case) vs \(cases[j].case)")
            }
        }
    }
}
