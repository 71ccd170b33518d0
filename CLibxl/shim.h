#ifndef MIGSCOPE_CLIBXL_SHIM_H
#define MIGSCOPE_CLIBXL_SHIM_H
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <libxl.h>
#include <libxl_utils.h>
#include <xentoollog.h>

/* A xentoollog logger whose messages arrive already formatted: Swift cannot take a va_list
   callback, so the formatting happens here and the text goes to a plain C function pointer,
   with the caller's opaque pointer (migscope's Swift logger). */
typedef void (*migscope_xtl_message_fn)(void *opaque, int level, int errnoval, const char *context, const char *text);
typedef void (*migscope_xtl_progress_fn)(void *opaque, const char *context, const char *doing_what,
                                         int percent, unsigned long done, unsigned long total);

typedef struct migscope_xtl_logger {
    xentoollog_logger vtable; /* first, so libxl can treat this as a xentoollog_logger */
    void *opaque;
    migscope_xtl_message_fn message;
    migscope_xtl_progress_fn progress;
} migscope_xtl_logger;

static inline void migscope_xtl_vmessage(xentoollog_logger *logger, xentoollog_level level, int errnoval,
                                         const char *context, const char *format, va_list al) {
    migscope_xtl_logger *l = (migscope_xtl_logger *)logger;
    char text[2048];
    vsnprintf(text, sizeof text, format, al);
    if (l->message) l->message(l->opaque, (int)level, errnoval, context, text);
}

static inline void migscope_xtl_progress(xentoollog_logger *logger, const char *context, const char *doing_what,
                                         int percent, unsigned long done, unsigned long total) {
    migscope_xtl_logger *l = (migscope_xtl_logger *)logger;
    if (l->progress) l->progress(l->opaque, context, doing_what, percent, done, total);
}

static inline void migscope_xtl_destroy(xentoollog_logger *logger) { free(logger); }

static inline xentoollog_logger *migscope_xtl_logger_new(void *opaque, migscope_xtl_message_fn message,
                                                         migscope_xtl_progress_fn progress) {
    migscope_xtl_logger *l = (migscope_xtl_logger *)calloc(1, sizeof *l);
    if (!l) return 0;
    l->vtable.vmessage = migscope_xtl_vmessage;
    l->vtable.progress = migscope_xtl_progress;
    l->vtable.destroy = migscope_xtl_destroy;
    l->opaque = opaque;
    l->message = message;
    l->progress = progress;
    return &l->vtable;
}

/* libxl keeps the hooks pointer for the context's life, so the hooks live in static storage.
   Selective reaping: libxl waits only for its own children (the save helper), so children that
   migscope starts itself (Foundation's Process) are still reaped by their owners. */
static const libxl_childproc_hooks migscope_childproc_selective_reap = {
    .chldowner = libxl_sigchld_owner_libxl_always_selective_reap,
};
static inline void migscope_libxl_reap_selectively(libxl_ctx *ctx) {
    libxl_childproc_setmode(ctx, &migscope_childproc_selective_reap, 0);
}
#endif
