# bindsight in a container. It watches the HOST's sockets, so run it in the
# host's namespaces:
#   docker run --network host --pid host --cgroupns host \
#     -v /sys/kernel/btf:/sys/kernel/btf:ro -v /sys/fs/cgroup:/sys/fs/cgroup:ro \
#     --cap-add ... bindsight
# Capabilities, and why:
#   NET_ADMIN        netlink sock_diag details (uids, inodes) of all sockets
#   SYS_ADMIN        setns() into other network namespaces for their dumps,
#                    attaching cgroup BPF programs on kernels without CAP_BPF
#   BPF, PERFMON     load BPF programs, read tracepoints (Linux >= 5.8)
#   SYS_PTRACE       readlink /proc/<pid>/fd and /proc/<pid>/exe of other users
#   DAC_READ_SEARCH  read /proc/<pid>/ of processes owned by other users
#   NET_BIND_SERVICE listen on port 53
# Without BPF/PERFMON/SYS_ADMIN the daemon falls back to sockdiag polling.

# Node.js LTS on Debian 12 (bookworm), the platform scripts/setup.sh targets.
FROM node:24-bookworm

WORKDIR /opt/bindsight
COPY . .
# The same script CI runs: apt packages (clang, libbpf-dev, bpftool, ...),
# npm ci, BPF objects, the native addon and the TypeScript build.
RUN ./scripts/setup.sh && rm -rf /var/lib/apt/lists/*

EXPOSE 53/udp 53/tcp 9953/tcp
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["run", "--listen", "0.0.0.0:53", "--control", "127.0.0.1:9953"]
