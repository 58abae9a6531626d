// The shared entry of the fuzz targets in Fuzz/<name>/. Each defines libFuzzer's
// `LLVMFuzzerTestOneInput` and, because SwiftPM links an executable with `main` aliased to the module's
// own entry point (`fuzz_<name>_main`), that entry too, which starts libFuzzer's driver on the same
// function. Whichever `main` the linker keeps, the inputs reach the target's function.

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
    #if FUZZING
    /// Runs libFuzzer with the process's arguments, calling `testOneInput` for every input.
    public static func run(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>,
                           _ testOneInput: FuzzInputHandler) -> CInt {
        var count = argc
        var vector: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
        return LLVMFuzzerRunDriver(&count, &vector, testOneInput)
    }
    #endif

    /// The bytes of one input (libFuzzer may pass a null pointer with size 0).
    public static func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: size == 0 ? nil : data, count: size)
    }

    /// What a target built without -DFUZZING (by a plain `swift build`) prints.
    public static func usage(_ target: String) {
        print("fuzz-\(target) is a libFuzzer target; build and run it with: launch/fuzz.sh \(target) SECONDS")
    }
}
