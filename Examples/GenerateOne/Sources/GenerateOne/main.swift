import FiTKit
import Foundation

// The model file (here the one fit embeds), a class name, and where the PNG goes.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../..").standardized.path
let arguments = CommandLine.arguments.dropFirst()
let className = arguments.first ?? "heart", output = arguments.dropFirst().first ?? "\(className).png"

let checkpoint = try ModelCheckpoint(path: root + "/Sources/FiTTUI/Resources/fit-emoji.safetensors")
let model = try checkpoint.makeModel()
let classID = try ModelMetadata(file: checkpoint.file).classID(for: className, numClasses: model.configuration.numClasses)
// 32×32 pixels are 8×8 latent cells of the model's own VAE (factor 4).
let parameters = SamplingParameters(classes: [classID], height: 8, width: 8, steps: 30, sampler: .euler, guidanceScale: 3, seed: 7)
let finalState = try Array(DenoisingTrajectory(model: model, parameters: parameters)).last!.next
let pixels = try checkpoint.carriedVAE!.makeDecoder().decode(finalState)
try PNGFile.write(RGBImage(tensor: pixels).upscaled(by: 8), to: output)
print("wrote \(output)")
