/* store_imap_conf: an IMAPStore's configuration as store options. */
#include "imap/store_imap.h"

#include <string.h>

#include "config/config.h"

void
imap_store_options_from_conf(const struct store_conf *sc,
    struct imap_store_options *o)
{
	const struct imap_account_conf *a = sc->account;

	memset(o, 0, sizeof(*o));
	o->name = sc->name;
	o->host = a->host;
	o->port = a->port;
	o->timeout = a->timeout;
	o->tunnel = a->tunnel;
	o->tls = a->tls_type;
	o->tls_versions = a->tls_versions;
	o->ciphers = a->cipher_string;
	o->system_certs = a->system_certs;
	o->ca_file = a->cert_file;
	o->client_cert = a->client_cert;
	o->client_key = a->client_key;
	o->user = a->user;
	o->user_cmd = a->user_cmd;
	o->pass = a->pass;
	o->pass_cmd = a->pass_cmd;
	o->auth_mechs = &a->auth_mechs;
	o->pipeline_depth = a->pipeline_depth;
	o->disabled_exts = &a->disabled_exts;
	o->use_namespace = sc->use_namespace;
	o->path_delimiter = sc->path_delimiter;
	o->path = sc->path;
	o->subscribed_only = sc->subscribed_only;
}
