// swift-tools-version:6.0
// The Swift side of Tessera's FFI, over the bindings UniFFI generates:
//   Tessera        the generated Tessera.swift (Generated/Tessera) on the C module
//                  TesseraFFI (Generated/TesseraFFI), linked to the host library
//   TesseraTests   the suite (Swift Testing), against a real tessera-cloud
//   TesseraBench   lists 1,000 codes through the FFI (build with -c release)
// Generated/ is a copy of build/bindings/swift that scripts/test-swift makes; run
// everything through that script (it provisions Swift where none is installed).
import PackageDescription

/// Where libtessera_ffi is: target/debug for the suite, target/release for the benchmark.
let libraryDir = Context.environment["TESSERA_LIB_DIR"] ?? "\(Context.packageDirectory)/../../target/debug"

let package = Package(
    name: "Tessera",
    targets: [
        .systemLibrary(name: "TesseraFFI", path: "Generated/TesseraFFI"),
        .target(
            name: "Tessera",
            dependencies: ["TesseraFFI"],
            path: "Generated/Tessera",
            linkerSettings: [
                .linkedLibrary("tessera_ffi"),
                .unsafeFlags(["-L\(libraryDir)", "-Xlinker", "-rpath", "-Xlinker", libraryDir]),
            ]
        ),
        .testTarget(name: "TesseraTests", dependencies: ["Tessera"], path: "Tests/TesseraTests"),
        .executableTarget(name: "TesseraBench", dependencies: ["Tessera"], path: "Bench"),
    ]
)
