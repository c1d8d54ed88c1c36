// stb_image and stb_image_resize compiled into the fuzz targets (the main
// build links Debian's libstb, the same source built without
// instrumentation), so decoding is covered and checked by ASan + UBSan.
#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#include <stb/stb_image_resize.h>
