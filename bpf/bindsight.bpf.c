// SPDX-License-Identifier: GPL-2.0
/*
 * bindsight kernel side: sees sockets become services (bind, listen) and stop
 * being services (close, release) and writes one struct bs_event per change
 * into a ring buffer. Layout: includes, tunables, maps, helpers, programs.
 * Which programs load is chosen by user space (bpf_program__set_autoload),
 * see docs/kernel-support.md.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "bindsight.h"

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define TCP_ESTABLISHED 1
#define TCP_CLOSE 7
#define TCP_LISTEN 10

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024); /* bpf_map__set_max_entries before load */
} events SEC(".maps");

/* Events lost because the ring buffer was full; read from user space. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/* sys_enter_bind -> sys_exit_bind, keyed by pid_tgid (one bind per thread). */
struct bind_args {
	__u64 fd;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u64);
	__type(value, struct bind_args);
} binds SEC(".maps");

/* sockops TCP_CONNECT_CB (connect() context) -> ACTIVE_ESTABLISHED_CB
 * (softirq): who initiated the connection, keyed by socket cookie. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u32);
} connectors SEC(".maps");

static __always_inline void count_drop(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&drops, &zero);

	if (n)
		*n += 1;
}

static __always_inline struct bs_event *reserve(__u8 transition, __u8 hook)
{
	struct bs_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		count_drop();
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_ns();
	e->transition = transition;
	e->hook = hook;
	return e;
}

/* Fields of the task that caused the event (syscall context only). */
static __always_inline void fill_task(struct bs_event *e)
{
	__u64 id = bpf_get_current_pid_tgid();

	e->tgid = id >> 32;
	e->tid = (__u32)id;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
}

/* BTF-typed task: plain loads instead of one bpf_probe_read_kernel() per
 * field (each costs ~50-100 ns in a VM; bpf_get_current_task_btf, 5.11). */
static __always_inline __u32 task_netns(void)
{
	struct task_struct *t = bpf_get_current_task_btf();

	return t->nsproxy->net_ns->ns.inum;
}

/* Address, port, family, protocol, netns and v6only of a kernel socket, for
 * the bind tracepoint, which only has an untyped pointer (probe reads). */
static __always_inline void fill_sock(struct bs_event *e, struct sock *sk)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	e->family = family;
	e->protocol = BPF_CORE_READ(sk, sk_protocol);
	e->port = BPF_CORE_READ(sk, __sk_common.skc_num);
	e->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	e->netns_cookie = BPF_CORE_READ(sk, __sk_common.skc_net.net, net_cookie);
	e->cookie = BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
	e->state = BPF_CORE_READ(sk, __sk_common.skc_state);
	if (family == AF_INET) {
		bpf_core_read(e->addr, 4, &sk->__sk_common.skc_rcv_saddr);
	} else {
		bpf_core_read(e->addr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		if (BPF_CORE_READ_BITFIELD_PROBED(sk, __sk_common.skc_ipv6only))
			e->flags |= BS_F_V6ONLY;
		e->flags |= BS_F_V6ONLY_KNOWN;
	}
}

/* The same from a BTF-typed socket (tp_btf): direct loads. */
static __always_inline void fill_sock_btf(struct bs_event *e, struct sock *sk)
{
	__u16 family = sk->__sk_common.skc_family;
	struct net *net = sk->__sk_common.skc_net.net;

	e->family = family;
	e->protocol = sk->sk_protocol;
	e->port = sk->__sk_common.skc_num;
	e->netns = net->ns.inum;
	e->netns_cookie = net->net_cookie;
	if (family == AF_INET) {
		__u32 a = sk->__sk_common.skc_rcv_saddr;

		__builtin_memcpy(e->addr, &a, 4);
	} else {
		bpf_core_read(e->addr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		if (BPF_CORE_READ_BITFIELD(sk, __sk_common.skc_ipv6only))
			e->flags |= BS_F_V6ONLY;
		e->flags |= BS_F_V6ONLY_KNOWN;
	}
}

/* ---- tracepoint/syscalls/sys_{enter,exit}_bind ------------------------ */

SEC("tracepoint/syscalls/sys_enter_bind")
int bs_enter_bind(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct bind_args a = { .fd = ctx->args[0] };

	bpf_map_update_elem(&binds, &id, &a, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_bind")
int bs_exit_bind(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct bind_args *a = bpf_map_lookup_elem(&binds, &id);
	struct task_struct *task;
	struct file **fds;
	struct file *file = NULL;
	struct socket *sock;
	struct sock *sk;
	struct bs_event *e;
	__u64 fd;

	if (!a)
		return 0;
	fd = a->fd;
	bpf_map_delete_elem(&binds, &id);
	if (ctx->ret != 0) /* only successful binds count */
		return 0;
	task = (struct task_struct *)bpf_get_current_task();
	fds = BPF_CORE_READ(task, files, fdt, fd);
	if (fd >= BPF_CORE_READ(task, files, fdt, max_fds))
		return 0;
	bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
	if (!file)
		return 0;
	sock = BPF_CORE_READ(file, private_data);
	sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return 0;
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family != AF_INET && family != AF_INET6)
		return 0;
	e = reserve(BS_T_BIND, BS_H_BIND_TP);
	if (!e)
		return 0;
	fill_task(e);
	fill_sock(e, sk);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* ---- tp_btf/inet_sock_set_state --------------------------------------- */

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(bs_set_state, struct sock *sk, int oldstate, int newstate)
{
	struct bs_event *e;
	__u8 t;

	if (newstate == TCP_LISTEN)
		t = BS_T_LISTEN;
	else if (oldstate == TCP_LISTEN && newstate == TCP_CLOSE)
		t = BS_T_CLOSE; /* LISTEN -> SYN_RECV is a child being cloned */
	else
		return 0;
	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	e = reserve(t, BS_H_SET_STATE);
	if (!e)
		return 0;
	fill_task(e);
	fill_sock_btf(e, sk);
	e->cookie = bpf_get_socket_cookie(sk);
	e->state = newstate;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* ---- cgroup/post_bind4, cgroup/post_bind6 ----------------------------- */

/* post_bind4 may not touch src_ip6 and vice versa (verifier ctx checks). */
static __always_inline struct bs_event *post_bind(struct bpf_sock *ctx)
{
	struct bs_event *e;

	/* TCP becomes a service at listen(), seen by set_state / sockops. */
	if (ctx->protocol != IPPROTO_UDP)
		return NULL;
	e = reserve(BS_T_BIND, BS_H_POST_BIND);
	if (!e)
		return NULL;
	fill_task(e);
	e->netns = task_netns();
	e->netns_cookie = bpf_get_netns_cookie(ctx);
	e->cookie = bpf_get_socket_cookie(ctx);
	e->family = ctx->family;
	e->protocol = ctx->protocol;
	e->port = ctx->src_port;
	e->state = TCP_CLOSE;
	return e;
}

SEC("cgroup/post_bind4")
int bs_post_bind4(struct bpf_sock *ctx)
{
	struct bs_event *e = post_bind(ctx);
	__u32 a;

	if (e) {
		a = ctx->src_ip4;
		__builtin_memcpy(e->addr, &a, 4);
		bpf_ringbuf_submit(e, 0);
	}
	return 1; /* allow: bindsight only observes */
}

SEC("cgroup/post_bind6")
int bs_post_bind6(struct bpf_sock *ctx)
{
	struct bs_event *e = post_bind(ctx);
	__u32 a[4];

	if (e) {
		a[0] = ctx->src_ip6[0];
		a[1] = ctx->src_ip6[1];
		a[2] = ctx->src_ip6[2];
		a[3] = ctx->src_ip6[3];
		__builtin_memcpy(e->addr, a, 16);
		bpf_ringbuf_submit(e, 0);
	}
	return 1;
}

/* ---- cgroup/sock_release ---------------------------------------------- */

SEC("cgroup/sock_release")
int bs_sock_release(struct bpf_sock *ctx)
{
	struct bs_event *e;

	/* src_port is not readable here (sock_filter_is_valid_access allows it
	 * in post_bind only), and a server may have connect()ed since, so every
	 * UDP release is reported; user space drops cookies it never saw. */
	if (ctx->protocol != IPPROTO_UDP)
		return 1;
	e = reserve(BS_T_RELEASE, BS_H_SOCK_RELEASE);
	if (!e)
		return 1;
	fill_task(e);
	e->netns = task_netns();
	e->netns_cookie = bpf_get_netns_cookie(ctx);
	e->cookie = bpf_get_socket_cookie(ctx);
	e->family = ctx->family;
	e->protocol = ctx->protocol;
	e->state = TCP_CLOSE;
	bpf_ringbuf_submit(e, 0);
	return 1;
}

/* ---- sockops ---------------------------------------------------------- */

static __always_inline void sockops_addrs(struct bs_event *e, struct bpf_sock_ops *s)
{
	e->family = s->family;
	e->protocol = IPPROTO_TCP;
	e->port = s->local_port;
	/* remote_port holds the network-order port in its upper 16 bits on
	 * little-endian (sock_ops_convert_ctx_access, net/core/filter.c). */
	e->peer_port = bpf_ntohs(s->remote_port >> 16);
	e->cookie = bpf_get_socket_cookie(s);
	e->netns_cookie = bpf_get_netns_cookie(s);
	if (s->family == AF_INET) {
		__u32 l = s->local_ip4, r = s->remote_ip4;
		__builtin_memcpy(e->addr, &l, 4);
		__builtin_memcpy(e->peer_addr, &r, 4);
	} else {
		__u32 l[4] = { s->local_ip6[0], s->local_ip6[1], s->local_ip6[2], s->local_ip6[3] };
		__u32 r[4] = { s->remote_ip6[0], s->remote_ip6[1], s->remote_ip6[2], s->remote_ip6[3] };
		__builtin_memcpy(e->addr, l, 16);
		__builtin_memcpy(e->peer_addr, r, 16);
	}
}

SEC("sockops")
int bs_sockops(struct bpf_sock_ops *s)
{
	struct bs_event *e;
	__u32 op = s->op;
	__u8 t;

	switch (op) {
	case BPF_SOCK_OPS_TCP_CONNECT_CB: {
		__u64 cookie = bpf_get_socket_cookie(s);
		__u32 tgid = bpf_get_current_pid_tgid() >> 32;

		bpf_map_update_elem(&connectors, &cookie, &tgid, BPF_ANY);
		return 1;
	}
	case BPF_SOCK_OPS_TCP_LISTEN_CB:
		/* Ask for BPF_SOCK_OPS_STATE_CB so the listener's close is seen. */
		bpf_sock_ops_cb_flags_set(s, BPF_SOCK_OPS_STATE_CB_FLAG);
		t = BS_T_LISTEN;
		break;
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		/* The child inherits the listener's flags; it needs none. */
		bpf_sock_ops_cb_flags_set(s, 0);
		t = BS_T_ACCEPTED;
		break;
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
		t = BS_T_INITIATED;
		break;
	case BPF_SOCK_OPS_STATE_CB:
		/* args[0] = old state, args[1] = new state */
		if (s->args[0] != TCP_LISTEN)
			return 1;
		t = BS_T_CLOSE;
		break;
	default:
		return 1;
	}
	e = reserve(t, BS_H_SOCKOPS);
	if (!e)
		return 1;
	sockops_addrs(e, s);
	if (t == BS_T_LISTEN || t == BS_T_CLOSE) {
		/* listen() and close() run in the owner's syscall context. */
		fill_task(e);
		e->netns = task_netns();
		e->state = t == BS_T_LISTEN ? TCP_LISTEN : TCP_CLOSE;
	} else {
		e->flags |= BS_F_NO_TASK;
		e->state = TCP_ESTABLISHED;
		if (t == BS_T_INITIATED) {
			__u32 *tgid = bpf_map_lookup_elem(&connectors, &e->cookie);

			if (tgid) {
				e->tgid = *tgid;
				bpf_map_delete_elem(&connectors, &e->cookie);
			}
		}
	}
	bpf_ringbuf_submit(e, 0);
	return 1;
}
