// stb_image_write, only for writing the image target's seeds (smoes itself
// writes PNGs alone). Built without UBSan: its JPEG writer shifts into the
// sign bit (stb_image_write.h, stbiw__jpg_writeBits), which is not a reader's
// problem.
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>
