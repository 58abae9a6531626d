// The shared part of the fuzz targets in Fuzz/<name>/. A target is an `@main` type whose `main()` calls
// `FuzzDriver.main(name, testOneInput)`, and libFuzzer's `LLVMFuzzerTestOneInput`, which hands its bytes to
// `FuzzDriver.testOneInput` so that every target treats a thrown error the same way: as a clean rejection.
// SwiftPM links an executable with `main` aliased to the module's own entry point (`fuzz_<name>_main`, the
// one `@main` defines), which under FUZZING starts libFuzzer's driver on the target's function; should the
// linker keep libFuzzer's own `main` instead, that calls `LLVMFuzzerTestOneInput` directly. Whichever
// `main` the linker keeps, the inputs reach the target's function.
import Foundation

public typealias FuzzInputHandler = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

#if FUZZING
/// libFuzzer's driver (compiler-rt): reads its flags from argv, then calls `callback` for every input.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: FuzzInputHandler) -> CInt
#endif

public enum FuzzDriver {
    /// A target's entry. Built with -DFUZZING (launch/fuzz.sh): runs libFuzzer with the process's arguments,
    /// calling `testOneInput` for every input, and exits with the driver's status. Built by a plain
    /// `swift build`: prints how to build and run the target `fuzz-<target>`.
    public static func main(_ target: String, _ testOneInput: FuzzInputHandler) {
        #if FUZZING
        var count = CommandLine.argc
        var vector: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&count, &vector, testOneInput))
        #else
        print("fuzz-\(target) is a libFuzzer target; build and run it with: launch/fuzz.sh \(target) SECONDS")
        #endif
    }

    /// One input: `body` gets its bytes (libFuzzer may pass a null pointer with size 0), and any error it
    /// throws is a clean rejection. Returns 0, libFuzzer's "input processed".
    public static func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int,
                                    _ body: (UnsafeRawBufferPointer) throws -> Void) -> CInt {
        _ = try? body(UnsafeRawBufferPointer(start: size == 0 ? nil : data, count: size))
        return 0
    }
}
