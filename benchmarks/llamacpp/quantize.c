// Quantizes a GGUF model with llama.cpp's own quantizer (llama_model_quantize from the libllama that
// node-llama-cpp ships), to make reference files that gpt4j must read. Build and run with quantize.sh.
//   quantize IN.gguf OUT.gguf q8_0|q4_0|f16|f32 [threads] [--pure] [--output-type T] [--embd-type T]
// As llama-quantize does by default, a Q4_0 run stores the LM head (or, with a tied head, token_embd) as Q6_K when
// its rows are a multiple of 256 values (GPT-2 124M: 768), else Q8_0; --pure stores every 2-D weight but
// position_embd as the one type asked for, and --output-type / --embd-type choose those two tensors' types.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llama.h"

static void quiet(enum ggml_log_level level, const char *text, void *user) {
    (void) user;
    if (level >= GGML_LOG_LEVEL_WARN) fputs(text, stderr); // llama.cpp's progress lines stay out of the way
}

/* A ggml type by its lower-case name, or GGML_TYPE_COUNT. */
static enum ggml_type type_named(const char *name) {
    if (strcmp(name, "f32") == 0) return GGML_TYPE_F32;
    if (strcmp(name, "f16") == 0) return GGML_TYPE_F16;
    if (strcmp(name, "q8_0") == 0) return GGML_TYPE_Q8_0;
    if (strcmp(name, "q4_0") == 0) return GGML_TYPE_Q4_0;
    if (strcmp(name, "q6_k") == 0) return GGML_TYPE_Q6_K;
    return GGML_TYPE_COUNT;
}

static int usage(const char *self) {
    fprintf(stderr, "usage: %s IN.gguf OUT.gguf q8_0|q4_0|f16|f32 [threads] [--pure] [--output-type T] [--embd-type T]\n", self);
    return 2;
}

int main(int argc, char **argv) {
    if (argc < 4) return usage(argv[0]);
    enum llama_ftype ftype;
    if (strcmp(argv[3], "q8_0") == 0) ftype = LLAMA_FTYPE_MOSTLY_Q8_0;
    else if (strcmp(argv[3], "q4_0") == 0) ftype = LLAMA_FTYPE_MOSTLY_Q4_0;
    else if (strcmp(argv[3], "f16") == 0) ftype = LLAMA_FTYPE_MOSTLY_F16;
    else if (strcmp(argv[3], "f32") == 0) ftype = LLAMA_FTYPE_ALL_F32;
    else {
        fprintf(stderr, "%s: unknown type '%s' (q8_0, q4_0, f16 or f32)\n", argv[0], argv[3]);
        return 2;
    }
    if (getenv("QUANTIZE_VERBOSE") == NULL) llama_log_set(quiet, NULL);
    llama_backend_init();
    struct llama_model_quantize_params params = llama_model_quantize_default_params();
    params.ftype = ftype;
    params.nthread = 2;
    for (int i = 4; i < argc; i++) {
        if (strcmp(argv[i], "--pure") == 0) {
            params.pure = true;
        } else if ((strcmp(argv[i], "--output-type") == 0 || strcmp(argv[i], "--embd-type") == 0) && i + 1 < argc) {
            enum ggml_type t = type_named(argv[i + 1]);
            if (t == GGML_TYPE_COUNT) {
                fprintf(stderr, "%s: unknown tensor type '%s' (f32, f16, q8_0, q4_0, q6_k)\n", argv[0], argv[i + 1]);
                return 2;
            }
            if (argv[i][2] == 'o') params.output_tensor_type = t;
            else params.token_embedding_type = t;
            i++;
        } else if (argv[i][0] != '-' && atoi(argv[i]) > 0) {
            params.nthread = atoi(argv[i]);
        } else {
            return usage(argv[0]);
        }
    }
    uint32_t rc = llama_model_quantize(argv[1], argv[2], &params);
    llama_backend_free();
    if (rc != 0) {
        fprintf(stderr, "%s: llama_model_quantize failed (%u) on %s\n", argv[0], rc, argv[1]);
        return 1;
    }
    return 0;
}
