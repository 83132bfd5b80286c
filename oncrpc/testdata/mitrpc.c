/*
 * mitrpc: a test server built on MIT krb5's own ONC RPC library
 * (libgssrpc), so that the oncrpc client is checked against MIT's record
 * marking (4000-byte fragments) and MIT's encoding of replies.
 *
 * Debian ships libgssrpc without headers, so the few declarations used
 * are written out here; only the start of each structure is described.
 *
 * Program 0x20001994 version 1:
 *   0  NULL
 *   1  ECHO: opaque<> in, the same opaque<> out
 *   2  SYSTEM_ERR reply
 *   other procedures: PROC_UNAVAIL; undecodable arguments: GARBAGE_ARGS
 *
 * Usage: mitrpc PORT   (listens on 127.0.0.1:PORT, prints "ready")
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef int bool_t;
typedef bool_t (*xdrproc_t)(void *, void *);

struct opaque_auth { int oa_flavor; char *oa_base; unsigned int oa_length; };

struct xp_ops {
    void *xp_recv;
    void *xp_stat;
    bool_t (*xp_getargs)(void *, xdrproc_t, void *);
};

typedef struct {
    int xp_sock;
    unsigned short xp_port;
    struct xp_ops *xp_ops;
} SVCXPRT;

struct svc_req {
    uint32_t rq_prog, rq_vers, rq_proc;
    struct opaque_auth rq_cred;
};

extern SVCXPRT *gssrpc_svctcp_create(int, unsigned int, unsigned int);
extern bool_t gssrpc_svc_register(SVCXPRT *, uint32_t, uint32_t,
                                  void (*)(struct svc_req *, SVCXPRT *), int);
extern void gssrpc_svc_run(void);
extern bool_t gssrpc_svc_sendreply(SVCXPRT *, xdrproc_t, void *);
extern void gssrpc_svcerr_noproc(SVCXPRT *);
extern void gssrpc_svcerr_decode(SVCXPRT *);
extern void gssrpc_svcerr_systemerr(SVCXPRT *);
extern bool_t gssrpc_xdr_void(void *, void *);
extern bool_t gssrpc_xdr_bytes(void *, char **, unsigned int *, unsigned int);

struct blob { char *data; unsigned int len; };

static bool_t
xdr_blob(void *xdrs, void *p)
{
    struct blob *b = p;
    return gssrpc_xdr_bytes(xdrs, &b->data, &b->len, 1 << 24);
}

static void
dispatch(struct svc_req *rq, SVCXPRT *xprt)
{
    struct blob b = { NULL, 0 };

    switch (rq->rq_proc) {
    case 0:
        gssrpc_svc_sendreply(xprt, (xdrproc_t)gssrpc_xdr_void, NULL);
        return;
    case 1:
        if (!xprt->xp_ops->xp_getargs(xprt, xdr_blob, &b)) {
            gssrpc_svcerr_decode(xprt);
            return;
        }
        gssrpc_svc_sendreply(xprt, xdr_blob, &b);
        free(b.data);
        return;
    case 2:
        gssrpc_svcerr_systemerr(xprt);
        return;
    default:
        gssrpc_svcerr_noproc(xprt);
    }
}

int
main(int argc, char **argv)
{
    struct sockaddr_in sin;
    SVCXPRT *xprt;
    int s, one = 1;

    if (argc != 2)
        return 2;
    s = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(atoi(argv[1]));
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
        perror("bind");
        return 1;
    }
    /* Buffer sizes 0: MIT's default, 4000-byte fragments. */
    xprt = gssrpc_svctcp_create(s, 0, 0);
    if (xprt == NULL || !gssrpc_svc_register(xprt, 0x20001994, 1, dispatch, 0)) {
        fprintf(stderr, "cannot create the service\n");
        return 1;
    }
    printf("ready\n");
    fflush(stdout);
    gssrpc_svc_run();
    return 1;
}
