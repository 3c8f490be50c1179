/* gitssh.h - pure helpers for the SSH side of the git layer: where a git
 * URL points, what kind of key a private key file holds, and how OpenSSH
 * prints a host key fingerprint.  No I/O. */
#ifndef PIPELINED_GITSSH_H
#define PIPELINED_GITSSH_H

#include <stdbool.h>
#include <stddef.h>

struct gitssh_url {
	bool ssh;		/* false: file:// or a local path */
	char host[256];		/* without brackets for IPv6 */
	int port;		/* 22 unless given */
};

/* Understands ssh://[user@]host[:port]/path, ssh://[user@][v6]:port/path,
 * scp-like [user@]host:path, file://path and plain paths.  ERR_INVALID on
 * anything else (git://, http(s)://: not supported for the GitOps remote). */
int gitssh_url_parse(struct gitssh_url *out, const char *url);

/* The known_hosts name libssh2 and OpenSSH use: "host", or "[host]:port"
 * when the port is not 22. */
void gitssh_known_host_name(char *out, size_t outsz, const struct gitssh_url *u);

/* Key type of a private key file's contents: "ssh-ed25519",
 * "ecdsa-sha2-nistp256", "ssh-rsa", "ssh-dss", ... for OpenSSH and PEM
 * files; ERR_INVALID if it is not a private key we can read. */
int gitssh_key_type(char *out, size_t outsz, const char *data, size_t len);

/* "SHA256:" + unpadded base64 of a 32-byte digest, as ssh-keygen -l. */
void gitssh_fingerprint(char out[60], const unsigned char sha256[32]);

/* The fingerprint (as above) of the public key inside an armored SSH
 * signature ("-----BEGIN SSH SIGNATURE-----", the SSHSIG format): which key
 * signed, whatever principals an allowed-signers file gives it (issue 14:
 * two approvals made with one key are one person).  Not a verification.
 * ERR_INVALID when sig is not an SSH signature. */
int gitssh_sig_key(char out[60], const char *sig, size_t len);

/* Issue 14 item 3: the fingerprint (as above) of the public key stored in
 * the clear inside an OpenSSH private key file ("-----BEGIN OPENSSH
 * PRIVATE KEY-----"), which needs no passphrase; *encrypted says whether
 * the private half has one.  ERR_INVALID for anything else (PEM keys
 * included). */
int gitssh_private_key_fp(char out[60], bool *encrypted, const char *data, size_t len);

/* Issue 14 item 3: in an allowed-signers file (ssh-keygen(1), ALLOWED
 * SIGNERS), the principals field (comma-separated, quotes removed) of the
 * first line whose key has fingerprint fp, and that line's number.
 * ERR_NOTFOUND when no line holds the key, ERR_TOOBIG when the field does
 * not fit outsz. */
int gitssh_signers_principals(char *out, size_t outsz, int *line, const char *signers,
			      size_t len, const char *fp);

#endif
