// The category of the run API's own errors (SecuraErrors). A setting the run rejects is a usage error;
// the executable shows it with its flag (`flagDescription`).
import SecuraErrors

extension RunSettingError: CategorizedError {
    public var category: ErrorCategory { .usage }
}
