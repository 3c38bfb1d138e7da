/* SPDX-License-Identifier: MIT */
/*
 * The kernel <-> user space ABI of the socket owner iterator
 * (owners.bpf.c): one struct bs_owner per socket fd of a thread-group
 * leader, written with bpf_seq_write and read(2) from the iterator fd.
 * Fixed-width fields, largest first, no hidden padding;
 * native/src/bpf_owners.cc static_asserts the offsets.
 */
#ifndef BINDSIGHT_OWNERS_H
#define BINDSIGHT_OWNERS_H

struct bs_owner {
	__u64 cookie;    /* socket cookie (idiag_cookie of sock_diag); 0 if not made yet */
	__u32 ino;       /* sockfs inode: the N of the socket:[N] fd link */
	__u32 tgid;      /* process id as the reader's pid namespace sees it */
	__u32 fd;
	__u16 family;    /* skc_family: AF_INET, AF_INET6, AF_UNIX, ... */
	__u16 protocol;  /* sk_protocol: IPPROTO_TCP, IPPROTO_UDP, ... */
};

#endif /* BINDSIGHT_OWNERS_H */
