#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <png.h>
#include <jpeglib.h>

/* libjpeg reports errors through a longjmp out of its error manager; Swift cannot, so this C helper decodes a
   whole JPEG from memory into 8-bit RGB and returns 0, or a negative code with the library's message. */
struct plumb_jpeg_error {
    struct jpeg_error_mgr manager;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
};

static void plumb_jpeg_error_exit(j_common_ptr info) {
    struct plumb_jpeg_error *error = (struct plumb_jpeg_error *)info->err;
    (*info->err->format_message)(info, error->message);
    longjmp(error->jump, 1);
}

static void plumb_jpeg_output_message(j_common_ptr info) { (void)info; }

/* Reads the size first: when it exceeds max_pixels the image is refused before any pixel is decoded (-2). */
static inline int plumb_decode_jpeg(const unsigned char *data, unsigned long size, unsigned long max_pixels,
                                    unsigned char **rgb, unsigned int *width, unsigned int *height, char *message,
                                    size_t message_size) {
    struct jpeg_decompress_struct info;
    struct plumb_jpeg_error error;
    unsigned char *volatile pixels = NULL;
    info.err = jpeg_std_error(&error.manager);
    error.manager.error_exit = plumb_jpeg_error_exit;
    error.manager.output_message = plumb_jpeg_output_message;
    error.message[0] = 0;
    if (setjmp(error.jump)) {
        jpeg_destroy_decompress(&info);
        free(pixels);
        snprintf(message, message_size, "%s", error.message);
        return -1;
    }
    jpeg_create_decompress(&info);
    jpeg_mem_src(&info, data, size);
    jpeg_read_header(&info, TRUE);
    if ((unsigned long)info.image_width * (unsigned long)info.image_height > max_pixels) {
        *width = info.image_width;
        *height = info.image_height;
        jpeg_destroy_decompress(&info);
        return -2;
    }
    info.out_color_space = JCS_RGB;
    jpeg_start_decompress(&info);
    *width = info.output_width;
    *height = info.output_height;
    size_t stride = (size_t)info.output_width * 3;
    pixels = malloc(stride * info.output_height);
    if (!pixels) {
        jpeg_destroy_decompress(&info);
        snprintf(message, message_size, "out of memory");
        return -1;
    }
    while (info.output_scanline < info.output_height) {
        unsigned char *row = pixels + stride * info.output_scanline;
        jpeg_read_scanlines(&info, &row, 1);
    }
    jpeg_finish_decompress(&info);
    jpeg_destroy_decompress(&info);
    *rgb = pixels;
    return 0;
}
