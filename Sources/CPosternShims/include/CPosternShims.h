// Thin wrappers for OpenSSL function-like macros that Swift cannot import.
#ifndef POSTERN_SHIMS_H
#define POSTERN_SHIMS_H

#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdint.h>

int postern_ssl_ctx_set_min_proto(SSL_CTX *ctx, int version);
int postern_ssl_ctx_set_max_proto(SSL_CTX *ctx, int version);
int postern_ssl_set_host_name(SSL *ssl, const char *name);
int postern_ssl_ctx_set_groups(SSL_CTX *ctx, const char *list);
int postern_ssl_ctx_set_dh_auto(SSL_CTX *ctx, int onoff);
long postern_ssl_ctx_set_session_cache_mode(SSL_CTX *ctx, long mode);
int postern_ssl_get_tmp_key_bits(SSL *ssl, const char **type_name);
int postern_err_get_lib(unsigned long err);
int postern_err_get_reason(unsigned long err);
long postern_ssl_ctx_set_release_buffers(SSL_CTX *ctx);
int postern_ssl_ctx_set_servername_cb(SSL_CTX *ctx, int (*cb)(SSL *, int *, void *), void *arg);
long postern_ssl_ctx_sess_set_cache_size(SSL_CTX *ctx, long size);
uint64_t postern_op_no_ticket(void);
unsigned long postern_dane_flag_no_ee_namechecks(void);
unsigned long postern_xn_flag_rfc2253(void);

// ALPN (RFC 7301) for the mail protocols: `proto` is "imap", "pop3" or "managesieve"; anything else returns 0.
// A server context then accepts a client that offers no ALPN, picks `proto` when offered, and fails the
// handshake with the no_application_protocol alert when the client offers only other protocols.
int postern_ssl_ctx_require_alpn(SSL_CTX *ctx, const char *proto);
// Offers `proto` (one of the same names) by ALPN on a client connection; 1 on success.
int postern_ssl_set_alpn(SSL *ssl, const char *proto);
// The alert value unrecognized_name (112), for an SNI callback that refuses the name.
int postern_ssl_ad_unrecognized_name(void);

uint64_t postern_op_cipher_server_preference(void);
uint64_t postern_op_no_renegotiation(void);
uint64_t postern_op_no_compression(void);
uint64_t postern_op_no_tlsv1(void);
uint64_t postern_op_no_tlsv1_1(void);
uint64_t postern_op_ignore_unexpected_eof(void);

int postern_tls1_2_version(void);
int postern_tls1_3_version(void);
long postern_sess_cache_server(void);
long postern_sess_cache_off(void);

#endif
