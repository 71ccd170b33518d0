// OpenSSL's libcrypto, for the Xen peers' keyed proofs (HMAC-SHA256), random nonces and a
// constant-time comparison: Debian's own library, instead of compiling a copy of BoringSSL.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
