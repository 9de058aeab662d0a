#include "CPosternLDAPShims.h"

#include <math.h>
#include <sys/time.h>

static struct timeval seconds_to_timeval(double seconds) {
    struct timeval tv;
    if (seconds < 0) seconds = 0;
    tv.tv_sec = (time_t)floor(seconds);
    tv.tv_usec = (suseconds_t)((seconds - floor(seconds)) * 1e6);
    return tv;
}

int postern_ldap_open(LDAP **ld, const char *uri, double timeout, const char *ca_file, int verify) {
    int rc = ldap_initialize(ld, uri);
    if (rc != LDAP_SUCCESS) return rc;
    int version = LDAP_VERSION3;
    struct timeval tv = seconds_to_timeval(timeout);
    int require = verify ? LDAP_OPT_X_TLS_DEMAND : LDAP_OPT_X_TLS_NEVER;
    int fresh = 0;
    if ((rc = ldap_set_option(*ld, LDAP_OPT_PROTOCOL_VERSION, &version)) != LDAP_OPT_SUCCESS) return rc;
    if ((rc = ldap_set_option(*ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF)) != LDAP_OPT_SUCCESS) return rc;
    if ((rc = ldap_set_option(*ld, LDAP_OPT_NETWORK_TIMEOUT, &tv)) != LDAP_OPT_SUCCESS) return rc;
    if ((rc = ldap_set_option(*ld, LDAP_OPT_TIMEOUT, &tv)) != LDAP_OPT_SUCCESS) return rc;
    if ((rc = ldap_set_option(*ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &require)) != LDAP_OPT_SUCCESS) return rc;
    if (ca_file != NULL &&
        (rc = ldap_set_option(*ld, LDAP_OPT_X_TLS_CACERTFILE, ca_file)) != LDAP_OPT_SUCCESS) return rc;
    return ldap_set_option(*ld, LDAP_OPT_X_TLS_NEWCTX, &fresh);
}

int postern_ldap_connect(LDAP *ld) { return ldap_connect(ld); }

int postern_ldap_starttls(LDAP *ld) { return ldap_start_tls_s(ld, NULL, NULL); }

int postern_ldap_simple_bind(LDAP *ld, const char *dn, const char *password, size_t length) {
    struct berval credentials;
    credentials.bv_val = (char *)password;
    credentials.bv_len = password ? length : 0;
    return ldap_sasl_bind_s(ld, dn, LDAP_SASL_SIMPLE, &credentials, NULL, NULL, NULL);
}

int postern_ldap_search(LDAP *ld, const char *base, int scope, const char *filter, char **attributes,
                        int size_limit, double timeout, LDAPMessage **result) {
    int scopes[] = {LDAP_SCOPE_BASE, LDAP_SCOPE_ONELEVEL, LDAP_SCOPE_SUBTREE};
    struct timeval tv = seconds_to_timeval(timeout);
    if (scope < 0 || scope > 2) return LDAP_PARAM_ERROR;
    return ldap_search_ext_s(ld, base, scopes[scope], filter, attributes, 0, NULL, NULL, &tv, size_limit,
                             result);
}

int postern_ldap_success(void) { return LDAP_SUCCESS; }
int postern_ldap_timeout(void) { return LDAP_TIMEOUT; }
int postern_ldap_server_down(void) { return LDAP_SERVER_DOWN; }
int postern_ldap_connect_error(void) { return LDAP_CONNECT_ERROR; }
int postern_ldap_size_limit_exceeded(void) { return LDAP_SIZELIMIT_EXCEEDED; }
