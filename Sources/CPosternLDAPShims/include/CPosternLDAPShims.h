#ifndef CPOSTERN_LDAP_SHIMS_H
#define CPOSTERN_LDAP_SHIMS_H

#include <ldap.h>
#include <stddef.h>

/* Thin wrappers for libldap calls whose arguments are macros Swift cannot import
   (LDAP_SASL_SIMPLE, LDAP_OPT_OFF, LDAP_SCOPE_*, the option ids and TLS constants).
   Every function returns a libldap result code. */

/* ldap_initialize, then protocol v3, no referrals, network and API timeouts (seconds), and the TLS
   settings (CA file may be NULL for the system store; verify 0 or 1) in a fresh TLS context. */
int postern_ldap_open(LDAP **ld, const char *uri, double timeout, const char *ca_file, int verify);

/* Connects now (instead of at the first operation). */
int postern_ldap_connect(LDAP *ld);

/* StartTLS (RFC 4513). */
int postern_ldap_starttls(LDAP *ld);

/* Simple bind; dn NULL means anonymous. The password is passed with its length. */
int postern_ldap_simple_bind(LDAP *ld, const char *dn, const char *password, size_t length);

/* Search with scope 0 base, 1 one level, 2 subtree; at most `size_limit` entries; `timeout` seconds. */
int postern_ldap_search(LDAP *ld, const char *base, int scope, const char *filter, char **attributes,
                        int size_limit, double timeout, LDAPMessage **result);

/* Result codes the Swift side tells apart. */
int postern_ldap_success(void);
int postern_ldap_timeout(void);
int postern_ldap_server_down(void);
int postern_ldap_connect_error(void);
int postern_ldap_size_limit_exceeded(void);

#endif
