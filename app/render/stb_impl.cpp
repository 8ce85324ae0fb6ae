// stb_impl.cpp — the one translation unit that compiles the stb single-header implementations
// moescope uses (PNG writing, TrueType rasterising) from Debian's libstb-dev headers.
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_TRUETYPE_IMPLEMENTATION
#include <stb/stb_image_write.h>
#include <stb/stb_truetype.h>
