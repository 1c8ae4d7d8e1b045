import FiTKit
import Foundation

// The model file (here the one fit embeds), a class name, and where the PNG goes.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../..").standardized.path
let arguments = CommandLine.arguments.dropFirst()
let className = arguments.first ?? "heart", output = arguments.dropFirst().first ?? "\(className).png"

// Open the model (with its VAE, class names and recommended settings), resolve what is asked
// against its advice (sampler, steps, guidance, size), make the image, write it with its record.
let model = try LoadedModel(path: root + "/Sources/FiTTUI/Resources/fit-emoji.safetensors")
let plan = try GenerationPlan(model: model, request: GenerationRequest(classLabel: className, seed: 7))
try plan.run().write(to: output, scale: 8)
print("wrote \(output): \(plan.width)x\(plan.height), \(plan.sampler.rawValue) \(plan.steps) steps, guidance \(plan.cfg)")
