/* odd_msgs: odd messages for the header hash tests; see odd_msgs.h. */
#include "support/odd_msgs.h"

#include <stdio.h>

#include "util/buf.h"
#include "sync/fingerprint.h"

const char *const odd_msgs[ODD_MSGS] = {
	"Message-ID: <a@t>\r\nSubject: crlf\r\n\r\nbody\r\n",
	"Subject: bare\rCR\r\nTo: y\r\n\r\nbo\rdy\r\n",
	"Subject: no id\r\n\r\nbody\r\n",
	"Message-ID:\r\n <folded@t>\r\nTo: x\r\n\r\nbody\r\n",
	"Subject: header only\r\nTo: z\r\n",
	"Subject: empty body\r\n\r\n",
	"Subject: ends at EOF",
	"Subject: ends in CR\r",
	"Subject: cr cr lf\r\r\nTo: x\r\r\n\r\r\nbody\r\r\n",
	"\r\nSubject: starts blank\r\n\r\nbody\r\n",
	"Subject: lf only\nMessage-ID: <lf@t>\n\nbody\n",
	"Subject: no id, lf\n\nbody\n",
	"Message-ID: <noid-body@t>\r\n\r\n",
};

char *
odd_long_header(void)
{
	size_t n = FP_HEADER_MAX + 5000;
	char *m = xmalloc(n + 64);
	size_t at = 0;

	while (at < n)
		at += (size_t)snprintf(m + at, 64, "X-Pad-%zu: %s\r\n", at,
		    "padding padding padding");
	snprintf(m + at, 64, "\r\nthe body\r\n");
	return m;
}
