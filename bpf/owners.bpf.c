// SPDX-License-Identifier: GPL-2.0
/*
 * Socket owners in one read: an iter/task_file program that writes one
 * struct bs_owner per socket fd of every thread-group leader, so user space
 * needs no readlink(2) of /proc/<pid>/fd/<n> per fd. Loaded and attached
 * once by native/src/bpf_owners.cc; each scan is a bpf_iter_create + read.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "owners.h"

char LICENSE[] SEC("license") = "GPL";

/*
 * The pid of `leader` in the pid namespace of the task reading the
 * iterator (the task iterator walks that namespace, kernel/bpf/task_iter.c),
 * so pids match the reader's /proc even inside a container. struct pid
 * keeps one struct upid per level (include/linux/pid.h). 0 when not visible.
 */
static __always_inline __u32 pid_in_reader_ns(struct task_struct *leader)
{
	struct task_struct *me = bpf_get_current_task_btf();
	unsigned int level = BPF_CORE_READ(me, thread_pid, level);
	struct pid *pid = BPF_CORE_READ(leader, thread_pid);
	struct upid up = {};

	if (!pid || BPF_CORE_READ(pid, level) < level)
		return 0;
	if (level == 0)
		return BPF_CORE_READ(leader, tgid);
	bpf_probe_read_kernel(&up, sizeof(up),
			      (void *)((unsigned long)pid + bpf_core_field_offset(struct pid, numbers) +
				       (unsigned long)level * sizeof(struct upid)));
	return up.nr;
}

SEC("iter/task_file")
int bs_socket_owners(struct bpf_iter__task_file *ctx)
{
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct bs_owner rec = {};
	struct socket *sock;
	struct sock *sk;

	if (!task || !file)
		return 0;
	/* /proc/<pid>/fd is the leader's table; threads sharing it are skipped
	 * by the iterator already, ones with their own table (unshare) here. */
	if (task->pid != task->tgid)
		return 0;
	/* NULL unless f_op is socket_file_ops: an O_PATH fd of a socket file
	 * on disk is not a socket (net/socket.c, sock_from_file). */
	sock = bpf_sock_from_file(file);
	if (!sock)
		return 0;
	rec.tgid = pid_in_reader_ns(task);
	if (!rec.tgid)
		return 0;
	rec.ino = (__u32)BPF_CORE_READ(file, f_inode, i_ino);
	rec.fd = ctx->fd;
	sk = BPF_CORE_READ(sock, sk);
	if (sk) {
		/* Read, not bpf_get_socket_cookie: the verifier holds a walked
		 * sk untrusted. 0 until someone generated it; a sock_diag dump
		 * does for every socket it reports (sock_gen_cookie). */
		rec.cookie = BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
		rec.family = BPF_CORE_READ(sk, __sk_common.skc_family);
		rec.protocol = BPF_CORE_READ(sk, sk_protocol);
	}
	bpf_seq_write(ctx->meta->seq, &rec, sizeof(rec));
	return 0;
}
