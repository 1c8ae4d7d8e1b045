#ifndef FIT_CDNNL_SHIM_H
#define FIT_CDNNL_SHIM_H
// oneDNN's C API (Debian libdnnl-dev 2.6, built with OpenMP; Debian ships no pkg-config file).
#include <oneapi/dnnl/dnnl.h>
#include <stdint.h>

// libgomp's thread-count setting, which oneDNN's OpenMP build reads for every parallel region.
void omp_set_num_threads(int n);

// Helpers that build memory descriptors from scalars: dnnl_dims_t is a C array, which Swift
// imports as a 12-element tuple.

/// A row-major `rows` x `columns` matrix whose rows are `row_stride` elements apart.
static inline dnnl_status_t fit_dnnl_matrix(dnnl_memory_desc_t *md, int64_t rows, int64_t columns,
                                            int64_t row_stride, dnnl_data_type_t type) {
    dnnl_dims_t dims = {rows, columns};
    dnnl_dims_t strides = {row_stride, 1};
    return dnnl_memory_desc_init_by_strides(md, 2, dims, type, strides);
}

/// The transpose of a row-major `columns` x `rows` matrix (row stride `row_stride`) seen as a
/// `rows` x `columns` matrix: PyTorch's (out, in) weight as the (in, out) operand of a matmul.
static inline dnnl_status_t fit_dnnl_transposed(dnnl_memory_desc_t *md, int64_t rows, int64_t columns,
                                                int64_t row_stride, dnnl_data_type_t type) {
    dnnl_dims_t dims = {rows, columns};
    dnnl_dims_t strides = {1, row_stride};
    return dnnl_memory_desc_init_by_strides(md, 2, dims, type, strides);
}

/// `batch` matrices of `rows` x `columns`, each element's offset `b*batch_stride + r*row_stride
/// + c*column_stride`: one attention head per batch entry, read in place from the qkv buffer.
static inline dnnl_status_t fit_dnnl_batched(dnnl_memory_desc_t *md, int64_t batch, int64_t rows, int64_t columns,
                                             int64_t batch_stride, int64_t row_stride, int64_t column_stride,
                                             dnnl_data_type_t type) {
    dnnl_dims_t dims = {batch, rows, columns};
    dnnl_dims_t strides = {batch_stride, row_stride, column_stride};
    return dnnl_memory_desc_init_by_strides(md, 3, dims, type, strides);
}

/// A `rows` x `columns` matrix in the layout the primitive chooses (`format_tag_any`).
static inline dnnl_status_t fit_dnnl_any(dnnl_memory_desc_t *md, int64_t rows, int64_t columns,
                                         dnnl_data_type_t type) {
    dnnl_dims_t dims = {rows, columns};
    return dnnl_memory_desc_init_by_tag(md, 2, dims, type, dnnl_format_tag_any);
}

/// One image of `channels` x `height` x `width` in layout `tag` (dnnl_nhwc for the data,
/// dnnl_format_tag_any to let a primitive choose).
static inline dnnl_status_t fit_dnnl_image(dnnl_memory_desc_t *md, int64_t channels, int64_t height, int64_t width,
                                           dnnl_data_type_t type, dnnl_format_tag_t tag) {
    dnnl_dims_t dims = {1, channels, height, width};
    return dnnl_memory_desc_init_by_tag(md, 4, dims, type, tag);
}

/// A convolution weight (out, in, k, k) in layout `tag` (dnnl_oihw is PyTorch's).
static inline dnnl_status_t fit_dnnl_filter(dnnl_memory_desc_t *md, int64_t out, int64_t in, int64_t kernel,
                                            dnnl_data_type_t type, dnnl_format_tag_t tag) {
    dnnl_dims_t dims = {out, in, kernel, kernel};
    return dnnl_memory_desc_init_by_tag(md, 4, dims, type, tag);
}

/// A stride-1 convolution with `padding` zeros on every side, for inference, no bias.
static inline dnnl_status_t fit_dnnl_convolution(dnnl_convolution_desc_t *desc, const dnnl_memory_desc_t *src,
                                                 const dnnl_memory_desc_t *weights, const dnnl_memory_desc_t *dst,
                                                 int64_t padding) {
    dnnl_dims_t strides = {1, 1};
    dnnl_dims_t pad = {padding, padding};
    return dnnl_convolution_forward_desc_init(desc, dnnl_forward_inference, dnnl_convolution_direct,
                                              src, weights, NULL, dst, strides, pad, pad);
}
#endif
