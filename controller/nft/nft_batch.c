// SPDX-License-Identifier: GPL-2.0-only
/*
 * Linearize: IR -> libnftnl objects -> one nfnetlink batch, sent with a single sendmsg so the
 * kernel applies all of it or none of it. Expressions are emitted exactly as nft 1.0 emits them
 * for the same text, so `nft -f` of `wardwall render` and `wardwall apply` produce the same
 * kernel state (tests/suites/30-nft-apply.sh compares them).
 *
 * Only the last message asks for an ack: a batch of 100k objects would otherwise queue 100k acks
 * and overflow the socket (ENOBUFS). Errors are always reported, acked or not.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "nft_expr.h"
#include "nft_sock.h"

#define PAGE_BYTES    (1u << 20)
#define OVERRUN_BYTES (128u << 10)
#define ELEMS_PER_MSG 128

/* What one message is about, to map the kernel's answer (by sequence number) back to it. */
struct msgdesc {
	uint32_t seq;
	uint32_t off; /* into descs: the description, then the object's name */
	uint8_t kind; /* enum ww_objkind */
};

struct ww_nft_batch {
	struct nftnl_batch *b;
	uint32_t genid;
	uint32_t seq0, seq; /* seq0: the batch begin */
	struct msgdesc *msgs;
	size_t nmsgs, cap;
	struct strbuf descs;
	struct nlmsghdr *last; /* the last object message: it carries the ack request */
	enum nfr_family family; /* of the table the next messages are about */
	struct ww_nft_refused *refused; /* by the last commit, in batch order */
	size_t nrefused, rcap;
	int err;
};

static void batch_begin(struct ww_nft_batch *b)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(nftnl_batch_buffer(b->b));
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = NFNL_MSG_BATCH_BEGIN;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = b->seq0;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(NFNL_SUBSYS_NFTABLES);
	/* The kernel refuses the batch with ERESTART if the ruleset moved past genid. */
	mnl_attr_put_u32(nlh, NFNL_BATCH_GENID, htonl(b->genid));
	nftnl_batch_update(b->b);
}

int ww_nft_batch_new(struct ww_nft_batch **out, uint32_t genid)
{
	struct ww_nft_batch *b = calloc(1, sizeof(*b));

	if (!b)
		return -ENOMEM;
	b->b = nftnl_batch_alloc(PAGE_BYTES, OVERRUN_BYTES);
	if (!b->b) {
		free(b);
		return -ENOMEM;
	}
	b->genid = genid;
	b->seq0 = b->seq = (uint32_t)random() | 1;
	batch_begin(b);
	*out = b;
	return 0;
}

void ww_nft_batch_free(struct ww_nft_batch *b)
{
	if (!b)
		return;
	nftnl_batch_free(b->b);
	free(b->msgs);
	free(b->refused);
	sb_free(&b->descs);
	free(b);
}

void ww_nft_batch_family(struct ww_nft_batch *b, enum nfr_family f)
{
	b->family = f;
}

static uint16_t nfproto(enum nfr_family f)
{
	return f == NFR_BRIDGE ? NFPROTO_BRIDGE : NFPROTO_INET;
}

size_t ww_nft_batch_count(const struct ww_nft_batch *b)
{
	return b->nmsgs;
}

/* Starts a message; the caller fills its payload and calls msg_end. */
static struct nlmsghdr *msg_start(struct ww_nft_batch *b, uint16_t type, uint16_t flags)
{
	/* The family is the header's: libnftnl leaves the objects' own family attribute out. */
	return nftnl_nlmsg_build_hdr(nftnl_batch_buffer(b->b), type, nfproto(b->family),
				     flags | NLM_F_REQUEST, ++b->seq);
}

static int msg_end(struct ww_nft_batch *b, struct nlmsghdr *nlh, enum ww_objkind kind,
		   const char *name, const char *what)
{
	struct msgdesc m = {.seq = nlh->nlmsg_seq, .off = (uint32_t)b->descs.len, .kind = kind};
	const struct msgdesc *prev = b->nmsgs ? &b->msgs[b->nmsgs - 1] : NULL;
	const char *pwhat = prev ? b->descs.s + prev->off : NULL;

	/* A chain's rules and a map's elements are many messages about one object: they share
	 * one copy of its description and name. */
	if (prev && prev->kind == kind && !strcmp(pwhat, what) &&
	    !strcmp(pwhat + strlen(pwhat) + 1, name)) {
		m.off = prev->off;
	} else {
		sb_addn(&b->descs, what, strlen(what) + 1);
		sb_addn(&b->descs, name, strlen(name) + 1);
	}
	if (b->descs.oom || VEC_PUSH(b->msgs, b->nmsgs, b->cap, m))
		return b->err = -ENOMEM;
	if (nftnl_batch_update(b->b) < 0)
		return b->err = -ENOMEM;
	/* A message that overflows its page is copied to a new page and only the copy is sent:
	 * the ack request must go on the copy, which ends where the next message will start. */
	b->last = (struct nlmsghdr *)((char *)nftnl_batch_buffer(b->b) - nlh->nlmsg_len);
	return 0;
}

int ww_nft_batch_append(struct ww_nft_batch *b, const void *msgs, size_t len, const char *name,
			const char *what)
{
	const struct nlmsghdr *m = msgs;
	int left = (int)len;

	if (b->err)
		return b->err;
	for (; mnl_nlmsg_ok(m, left); m = mnl_nlmsg_next(m, &left)) {
		if (m->nlmsg_len > OVERRUN_BYTES)
			return b->err = -E2BIG;
		struct nlmsghdr *nlh = nftnl_batch_buffer(b->b);
		memcpy(nlh, m, m->nlmsg_len);
		nlh->nlmsg_seq = ++b->seq;
		nlh->nlmsg_flags &= (uint16_t)~NLM_F_ACK;
		int e = msg_end(b, nlh, WW_OBJ_TABLE, name, what);
		if (e)
			return e;
	}
	return 0;
}

/* ---- objects ---- */

int ww_nft_add_table(struct ww_nft_batch *b, const char *comment)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(256);
	struct nlmsghdr *nlh;

	if (!t || !ud) {
		nftnl_table_free(t);
		nftnl_udata_buf_free(ud);
		return -ENOMEM;
	}
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, WW_NFT_TABLE);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	if (comment) {
		nftnl_udata_put_strz(ud, NFTNL_UDATA_TABLE_COMMENT, comment);
		nftnl_table_set_data(t, NFTNL_TABLE_USERDATA, nftnl_udata_buf_data(ud),
				     nftnl_udata_buf_len(ud));
	}
	nlh = msg_start(b, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	nftnl_udata_buf_free(ud);
	return msg_end(b, nlh, WW_OBJ_TABLE, WW_NFT_TABLE,
		       b->family == NFR_BRIDGE ? "table bridge " WW_NFT_TABLE : "table inet " WW_NFT_TABLE);
}

int ww_nft_del_table(struct ww_nft_batch *b)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	if (!t)
		return -ENOMEM;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, WW_NFT_TABLE);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nlh = msg_start(b, NFT_MSG_DELTABLE, 0);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	return msg_end(b, nlh, WW_OBJ_TABLE, WW_NFT_TABLE,
		       b->family == NFR_BRIDGE ? "table bridge " WW_NFT_TABLE : "table inet " WW_NFT_TABLE);
}

static struct nftnl_obj *obj_new(uint32_t type, const char *name)
{
	struct nftnl_obj *o = nftnl_obj_alloc();

	if (!o)
		return NULL;
	nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, WW_NFT_TABLE);
	nftnl_obj_set_str(o, NFTNL_OBJ_NAME, name);
	nftnl_obj_set_u32(o, NFTNL_OBJ_FAMILY, NFPROTO_INET);
	nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, type);
	return o;
}

static int obj_msg(struct ww_nft_batch *b, struct nftnl_obj *o, uint16_t type, uint16_t flags,
		   const char *name, const char *what)
{
	struct nlmsghdr *nlh;
	enum ww_objkind kind;

	if (!o)
		return -ENOMEM;
	nlh = msg_start(b, type, flags);
	nftnl_obj_nlmsg_build_payload(nlh, o);
	kind = nftnl_obj_get_u32(o, NFTNL_OBJ_TYPE) == NFT_OBJECT_LIMIT ? WW_OBJ_LIMIT
									 : WW_OBJ_COUNTER;
	nftnl_obj_free(o);
	return msg_end(b, nlh, kind, name, what);
}

int ww_nft_add_counter(struct ww_nft_batch *b, const struct nfr_counter *c, const char *what)
{
	return obj_msg(b, obj_new(NFT_OBJECT_COUNTER, c->name), NFT_MSG_NEWOBJ, NLM_F_CREATE,
		       c->name, what);
}

int ww_nft_add_limit(struct ww_nft_batch *b, const struct nfr_limit *l, const char *what)
{
	struct nftnl_obj *o = obj_new(NFT_OBJECT_LIMIT, l->name);

	if (o) {
		nftnl_obj_set_u64(o, NFTNL_OBJ_LIMIT_RATE, l->rate);
		nftnl_obj_set_u64(o, NFTNL_OBJ_LIMIT_UNIT, 1);
		nftnl_obj_set_u32(o, NFTNL_OBJ_LIMIT_BURST, l->burst);
		nftnl_obj_set_u32(o, NFTNL_OBJ_LIMIT_TYPE, NFT_LIMIT_PKTS);
		nftnl_obj_set_u32(o, NFTNL_OBJ_LIMIT_FLAGS, 0);
	}
	return obj_msg(b, o, NFT_MSG_NEWOBJ, NLM_F_CREATE, l->name, what);
}

int ww_nft_del_obj(struct ww_nft_batch *b, int type, const char *name, const char *what)
{
	return obj_msg(b, obj_new((uint32_t)type, name), NFT_MSG_DELOBJ, 0, name, what);
}

/* ---- sets ---- */

/* nft's datatype numbers (src/datatype.h) and byte orders (1 host, 2 big endian). */
static uint32_t key_type(enum nfr_key k)
{
	switch (k) {
	case NK_SADDR4:
	case NK_DADDR4:
		return 7;
	case NK_SADDR6:
	case NK_DADDR6:
		return 8;
	case NK_L4PROTO:
		return 12;
	case NK_TCP_DPORT:
	case NK_UDP_DPORT:
	case NK_SCTP_DPORT:
	case NK_TH_DPORT:
		return 13;
	case NK_ICMP_TYPE:
		return 14;
	case NK_ICMPV6_TYPE:
		return 29;
	case NK_IFNAME:
		return 41;
	case NK_MARK:
		return 19;
	default:
		return 0;
	}
}

static struct nftnl_set *set_new(const char *name)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (!s)
		return NULL;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, WW_NFT_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	return s;
}

static int add_elems(struct ww_nft_batch *b, const struct nfr_set *x, uint32_t set_id,
		     const char *what);

static bool is_addr(enum nfr_key k)
{
	return k == NK_SADDR4 || k == NK_DADDR4 || k == NK_SADDR6 || k == NK_DADDR6;
}

/* What nfr.h allows in a concatenation: an address or the mark first, then the protocol, th dport
 * or an ICMP type (the fields load_field loads). */
static bool cat_valid(const struct nfr_cat *c)
{
	if (c->n < 2 || c->n > NFR_CAT_MAX || !(is_addr(c->f[0]) || c->f[0] == NK_MARK))
		return false;
	for (unsigned int i = 1; i < c->n; i++)
		if (c->f[i] != NK_L4PROTO && c->f[i] != NK_TH_DPORT && c->f[i] != NK_ICMP_TYPE &&
		    c->f[i] != NK_ICMPV6_TYPE)
			return false;
	return true;
}

/* nft's expression types (src/expression.h) and the ids its typeof records use. */
#define EXPR_PAYLOAD 7
#define EXPR_META    9
#define EXPR_CONCAT  13
#define EXPR_VERDICT 1

/*
 * One field of `typeof meta mark . meta l4proto . th dport` as nft 1.0.6 records it in the set's
 * user data (src/expression.c concat_expr_build_udata): the field's expression type, then its
 * own record: a meta key (src/meta.c), or a payload's protocol and field (src/payload.c: th
 * dport is protocol 11, field 2; icmp type 4, 1; icmpv6 type 14, 1).
 */
static void typeof_field(struct nftnl_udata_buf *ud, unsigned int i, enum nfr_key k)
{
	struct nftnl_udata *field = nftnl_udata_nest_start(ud, i), *data;
	bool meta = k == NK_MARK || k == NK_L4PROTO;

	nftnl_udata_put_u32(ud, 0, meta ? EXPR_META : EXPR_PAYLOAD);
	data = nftnl_udata_nest_start(ud, 1);
	if (meta) {
		nftnl_udata_put_u32(ud, 0, k == NK_MARK ? NFT_META_MARK : NFT_META_L4PROTO);
	} else {
		nftnl_udata_put_u32(ud, 0, k == NK_TH_DPORT ? 11 : k == NK_ICMP_TYPE ? 4 : 14);
		nftnl_udata_put_u32(ud, 1, k == NK_TH_DPORT ? 2 : 1);
	}
	nftnl_udata_nest_end(ud, data);
	nftnl_udata_nest_end(ud, field);
}

/*
 * The key's typeof record. A concatenation of types: the expression type of a concatenation with
 * no data (nft lists the set by its types: `type ipv4_addr . inet_proto`). One keyed on the mark
 * says its expressions, as nft does for `typeof meta mark . meta l4proto . th dport` (the mark
 * has no type nft would print as `meta mark`); a verdict map's data then has a typeof record
 * too. An object map keeps the types (`type mark . inet_proto . inet_service : counter`): nft
 * 1.0.6 does not parse `typeof ... : counter`, and would list the map that way.
 */
static void set_typeof(struct nftnl_udata_buf *ud, const struct nfr_set *x)
{
	bool exprs = x->cat.f[0] == NK_MARK && !x->objmap;
	struct nftnl_udata *nest = nftnl_udata_nest_start(ud, NFTNL_UDATA_SET_KEY_TYPEOF), *data;

	nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_TYPEOF_EXPR, EXPR_CONCAT);
	if (!exprs) {
		nftnl_udata_put(ud, NFTNL_UDATA_SET_TYPEOF_DATA, 0, NULL);
		nftnl_udata_nest_end(ud, nest);
		return;
	}
	data = nftnl_udata_nest_start(ud, NFTNL_UDATA_SET_TYPEOF_DATA);
	for (unsigned int i = 0; i < x->cat.n; i++)
		typeof_field(ud, i, x->cat.f[i]);
	nftnl_udata_nest_end(ud, data);
	nftnl_udata_nest_end(ud, nest);
	if (x->vmap) {
		nest = nftnl_udata_nest_start(ud, NFTNL_UDATA_SET_DATA_TYPEOF);
		nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_TYPEOF_EXPR, EXPR_VERDICT);
		nftnl_udata_put(ud, NFTNL_UDATA_SET_TYPEOF_DATA, 0, NULL);
		nftnl_udata_nest_end(ud, nest);
	}
}

/*
 * The key as nft declares it. A concatenation: the fields' type ids 6 bits each (what `nft
 * list` prints as `ipv4_addr . inet_proto . inet_service`), each field's length
 * (NFTNL_SET_DESC_CONCAT, which the pipapo set type needs), key byte order 0 (none: the fields
 * keep their own) and the typeof record (set_typeof).
 */
static void set_key(struct nftnl_set *s, struct nftnl_udata_buf *ud, const struct nfr_set *x)
{
	uint8_t lens[NFR_CAT_MAX];
	uint32_t type = 0;

	if (!x->cat.n) {
		nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, key_type(x->key));
		nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, nfr_key_len(x->key));
		nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER, x->key == NK_IFNAME ? 1 : 2);
		return;
	}
	for (unsigned int i = 0; i < x->cat.n; i++) {
		lens[i] = (uint8_t)ww_nx_field_len(x->cat.f[i]);
		type = type << 6 | key_type(x->cat.f[i]);
	}
	ww_nx_set_concat(s, lens, x->cat.n);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, type);
	nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER, 0);
	if (x->vmap)
		nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_DATABYTEORDER, 0);
	set_typeof(ud, x);
}

int ww_nft_add_set(struct ww_nft_batch *b, const struct nfr_set *x, const char *what)
{
	struct nftnl_set *s = set_new(x->name);
	struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
	struct nlmsghdr *nlh;
	uint32_t flags = (x->interval || x->cat.n ? NFT_SET_INTERVAL : 0) |
			 (x->vmap ? NFT_SET_MAP : 0) | (x->objmap ? NFT_SET_OBJECT : 0) |
			 (x->cat.n ? NFT_SET_CONCAT : 0);
	int err;

	if (!s || !ud) {
		nftnl_set_free(s);
		nftnl_udata_buf_free(ud);
		return -ENOMEM;
	}
	if ((x->cat.n && !cat_valid(&x->cat)) || (x->vmap && x->objmap)) {
		nftnl_set_free(s);
		nftnl_udata_buf_free(ud);
		return -EINVAL;
	}
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, flags);
	uint32_t id = ++b->seq;
	nftnl_set_set_u32(s, NFTNL_SET_ID, id);
	/* The same user data nft attaches, in its order, so nft prints the set the same way. */
	set_key(s, ud, x);
	if (x->vmap) {
		nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
		nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, 16);
		if (!x->cat.n)
			nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_DATABYTEORDER, 0);
	}
	if (x->objmap)
		nftnl_set_set_u32(s, NFTNL_SET_OBJ_TYPE, NFT_OBJECT_COUNTER);
	if (x->vmap || x->objmap)
		nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_DATA_INTERVAL, 0);
	nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(ud), nftnl_udata_buf_len(ud));
	nlh = msg_start(b, NFT_MSG_NEWSET, NLM_F_CREATE);
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	nftnl_udata_buf_free(ud);
	err = msg_end(b, nlh, WW_OBJ_SET, x->name, what);
	return err ? err : add_elems(b, x, id, what);
}

static void key_bytes(enum nfr_key k, u128 v, uint8_t *out)
{
	unsigned int len = nfr_key_len(k);

	for (int i = (int)len - 1; i >= 0; i--) {
		out[i] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

static struct nftnl_set_elem *elem_new(const struct nfr_set *x, u128 key, const char *ifname)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();
	uint8_t kb[16] = {0};

	if (!e)
		return NULL;
	if (ifname)
		strncpy((char *)kb, ifname, sizeof(kb) - 1);
	else
		key_bytes(x->key, key, kb);
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, kb, nfr_key_len(x->key));
	return e;
}

/* A concatenation's key: each field in network order at the start of its 4-byte words, the rest
 * zero, as registers hold them. Returns its length. */
static uint32_t cat_bytes(const struct nfr_cat *c, u128 f0, const uint32_t *rest, uint8_t *out)
{
	uint32_t at = 0;

	for (unsigned int i = 0; i < c->n; i++) {
		unsigned int len = ww_nx_field_len(c->f[i]);
		u128 v = i ? rest[i - 1] : f0;
		memset(out + at, 0, (len + 3u) & ~3u);
		for (int k = (int)len - 1; k >= 0; k--, v >>= 8)
			out[at + (unsigned int)k] = (uint8_t)(v & 0xff);
		at += (len + 3u) & ~3u;
	}
	return at;
}

/* An element of a concatenation: from KEY to KEY_END (inclusive) in every field, one element
 * (the pipapo set type has no start and end elements). */
static struct nftnl_set_elem *cat_elem_new(const struct nfr_set *x, const struct nfr_elem *el)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();
	uint8_t lo[4 * NFT_REG32_COUNT], hi[4 * NFT_REG32_COUNT];
	uint32_t len;

	if (!e)
		return NULL;
	len = cat_bytes(&x->cat, el->lo, el->clo, lo);
	cat_bytes(&x->cat, el->hi, el->chi, hi);
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, lo, len);
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY_END, hi, len);
	return e;
}

/* The element's data: a verdict (a verdict map) or the name of a counter (an object map). */
static void elem_data(struct nftnl_set_elem *e, const struct nfr_set *x, const struct nfr_elem *el)
{
	static const int codes[] = {[NV_ACCEPT] = NF_ACCEPT, [NV_DROP] = NF_DROP,
				    [NV_RETURN] = NFT_RETURN, [NV_JUMP] = NFT_JUMP,
				    [NV_GOTO] = NFT_GOTO};

	if (x->objmap && el->obj) {
		nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_OBJREF, el->obj);
		return;
	}
	if (!x->vmap)
		return;
	nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT, (uint32_t)codes[el->v.kind]);
	if (el->v.chain)
		nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN, el->v.chain);
}

static struct nftnl_set_elem *end_elem_new(const struct nfr_set *x, u128 key)
{
	struct nftnl_set_elem *e = elem_new(x, key, NULL);

	if (e)
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, NFT_SET_ELEM_INTERVAL_END);
	return e;
}

/*
 * Appends element el of x to s (data: with its verdict or counter; a deletion names keys only).
 * Interval sets are written as nft writes them: each interval is a start element carrying the
 * verdict and an end element (flagged) at last + 1; an interval reaching the top of the key space
 * has no end but a user-data flag saying it is open; and a first interval (first) not starting
 * at zero is preceded by an end element at zero. A concatenation is always one element.
 */
static int put_elem(struct nftnl_set *s, const struct nfr_set *x, const struct nfr_elem *el,
		    bool first, bool data)
{
	static const uint8_t open[] = {1, 4, 1, 0, 0, 0};
	struct nftnl_set_elem *e;

	if (x->cat.n) {
		if (!(e = cat_elem_new(x, el)))
			return -ENOMEM;
		if (data)
			elem_data(e, x, el);
		nftnl_set_elem_add(s, e);
		return 0;
	}
	if (x->interval && first && el->lo != 0) {
		if (!(e = end_elem_new(x, 0)))
			return -ENOMEM;
		nftnl_set_elem_add(s, e);
	}
	if (!(e = elem_new(x, el->lo, el->ifname)))
		return -ENOMEM;
	if (data)
		elem_data(e, x, el);
	nftnl_set_elem_add(s, e);
	if (x->interval && el->hi == nfr_key_max(x->key)) {
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_USERDATA, open, sizeof(open));
	} else if (x->interval) {
		if (!(e = end_elem_new(x, el->hi + 1)))
			return -ENOMEM;
		nftnl_set_elem_add(s, e);
	}
	return 0;
}

static int elems_flush(struct ww_nft_batch *b, struct nftnl_set **s, uint16_t type,
		       const char *name, const char *what)
{
	struct nlmsghdr *nlh;
	int err;

	if (!*s)
		return 0;
	nlh = msg_start(b, type, type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0);
	nftnl_set_elems_nlmsg_build_payload(nlh, *s);
	nftnl_set_free(*s);
	*s = NULL;
	err = msg_end(b, nlh, WW_OBJ_SET, name, what);
	return err;
}

/*
 * The elements of x in messages of ELEMS_PER_MSG elements: added (type NFT_MSG_NEWSETELEM, with
 * their data) or deleted (NFT_MSG_DELSETELEM, keys only). set_id (not 0): the set is new in this
 * batch and its elements name it by that id alone. The kernel finds a set by name by walking the
 * table's list of sets, but a set new in the batch by id from the end of the transaction's list:
 * one walk fewer per map and per element message, which is what a cold apply of tens of
 * thousands of maps spends its time on.
 */
static int elems_msgs(struct ww_nft_batch *b, const struct nfr_set *x, uint32_t set_id,
		      uint16_t type, const char *what)
{
	struct nftnl_set *s = NULL;
	size_t inmsg = 0;
	int err = 0;

	for (size_t i = 0; i < x->nelems && !err; i++) {
		if (!s) {
			s = set_new(x->name);
			if (!s)
				return -ENOMEM;
			if (set_id) {
				nftnl_set_unset(s, NFTNL_SET_NAME);
				nftnl_set_set_u32(s, NFTNL_SET_ID, set_id);
			}
			inmsg = 0;
		}
		err = put_elem(s, x, &x->elems[i], i == 0, type == NFT_MSG_NEWSETELEM);
		if (!err && ++inmsg == ELEMS_PER_MSG)
			err = elems_flush(b, &s, type, x->name, what);
	}
	if (!err)
		err = elems_flush(b, &s, type, x->name, what);
	if (s)
		nftnl_set_free(s);
	return err;
}

int ww_nft_add_elems(struct ww_nft_batch *b, const struct nfr_set *x, const char *what)
{
	return add_elems(b, x, 0, what);
}

static int add_elems(struct ww_nft_batch *b, const struct nfr_set *x, uint32_t set_id,
		     const char *what)
{
	return elems_msgs(b, x, set_id, NFT_MSG_NEWSETELEM, what);
}

/*
 * An interval of a plain interval set is two kernel elements, its end shared with the next
 * interval's leading end (see put_elem): deleting one alone is not something an element list
 * can say, so only concatenations (one element each) and sets without intervals take this.
 */
int ww_nft_del_elems(struct ww_nft_batch *b, const struct nfr_set *x, const char *what)
{
	if (x->interval && !x->cat.n)
		return -EINVAL;
	return elems_msgs(b, x, 0, NFT_MSG_DELSETELEM, what);
}

int ww_nft_flush_set(struct ww_nft_batch *b, const char *name, const char *what)
{
	struct nftnl_set *s = set_new(name);
	struct nlmsghdr *nlh;

	if (!s)
		return -ENOMEM;
	nlh = msg_start(b, NFT_MSG_DELSETELEM, 0);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	return msg_end(b, nlh, WW_OBJ_SET, name, what);
}

int ww_nft_del_set(struct ww_nft_batch *b, const char *name, const char *what)
{
	struct nftnl_set *s = set_new(name);
	struct nlmsghdr *nlh;

	if (!s)
		return -ENOMEM;
	nlh = msg_start(b, NFT_MSG_DELSET, 0);
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	return msg_end(b, nlh, WW_OBJ_SET, name, what);
}

/* ---- chains ---- */

static struct nftnl_chain *chain_new(const char *name)
{
	struct nftnl_chain *c = nftnl_chain_alloc();

	if (!c)
		return NULL;
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, WW_NFT_TABLE);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	return c;
}

int ww_nft_add_chain(struct ww_nft_batch *b, const struct nfr_chain *x, const char *what)
{
	static const uint32_t hooks[] = {[NH_FORWARD] = NF_INET_FORWARD,
					 [NH_INPUT] = NF_INET_LOCAL_IN,
					 [NH_OUTPUT] = NF_INET_LOCAL_OUT,
					 [NH_BR_FORWARD] = 2 /* NF_BR_FORWARD */};
	struct nftnl_chain *c = chain_new(x->name);
	struct nlmsghdr *nlh;

	if (!c)
		return -ENOMEM;
	if (x->hook) {
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hooks[x->hook]);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, x->prio);
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	}
	nlh = msg_start(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftnl_chain_free(c);
	return msg_end(b, nlh, WW_OBJ_CHAIN, x->name, what);
}

int ww_nft_flush_chain(struct ww_nft_batch *b, const char *name, const char *what)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nlmsghdr *nlh;

	if (!r)
		return -ENOMEM;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, WW_NFT_TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, name);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	nlh = msg_start(b, NFT_MSG_DELRULE, 0);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	return msg_end(b, nlh, WW_OBJ_CHAIN, name, what);
}

int ww_nft_del_chain(struct ww_nft_batch *b, const char *name, const char *what)
{
	struct nftnl_chain *c = chain_new(name);
	struct nlmsghdr *nlh;

	if (!c)
		return -ENOMEM;
	nlh = msg_start(b, NFT_MSG_DELCHAIN, 0);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftnl_chain_free(c);
	return msg_end(b, nlh, WW_OBJ_CHAIN, name, what);
}

/* ---- rules ---- */

/* The network protocol a match depends on: `meta nfproto` in inet, the frame's ether type
 * (`meta protocol`) in the bridge family, where every frame reaches the hook. */
static bool l3_dep(struct nftnl_rule *r, enum nfr_family f, bool v6)
{
	if (f == NFR_BRIDGE) {
		uint8_t et[2] = {v6 ? 0x86 : 0x08, v6 ? 0xdd : 0x00};
		return ww_nx_meta(r, NFT_META_PROTOCOL) && ww_nx_cmp(r, NFT_CMP_EQ, et, 2);
	}
	return ww_nx_meta(r, NFT_META_NFPROTO) && ww_nx_cmp_u8(r, v6 ? NFPROTO_IPV6 : NFPROTO_IPV4);
}

/* An address into register reg (its l3 dependency is the caller's). */
static bool load_addr(struct nftnl_rule *r, enum nfr_key k, uint32_t reg)
{
	bool v6 = k == NK_SADDR6 || k == NK_DADDR6, src = k == NK_SADDR4 || k == NK_SADDR6;

	return ww_nx_payload_to(r, NFT_PAYLOAD_NETWORK_HEADER,
				v6 ? (src ? 8 : 24) : (src ? 12 : 16), v6 ? 16 : 4, reg);
}

static bool load_key(struct nftnl_rule *r, enum nfr_key k, enum nfr_family f)
{
	switch (k) {
	case NK_SADDR4:
	case NK_DADDR4:
	case NK_SADDR6:
	case NK_DADDR6:
		return l3_dep(r, f, k == NK_SADDR6 || k == NK_DADDR6) && load_addr(r, k, NFT_REG_1);
	case NK_PROTOCOL:
		return ww_nx_meta(r, NFT_META_PROTOCOL);
	case NK_TCP_DPORT:
	case NK_UDP_DPORT:
	case NK_SCTP_DPORT:
		return ww_nx_meta(r, NFT_META_L4PROTO) &&
		       ww_nx_cmp_u8(r, k == NK_TCP_DPORT ? 6 : k == NK_UDP_DPORT ? 17 : 132) &&
		       ww_nx_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
	case NK_ICMP_TYPE:
	case NK_ICMPV6_TYPE:
		return l3_dep(r, f, k == NK_ICMPV6_TYPE) && ww_nx_meta(r, NFT_META_L4PROTO) &&
		       ww_nx_cmp_u8(r, k == NK_ICMP_TYPE ? 1 : 58) &&
		       ww_nx_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1);
	case NK_L4PROTO:
		return ww_nx_meta(r, NFT_META_L4PROTO);
	default:
		return false;
	}
}

/* One field of a concatenation into register reg. meta l4proto is in host byte order for nft,
 * which converts it (a conversion that moves nothing for one byte, but nft lists the rule by
 * it). */
static bool load_field(struct nftnl_rule *r, enum nfr_key k, uint32_t reg)
{
	switch (k) {
	case NK_SADDR4:
	case NK_DADDR4:
	case NK_SADDR6:
	case NK_DADDR6:
		return load_addr(r, k, reg);
	case NK_L4PROTO:
		return ww_nx_meta_to(r, NFT_META_L4PROTO, reg) && ww_nx_hton(r, reg, 2, 1);
	case NK_TH_DPORT:
		return ww_nx_payload_to(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, reg);
	case NK_ICMP_TYPE:
	case NK_ICMPV6_TYPE:
		return ww_nx_payload_to(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, reg);
	default:
		return false;
	}
}

/* The class bits of the mark into NFT_REG_1: `meta mark & mask`, in network byte order as a
 * concatenation's fields are (the mark is a host-order integer). */
static bool load_mark(struct nftnl_rule *r, uint32_t mask)
{
	return ww_nx_meta(r, NFT_META_MARK) && ww_nx_bitwise(r, NFT_REG_1, mask, 0) &&
	       ww_nx_hton(r, NFT_REG_1, 4, 4);
}

/*
 * A concatenation as nft loads it: the dependencies first (the address's network protocol, then
 * `meta l4proto icmp` for an ICMP type; keyed on the mark, only an ICMP type's: its network
 * protocol and `meta l4proto`), then each field into the registers from NFT_REG_1 on, each
 * starting at a 32-bit register.
 */
static bool load_cat(struct nftnl_rule *r, const struct nfr_cat *c, enum nfr_family f)
{
	bool mark = c->f[0] == NK_MARK, v6 = c->f[0] == NK_SADDR6 || c->f[0] == NK_DADDR6;
	unsigned int word = 0;

	if (!mark && !l3_dep(r, f, v6))
		return false;
	for (unsigned int i = 1; i < c->n; i++)
		if ((c->f[i] == NK_ICMP_TYPE || c->f[i] == NK_ICMPV6_TYPE) &&
		    !((!mark || l3_dep(r, f, c->f[i] == NK_ICMPV6_TYPE)) &&
		      ww_nx_meta(r, NFT_META_L4PROTO) &&
		      ww_nx_cmp_u8(r, c->f[i] == NK_ICMP_TYPE ? 1 : 58)))
			return false;
	for (unsigned int i = 0; i < c->n; i++) {
		if ((i == 0 && mark) ? !load_mark(r, c->mark_mask)
				     : !load_field(r, c->f[i], ww_nx_reg(word)))
			return false;
		word += (ww_nx_field_len(c->f[i]) + 3) / 4;
	}
	return true;
}

/* The rule's match on its key: a comparison, a range, a set or a verdict map; or its
 * concatenation looked up in a set or verdict map. */
static bool key_match(struct nftnl_rule *r, const struct nfr_rule *x, enum nfr_family f)
{
	uint8_t lo[16], hi[16];
	unsigned int len = nfr_key_len(x->key);

	if (x->cat.n && x->set)
		return load_cat(r, &x->cat, f) && ww_nx_lookup(r, x->set, x->vmap, false);
	if (!x->key)
		return true;
	if (!load_key(r, x->key, f))
		return false;
	if (x->set)
		return ww_nx_lookup(r, x->set, x->vmap, false);
	key_bytes(x->key, x->lo, lo);
	key_bytes(x->key, x->hi, hi);
	if (x->lo == x->hi)
		return ww_nx_cmp(r, NFT_CMP_EQ, lo, len);
	return ww_nx_cmp(r, NFT_CMP_GTE, lo, len) && ww_nx_cmp(r, NFT_CMP_LTE, hi, len);
}

static bool linearize(struct nftnl_rule *r, const struct nfr_rule *x, enum nfr_family f)
{
	static const int codes[] = {[NV_ACCEPT] = NF_ACCEPT, [NV_DROP] = NF_DROP,
				    [NV_RETURN] = NFT_RETURN, [NV_JUMP] = NFT_JUMP,
				    [NV_GOTO] = NFT_GOTO};

	if (x->ct_state && !ww_nx_ct_state(r, x->ct_state))
		return false;
	if (x->not_ifaces &&
	    !(ww_nx_meta(r, NFT_META_IIFNAME) && ww_nx_lookup(r, "ifaces", false, true) &&
	      ww_nx_meta(r, NFT_META_OIFNAME) && ww_nx_lookup(r, "ifaces", false, true)))
		return false;
	if (x->iifname && !ww_nx_ifname_eq(r, NFT_META_IIFNAME, x->iifname))
		return false;
	if (x->oifname && !ww_nx_ifname_eq(r, NFT_META_OIFNAME, x->oifname))
		return false;
	if (!key_match(r, x, f))
		return false;
	if (x->has_from && !ww_nx_time_cmp(r, NFT_CMP_GTE, (uint64_t)x->from * 1000000000ULL))
		return false;
	if (x->has_until && !ww_nx_time_cmp(r, NFT_CMP_LT, (uint64_t)x->until * 1000000000ULL))
		return false;
	/* `counter name <cat> map @m` loads its own key, as nft does for each statement. */
	if (x->counter_map && !(load_cat(r, &x->cat, f) && ww_nx_objref_map(r, x->counter_map)))
		return false;
	/* meta mark set meta mark & keep | or, where nfr_rule_render writes it. */
	if (x->set_mark && !(ww_nx_meta(r, NFT_META_MARK) &&
			     ww_nx_bitwise(r, NFT_REG_1, x->mark_keep, x->mark_or) &&
			     ww_nx_meta_set(r, NFT_META_MARK, NFT_REG_1)))
		return false;
	if (x->counter && !ww_nx_objref(r, NFT_OBJECT_COUNTER, x->counter))
		return false;
	if (x->limit && !ww_nx_objref(r, NFT_OBJECT_LIMIT, x->limit))
		return false;
	if (x->log_prefix && !ww_nx_log(r, x->log_prefix, x->log_group))
		return false;
	if (x->v.kind == NV_REJECT_RST || x->v.kind == NV_REJECT_ADMIN)
		return ww_nx_reject(r, x->v.kind == NV_REJECT_RST);
	return !x->v.kind || ww_nx_verdict(r, codes[x->v.kind], x->v.chain);
}

int ww_nft_add_rules(struct ww_nft_batch *b, const struct nfr_chain *x, const char *what)
{
	for (size_t i = 0; i < x->nrules; i++) {
		struct nftnl_rule *r = nftnl_rule_alloc();
		struct nlmsghdr *nlh;
		int err;
		if (!r)
			return -ENOMEM;
		nftnl_rule_set_str(r, NFTNL_RULE_TABLE, WW_NFT_TABLE);
		nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, x->name);
		nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
		/* Not a rule wardwall writes: a foreign one read back, a concatenation nfr.h does
		 * not allow, or a set-mark whose bits to set overlap those it keeps (nft would send
		 * another keep for its text: the caller's bug, said as such rather than as out of
		 * memory). */
		const struct nfr_rule *xr = &x->rules[i];
		bool bad = xr->foreign ||
			   ((xr->cat.n || xr->counter_map) && !cat_valid(&xr->cat)) ||
			   (xr->set_mark && (xr->mark_keep & xr->mark_or));
		if (bad || !linearize(r, xr, b->family)) {
			nftnl_rule_free(r);
			return bad ? -EINVAL : -ENOMEM;
		}
		nlh = msg_start(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND);
		nftnl_rule_nlmsg_build_payload(nlh, r);
		nftnl_rule_free(r);
		err = msg_end(b, nlh, WW_OBJ_CHAIN, x->name, what);
		if (err)
			return err;
	}
	return 0;
}

/* ---- commit ---- */

static const struct msgdesc *msg_of(const struct ww_nft_batch *b, uint32_t seq)
{
	size_t lo = 0, hi = b->nmsgs;

	/* Sequence numbers only grow within a batch: binary search. */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (b->msgs[mid].seq == seq)
			return &b->msgs[mid];
		if (b->msgs[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int ww_nft_batch_commit(struct ww_nft *n, struct ww_nft_batch *b, struct strbuf *err)
{
	int fd = mnl_socket_get_fd(n->nl), iovlen, result = 0, one = 1;
	struct sockaddr_nl snl = {.nl_family = AF_NETLINK};
	struct iovec *iov;
	struct msghdr msg = {0};
	size_t total = 0;
	uint32_t last_seq;
	bool done = false;
	char buf[16384];

	if (b->err)
		return b->err;
	if (!b->nmsgs)
		return 0;
	b->nrefused = 0;
	b->last->nlmsg_flags |= NLM_F_ACK;
	last_seq = b->last->nlmsg_seq;
	nftnl_batch_end(nftnl_batch_buffer(b->b), ++b->seq);
	if (nftnl_batch_update(b->b) < 0)
		return -ENOMEM;
	iovlen = nftnl_batch_iovec_len(b->b);
	iov = calloc((size_t)iovlen, sizeof(*iov));
	if (!iov)
		return -ENOMEM;
	nftnl_batch_iovec(b->b, iov, (uint32_t)iovlen);
	for (int i = 0; i < iovlen; i++)
		total += iov[i].iov_len;
	/* The kernel takes the batch as one skb: the send buffer must hold all of it. */
	set_sockbuf(fd, SO_SNDBUF, SO_SNDBUFFORCE, total + 65536);
	set_sockbuf(fd, SO_RCVBUF, SO_RCVBUFFORCE, 4u << 20);
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	msg.msg_name = &snl;
	msg.msg_namelen = sizeof(snl);
	msg.msg_iov = iov;
	msg.msg_iovlen = (size_t)iovlen;
	if (sendmsg(fd, &msg, 0) < 0) {
		result = -errno;
		sb_addf(err, "sending the transaction (%zu messages, %zu bytes): %s", b->nmsgs, total,
			strerror(errno));
		free(iov);
		return result;
	}
	free(iov);
	while (!done) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (poll(&pfd, 1, 60000) <= 0) {
			sb_addf(err, "no answer from the kernel to the transaction");
			return result ? result : -ETIMEDOUT;
		}
		ssize_t got = recv(fd, buf, sizeof(buf), 0);
		int len = (int)got;
		if (got < 0) {
			if (errno == EINTR)
				continue;
			sb_addf(err, "reading the kernel's answer: %s", strerror(errno));
			return -errno;
		}
		for (struct nlmsghdr *nlh = (struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, len);
		     nlh = mnl_nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
			if (e->error) {
				const struct msgdesc *m = msg_of(b, nlh->nlmsg_seq);
				const char *what = m ? b->descs.s + m->off : NULL;
				if (m) {
					/* The object, for the caller to explain; out of memory,
					 * only the text below names it. */
					struct ww_nft_refused r = {(enum ww_objkind)m->kind, what + strlen(what) + 1};
					(void)VEC_PUSH(b->refused, b->nrefused, b->rcap, r);
				}
				if (nlh->nlmsg_seq == b->seq0) {
					sb_addf(err, "%s%s", err->len ? "; " : "",
						-e->error == ERESTART
							? "the ruleset changed while the transaction was prepared"
							: strerror(-e->error));
					done = true;
				} else {
					sb_addf(err, "%s%s: %s", err->len ? "; " : "",
						what ? what : "transaction", strerror(-e->error));
				}
				if (!result)
					result = e->error;
			}
			if (nlh->nlmsg_seq == last_seq)
				done = true;
		}
	}
	return result;
}

int ww_nft_batch_bytes(struct ww_nft_batch *b, struct strbuf *out)
{
	int n = nftnl_batch_iovec_len(b->b);
	struct iovec *iov;

	if (b->err)
		return b->err;
	if (n <= 0)
		return 0;
	iov = calloc((size_t)n, sizeof(*iov));
	if (!iov)
		return -ENOMEM;
	nftnl_batch_iovec(b->b, iov, (uint32_t)n);
	for (int i = 0; i < n; i++)
		sb_addn(out, iov[i].iov_base, iov[i].iov_len);
	free(iov);
	return out->oom ? -ENOMEM : 0;
}

size_t ww_nft_batch_refused(const struct ww_nft_batch *b, const struct ww_nft_refused **v)
{
	*v = b->refused;
	return b->nrefused;
}
