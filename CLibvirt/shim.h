#ifndef MIGSCOPE_CLIBVIRT_SHIM_H
#define MIGSCOPE_CLIBVIRT_SHIM_H
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

/* libvirt exports its default auth callbacks as a mutable global, which Swift 6 refuses to read
   from concurrent code; reading it through a function keeps the C world here. */
static inline virConnectAuthPtr migscope_virConnectAuthPtrDefault(void) {
    return virConnectAuthPtrDefault;
}
#endif
