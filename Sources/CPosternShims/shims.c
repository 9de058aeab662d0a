#include "CPosternShims.h"

#include <string.h>

int postern_ssl_ctx_set_min_proto(SSL_CTX *ctx, int version) { return (int)SSL_CTX_set_min_proto_version(ctx, version); }
int postern_ssl_ctx_set_max_proto(SSL_CTX *ctx, int version) { return (int)SSL_CTX_set_max_proto_version(ctx, version); }
int postern_ssl_set_host_name(SSL *ssl, const char *name) { return (int)SSL_set_tlsext_host_name(ssl, name); }
int postern_ssl_ctx_set_groups(SSL_CTX *ctx, const char *list) { return (int)SSL_CTX_set1_groups_list(ctx, list); }
int postern_ssl_ctx_set_dh_auto(SSL_CTX *ctx, int onoff) { return (int)SSL_CTX_set_dh_auto(ctx, onoff); }
long postern_ssl_ctx_set_session_cache_mode(SSL_CTX *ctx, long mode) { return SSL_CTX_set_session_cache_mode(ctx, mode); }

int postern_ssl_get_tmp_key_bits(SSL *ssl, const char **type_name) {
    EVP_PKEY *key = NULL;
    *type_name = NULL;
    if (!SSL_get_peer_tmp_key(ssl, &key) || key == NULL) { return 0; }
    int bits = EVP_PKEY_get_bits(key);
    *type_name = EVP_PKEY_get0_type_name(key);
    EVP_PKEY_free(key);
    return bits;
}

int postern_err_get_lib(unsigned long err) { return ERR_GET_LIB(err); }
int postern_err_get_reason(unsigned long err) { return ERR_GET_REASON(err); }

uint64_t postern_op_cipher_server_preference(void) { return SSL_OP_CIPHER_SERVER_PREFERENCE; }
uint64_t postern_op_no_renegotiation(void) { return SSL_OP_NO_RENEGOTIATION; }
uint64_t postern_op_no_compression(void) { return SSL_OP_NO_COMPRESSION; }
uint64_t postern_op_no_tlsv1(void) { return SSL_OP_NO_TLSv1; }
uint64_t postern_op_no_tlsv1_1(void) { return SSL_OP_NO_TLSv1_1; }
uint64_t postern_op_ignore_unexpected_eof(void) { return SSL_OP_IGNORE_UNEXPECTED_EOF; }

int postern_tls1_2_version(void) { return TLS1_2_VERSION; }
int postern_tls1_3_version(void) { return TLS1_3_VERSION; }
long postern_sess_cache_server(void) { return SSL_SESS_CACHE_SERVER; }
long postern_sess_cache_off(void) { return SSL_SESS_CACHE_OFF; }
long postern_ssl_ctx_set_release_buffers(SSL_CTX *ctx) { return SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS); }

int postern_ssl_ctx_set_servername_cb(SSL_CTX *ctx, int (*cb)(SSL *, int *, void *), void *arg) {
    if (!SSL_CTX_set_tlsext_servername_callback(ctx, cb)) { return 0; }
    return (int)SSL_CTX_set_tlsext_servername_arg(ctx, arg);
}
long postern_ssl_ctx_sess_set_cache_size(SSL_CTX *ctx, long size) { return SSL_CTX_sess_set_cache_size(ctx, size); }

uint64_t postern_op_no_ticket(void) { return SSL_OP_NO_TICKET; }
unsigned long postern_dane_flag_no_ee_namechecks(void) { return DANE_FLAG_NO_DANE_EE_NAMECHECKS; }
unsigned long postern_xn_flag_rfc2253(void) { return XN_FLAG_RFC2253; }

// The ALPN protocol ids, static so that the select callback may hand them to OpenSSL.
static const char *postern_alpn_known(const char *proto) {
    static const char *const known[] = {"imap", "pop3", "managesieve"};
    if (proto == NULL) { return NULL; }
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (strcmp(proto, known[i]) == 0) { return known[i]; }
    }
    return NULL;
}

static int postern_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                               unsigned int inlen, void *arg) {
    (void)ssl;
    const char *want = arg;
    size_t wantlen = strlen(want);
    unsigned int i = 0;
    while (i < inlen) {
        unsigned int len = in[i];
        if (len == 0 || i + 1 + len > inlen) { break; }
        if (len == wantlen && memcmp(in + i + 1, want, wantlen) == 0) {
            *out = (const unsigned char *)want;
            *outlen = (unsigned char)wantlen;
            return SSL_TLSEXT_ERR_OK;
        }
        i += 1 + len;
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL;
}

int postern_ssl_ctx_require_alpn(SSL_CTX *ctx, const char *proto) {
    const char *known = postern_alpn_known(proto);
    if (known == NULL) { return 0; }
    SSL_CTX_set_alpn_select_cb(ctx, postern_alpn_select, (void *)known);
    return 1;
}

int postern_ssl_set_alpn(SSL *ssl, const char *proto) {
    const char *known = postern_alpn_known(proto);
    if (known == NULL) { return 0; }
    unsigned char wire[32];
    size_t len = strlen(known);
    wire[0] = (unsigned char)len;
    memcpy(wire + 1, known, len);
    return SSL_set_alpn_protos(ssl, wire, (unsigned int)(len + 1)) == 0 ? 1 : 0;
}

int postern_ssl_ad_unrecognized_name(void) { return SSL_AD_UNRECOGNIZED_NAME; }
