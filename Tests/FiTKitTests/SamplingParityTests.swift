import Foundation
import Testing
@testable import FiTKit

/// Noise and whole sampling trajectories against the PyTorch reference (`python/fit_reference/sampling.py`).
@Suite struct SamplingParityTests {
    struct Entry: Decodable, CustomStringConvertible {
        let `case`: String
        let sampler: String
        let file: String
        // noise entries
        let key: String?
        let seed: UInt64?
        let size: Int?
        let preceding_sizes: [Int]?
        // trajectory entries
        let checkpoint: String?
        let steps: Int?
        let cfg: Double?
        let scale_pow: Double?
        let guided_channels: Int?
        let `class`: [Int]?
        let height: Int?
        let width: Int?
        let interpolation: String?
        let decouple: Bool?
        let ori_max_pe_len: Int?
        let recorded_steps: [Int]?
        let times: [Double]?
        let nfe: Int?
        let accepted: Int?
        var description: String { self.case }
    }

    static let entries: [Entry] = {
        let url = Fixtures.directory.appendingPathComponent("sampling/manifest.json")
        guard let data = try? Data(contentsOf: url) else { return [] }
        return (try? JSONDecoder().decode([Entry].self, from: data)) ?? []
    }()
    static let noiseCases = entries.filter { $0.sampler == "randn" }
    static let trajectoryCases = entries.filter { $0.sampler != "randn" }

    static func path(_ name: String) -> String { Fixtures.directory.appendingPathComponent(name).path }

    @Test func fixturesArePresent() {
        #expect(Self.noiseCases.count >= 20)
        #expect(Self.trajectoryCases.count >= 12)
    }

    @Test(arguments: noiseCases)
    func noiseMatchesTorchRandn(_ e: Entry) throws {
        var source = TorchNoiseSource(seed: try #require(e.seed))
        for n in e.preceding_sizes ?? [] { _ = source.normal(count: n) }
        let ours = source.normal(count: try #require(e.size))
        let theirs = try SafetensorsFile(path: Self.path("sampling/\(e.file)")).tensor(try #require(e.key)).toArray()
        #expect(ours.count == theirs.count)
        // Same uniforms; torch's vectorised (SLEEF) log/cos and glibc's differ by a few float32 ulps.
        for (a, b) in zip(ours, theirs) { #expect(abs(a - b) <= 4e-6 * max(1, abs(b)), "\(e.case)") }
    }

    @Test(arguments: trajectoryCases)
    func trajectoryMatchesReference(_ e: Entry) throws {
        let model = try ModelCheckpoint(path: Self.path(try #require(e.checkpoint))).makeModel()
        let rope = RoPEScaling(interpolation: RoPEInterpolation(rawValue: e.interpolation ?? "no") ?? .no,
                               decouple: e.decouple ?? false, oriMaxPeLen: e.ori_max_pe_len)
        let sampler = try #require(SamplerKind(rawValue: e.sampler))
        let parameters = SamplingParameters(classes: try #require(e.class), height: try #require(e.height),
                                            width: try #require(e.width), steps: try #require(e.steps), sampler: sampler,
                                            guidanceScale: e.cfg ?? 1, scalePower: e.scale_pow ?? 0,
                                            guidedChannels: e.guided_channels, seed: try #require(e.seed), rope: rope)
        let expected = try SafetensorsFile(path: Self.path("sampling/\(e.file)"))
        let trajectory = try DenoisingTrajectory(model: model, parameters: parameters)
        var iterator = trajectory.makeIterator()
        #expect(relativeError(iterator.initialNoise.toArray(), try expected.tensor("x_T").toArray()) <= 1e-6, "x_T")
        var steps: [TrajectoryStep] = []
        while let step = iterator.next() { steps.append(step) }

        let tolerance = 1e-3
        if sampler == .dopri5 {
            #expect(steps.count == e.accepted, "accepted steps")
            #expect(iterator.evaluations == e.nfe, "function evaluations")
        } else {
            #expect(steps.count == e.times?.count)
            #expect(iterator.evaluations == e.nfe)
        }
        // dopri5's later steps depend on float32 rounding of tiny error ratios (see the manifest); check its first two.
        let recorded = sampler == .dopri5 ? [0, 1] : (e.recorded_steps ?? [])
        for k in recorded {
            let step = try #require(steps.count > k ? steps[k] : nil)
            if let times = e.times { #expect(abs(step.t - times[k]) <= 1e-6 * max(1, abs(times[k])), "t at step \(k)") }
            let xt = relativeError(step.xt.toArray(), try expected.tensor("x_t.\(k)").toArray())
            let x0 = relativeError(step.x0.toArray(), try expected.tensor("x0.\(k)").toArray())
            #expect(xt <= tolerance, "\(e.case) x_t at step \(k): \(xt)")
            #expect(x0 <= tolerance, "\(e.case) x0 at step \(k): \(x0)")
        }
        let sample = relativeError(try #require(steps.last).next.toArray(), try expected.tensor("sample").toArray())
        #expect(sample <= tolerance, "\(e.case) sample: \(sample)")
    }

    @Test func respacingOf250StepsIsTheOfficialSet() throws {
        let schedule = try DDPMSchedule(steps: 250)
        #expect(schedule.timesteps.count == 250)
        #expect(Array(schedule.timesteps.prefix(4)) == [0, 4, 8, 12])
        #expect(Array(schedule.timesteps.suffix(3)) == [991, 995, 999])
        // Ties round to even: "7" gives 166 and 832, not 167 and 833.
        #expect(try DDPMSchedule(steps: 7).timesteps == [0, 166, 333, 500, 666, 832, 999])
    }

    @Test func linspaceMatchesTorch() {
        #expect(torchLinspace(0, 1, 7).map(Double.init) == [0, 0.1666666716337204, 0.3333333432674408, 0.5,
                                                           0.6666666269302368, 0.8333333134651184, 1])
    }
}
