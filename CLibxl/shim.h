#ifndef MIGSCOPE_CLIBXL_SHIM_H
#define MIGSCOPE_CLIBXL_SHIM_H
#include <libxl.h>
#include <libxl_utils.h>
#include <xentoollog.h>
#endif
