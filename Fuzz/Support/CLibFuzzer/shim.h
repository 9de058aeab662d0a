// libFuzzer's driver entry point (compiler-rt, linked by -sanitize=fuzzer). The fuzz targets call it from
// their `<Module>_main`, because SwiftPM links every executable with `main` aliased to that symbol.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size));
