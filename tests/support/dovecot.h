/*
 * dovecot: a private Dovecot for integration tests, started with
 * scripts/test-server.sh (run from the top of the source tree).
 *
 * Contract:
 *  - dovecot_start() makes a temporary directory (mode 755, as Dovecot's
 *    mail user must traverse it), starts the server there with the given
 *    extra environment ("VAR=value ..." prepended to the command, or
 *    NULL), and reads server.env. It never skips: when the server cannot
 *    start it prints the script's output and exits the test program with
 *    status 1.
 *  - dovecot_stop() stops the server and removes the directory; it is
 *    safe to call twice. The caller owns the struct and its strings until
 *    then.
 */
#ifndef TWINBOX_TEST_DOVECOT_H
#define TWINBOX_TEST_DOVECOT_H

struct dovecot {
	char *dir;
	char *imap_port;
	char *imaps_port;
	char *ca_file;
	char *mail_dir;
	int running;
};

void dovecot_start(struct dovecot *d, const char *env);
void dovecot_stop(struct dovecot *d);
/* Run "scripts/test-server.sh ARGS" against d's directory; 0 on success. */
int dovecot_script(const struct dovecot *d, const char *args);

#endif
