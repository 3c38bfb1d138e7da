/* SPDX-License-Identifier: MIT */
/*
 * The kernel <-> user space event ABI of bindsight: the only definition of
 * the ring-buffer record layout. Fixed-width fields, largest first, explicit
 * padding, so the layout is the same for clang -target bpf, g++ and the
 * TypeScript decoder (src/discovery/bpf-event.ts). native/src/bpf_event.h
 * static_asserts every offset below; change all three together.
 */
#ifndef BINDSIGHT_H
#define BINDSIGHT_H

#define BS_COMM_LEN 16

/* What happened to the socket. */
enum bs_transition {
	BS_T_BIND = 1,        /* bind() succeeded (UDP server candidate) */
	BS_T_LISTEN = 2,      /* TCP socket entered LISTEN */
	BS_T_CLOSE = 3,       /* TCP listener left LISTEN */
	BS_T_RELEASE = 4,     /* a bound UDP socket was released */
	BS_T_ACCEPTED = 5,    /* passive open completed (peer = client) */
	BS_T_INITIATED = 6,   /* active open completed (peer = server) */
};

/* Which program produced the event. */
enum bs_hook {
	BS_H_BIND_TP = 1,     /* tracepoint/syscalls/sys_{enter,exit}_bind */
	BS_H_SOCKOPS = 2,     /* sockops at the cgroup v2 root */
	BS_H_SET_STATE = 3,   /* tp_btf/inet_sock_set_state */
	BS_H_POST_BIND = 4,   /* cgroup/post_bind4, cgroup/post_bind6 */
	BS_H_SOCK_RELEASE = 5,/* cgroup/sock_release */
};

/* bs_event.flags */
#define BS_F_V6ONLY       0x01 /* IPV6_V6ONLY set */
#define BS_F_V6ONLY_KNOWN 0x02 /* the hook could read IPV6_V6ONLY */
#define BS_F_NO_TASK      0x04 /* softirq context: tgid/tid/comm/uid are not the owner */

struct bs_event {
	__u64 ts_ns;          /* bpf_ktime_get_ns() */
	__u64 cookie;         /* socket cookie, 0 when the hook could not get it */
	__u64 cgroup_id;      /* v2 cgroup id of the current task */
	__u64 netns_cookie;   /* network namespace cookie */
	__u32 tgid;
	__u32 tid;
	__u32 uid;
	__u32 netns;          /* network namespace inode, 0 when unknown */
	__u16 family;         /* AF_INET / AF_INET6 */
	__u16 port;           /* local port, host order */
	__u16 peer_port;      /* remote port, host order */
	__u16 _reserved;
	__u8 protocol;        /* IPPROTO_TCP / IPPROTO_UDP */
	__u8 transition;      /* enum bs_transition */
	__u8 hook;            /* enum bs_hook */
	__u8 flags;           /* BS_F_* */
	__u8 state;           /* TCP state after the transition (tcp_states.h) */
	__u8 _pad[3];
	__u8 addr[16];        /* local address: 4 bytes for AF_INET, network order */
	__u8 peer_addr[16];   /* remote address (ACCEPTED / INITIATED) */
	char comm[BS_COMM_LEN];
};

#define BS_EVENT_SIZE 112

#endif /* BINDSIGHT_H */
