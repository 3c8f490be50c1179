/* pktline.h - pure parsing for the pipelined-git session helper
 * (gitops_net.c, `pipelined-git session`): the ref advertisement that
 * git-upload-pack sends first (protocol v0/v1, pkt-lines), the remote
 * command line git itself sends over SSH, and the user and path of an SSH
 * git URL.  Bytes in, facts out; no I/O. */
#ifndef PIPELINED_PKTLINE_H
#define PIPELINED_PKTLINE_H

#include <stddef.h>

#define PKTLINE_MAX_REFS 4096	/* the ls-remote bound (GITOPS_MAX_REFS) */
#define PKTLINE_MAX_NAME 255	/* a ref name longer than this is refused */
#define PKTLINE_MAX_PKT 65520	/* git's LARGE_PACKET_MAX, length included */
#define PKTLINE_HEXSZ 40	/* SHA-1 object ids only */
#define PKTLINE_MORE 1		/* pktline_adv_parse: needs more bytes */

struct pktline_ref {
	size_t id_off;		/* PKTLINE_HEXSZ lowercase hex digits at data + id_off */
	size_t name_off, name_len;	/* the ref name, not NUL-terminated */
};

struct pktline_adv {
	struct pktline_ref refs[PKTLINE_MAX_REFS];
	size_t nrefs;
	size_t used;		/* bytes up to and including the flush-pkt */
	unsigned version;	/* 0, or 1 when the server said "version 1" */
};

/* Parses the ref advertisement at the start of data[0..len): pkt-lines of
 * "<id> <name>" (the first with NUL and capabilities after it), an optional
 * "version 1" line first, "shallow <id>" lines, and the flush-pkt "0000"
 * that ends it.  The placeholder "capabilities^{}" of an empty repository is
 * not a ref.  0: out holds the refs (offsets into data) and out->used;
 * PKTLINE_MORE: well-formed so far but not complete; ERR_INVALID (a bad
 * length, a bad id or name, an "ERR" packet from the server, protocol v2) or
 * ERR_TOOBIG (more than PKTLINE_MAX_REFS refs), with err saying what. */
int pktline_adv_parse(struct pktline_adv *out, const char *data, size_t len, char *err,
		      size_t errsz);

/* What git runs on the server for a fetch from url:
 * "git-upload-pack '<path>'", the path single-quoted as git's sq_quote does
 * (a ' or ! becomes '\'' or '\!').  ERR_INVALID when url is not an SSH URL
 * or has no path, ERR_TOOBIG when it does not fit outsz. */
int pktline_upload_pack_cmd(char *out, size_t outsz, const char *url);

/* The user of an SSH git URL (ssh://user@host/..., user@host:path), or
 * "git" when it names none.  ERR_INVALID / ERR_TOOBIG as above. */
int pktline_url_user(char *out, size_t outsz, const char *url);

#endif
